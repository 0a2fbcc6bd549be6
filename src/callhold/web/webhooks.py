"""Twilio-facing endpoints: TwiML documents, actions, status callbacks, conference events.

Every route validates ``X-Twilio-Signature`` (403 otherwise) before its handler runs: the routes
are each a :class:`~callhold.web.deps.WebhookRoute`, and a handler gets the checked request as a
:class:`~callhold.web.deps.Webhook`. TwiML routes accept GET and POST (Twilio fetches HoldUrl with
GET by default). Callbacks are deduplicated by their own keys and fed to the domain, which ignores
anything stale, so retried or out-of-order callbacks never move a record backwards.

A TwiML route always answers TwiML when it can: Twilio meets an error status with its "application
error" message and hangs up on the caller. So when Twilio refuses to dial the agent, the customer
waits in line for the next one instead; and when callhold itself fails (its database away, say), the
route has Twilio retry it, then apologises (the failure policy of
:class:`~callhold.web.deps.WebhookRoute`; status callbacks answer 500 then).

A request that does not name a well-formed ``CallSid`` (or ``ParentCallSid``, where one is used;
``ConferenceSid`` for a conference event) records nothing: 204 for a status callback, an empty
``<Response/>`` for a TwiML route.

Add the routes to an app with :func:`install`, or with ``app.include_router(router)``, which works
the same but which FastAPI makes slower to match.
"""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime

from fastapi import FastAPI, Response

from callhold import budget
from callhold.domain import events as ev
from callhold.domain.errors import Invalid, NotFound
from callhold.domain.model import NUMBER_MAX, CallState, LegRole, LegStatus
from callhold.domain.sids import CallSid, ConferenceSid
from callhold.twiml import TwimlBuilder
from callhold.web.app import Services
from callhold.web.deps import Webhook, WebhookRoute, twiml_fallback
from callhold.web.routers import BOTH, router, twiml_response

__all__ = ["install", "router"]

_LEG_STATUSES = frozenset(s.value for s in LegStatus)
#: At most 18 digits: any such number fits a signed 64-bit INTEGER column.
_MAX_SEQUENCE_DIGITS = 18


def _empty() -> Response:
    """``<Response/>``: what a TwiML route answers a request it records nothing for."""
    return twiml_response(TwimlBuilder.empty())


def _placed(hook: Webhook) -> datetime | None:
    """When the outbound call was placed, from its URL (``placed``; ``None`` if absent or malformed)."""
    try:
        placed = datetime.fromisoformat(hook.query_text("placed"))
    except ValueError:
        return None
    return placed if placed.utcoffset() is not None else None


def _sid(hook: Webhook, key: str) -> CallSid | None:
    """The form field ``key`` as a Call SID, or ``None`` (absent or not shaped like one)."""
    try:
        return CallSid.parse(hook.text(key))
    except Invalid:
        return None


def _when(hook: Webhook) -> datetime:
    """The callback's ``Timestamp`` (RFC 2822) in UTC, else now (absent, unreadable, or out of range
    once in UTC)."""
    raw = hook.text("Timestamp")
    if raw:
        try:
            parsed = email.utils.parsedate_to_datetime(raw)
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    return hook.services.service.clock.now()


def _number(hook: Webhook, key: str) -> str | None:
    """The form field ``key`` as the customer's number (a phone number, ``client:name``, a SIP URI),
    or ``None``: absent, longer than any such address (not recorded rather than cut), or with a
    character that is not printable (a NUL, which PostgreSQL text refuses; a bidi override, which
    would make the number an agent reads on the console differ from the caller's)."""
    raw = hook.text(key)
    return raw if 0 < len(raw) <= NUMBER_MAX and raw.isprintable() else None


def _sequence(hook: Webhook) -> int | None:
    """The callback's ``SequenceNumber``, or ``None``: absent, or not 1 to 18 ASCII digits (``"²"``
    is a digit to ``str.isdigit`` but not to ``int``; a longer number would not fit the database)."""
    raw = hook.text("SequenceNumber")
    if 0 < len(raw) <= _MAX_SEQUENCE_DIGITS and raw.isascii() and raw.isdigit():
        return int(raw)
    return None


