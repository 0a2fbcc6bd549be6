"""Calls: the record Twilio keeps for each leg, and its life from ``queued`` to a final status.

Status changes happen here and only here, each firing the status callback the call subscribed to
(``initiated``, ``ringing``, ``answered``, ``completed``; reference §6.1) with ``SequenceNumber``,
``Timestamp`` and ``CallbackSource``. Hanging up and redirecting a call are *interrupts* thrown into
the flow that runs it, so the verb it is in cleans up the way Twilio does (reference §3.3).

Every call has a maximum duration, its ``TimeLimit``: the OAI spec's "maximum duration of the call in
seconds" for Calls create and update and Participants create. Twilio's default is four hours, the
account-wide limit unless the account's 24-hour setting is on (reference §3.1 and §7 [DialDoc]; the
Twilio blog "Introducing Configurable Call Limits for Programmable Voice", 2021: "Historically, Twilio
has had a hard-coded four-hour call limit for all Voice calls"; a per-call limit "You can even update
... on active calls"). When it is reached Twilio ends the call and logs warning 32015 "Call is terminated
due to exceeding maximum call duration" (https://www.twilio.com/docs/api/errors/32015). Choices where
the sources are silent:

* the limit counts from the answer: it bounds the call's ``duration``, which is the answered time
  (reference §5.4), so ringing does not use it up (inferred);
* a new ``TimeLimit`` (Calls update) replaces the old one and still counts from the answer, as the
  same "maximum duration of the call"; a call already longer than the new limit ends at once;
* the call ends ``completed`` (it was answered) with its usual ``completed`` status callback, and the
  32015 alert is recorded just before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from voicesim.process import Interrupt, Process, Signal
from voicesim.webhooks import WebhookRequest

if TYPE_CHECKING:
    from voicesim.clock import Timer
    from voicesim.emulator import Emulator

__all__ = [
    "DEFAULT_TIME_LIMIT",
    "TERMINAL_STATUSES",
    "Call",
    "Calls",
    "HungUp",
    "Keypad",
    "Redirected",
    "Source",
]

TERMINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
#: A call's maximum duration when no ``TimeLimit`` is given: Twilio's four-hour default (see above).
DEFAULT_TIME_LIMIT = 14400
Direction = Literal["inbound", "outbound-api", "outbound-dial"]


@dataclass(frozen=True, slots=True)
class Source:
    """Where a call's next TwiML comes from: a URL (with extra parameters) or a TwiML string."""

    url: str | None = None
    method: str = "POST"
    twiml: str | None = None
    params: tuple[tuple[str, str], ...] = ()


class Redirected(Interrupt):
    """The call was sent to new TwiML through the REST API (or a queue dequeue)."""

    def __init__(self, source: Source, reason: str = "api") -> None:
        super().__init__(f"redirected to {source.url or 'inline TwiML'}")
        self.source = source
        self.reason = reason
        self.priority = 2 if reason == "api" else 1


class HungUp(Interrupt):
    """The call ended: the far end hung up, or the API completed it."""

    priority = 3

    def __init__(self, status: str, by: str = "remote") -> None:
        super().__init__(f"hung up ({status}, by {by})")
        self.status = status
        self.by = by


class Keypad:
    """Digits the far end pressed, waiting for a ``<Gather>`` (or ``hangupOnStar``) to read them."""

    def __init__(self, call: Call, emulator: Emulator) -> None:
        self._emulator = emulator
        self.buffer = ""
        self.listening = False
        self.signal: Signal[str] = Signal(emulator.clock)
        self.on_star: Signal[str] | None = None

    def press(self, digits: str) -> None:
        """The far end pressed ``digits`` (heard only while something listens)."""
        if self.on_star is not None and "*" in digits:
            self.on_star.fire("*")
        if not self.listening:
            return
        self.buffer += digits
        self.signal.fire(digits)
        self.signal = Signal(self._emulator.clock)

    def listen(self) -> None:
        """Start collecting digits from now on."""
        self.buffer = ""
        self.listening = True

    def stop(self) -> str:
        """Stop collecting; return what was collected."""
        self.listening = False
        collected, self.buffer = self.buffer, ""
        return collected


