"""``<Enqueue>``: a call waits in a queue with its waitUrl loop, until something takes it out.

The waiting call's own flow runs :func:`run_enqueue`. How the wait ends decides the ``QueueResult``
(reference §4.1) and what happens next:

* ``<Leave>`` in the wait TwiML (``leave``), or bad wait TwiML / an unreachable waitUrl (``error``):
  the action is requested at once and its TwiML runs, else the verb after ``<Enqueue>``;
* ``queue-full``: the call was never enqueued -- action without ``QueueSid``/``QueueTime``;
* a REST dequeue (Member update) or a Calls-API redirect (``redirected``): the action is requested at
  once, its TwiML thrown away, and the call runs the new TwiML (like a redirected ``<Dial>``, §3.3);
* hang-up (``hangup``): the action is requested, its TwiML ignored;
* a ``<Dial><Queue>`` takes it (:class:`Dequeued` is thrown in): the ``<Queue url>`` TwiML runs on this
  call, then the two calls are bridged; when the bridge ends (the dequeuer hangs up or moves on) the
  action fires once with ``bridged`` and its TwiML runs (§4.2). Redirected while bridged:
  ``redirected-from-bridged``. Anything that breaks the bridge before it is made (this call moved away,
  the dequeuer gone during the url TwiML): ``bridging-in-process`` (chosen, sources silent: Twilio's
  description is "Twilio has been instructed to bridge the enqueued party"); a hang-up before the bridge
  is still ``hangup`` ("hung up before connecting to a dequeued call").
* ``system-error`` ("hangs up before being fully enqueued") cannot happen here: joining is instantaneous.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from voicesim.calls import Call, HungUp, Redirected, Source
from voicesim.media import Audio
from voicesim.process import Interrupt, Signal, Wait
from voicesim.twiml.interpreter import LeaveQueue, Session
from voicesim.twiml.verbs import DEFAULT_HOLD_MUSIC_URL, Enqueue, Hangup, Response, Verb
from voicesim.webhooks import WebhookRequest

if TYPE_CHECKING:
    from voicesim.emulator import Emulator
    from voicesim.queues import CallQueue, Member, Queues

__all__ = ["Dequeued", "QueueBridge", "WaitSession", "WaitUrlFailed", "run_enqueue"]


@dataclass(eq=False)
class QueueBridge:
    """A dequeuer (the call running ``<Dial><Queue>``) and the member it took."""

    dequeuer: Call
    member: Member
    connected: Signal[bool]
    ended: Signal[str]
    whisper: Source | None = None
    bridged_at: float | None = None
    end_reason: str | None = None

    def end(self, reason: str) -> None:
        """The bridge is over, or will not happen (first reason wins)."""
        if self.end_reason is None:
            self.end_reason = reason
        self.connected.fire(False)
        self.ended.fire(reason)


class Dequeued(Interrupt):
    """Thrown into a waiting call's flow: a ``<Dial><Queue>`` took it out of the queue."""

    def __init__(self, bridge: QueueBridge) -> None:
        super().__init__(f"dequeued by {bridge.dequeuer.sid}")
        self.bridge = bridge


class WaitUrlFailed(Exception):
    """The waitUrl (or a document it led to) could not be fetched or parsed: ``QueueResult=error``."""