# -- callbacks ---------------------------------------------------------------------------------
# Routes are matched in the order they are declared, at a cost per route tried, so the webhooks
# Twilio sends most often (status callbacks, conference events, a new call, waiting music) come first.
@router.post("/webhooks/call-status", status_code=204)
async def call_status(hook: Webhook) -> Response:
    """A call status callback (any leg): monotonic, applied exactly once.

    Twilio may deliver a new leg's first callbacks before the request that created it has returned
    the Call SID. The leg is then not on record yet, and the callback says whose it is: a
    ``<Dial>`` child by its ``ParentCallSid``, a participant callhold dialled by the ``conference``
    and ``role`` in its callback URL, an outbound call by the ``agent`` in its callback URL. The
    leg (or call) is recorded from that, and the callback applied.
    """
    service = hook.services.service
    call_sid, status_text = _sid(hook, "CallSid"), hook.text("CallStatus")
    if call_sid is None or status_text not in _LEG_STATUSES:
        return Response(status_code=204)
    sequence = _sequence(hook)
    key = f"status:{call_sid}:{sequence}:{status_text}"
    event = ev.LegStatusChanged(
        call_sid=call_sid, status=LegStatus(status_text), sequence_number=sequence, timestamp=_when(hook)
    )
    try:
        decision = await service.handle_once(key, call_sid, event)
    except NotFound:
        if not await _record_new_leg(hook, call_sid):
            return Response(status_code=204)  # not a call of ours
        decision = await service.handle_once(key, call_sid, event)
    if decision is not None:
        leg = decision.new_state.leg(call_sid)
        if leg is not None and leg.role is LegRole.CUSTOMER and leg.status.is_terminal:
            await service.call_ended(decision.new_state.call.id)
    return Response(status_code=204)


async def _record_new_leg(hook: Webhook, call_sid: str) -> bool:
    """Record the leg an early status callback reports, from what it says about itself (see
    :func:`call_status`); ``False`` if it names no call of ours."""
    services = hook.services
    service, store = services.service, services.store
    if hook.text("ParentCallSid"):
        parent = _sid(hook, "ParentCallSid")
        if parent is None:
            return False
        parent_call = store.find_call(call_sid=parent)
        if parent_call is None:
            return False
        await service.join_agent_leg(parent_call.id, call_sid, parent)
        return True
    conference, role = hook.query_text("conference"), hook.query_text("role")
    if conference and role in (LegRole.AGENT.value, LegRole.THIRD_PARTY.value):
        call = store.find_call(conference=conference)
        if call is None:
            return False
        await service.join_agent_leg(call.id, call_sid, None, role=LegRole(role))
        return True
    if await _adopt_placed(hook, call_sid, LegStatus.QUEUED):
        return True
    status = hook.text("CallStatus")
    if hook.text("Direction") == "inbound" and status in _LEG_STATUSES and LegStatus(status).is_terminal:
        # A caller to our number who hung up while the voice webhook was still being answered (by
        # this or another instance): recorded, so the callback ends the call -- else the voice
        # webhook would adopt it afterwards as a live call, and an agent would be dialled for no one.
        service.adopt(call_sid, customer_number=_number(hook, "From"))
        return True
    return False


async def _adopt_placed(hook: Webhook, call_sid: str, status: LegStatus) -> bool:
    """Adopt ``call_sid`` as the outbound call placed for the agent its URL names (``agent``, and
    ``placed``: when), to the customer callhold dialled (``To``); ``False`` if it names no known agent."""
    agent_id = hook.query_text("agent")
    services = hook.services
    if not agent_id or services.store.get_agent(agent_id) is None:
        return False
    number, placed = _number(hook, "To"), _placed(hook)
    await services.service.adopt_outbound(call_sid, agent_id, number, status=status, placed_since=placed)
    return True


