"""``<Dial>`` to ``<Number>`` / ``<Client>``: ring in parallel, bridge the first to answer.

The parent's flow runs :func:`run_dial`; each child leg runs :func:`child_flow`. They meet in a
:class:`DialAttempt`. How the bridge ends decides what happens next (reference §0, §3.2, §3.3):

* the child hangs up, the time limit passes, or the caller presses ``*`` (``hangupOnStar``): the
  parent requests its action (``DialCallStatus=completed``) and runs its TwiML, else goes on to
  the next verb;
* the **child is redirected**: it leaves the bridge and runs its new TwiML; the parent's Dial ends
  as above, without ``DialCallDuration`` (Q1: ``DialCallStatus=completed``, ``DialBridged=true``);
* the **parent is redirected**: the child is hung up; the action is requested and its TwiML thrown
  away -- or, with no action and a ``<Redirect>`` next, that URL is requested and thrown away (Q2a)
  -- then the parent runs the new TwiML;
* the **parent hangs up**: the child is hung up and the action requested, its TwiML ignored (Q2b).

:func:`request_discarded` makes those lost requests for every ``<Dial>``, whatever its noun
(``<Conference>`` and ``<Queue>`` call it too).

``answerOnBridge="true"`` on a call that is still ringing (an inbound call whose first verb is
this ``<Dial>``) leaves the caller unanswered -- ringing, not billed -- while the nouns ring and
while a noun's ``url`` TwiML runs on the answering party (twilio.com/docs/voice/twiml/number:
"the current caller will continue to hear ringing while the TwiML document executes on the other
end"); the caller is answered at the bridge (twilio-voice.js ``Call`` "ringing" event: ringing
"until the callee accepts the call", then open, "or closed if the call is rejected"). If nobody
answers, the caller stays unanswered: the action's TwiML, or the next verb, answers it as any verb
but ``<Reject>`` does (twilio.com/docs/voice/twiml/reject); when the TwiML runs out first, the call
ends unanswered with the Dial's outcome (``busy``, ``failed``, else ``no-answer``; chosen, sources
silent beyond the Voice SDK caller getting the callee's 31486 "busy here",
github.com/twilio/voice-quickstart-ios/issues/361). A call that was already answered (any earlier
verb answers it) is unchanged, and ``<Conference>``/``<Queue>`` nouns answer the call as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from voicesim.calls import Call, HungUp, Redirected, Source
from voicesim.media import Audio
from voicesim.process import Interrupt, Signal, Wait
from voicesim.ringing import ring
from voicesim.twiml.verbs import Client, Conference, Dial, Number, Queue, Redirect, Verb
from voicesim.webhooks import WebhookRequest

if TYPE_CHECKING:
    from voicesim.emulator import Emulator
    from voicesim.twiml.interpreter import Session

__all__ = ["DialAttempt", "child_flow", "request_discarded", "run_dial"]

#: Up to this many ``<Number>``/``<Client>`` nouns ring at once (reference §3.1).
MAX_PARALLEL = 10


@dataclass(eq=False)
class DialAttempt:
    """One ``<Dial>``'s children, its winner and its bridge."""

    parent: Call
    verb: Dial
    answered: Signal[Call | None]
    ended: Signal[str]
    children: list[Call] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)
    winner: Call | None = None
    bridged_at: float | None = None
    end_reason: str | None = None

    def report(self, child: Call, outcome: str) -> None:
        """A child did not answer; when none is left ringing, the Dial fails."""
        self.outcomes[child.sid] = outcome
        if self.winner is None and len(self.outcomes) == len(self.children):
            self.answered.fire(None)

    def failure_status(self) -> str:
        """``DialCallStatus`` when nobody answered: busy beats failed beats no-answer."""
        found = set(self.outcomes.values())
        for status in ("busy", "failed"):
            if status in found:
                return status
        return "no-answer"

    def end(self, reason: str) -> None:
        """The bridge is over (first reason wins)."""
        if self.end_reason is None:
            self.end_reason = reason
        self.ended.fire(reason)