@dataclass(eq=False)
class Call:
    """One call leg, as the Calls resource shows it, plus what runs it."""

    sid: str
    account_sid: str
    to: str
    from_: str
    direction: Direction
    date_created: float
    parent_call_sid: str | None = None
    phone_number_sid: str | None = None
    status: str = "queued"
    date_updated: float = 0.0
    start_time: float | None = None
    end_time: float | None = None
    answered_at: float | None = None
    url: str | None = None
    method: str = "POST"
    twiml: str | None = None
    fallback_url: str | None = None
    fallback_method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_events: frozenset[str] = frozenset({"completed"})
    timeout: int = 60
    time_limit: int = DEFAULT_TIME_LIMIT
    caller_name: str | None = None
    forwarded_from: str | None = None
    queue_time: str = "0"
    sequence_number: int = 0
    deleted: bool = False
    process: Process | None = None
    keypad: Keypad | None = None
    where: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    #: When the call will be ended for reaching ``time_limit`` (armed at the answer).
    limit_timer: Timer | None = field(default=None, repr=False)

    @property
    def is_terminal(self) -> bool:
        """True once the call has a final status."""
        return self.status in TERMINAL_STATUSES

    def duration(self) -> int | None:
        """Whole seconds between answer and end, once ended; None before."""
        if self.end_time is None:
            return None
        if self.answered_at is None:
            return 0
        return int(self.end_time - self.answered_at)

    def webhook_params(self, status: str | None = None) -> list[tuple[str, str]]:
        """The standard parameters of every voice request about this call (reference §6.1)."""
        params = [
            ("AccountSid", self.account_sid),
            ("ApiVersion", "2010-04-01"),
            ("CallSid", self.sid),
            ("CallStatus", status or self.status),
            ("Called", self.to),
            ("Caller", self.from_),
            ("Direction", self.direction),
            ("From", self.from_),
            ("To", self.to),
        ]
        if self.parent_call_sid:
            params.append(("ParentCallSid", self.parent_call_sid))
        if self.forwarded_from:
            params.append(("ForwardedFrom", self.forwarded_from))
        if self.caller_name:
            params.append(("CallerName", self.caller_name))
        return params