@router.post("/webhooks/conference", status_code=204)
async def conference_event(hook: Webhook) -> Response:
    """A conference status callback: start/end, join, hold/unhold, mute/unmute, leave; applied once."""
    service = hook.services.service
    kind = hook.text("StatusCallbackEvent")
    try:
        conference_sid = ConferenceSid.parse(hook.text("ConferenceSid"))
    except Invalid:
        return Response(status_code=204)
    call_sid = ""
    if kind.startswith("participant-"):
        parsed = _sid(hook, "CallSid")
        if parsed is None:
            return Response(status_code=204)
        call_sid = parsed
    at = _when(hook)
    number = _sequence(hook)
    sequence = number or 0
    event: ev.Event | None = None
    if kind == "conference-start":
        event = ev.ConferenceStarted(conference_sid=conference_sid, at=at)
    elif kind == "conference-end":
        event = ev.ConferenceEnded(
            conference_sid=conference_sid,
            at=at,
            reason=hook.text("ReasonConferenceEnded") or None,
            ending_call_sid=_sid(hook, "CallSidEndingConference"),
        )
    elif kind == "participant-join":  # the agent's: the start, if conference-start was lost
        event = ev.ParticipantJoined(call_sid=call_sid, conference_sid=conference_sid, at=at)
    elif kind in ("participant-hold", "participant-unhold"):
        event = ev.ParticipantHoldChanged(
            call_sid=call_sid,
            hold=kind == "participant-hold",
            sequence_number=sequence,
            at=at,
            conference_sid=conference_sid,
        )
    elif kind in ("participant-mute", "participant-unmute"):
        event = ev.ParticipantMuteChanged(
            call_sid=call_sid,
            muted=kind == "participant-mute",
            sequence_number=sequence,
            at=at,
            conference_sid=conference_sid,
        )
    elif kind == "participant-leave":
        status = hook.text("ParticipantCallStatus")
        if status in _LEG_STATUSES and LegStatus(status).is_terminal:
            event = ev.LegStatusChanged(
                call_sid=call_sid, status=LegStatus(status), sequence_number=None, timestamp=at
            )
    if event is None:  # modify, speaker events...: nothing to record
        return Response(status_code=204)
    key = f"conference:{conference_sid}:{'' if number is None else number}"
    try:
        decision = await service.handle_once(key, hook.text("FriendlyName"), event, conference=True)
    except NotFound:
        return Response(status_code=204)  # not a conference of ours
    if decision is not None and kind == "participant-leave":
        view = decision.new_state
        leg = view.leg(call_sid)
        if call_sid == view.call.customer_call_sid and leg is not None and leg.status.is_terminal:
            await service.call_ended(view.call.id)
    return Response(status_code=204)


# -- calls coming in -------------------------------------------------------------------------
@router.post("/twiml/voice")
async def voice(hook: Webhook) -> Response:
    """An inbound call: record it, claim an agent, connect by the configured strategy."""
    services = hook.services
    service = services.service
    call_sid = _sid(hook, "CallSid")
    if call_sid is None:
        return _empty()
    # A retried webhook finds the call it recorded.
    call = service.adopt(call_sid, customer_number=_number(hook, "From"))
    if call.status is CallState.ENDED:  # the caller hung up before this was answered
        return _empty()
    agent = services.store.get_agent(call.agent_id) if call.agent_id else service.assign_agent(call)
    if agent is not None and call.conference_name is not None:
        view = services.store.load_view(call.id)
        if view.agent_leg is None:
            with budget.spending(budget.TWIML_BUDGET):  # Twilio waits 15 s for this answer
                agent = await services.service.connect_agent(call, agent)
    return twiml_response(services.twiml.connect(call, agent))


@router.api_route("/twiml/wait-music", methods=BOTH)
@twiml_fallback(lambda hook: hook.services.twiml.wait_music())
async def wait_music(hook: Webhook) -> Response:
    """Music while waiting for an agent."""
    return twiml_response(hook.services.twiml.wait_music())


async def _connect(services: Services, call_id: str) -> Response:
    # The agent assigned; or, if the agent meant for it never answered, the next free one, if any.
    call, agent = await services.service.agent_for_waiting(call_id)
    return twiml_response(services.twiml.connect(call, agent, greet=False))