class WaitSession(Session):
    """Runs waitUrl TwiML (context ``enqueue_wait``, timeline label ``queue-wait``).

    Differences from a plain hold session: every request carries the queue parameters as they are at
    that moment; ``<Hangup>`` ends the call; a failure leaves the queue (``error``) instead of silence.
    """

    def __init__(self, emu: Emulator, call: Call, member: Member) -> None:
        super().__init__(emu, call, "enqueue_wait", label="queue-wait")
        self.member = member

    def params(self, extra: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
        """Standard parameters, the queue parameters (reference §4.1), then ``extra``."""
        now = self.emu.clock.now()
        return [*self.call.webhook_params(), *self.member.queue.wait_params(self.member, now), *extra]

    async def step(self, verb: Verb, following: Verb | None) -> Source | None:
        """``<Hangup>`` hangs the call up (leaving the queue); every other verb as usual."""
        if isinstance(verb, Hangup):
            self.emu.calls.complete(self.call, "completed", by="twiml")
            raise HungUp(self.call.status, "twiml")
        return await super().step(verb, following)

    async def failed(self, code: int, message: str, url: str | None) -> Response | None:
        """Record the alert, then leave the queue with ``QueueResult=error`` (reference §4.1)."""
        self.emu.alert(code, message, call_sid=self.call.sid, url=url)
        raise WaitUrlFailed(f"{code}: {message}")


async def run_enqueue(queues: Queues, session: Session, verb: Enqueue) -> Source | None:
    """Execute ``<Enqueue>`` on the session's call; the action Source, or None for the next verb."""
    call = session.call
    queue, member = queues.join(verb, call)
    if member is None:
        return _action(session, verb, queue, None, "queue-full")
    try:
        await _wait(session, verb, member)
    except LeaveQueue:
        queues.leave(member, "leave")
        return _finish(session, verb, member, "leave")
    except WaitUrlFailed:
        queues.leave(member, "error")
        return _finish(session, verb, member, "error")
    except Dequeued as dequeued:
        return await _bridged(session, verb, member, dequeued.bridge)
    except HungUp:
        queues.leave(member, "hangup")
        _abandon(member)
        await _discarded(session, verb, member, "hangup")
        raise
    except Redirected:
        queues.leave(member, "redirected")
        _abandon(member)
        await _discarded(session, verb, member, "redirected")
        raise
    raise AssertionError(f"the wait of {call.sid} in {queue.sid} ended without a result")  # pragma: no cover


async def _wait(session: Session, verb: Enqueue, member: Member) -> None:
    """Play the wait audio until an exception takes the call out of the queue (never returns)."""
    emu, call = session.emu, session.call
    forever: Signal[None] = Signal(emu.clock)  # nothing fires it: only an interrupt ends the wait
    wait = WaitSession(emu, call, member)
    if verb.wait_url is None:
        # Twilio's default classical playlist: known music, not fetched (DEFAULT_HOLD_MUSIC_URL).
        wait.hear("music", DEFAULT_HOLD_MUSIC_URL)
        await Wait(forever)
    if verb.wait_url == "":
        wait.hear("silence")  # "set waitUrl to an empty string" -- nothing plays (reference §4.1)
        await Wait(forever)
    source = Source(url=session.resolve(verb.wait_url or ""), method=verb.wait_url_method)
    while True:
        started = emu.clock.now()
        # When the TwiML runs out, waitUrl is requested again: the music loops (reference §4.1).
        await wait.run(source)
        if emu.clock.now() == started:
            # Chosen, sources silent: TwiML that runs out without taking any time (an empty
            # <Response/>) would be re-requested forever in one instant; the caller hears silence.
            wait.hear("silence")
            await Wait(forever)


async def _bridged(session: Session, verb: Enqueue, member: Member, bridge: QueueBridge) -> Source | None:
    """Dequeued by ``<Dial><Queue>``: run the url TwiML, bridge, wait for the bridge to end."""
    emu, call = session.emu, session.call
    dequeuer = bridge.dequeuer
    try:
        if bridge.whisper is not None:
            whisper = Session(emu, call, "queue_url", label="dial-leg")
            now = emu.clock.now()
            whisper.extra_params = (
                ("QueueSid", member.queue.sid),
                ("QueueTime", str(member.wait_time(now))),
                ("DequeingCallSid", dequeuer.sid),
            )
            await whisper.run(bridge.whisper)
        if bridge.end_reason is not None:  # the dequeuer went away during the url TwiML
            return _finish(session, verb, member, "bridging-in-process")
        now = emu.clock.now()
        bridge.bridged_at = now
        emu.media.timeline(call.sid).hear(now, Audio("call", dequeuer.sid))
        emu.media.timeline(dequeuer.sid).hear(now, Audio("call", call.sid))
        emu.log("queue.bridged", queue_sid=member.queue.sid, call_sid=call.sid, dequeuer=dequeuer.sid)
        bridge.connected.fire(True)
        await Wait(bridge.ended)
    except HungUp:
        bridged = bridge.bridged_at is not None
        bridge.end("member-hangup")
        await _discarded(session, verb, member, "bridged" if bridged else "hangup")
        raise
    except Redirected:
        bridged = bridge.bridged_at is not None
        bridge.end("member-redirected")
        emu.log("queue.unbridged", queue_sid=member.queue.sid, call_sid=call.sid, reason="member-redirected")
        result = "redirected-from-bridged" if bridged else "bridging-in-process"
        await _discarded(session, verb, member, result)
        raise
    emu.log("queue.unbridged", queue_sid=member.queue.sid, call_sid=call.sid, reason=bridge.end_reason)
    return _finish(session, verb, member, "bridged")


def _abandon(member: Member) -> None:
    """A dequeue that had not reached the flow yet will not happen (the call hung up or moved)."""
    if member.bridge is not None:
        member.bridge.end("member-gone")


def _finish(session: Session, verb: Enqueue, member: Member, result: str) -> Source | None:
    """The call continues: its action (TwiML run), else the next verb."""
    if not session.call.is_terminal:
        session.hear("silence")
    return _action(session, verb, member.queue, member, result)


def _params(queue: CallQueue, member: Member | None, result: str, now: float) -> tuple[tuple[str, str], ...]:
    """``QueueResult``; ``QueueSid`` and ``QueueTime`` only if the call was enqueued (reference §4.1)."""
    if member is None:
        return (("QueueResult", result),)
    return (("QueueResult", result), ("QueueSid", queue.sid), ("QueueTime", str(member.wait_time(now))))


def _action(
    session: Session, verb: Enqueue, queue: CallQueue, member: Member | None, result: str
) -> Source | None:
    session.emu.log("queue.result", call_sid=session.call.sid, queue_sid=queue.sid, result=result)
    if not verb.action:
        return None  # no action: fall through to the next verb (reference §4.1)
    params = _params(queue, member, result, session.emu.clock.now())
    return Source(url=session.resolve(verb.action), method=verb.method, params=params)


async def _discarded(session: Session, verb: Enqueue, member: Member, result: str) -> None:
    """Request the action with ``result`` and ignore its TwiML (the call hung up or runs new TwiML)."""
    emu = session.emu
    emu.log("queue.result", call_sid=session.call.sid, queue_sid=member.queue.sid, result=result)
    if not verb.action:
        return
    params = _params(member.queue, member, result, emu.clock.now())
    url = session.resolve(verb.action)
    await emu.fetch(
        WebhookRequest(url, verb.method, session.params(params), "action-discarded", session.call.sid)
    )
