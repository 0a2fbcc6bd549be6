"""The domain's Telephony port over the official ``twilio`` SDK (transport injected).

The same code talks to real Twilio and to voicesim: only the ``twilio.rest.Client``'s HTTP client
and credentials differ. Twilio's refusals become :class:`~callhold.domain.errors.TelephonyError`
with Twilio's code, so the domain can tell "that call is already gone" (20404/21220) from a failure.
A request that never reached Twilio (connection refused or timed out) is a refusal with no code and
no status (Twilio sent none); one sent but never answered (a timeout, a dropped connection) is
``uncertain``: Twilio may have carried it out. So is one Twilio answered with a server error (see
:data:`UNCERTAIN_STATUSES`), with its status and code kept.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from callhold import budget
from callhold.domain import paths
from callhold.domain.commands import (
    AddParticipant,
    Announce,
    RedirectLeg,
    RemoveParticipant,
    SetParticipantHold,
    SetParticipantMuted,
)
from callhold.domain.errors import TelephonyError
from callhold.domain.model import LegRole
from callhold.domain.ports import PlacedCall, Queue

__all__ = ["CONFERENCE_EVENTS", "TwilioTelephony", "participant_status_path"]

#: The conference events callhold subscribes to.
CONFERENCE_EVENTS = "start end join leave mute hold modify"

T = TypeVar("T")

RATE_LIMIT_DELAYS = (0.25, 0.5, 1.0)
"""Seconds before each retry of a request Twilio refused as :data:`RETRIED_STATUSES` say, doubling.
Any other refusal is final: the domain compensates it. Inside a TwiML webhook a retry is made only if
the webhook's time budget has room for it."""

RETRIED_STATUSES = frozenset({429, 503})
"""Twilio's answers that say the request was not carried out and may be sent again, after a pause:

* 429 (20429, too many concurrent requests): "Requests that receive 429 responses aren't processed
  and are safe to retry after backing off" (https://www.twilio.com/docs/api/errors/20429).
* 503 with Twilio's error 20503: "The requested Twilio Service is temporarily unavailable. ... Try
  again a few times with exponential back-off" (https://www.twilio.com/docs/api/errors/20503): the
  service shed the request, and Twilio's advice to send it again presumes it was not done. A 503
  without it is a proxy's, which also answers so for a connection lost mid-request: uncertain
  (:func:`_answered`), and never sent again.

Once the retries are spent, either is a refusal (nothing was done)."""

SHED = 20503
"""Twilio's error code of a 503 it answered itself (see :data:`RETRIED_STATUSES`)."""

UNCERTAIN_STATUSES = frozenset({500, 502, 504})
"""Twilio's answers that leave the request's outcome unknown: a server error is ``uncertain``, not a
refusal (a refusal is "nothing was done", and the domain undoes or frees on it).

* 500: "an error in the server handling logic or a timeout in the API", and a POST such as
  "triggering an outbound call" answered 500 may have been carried out ("if you ... retry the
  request, it is possible for a customer to receive multiple messages or calls"):
  https://www.twilio.com/docs/api/errors/20500
* 502, 504: a gateway's answer, when the server behind it answered badly or not in time -- after it
  may have acted (RFC 9110 sections 15.6.3, 15.6.5). So is a 503 without Twilio's error 20503.

Any other status is a refusal (4xx; 501, the method not implemented; Twilio's own 503, see
:data:`RETRIED_STATUSES`: a service that is down sheds the request, and a refusal lets the domain
undo at once rather than leave, say, a hold half placed until a recovery re-sends it).

One rule for every method, as for a request that timed out: a read (GET) answered so is uncertain
too, which changes nothing for it (a read carries nothing out, and callhold takes any failure of a
read alike: it asks again later).
None of these is retried -- a POST that may have been done is never sent twice: Twilio's events, or
a recovery, settle the outcome (the domain's ``uncertain`` paths).
"""

_log = logging.getLogger("callhold.telephony")


def _time_for(delay: float) -> bool:
    """Whether a retry after ``delay`` s fits in the time budget of the webhook being answered."""
    left = budget.remaining()
    return left is None or left > delay + budget.MIN_REQUEST


def participant_status_path(command: AddParticipant) -> str:
    """The status callback path of a participant callhold dials: it names the conference and the
    role (``agent`` for the label ``agent``, else ``third_party``), for a callback that arrives
    before Participants create returned the new Call SID."""
    role = LegRole.AGENT if command.label == "agent" else LegRole.THIRD_PARTY
    return f"{paths.CALL_STATUS}?{urlencode({'conference': command.conference, 'role': role.value})}"