def _address(noun: Number | Client) -> str:
    return noun.number if isinstance(noun, Number) else f"client:{noun.identity}"


async def run_dial(session: Session, verb: Dial, following: Verb | None) -> Source | None:
    """Execute ``<Dial>`` on the session's call (the parent leg)."""
    emu, parent = session.emu, session.call
    first = verb.nouns[0]
    if isinstance(first, Conference):
        return await emu.conferences.dial(session, verb, first, following)
    if isinstance(first, Queue):
        return await emu.queues.dial(session, verb, first, following)
    attempt = DialAttempt(parent, verb, Signal(emu.clock), Signal(emu.clock))
    session.hear("ringback")
    for noun in verb.nouns[:MAX_PARALLEL]:
        assert isinstance(noun, Number | Client)
        child = emu.calls.create(
            to=_address(noun),
            from_=verb.caller_id or parent.from_,
            direction="outbound-dial",
            parent=parent,
            timeout=verb.timeout,
            # Relative to the parent's document, like every other TwiML URL voicesim resolves.
            status_callback=session.resolve(noun.status_callback) if noun.status_callback else None,
            status_callback_method=noun.status_callback_method,
            status_callback_events=frozenset(noun.status_callback_event or ("completed",)),
        )
        attempt.children.append(child)
        whisper = session.resolve(noun.url) if noun.url else None  # relative to the parent's document
        emu.spawn(child, child_flow(emu, child, noun, attempt, whisper), f"dial-child:{child.sid}")
    try:
        status = await _connect_and_wait(emu, session, attempt)
    except (Redirected, HungUp) as interrupt:
        await _interrupted(session, attempt, interrupt, following)
        raise
    if parent.status == "ringing" and attempt.winner is None:
        # answerOnBridge and nobody answered: the caller was never picked up and still hears
        # ringing. What comes next answers it (any verb but <Reject>); if nothing does, it ends
        # unanswered with the Dial's outcome (Session.end_unanswered).
        session.unbridged_status = status if status in ("busy", "failed") else "no-answer"
    params = _action_params(emu, attempt, status)
    if verb.action:
        return Source(url=session.resolve(verb.action), method=verb.method, params=params)
    return None


async def _connect_and_wait(emu: Emulator, session: Session, attempt: DialAttempt) -> str:
    verb, parent = attempt.verb, attempt.parent
    winner = await Wait(attempt.answered, verb.timeout)
    if winner is None:
        status = attempt.failure_status() if len(attempt.outcomes) == len(attempt.children) else "no-answer"
        for child in attempt.children:
            emu.calls.complete(child, "no-answer", by="dial")
        session.hear("ringback" if parent.status == "ringing" else "silence")  # answerOnBridge: unanswered
        return status
    keypad = parent.keypad
    if verb.hangup_on_star and keypad is not None:
        keypad.on_star = Signal(emu.clock)
        keypad.on_star.subscribe(lambda _: attempt.end("hangup-on-star"))
    try:
        reason = await Wait(attempt.ended, verb.time_limit)
    finally:
        if keypad is not None:
            keypad.on_star = None
    if reason is None:
        attempt.end("time-limit")
    if attempt.end_reason in ("time-limit", "hangup-on-star"):
        emu.calls.complete(winner, "completed", by="dial")
    if not parent.is_terminal:
        session.hear("silence")
    return "completed"


async def _interrupted(
    session: Session, attempt: DialAttempt, interrupt: Interrupt, following: Verb | None
) -> None:
    """The parent was redirected or hung up mid-Dial: end the children, make the lost requests."""
    emu = session.emu
    bridged = attempt.winner is not None
    attempt.end("parent-redirected" if isinstance(interrupt, Redirected) else "parent-hangup")
    for child in attempt.children:
        if child is attempt.winner and attempt.end_reason == "child-redirected":
            continue  # it already left the bridge for its own TwiML in this instant (reference §3.3)
        emu.calls.complete(child, "completed" if child is attempt.winner else "canceled", by="dial")
    params = _action_params(emu, attempt, "completed" if bridged else "canceled")
    await request_discarded(session, attempt.verb, interrupt, following, params)