class Calls:
    """Every call of the emulator, and the transitions of their status."""

    def __init__(self, emulator: Emulator) -> None:
        self._emu = emulator
        self.by_sid: dict[str, Call] = {}

    def create(
        self,
        *,
        to: str,
        from_: str,
        direction: Direction,
        parent: Call | None = None,
        **fields: object,
    ) -> Call:
        """Make a new call record in ``queued`` state (nothing is scheduled yet)."""
        emu = self._emu
        now = emu.clock.now()
        call = Call(
            sid=emu.sids.new("CA"),
            account_sid=emu.account_sid,
            to=to,
            from_=from_,
            direction=direction,
            date_created=now,
            date_updated=now,
            parent_call_sid=parent.sid if parent else None,
            **fields,  # type: ignore[arg-type]
        )
        call.keypad = Keypad(call, emu)
        self.by_sid[call.sid] = call
        emu.log("call.created", call_sid=call.sid, to=to, from_=from_, direction=direction)
        return call

    def get(self, sid: str) -> Call | None:
        """The call with ``sid``, unless unknown or deleted."""
        call = self.by_sid.get(sid)
        return None if call is None or call.deleted else call

    def all(self) -> list[Call]:
        """Every call not deleted, newest first (Twilio lists newest first)."""
        return [c for c in reversed(self.by_sid.values()) if not c.deleted]

    # -- status transitions ------------------------------------------------------------------
    def initiated(self, call: Call) -> None:
        """The call is being placed (CallStatus ``initiated``; the resource stays ``queued``)."""
        self._callback(call, "initiated", "initiated")

    def ringing(self, call: Call) -> None:
        """The far end is ringing."""
        self._set(call, "ringing")
        if call.start_time is None:
            call.start_time = self._emu.clock.now()
        self._callback(call, "ringing", "ringing")

    def answer(self, call: Call) -> None:
        """The far end answered (or Twilio answered an inbound call)."""
        if call.status == "in-progress" or call.is_terminal:
            return
        now = self._emu.clock.now()
        if call.start_time is None:
            call.start_time = now
        call.answered_at = now
        self._set(call, "in-progress")
        self._callback(call, "answered", "in-progress")
        self._arm_time_limit(call, now)

    def set_time_limit(self, call: Call, seconds: int) -> None:
        """A new maximum duration for ``call``, counted from its answer (replacing the running one)."""
        call.time_limit = seconds
        self._emu.log("call.time-limit-set", call_sid=call.sid, time_limit=seconds)
        if call.answered_at is not None and not call.is_terminal:
            self._arm_time_limit(call, call.answered_at)

    def _arm_time_limit(self, call: Call, answered_at: float) -> None:
        """(Re)schedule the end of ``call`` at ``answered_at + time_limit`` (at once if that is past)."""
        if call.limit_timer is not None:
            call.limit_timer.cancel()
        clock = self._emu.clock
        call.limit_timer = clock.call_at(answered_at + call.time_limit, self._time_limit_reached, call)

    def _time_limit_reached(self, call: Call) -> None:
        call.limit_timer = None
        if call.is_terminal:
            return
        self._emu.alert(32015, "Call is terminated due to exceeding maximum call duration", call_sid=call.sid)
        self.complete(call, "completed", by="time-limit")

    def complete(self, call: Call, status: str = "completed", by: str = "remote") -> bool:
        """End the call with ``status`` and interrupt whatever runs it; False if already ended."""
        if call.is_terminal:
            return False
        was_queued = call.status == "queued"
        now = self._emu.clock.now()
        if status == "completed" and call.answered_at is None:
            status = "canceled"  # hung up before anyone answered
        self._set(call, status)
        call.end_time = now
        if call.limit_timer is not None:
            call.limit_timer.cancel()
            call.limit_timer = None
        self._emu.media.timeline(call.sid).close(now)
        if not (was_queued and status == "canceled"):  # canceled while queued: no callbacks (§5.3)
            self._callback(call, "completed", status)
        if call.process is not None and call.process is not self._emu.clock.current:
            call.process.interrupt(HungUp(status, by))
        self._emu.call_ended(call)
        return True

    def redirect(self, call: Call, source: Source, reason: str = "api") -> None:
        """Throw the call out of what it is doing, into new TwiML."""
        self._emu.log("call.redirected", call_sid=call.sid, url=source.url, reason=reason)
        if call.process is not None and not call.process.finished:
            call.process.interrupt(Redirected(source, reason))
        else:
            self._emu.run_twiml(call, source)

    def _set(self, call: Call, status: str) -> None:
        call.status = status
        call.date_updated = self._emu.clock.now()
        self._emu.log("call.status", call_sid=call.sid, status=status)

    def _callback(self, call: Call, event: str, call_status: str) -> None:
        if not call.status_callback or event not in call.status_callback_events:
            return
        emu = self._emu
        params = call.webhook_params(call_status)
        params += [
            ("CallbackSource", "call-progress-events"),
            ("SequenceNumber", str(call.sequence_number)),
            ("Timestamp", emu.rfc2822(emu.clock.now())),
        ]
        call.sequence_number += 1
        if event == "completed":
            duration = call.duration() or 0
            params += [
                ("CallDuration", str(duration)),
                ("Duration", str((duration + 59) // 60)),
                ("SipResponseCode", _SIP_CODES.get(call_status, "200")),
            ]
        emu.send_detached(
            WebhookRequest(
                url=call.status_callback,
                method=call.status_callback_method,
                params=params,
                purpose="status-callback",
                call_sid=call.sid,
            )
        )


_SIP_CODES = {"completed": "200", "busy": "486", "no-answer": "487", "failed": "404", "canceled": "487"}
