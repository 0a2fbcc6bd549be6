"""``<Dial><Queue>``: take the first caller waiting in a queue and bridge to it (reference §4.3).

The dequeuing call's flow runs :func:`run_dial_queue`; the member it takes keeps running its own flow
(:mod:`voicesim.queue_flows`), which is told by a :class:`~voicesim.queue_flows.Dequeued` interrupt and
meets this one in a :class:`~voicesim.queue_flows.QueueBridge`. The member is an independent call, not
a child: whatever ends the bridge on this side, the member continues with its Enqueue action
(``QueueResult=bridged``) or the verb after its ``<Enqueue>``.

* Empty queue: wait until someone joins, or until the ``<Dial timeout>`` (``DialCallStatus=no-answer``);
  meanwhile the dequeuer hears ringback, as for any ``<Dial>`` (chosen, sources silent).
* No queue of that name: ``DialCallStatus=failed`` to the action ("Dial will post an error status").
* The member hangs up, or the time limit / ``hangupOnStar`` ends the bridge: ``completed``; the action
  gets the Dial parameters plus ``QueueSid``, ``QueueTime`` and ``DequeingCallSid`` (§3.2, §4.3).
* The member is redirected during the bridge: ``completed`` without ``DialCallDuration`` (Q1).
* This call is redirected or hangs up: the bridge ends (the member carries on), the action is requested
  and its TwiML thrown away, then the new TwiML runs (§3.3, Q2b). With no action, a redirected call whose
  next verb is a ``<Redirect>`` requests that URL and throws the reply away (Q2a), as plain ``<Dial>``
  does: both go through :func:`voicesim.twiml.dial.request_discarded`.
* The member goes away before the bridge is made: ``no-answer`` (chosen, sources silent).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voicesim.calls import HungUp, Redirected, Source
from voicesim.process import Signal, Wait
from voicesim.queue_flows import Dequeued, QueueBridge
from voicesim.twiml.dial import request_discarded

if TYPE_CHECKING:
    from voicesim.queues import CallQueue, Member, Queues
    from voicesim.twiml.interpreter import Session
    from voicesim.twiml.verbs import Dial, Queue, Verb

__all__ = ["run_dial_queue"]


async def run_dial_queue(
    queues: Queues, session: Session, verb: Dial, noun: Queue, following: Verb | None = None
) -> Source | None:
    """Execute ``<Dial><Queue>`` on the session's call."""
    emu = session.emu
    queue = queues.find(noun.name)
    if queue is None:
        emu.log("queue.dial_failed", call_sid=session.call.sid, queue=noun.name, reason="no such queue")
        return _action(session, verb, "failed", None, None)
    session.hear("ringback")
    bridge: QueueBridge | None = None
    try:
        member = await _take(queues, queue, session, verb.timeout)
        if member is None:
            session.hear("silence")
            return _action(session, verb, "no-answer", queue, None)
        bridge = QueueBridge(session.call, member, Signal(emu.clock), Signal(emu.clock))
        if noun.url:
            bridge.whisper = Source(url=session.resolve(noun.url), method=noun.method)
        member.bridge = bridge
        process = member.call.process
        if process is None or process.finished:  # cannot happen for a waiting call; be safe
            bridge.end("member-gone")
        else:
            process.interrupt(Dequeued(bridge))
        status = await _connect_and_wait(session, verb, bridge)
    except (Redirected, HungUp) as interrupt:
        if bridge is not None:
            bridge.end("dequeuer-redirected" if isinstance(interrupt, Redirected) else "dequeuer-hangup")
        lost = "completed" if bridge is not None and bridge.bridged_at is not None else "canceled"
        await request_discarded(session, verb, interrupt, following, _params(session, lost, queue, bridge))
        raise
    return _action(session, verb, status, queue, bridge)


async def _take(queues: Queues, queue: CallQueue, session: Session, timeout: float) -> Member | None:
    """The first waiting member, waiting up to ``timeout`` seconds for one to join."""
    clock = session.emu.clock
    deadline = clock.now() + timeout
    while True:
        live = [m for m in queue.members if not m.call.is_terminal]
        if live:
            member = live[0]
            queues.leave(member, "dequeued")
            return member
        remaining = deadline - clock.now()
        if remaining <= 0:
            return None
        await Wait(queue.joined, remaining)


async def _connect_and_wait(session: Session, verb: Dial, bridge: QueueBridge) -> str:
    emu, call = session.emu, session.call
    connected = await Wait(bridge.connected)
    if not connected:
        session.hear("silence")
        return "no-answer"
    keypad = call.keypad
    if verb.hangup_on_star and keypad is not None:
        keypad.on_star = Signal(emu.clock)
        keypad.on_star.subscribe(lambda _: bridge.end("hangup-on-star"))
    try:
        reason = await Wait(bridge.ended, verb.time_limit)
    finally:
        if keypad is not None:
            keypad.on_star = None
    if reason is None:
        bridge.end("time-limit")
    if not call.is_terminal:
        session.hear("silence")
    return "completed"


def _params(
    session: Session, status: str, queue: CallQueue | None, bridge: QueueBridge | None
) -> tuple[tuple[str, str], ...]:
    """The Dial action parameters, plus the queue's (reference §3.2, §4.3)."""
    now = session.emu.clock.now()
    params: list[tuple[str, str]] = [("DialCallStatus", status)]
    if bridge is not None:
        member = bridge.member
        bridged = bridge.bridged_at is not None
        params.append(("DialCallSid", member.call.sid))
        params.append(("DialBridged", "true" if bridged else "false"))
        if bridged and bridge.end_reason != "member-redirected" and bridge.bridged_at is not None:
            params.append(("DialCallDuration", str(int(now - bridge.bridged_at))))
        params += [
            ("QueueSid", member.queue.sid),
            ("QueueTime", str(member.wait_time(now))),
            ("DequeingCallSid", session.call.sid),
        ]
    else:
        params.append(("DialBridged", "false"))
        if queue is not None:
            params.append(("QueueSid", queue.sid))
    return tuple(params)


def _action(
    session: Session, verb: Dial, status: str, queue: CallQueue | None, bridge: QueueBridge | None
) -> Source | None:
    session.emu.log("queue.dial_result", call_sid=session.call.sid, status=status)
    if not verb.action:
        return None
    params = _params(session, status, queue, bridge)
    return Source(url=session.resolve(verb.action), method=verb.method, params=params)
