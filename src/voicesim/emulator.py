"""The emulator: one Twilio account's voice world -- clock, calls, numbers, phones, media, log.

Everything that changes state lives behind this object; REST handlers and the Python API call its
methods, which change records and *schedule* flows at the current instant (DESIGN boundary 3).
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from voicesim.calls import Call, Calls, Source
from voicesim.clock import Scheduler, VirtualClock
from voicesim.keys import ApiKey, check_key_sid
from voicesim.media import Media
from voicesim.numbers import IncomingPhoneNumber, format_number
from voicesim.phones import Phones, PhoneScript, normalise_address
from voicesim.process import Fetch, Process
from voicesim.sids import SidFactory
from voicesim.webhooks import WebhookRequest, WebhookResponse, Webhooks

__all__ = ["DEFAULT_ACCOUNT_SID", "DEFAULT_AUTH_TOKEN", "Alert", "Emulator", "Event"]

DEFAULT_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEFAULT_AUTH_TOKEN = "0123456789abcdef0123456789abcdef"


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of the event log: what happened, when, in order."""

    seq: int
    time: float
    type: str
    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"seq": self.seq, "time": self.time, "type": self.type, **self.data}


@dataclass(frozen=True, slots=True)
class Alert:
    """A Debugger notification: a webhook or TwiML failure with Twilio's error code."""

    sid: str
    time: float
    error_code: int
    message: str
    call_sid: str | None
    url: str | None