def _why(exc: BaseException) -> str:
    """A network failure in a line a person reads (it ends up in the API's problem detail)."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"{exc.host}:{exc.port}: {exc.os_error.strerror or exc.os_error}"
    if isinstance(exc, TimeoutError):  # aiohttp's connection and read timeouts are TimeoutErrors too
        return "timed out"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _page_refusal(exc: TwilioException) -> TelephonyError | None:
    """Twilio's refusal of a list page, as a fetch's or an update's is: with its status and code.

    The SDK raises ``TwilioException("Unable to fetch page", response)`` for a list page that is not
    a 200, not the ``TwilioRestException`` that carries them: a 429 or a 404 read as a request that
    never reached Twilio."""
    response = exc.args[1] if len(exc.args) == 2 else None
    status = getattr(response, "status_code", None)
    if not isinstance(status, int):
        return None
    try:
        body = json.loads(getattr(response, "text", "") or "{}")
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    code = body.get("code")
    message = str(body.get("message") or f"Unable to fetch page (HTTP {status})")
    return _answered(message, code if isinstance(code, int) else None, status)


def _answered(message: str, code: int | None, status: int) -> TelephonyError:
    """Twilio's answer ``status`` (its error ``code``) to a request: a refusal, or, for a server error
    (:data:`UNCERTAIN_STATUSES`), ``uncertain``, saying so (it ends up in the API's problem detail)."""
    if status in UNCERTAIN_STATUSES or (status == 503 and code != SHED):
        message = f"Twilio answered HTTP {status} (it may have carried the request out): {message}"
        return TelephonyError(message, code=code, status=status, uncertain=True)
    return TelephonyError(message, code=code, status=status)


class TwilioTelephony:
    """Executes domain commands with the SDK's ``*_async`` methods."""

    def __init__(
        self, client: Client, public_base_url: str, *, rate_limit_delays: Sequence[float] = RATE_LIMIT_DELAYS
    ) -> None:
        self.client = client
        self.base = public_base_url.rstrip("/")
        self.rate_limit_delays = tuple(rate_limit_delays)

    def url(self, path: str) -> str:
        """The absolute URL Twilio requests for one of callhold's TwiML paths."""
        return f"{self.base}{path}"

    async def _call(self, send: Callable[[], Awaitable[T]]) -> T:
        """``send()`` the request; again after a pause (:data:`RATE_LIMIT_DELAYS`), while Twilio
        refuses it for now (:data:`RETRIED_STATUSES`; a 503 not Twilio's own is uncertain, and never
        sent again) and the webhook being answered, if any, has time for it."""
        for delay in (*self.rate_limit_delays, None):
            try:
                return await self._once(send())
            except TelephonyError as exc:
                retried = exc.status in RETRIED_STATUSES and not exc.uncertain
                if not retried or delay is None or not _time_for(delay):
                    raise
                pause = delay * random.uniform(0.9, 1.1)  # jitter: instances limited together spread out
                _log.warning(
                    "Twilio refused a request for now (%s, %s): again in %.2f s", exc.status, exc.code, pause
                )
                await asyncio.sleep(pause)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _once(self, work: Awaitable[T]) -> T:
        try:
            return await work
        except TwilioRestException as exc:
            raise _answered(str(exc.msg), exc.code, exc.status) from exc
        except TwilioException as exc:
            raise _page_refusal(exc) or TelephonyError(str(exc)) from exc
        except budget.BudgetSpent as exc:  # never sent: the webhook must answer Twilio first
            raise TelephonyError(f"no time left to ask Twilio: {exc}") from exc
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError, aiohttp.InvalidURL) as exc:
            # never sent: no connection came (refused, or none within the connect timeout), or no URL
            raise TelephonyError(f"cannot reach Twilio: {_why(exc)}") from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:  # sent, but no answer came back
            message = f"no answer from Twilio (it may have carried the request out): {_why(exc)}"
            raise TelephonyError(message, uncertain=True) from exc

    async def set_participant_hold(self, command: SetParticipantHold) -> None:
        """Participant update ``Hold`` (+ ``HoldUrl`` fetched with GET, Twilio's default, Q6)."""
        kwargs: dict[str, Any] = {"hold": command.hold}
        if command.hold and command.hold_path is not None:
            kwargs.update(hold_url=self.url(command.hold_path), hold_method="GET")
        participant = self.client.conferences(command.conference_sid).participants(command.call_sid)
        await self._call(lambda: participant.update_async(**kwargs))

    async def set_participant_muted(self, command: SetParticipantMuted) -> None:
        """Participant update ``Muted``."""
        participant = self.client.conferences(command.conference_sid).participants(command.call_sid)
        await self._call(lambda: participant.update_async(muted=command.muted))

    async def add_participant(self, command: AddParticipant) -> str:
        """Participant create: dials ``to`` into the conference; returns its Call SID.

        Every participant carries callhold's conference status callback: Twilio keeps the one the
        *first* participant brings (pitfall 9), and the agent may well be first. The agent joins
        with ``endConferenceOnExit=true`` (see :mod:`callhold.twiml`), third parties without it.

        The new call's status callback names the conference and the participant's role: Twilio may
        deliver the first callbacks before this create returns the Call SID, and with them callhold
        can still tell whose leg it is (``/webhooks/call-status`` records it on arrival).
        """
        participants = self.client.conferences(command.conference).participants
        kwargs: dict[str, Any] = {
            "from_": command.from_,
            "to": command.to,
            "beep": "false",
            "end_conference_on_exit": command.label == "agent",
            "status_callback": self.url(participant_status_path(command)),
            "status_callback_event": ["initiated ringing answered completed"],
            "conference_status_callback": self.url("/webhooks/conference"),
            "conference_status_callback_event": [CONFERENCE_EVENTS],
        }
        if command.label:
            kwargs["label"] = command.label
        created = await self._call(lambda: participants.create_async(**kwargs))
        return str(created.call_sid)

    async def labelled_participant(self, conference: str, label: str) -> str | None:
        """Conferences list by ``FriendlyName`` -- the one not ``completed``: ``init`` too, since a
        conference only participants dialled in have joined has not started -- then Participant
        fetch by label (the Participant resource takes a label in place of the Call SID)."""
        live = [c for c in await self._named(conference) if c.status != "completed"]
        if not live:
            return None
        try:
            found = await self._call(
                lambda: self.client.conferences(live[0].sid).participants(label).fetch_async()
            )
        except TelephonyError as exc:
            if exc.status == 404:
                return None
            raise
        return str(found.call_sid)

    async def started_conference(self, conference: str) -> str | None:
        """Conferences list by ``FriendlyName`` and ``Status=in-progress``: the conference has started
        (it is ``init`` until then) and not ended (reference 2.1: the list filters)."""
        started = await self._named(conference, status="in-progress")
        return str(started[0].sid) if started else None

    async def _named(self, conference: str, *, status: str | None = None) -> list[Any]:
        """Conferences list by ``FriendlyName`` (and ``Status``, if given): one page, of up to 20."""
        conferences = self.client.conferences
        filters: dict[str, Any] = {"friendly_name": conference}
        if status is not None:
            filters["status"] = status
        return await self._call(lambda: conferences.list_async(**filters, limit=20))

    async def call_status(self, call_sid: str) -> str:
        """Calls fetch: the call's ``Status``."""
        found = await self._call(lambda: self.client.calls(call_sid).fetch_async())
        return str(found.status)

    async def live_child_call(self, parent_call_sid: str) -> str | None:
        """Calls list by ``ParentCallSid`` (newest first), the first not over."""
        children = await self._call(
            lambda: self.client.calls.list_async(parent_call_sid=parent_call_sid, limit=20)
        )
        live = [c for c in children if c.status in ("queued", "ringing", "in-progress")]
        return str(live[0].sid) if live else None

    async def placed_calls(self, to: str, from_: str) -> list[PlacedCall]:
        """Calls list by ``To`` and ``From``, newest first; one page of 50. No ``StartTime`` filter:
        it has a day's grain, and leaves out calls not dialled yet (still ``queued``)."""
        calls = await self._call(lambda: self.client.calls.list_async(to=to, from_=from_, limit=50))
        return [
            PlacedCall(call_sid=str(c.sid), status=str(c.status), date_created=c.date_created) for c in calls
        ]

    async def queues_page(self, page_url: str | None) -> tuple[list[Queue], str | None]:
        """Queues list, one page of 100 (the first, or the one at ``page_url``) and the next's URL."""
        queues = self.client.queues
        page = await self._call(
            lambda: queues.page_async(page_size=100) if page_url is None else queues.get_page_async(page_url)
        )
        found = [
            Queue(
                sid=str(q.sid),
                friendly_name=str(q.friendly_name),
                current_size=int(q.current_size or 0),
                date_created=q.date_created,
            )
            for q in page
        ]
        return found, page.next_page_url

    async def delete_queue(self, queue_sid: str) -> None:
        """Queue delete."""
        await self._call(lambda: self.client.queues(queue_sid).delete_async())

    async def remove_participant(self, command: RemoveParticipant) -> None:
        """Participant delete (kick)."""
        participant = self.client.conferences(command.conference_sid).participants(command.call_sid)
        await self._call(lambda: participant.delete_async())

    async def redirect_leg(self, command: RedirectLeg) -> None:
        """Calls update ``Url``: the leg runs callhold's TwiML at ``twiml_path``."""
        await self._call(
            lambda: self.client.calls(command.call_sid).update_async(
                url=self.url(command.twiml_path), method="POST"
            )
        )

    async def announce(self, command: Announce) -> None:
        """Participant update ``AnnounceUrl`` (played to that participant only)."""
        participant = self.client.conferences(command.conference_sid).participants(command.call_sid)
        await self._call(
            lambda: participant.update_async(
                announce_url=self.url(command.twiml_path), announce_method="POST"
            )
        )

    async def place_call(self, to: str, from_: str, url: str, status_callback: str) -> str:
        """Calls create: dial ``to`` from ``from_``; when answered the call runs the TwiML at ``url``.

        ``url`` and ``status_callback`` are callhold paths (made absolute under the public base URL) or
        absolute URLs. Every leg event is reported (initiated, ringing, answered, completed). Returns the
        new Call SID.
        """
        created = await self._call(
            lambda: self.client.calls.create_async(
                to=to,
                from_=from_,
                url=self._absolute(url),
                method="POST",
                status_callback=self._absolute(status_callback),
                status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
            )
        )
        return str(created.sid)

    def _absolute(self, url_or_path: str) -> str:
        return self.url(url_or_path) if url_or_path.startswith("/") else url_or_path