async def request_discarded(
    session: Session,
    verb: Dial,
    interrupt: Interrupt,
    following: Verb | None,
    params: Sequence[tuple[str, str]],
) -> None:
    """The request a ``<Dial>`` interrupted on its own call still makes; the reply is ignored.

    With an action: the action, with ``params`` (reference §3.3, Q2a; Q2b when the call hung up).
    Without one, when the call was redirected (not hung up) and the next verb is a
    ``<Redirect>``: that URL, with the standard parameters only (Q2a). Else nothing.
    """
    url: str | None = None
    method = "POST"
    if verb.action:
        url, method = session.resolve(verb.action), verb.method
    elif isinstance(interrupt, Redirected) and isinstance(following, Redirect):
        target = session.redirect_source(following)  # an empty <Redirect/>: this document again
        if target is not None and target.url is not None:
            url, method, params = target.url, target.method, ()
    if url is None:
        return
    request = WebhookRequest(url, method, session.params(params), "action-discarded", session.call.sid)
    await session.emu.fetch(request)


def _action_params(emu: Emulator, attempt: DialAttempt, status: str) -> tuple[tuple[str, str], ...]:
    params: list[tuple[str, str]] = [("DialCallStatus", status)]
    winner = attempt.winner
    if winner is not None:
        params.append(("DialCallSid", winner.sid))
        params.append(("DialBridged", "true"))
        if attempt.end_reason != "child-redirected" and attempt.bridged_at is not None:
            params.append(("DialCallDuration", str(int(emu.clock.now() - attempt.bridged_at))))
    else:
        params.append(("DialBridged", "false"))
        if attempt.children:
            params.append(("DialCallSid", attempt.children[0].sid))
    return tuple(params)


async def child_flow(
    emu: Emulator, child: Call, noun: Number | Client, attempt: DialAttempt, whisper_url: str | None = None
) -> None:
    """A dialled leg: ring, maybe run the noun's ``url`` TwiML, then stay bridged."""
    from voicesim.twiml.interpreter import EndOfCall, Session, run_call

    try:
        outcome = await ring(emu, child, attempt.verb.timeout)
        if outcome != "answered":
            attempt.report(child, outcome)
            return
        if attempt.winner is not None:  # another leg won in the same instant
            emu.calls.complete(child, "completed", by="dial")
            return
        attempt.winner = child
        for other in attempt.children:
            if other is not child:
                emu.calls.complete(other, "canceled", by="dial")
        if whisper_url:
            whisper = Session(emu, child, "dial_leg", label="dial-leg")
            try:
                await whisper.run(Source(url=whisper_url, method=noun.method))
            except EndOfCall:
                emu.calls.complete(child, "completed", by="twiml")
            if child.is_terminal:  # the called party's TwiML hung up: nobody was connected
                attempt.winner = None
                attempt.report(child, "no-answer")
                return
        attempt.bridged_at = emu.clock.now()
        if attempt.verb.answer_on_bridge and attempt.parent.status == "ringing":
            emu.calls.answer(attempt.parent)  # answerOnBridge: the caller is picked up at the bridge
        now = emu.clock.now()
        emu.media.timeline(attempt.parent.sid).hear(now, Audio("call", child.sid))
        emu.media.timeline(child.sid).hear(now, Audio("call", attempt.parent.sid))
        emu.log("dial.bridged", parent_call_sid=attempt.parent.sid, call_sid=child.sid)
        attempt.answered.fire(child)
        await Wait(attempt.ended)
    except HungUp:
        if attempt.winner is child:
            attempt.end("child-hangup")
        else:
            attempt.report(child, child.status)
    except Redirected as redirect:
        attempt.end("child-redirected")
        emu.log("dial.unbridged", parent_call_sid=attempt.parent.sid, call_sid=child.sid)
        await run_call(emu, child, redirect.source)