class Emulator:
    """A local Twilio Programmable Voice for one account.

    Clients authenticate with the account SID and ``auth_token``, or with an API key (``SK...`` SID
    and secret) registered through ``api_keys``, :meth:`create_api_key` or ``POST /Keys.json``
    (:mod:`voicesim.keys`). Keys given to the constructor survive :meth:`reset`, like the auth token.
    """

    def __init__(
        self,
        clock: Scheduler | None = None,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        seed: int | None = 0,
        api_keys: Mapping[str, str] | None = None,
    ) -> None:
        self.clock: Scheduler = clock if clock is not None else VirtualClock()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._configured_keys = {check_key_sid(sid): secret for sid, secret in (api_keys or {}).items()}
        self.sids = SidFactory(seed)
        self.webhooks = Webhooks(lambda: self.auth_token, self._record_exchange)
        self.phones = Phones()
        self._listeners: list[Callable[[Event], None]] = []
        self._init_state()

    def _init_state(self) -> None:
        for process in getattr(self, "_processes", ()):
            process.close()
        self._processes: set[Process] = set()
        self.calls = Calls(self)
        self.numbers: dict[str, IncomingPhoneNumber] = {}
        self.api_keys: dict[str, ApiKey] = {}
        self.media = Media()
        self.events: list[Event] = []
        self.alerts: list[Alert] = []
        self.media_durations: dict[str, float] = {}
        from voicesim.conferences import Conferences
        from voicesim.queues import Queues

        self.conferences = Conferences(self)
        self.queues = Queues(self)
        for sid, secret in self._configured_keys.items():
            self.create_api_key(sid=sid, secret=secret)

    def reset(self, seed: int | None = 0) -> None:
        """Forget every call, number, API key made since, phone script and event; restart SIDs."""
        self.sids.reseed(seed)
        self.phones.clear()
        self._init_state()

    # -- infrastructure used by every flow ---------------------------------------------------
    def log(self, type_: str, **data: Any) -> Event:
        """Append to the event log."""
        event = Event(len(self.events), self.clock.now(), type_, data)
        self.events.append(event)
        for listener in self._listeners:
            listener(event)
        return event

    def subscribe(self, listener: Callable[[Event], None]) -> None:
        """Call ``listener`` with every new event."""
        self._listeners.append(listener)

    @staticmethod
    def rfc2822(when: float) -> str:
        """Twilio's date format: ``Tue, 31 Aug 2010 20:36:28 +0000``."""
        return email.utils.formatdate(when, usegmt=False).replace("-0000", "+0000")

    def alert(self, code: int, message: str, *, call_sid: str | None = None, url: str | None = None) -> Alert:
        """Record a Debugger notification."""
        alert = Alert(self.sids.new("NO"), self.clock.now(), code, message, call_sid, url)
        self.alerts.append(alert)
        self.log("alert", error_code=code, message=message, call_sid=call_sid, url=url)
        return alert

    def _record_exchange(self, request: WebhookRequest, response: WebhookResponse) -> None:
        self.log(
            "webhook",
            purpose=request.purpose,
            call_sid=request.call_sid,
            method=request.method,
            url=request.url,
            params=dict(request.params),
            status=response.status,
            error_code=response.error_code,
        )

    def send_detached(self, request: WebhookRequest) -> None:
        """Send a request nobody waits for (status callbacks, conference events)."""

        async def run() -> None:
            response = await self.webhooks.send(request)
            if response.error_code is not None:
                self.alert(response.error_code, response.error, call_sid=request.call_sid, url=request.url)

        self.clock.start_io(run())

    def fetch(self, request: WebhookRequest) -> Fetch[WebhookResponse]:
        """An effect a flow awaits to make ``request``."""
        return Fetch(lambda: self.webhooks.send(request))

    def spawn(self, call: Call | None, coro: Any, name: str) -> Process:
        """Start a flow now; when ``call`` is given it becomes the call's flow."""
        process = Process(self.clock, coro, name)
        if call is not None:
            call.process = process
        self._processes.add(process)
        process.done.subscribe(lambda _: self._processes.discard(process))
        return process.start()

    def close(self) -> None:
        """Stop every flow (nothing more runs); the records stay readable."""
        for process in list(self._processes):
            process.close()
        self._processes.clear()

    # -- flows -------------------------------------------------------------------------------
    def run_twiml(self, call: Call, source: Source) -> Process:
        """Run TwiML on ``call`` as its main flow, hanging up when the TwiML ends."""
        from voicesim.twiml.interpreter import run_call

        return self.spawn(call, run_call(self, call, source), f"twiml:{call.sid}")

    def call_ended(self, call: Call) -> None:
        """Hook run once when a call reaches a final status."""
        self.log("call.ended", call_sid=call.sid, status=call.status)
        self.queues.call_ended(call)

    # -- the Python API ----------------------------------------------------------------------
    def create_call(self, *, to: str, from_: str, source: Source, **fields: Any) -> Call:
        """Place an outbound-api call (what ``POST /Calls.json`` does)."""
        from voicesim.ringing import outbound_api_flow

        call = self.calls.create(to=to, from_=from_, direction="outbound-api", **fields)
        self.spawn(call, outbound_api_flow(self, call, source), f"outbound:{call.sid}")
        return call

    def buy_number(self, phone_number: str, **fields: Any) -> IncomingPhoneNumber:
        """Add an IncomingPhoneNumber to the account."""
        now = self.clock.now()
        number = IncomingPhoneNumber(
            sid=self.sids.new("PN"),
            account_sid=self.account_sid,
            phone_number=phone_number,
            friendly_name=fields.pop("friendly_name", None) or format_number(phone_number),
            date_created=now,
            date_updated=now,
            **fields,
        )
        self.numbers[number.sid] = number
        self.log("number.created", sid=number.sid, phone_number=phone_number)
        return number

    def create_api_key(
        self, friendly_name: str | None = None, *, sid: str | None = None, secret: str | None = None
    ) -> tuple[str, str]:
        """Register a (Standard) API key; returns its SID and secret, made up unless given.

        ``Client(sid, secret, emu.account_sid)`` then authenticates with it.
        """
        key_sid = check_key_sid(sid) if sid is not None else self.sids.new("SK")
        if secret == "":
            raise ValueError("an API key's secret cannot be empty")
        now = self.clock.now()
        key = ApiKey(key_sid, secret or self.sids.secret(), friendly_name, now, now)
        self.api_keys[key_sid] = key
        self.log("api-key.created", sid=key_sid)
        return key.sid, key.secret

    def number_for(self, address: str) -> IncomingPhoneNumber | None:
        """The account's number ``address`` routes to, if any."""
        key = normalise_address(address)
        return next((n for n in self.numbers.values() if n.phone_number == key), None)

    def inbound_call(self, from_: str, to: str, script: PhoneScript | None = None) -> Call:
        """A phone calls one of the account's numbers: the call runs the number's VoiceUrl."""
        from voicesim.ringing import inbound_flow

        number = self.number_for(to)
        if number is None:
            raise LookupError(f"{to} is not an IncomingPhoneNumber of this account")
        if script is not None:
            self.phones.script(from_, script)
        call = self.calls.create(
            to=number.phone_number,
            from_=normalise_address(from_),
            direction="inbound",
            phone_number_sid=number.sid,
            url=number.voice_url,
            method=number.voice_method,
            fallback_url=number.voice_fallback_url,
            fallback_method=number.voice_fallback_method,
            status_callback=number.status_callback,
            status_callback_method=number.status_callback_method,
        )
        self.spawn(call, inbound_flow(self, call), f"inbound:{call.sid}")
        return call

    def hang_up(self, call_sid: str) -> bool:
        """The far end of ``call_sid`` hangs up now; False if the call had already ended."""
        call = self._call(call_sid)
        return self.calls.complete(call, "completed", by="remote")

    def press(self, call_sid: str, digits: str) -> None:
        """The far end of ``call_sid`` presses ``digits`` now."""
        call = self._call(call_sid)
        if call.keypad is not None and not call.is_terminal:
            self.log("call.digits", call_sid=call_sid, digits=digits)
            call.keypad.press(digits)

    def _call(self, call_sid: str) -> Call:
        call = self.calls.get(call_sid)
        if call is None:
            raise LookupError(f"no call {call_sid}")
        return call