@router.api_route("/twiml/connect/{call_id}", methods=BOTH)
async def connect(hook: Webhook) -> Response:
    """A waiting customer whose turn came: connect them to the agent now assigned -- or, if the
    agent meant for them never answered, to the next free agent, else back in line."""
    return await _connect(hook.services, hook.path("call_id"))


@router.api_route("/twiml/outbound", methods=BOTH)
async def outbound(hook: Webhook) -> Response:
    """An outbound call we placed for an agent was answered: connect it to that agent.

    The call is found by its ``CallSid``: its SID (our call id) exists only once Twilio created it,
    after the URL was given. The URL names the agent, so a call whose Calls create answer was lost,
    and no status callback came either, is adopted here. The answer stamps the hand-over
    (``CallService.outbound_answered``): if the agent is never connected, the dispatch sweep finishes it.
    """
    call_sid = _sid(hook, "CallSid")
    if call_sid is None:
        return _empty()
    services = hook.services
    if services.store.find_call(call_sid=call_sid) is None:
        # Twilio's answer to Calls create was lost and no status callback came: the URL says whose.
        await _adopt_placed(hook, call_sid, LegStatus.IN_PROGRESS)
    services.service.outbound_answered(call_sid)
    return await _connect(services, call_sid)


# -- actions: where a <Dial> or <Enqueue> continues ---------------------------------------------
@router.post("/twiml/action/{call_id}")
async def dial_action(hook: Webhook) -> Response:
    """A ``<Dial>`` ended. Whether it was a hang-up or our own hold is decided from our records (and,
    for a held conference customer, from the request's ``CallStatus``: whether it is still there)."""
    service = hook.services.service
    call_sid = _sid(hook, "CallSid")
    if call_sid is None:
        return _empty()
    status, caller = hook.text("DialCallStatus") or "completed", hook.text("CallStatus")
    event = ev.DialActionReceived(
        call_sid=call_sid,
        dial_call_status=status,
        at=service.clock.now(),
        call_status=LegStatus(caller) if caller in _LEG_STATUSES else None,
    )
    decision = await service.handle(hook.path("call_id"), event)
    return twiml_response(hook.services.twiml.redirect(service.action_reply(decision)))


@router.post("/twiml/enqueue-action/{call_id}")
async def enqueue_action(hook: Webhook) -> Response:
    """An ``<Enqueue>`` ended (QueueResult)."""
    service = hook.services.service
    call_sid = _sid(hook, "CallSid")
    if call_sid is None:
        return _empty()
    event = ev.EnqueueActionReceived(
        call_sid=call_sid, queue_result=hook.text("QueueResult"), at=service.clock.now()
    )
    decision = await service.handle(hook.path("call_id"), event)
    return twiml_response(hook.services.twiml.redirect(service.action_reply(decision)))


# The documents Twilio fetches during a hold: registered on the same router, after the routes above.
from callhold.web import hold_documents  # noqa: E402, F401


def install(app: FastAPI) -> None:
    """Add every webhook route to ``app`` itself: ``app.include_router(router)``, but cheaper.

    FastAPI keeps an included router nested and, on every request, walks its routes through a
    wrapper (twice: to match, then to handle), about 2 µs per route tried: some 30 µs before the
    last route declared here is reached, and 12 µs of a ~90 µs waiting-music request. Routes added
    to the app directly are matched once, as Starlette does. Same paths, methods, names, handlers.
    """
    before = len(app.router.routes)
    for route in router.routes:
        assert isinstance(route, WebhookRoute)
        app.router.add_api_route(
            route.path,
            route.handler,
            methods=sorted(route.methods or ()),
            name=route.name,
            status_code=route.status_code,
            include_in_schema=False,
            route_class_override=WebhookRoute,
        )
    # First in the app's list, ahead of /docs, /openapi.json and the rest: Twilio's requests are
    # the app's most frequent, and every route tried before the right one costs a match.
    added = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[:0] = added
