"""The decision record and the hold transitions that several rules share.

Every change of a hold's state goes through :func:`enter` (or :func:`end`), which stamps
``Hold.state_since``: the recovery grace (:mod:`callhold.domain.scheduled`) is counted from it.

**Hang-ups during a hold.** Customer: hold ends ``customer_hung_up``; legs: the agent is sent to
:func:`~callhold.domain.paths.legs_customer_left`. Agent: hold ends ``agent_hung_up``; the customer is sent
to :func:`~callhold.domain.paths.customer_agent_left`; policy ``requeue`` clears ``call.agent_id``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from callhold.domain import paths
from callhold.domain.commands import Command, RedirectLeg
from callhold.domain.effects import (
    ActionReply,
    AgentDroppedLate,
    AgentLeft,
    ArmHoldTimers,
    DisarmHoldTimers,
    Effect,
    Ignored,
)
from callhold.domain.errors import CallEnded, NotHeld
from callhold.domain.model import (
    CallState,
    CallView,
    Hold,
    HoldEndReason,
    HoldState,
    LegRole,
    LegStatus,
    Strategy,
)
from callhold.domain.policies import AgentHangupPolicy, HoldPolicy
from callhold.domain.strategies import follow_step, live, resume_plan

__all__ = [
    "AGENT_LEFT_REASON",
    "Decision",
    "agent_dropped_after",
    "agent_gone",
    "agent_hung_up",
    "arm_timers",
    "conference_dial_ended",
    "conference_lost",
    "confirm_held",
    "customer_gone",
    "end",
    "ended_by_agent",
    "enter",
    "ignored",
    "party_gone",
    "resume",
    "with_hold",
]


@dataclass(frozen=True, kw_only=True)
class Decision:
    """The outcome of an event: the new state, the commands to execute in order, and the effects."""

    new_state: CallView
    commands: tuple[Command, ...] = ()
    effects: tuple[Effect, ...] = ()


def ignored(state: CallView, reason: str) -> Decision:
    """Nothing changes; the :class:`~callhold.domain.effects.Ignored` effect says why."""
    return Decision(new_state=state, effects=(Ignored(reason=reason),))


def with_hold(state: CallView, hold: Hold) -> CallView:
    """``state`` with its latest hold replaced by ``hold``."""
    return replace(state, hold=hold)


def enter(hold: Hold, new: HoldState, at: datetime, end_reason: HoldEndReason | None) -> Hold:
    """``hold`` moved to the open state ``new`` at ``at`` (``state_since`` stamped)."""
    return replace(hold, state=new, state_since=at, end_reason=end_reason)


def end(state: CallView, hold: Hold, reason: HoldEndReason, at: datetime) -> CallView:
    """``state`` with ``hold`` ended at ``at`` (never before it started) for ``reason``; a legs hold's
    customer no longer on hold (a conference participant's flag follows its own events)."""
    ended_at = max(at, hold.started_at)
    ended = replace(hold, state=HoldState.ENDED, end_reason=reason, ended_at=ended_at, state_since=ended_at)
    customer = state.customer_leg
    if hold.strategy is Strategy.LEGS and customer is not None and customer.on_hold:
        state = state.with_leg(replace(customer, on_hold=False))
    return with_hold(state, ended)


def confirm_held(state: CallView, hold: Hold, at: datetime) -> Decision:
    """``hold``'s placing is confirmed at ``at``: it is ``held`` and its timers are armed."""
    # Twilio's Timestamp has whole seconds and Twilio's clock: never before the hold was requested.
    at = max(at, hold.started_at)
    held = replace(enter(hold, HoldState.HELD, at, hold.end_reason), confirmed_at=hold.confirmed_at or at)
    return Decision(new_state=with_hold(state, held), effects=(arm_timers(state, hold),))


def arm_timers(state: CallView, hold: Hold) -> ArmHoldTimers:
    """The effect that arms ``hold``'s timers, with the follow check of a legs customer that is not
    in the hold's queue yet (``strategies.follow_step``)."""
    customer = state.customer_leg
    follow = customer is not None and not customer.on_hold and follow_step(state, hold) is not None
    return ArmHoldTimers(hold_id=hold.id, started_at=hold.started_at, follow_check=follow)


def resume(state: CallView, at: datetime, reason: HoldEndReason) -> Decision:
    """Take the held customer off hold (``reason``: why the hold is ending); again while resuming."""
    if state.call.status is CallState.ENDED:
        raise CallEnded(f"call {state.call.id} has ended")
    hold = state.open_hold
    if hold is None:
        raise NotHeld(f"call {state.call.id} is not on hold")
    if hold.state is HoldState.HOLDING:
        raise NotHeld(f"call {state.call.id}: the hold is still being placed")
    if hold.state is HoldState.RESUMING:  # retry: the same commands again
        return Decision(new_state=state, commands=resume_plan(state, hold))
    resuming = enter(hold, HoldState.RESUMING, at, reason)
    return Decision(
        new_state=with_hold(state, resuming),
        commands=resume_plan(state, hold),
        effects=(DisarmHoldTimers(hold_id=hold.id),),
    )


def customer_gone(state: CallView, hold: Hold, at: datetime) -> Decision:
    """The customer hung up during ``hold``: it ends; a legs agent is told (taken off the music)."""
    commands: tuple[Command, ...] = ()
    agent = live(state.agent_leg)
    if hold.strategy is Strategy.LEGS and agent is not None:
        commands = (RedirectLeg(call_sid=agent.call_sid, twiml_path=paths.legs_customer_left(state.call.id)),)
    return Decision(
        new_state=end(state, hold, HoldEndReason.CUSTOMER_HUNG_UP, at),
        commands=commands,
        effects=(DisarmHoldTimers(hold_id=hold.id),),
    )


def agent_gone(
    state: CallView, hold: Hold, at: datetime, policy: HoldPolicy, reason: HoldEndReason
) -> tuple[CallView, tuple[Effect, ...]]:
    """End ``hold`` because the agent side went away; the caller decides how the customer is told."""
    new_state = end(state, hold, reason, at)
    if policy.agent_hangup is AgentHangupPolicy.REQUEUE:
        new_state = replace(new_state, call=replace(new_state.call, agent_id=None))
    left = AgentLeft(
        call_id=state.call.id,
        agent_id=state.call.agent_id,
        policy=policy.agent_hangup,
        dropped=reason is HoldEndReason.AGENT_HUNG_UP,
    )
    return new_state, (DisarmHoldTimers(hold_id=hold.id), left)


def conference_lost(
    state: CallView, hold: Hold, at: datetime, policy: HoldPolicy
) -> tuple[CallView, tuple[Effect, ...]]:
    """The held customer's conference ended under it: the agent hung up (its leg is over on record),
    or else the call ended, nobody's hang-up known yet (:func:`agent_dropped_after` may tell later)."""
    reason = HoldEndReason.AGENT_HUNG_UP if live(state.agent_leg) is None else HoldEndReason.CALL_ENDED
    return agent_gone(state, hold, at, policy, reason)


AGENT_LEFT_REASON = "participant-with-end-conference-on-exit-left"
"""``ReasonConferenceEnded`` of a conference that ended because a participant with
``endConferenceOnExit`` left it (hung up), as opposed to one kicked (``...-kicked``) or the
conference ended through the API (``conference-ended-via-api``): reference 2.2."""


def ended_by_agent(hold: Hold, reason: str | None, ending_call_sid: str | None) -> bool:
    """Whether a ``conference-end`` says the agent ``hold`` was held with hung up: its leg left the
    conference of a conference hold, with ``endConferenceOnExit``."""
    return (
        hold.strategy is Strategy.CONFERENCE
        and reason == AGENT_LEFT_REASON
        and ending_call_sid is not None
        and hold.agent_call_sid == ending_call_sid
    )


def agent_dropped_after(state: CallView, hold: Hold, at: datetime, policy: HoldPolicy) -> Decision:
    """A ``conference-end`` saying the agent hung up (:func:`ended_by_agent`), for a conference hold:
    open, it ends ``agent_hung_up`` as when the agent's own callback comes first (the customer's
    ``<Dial>`` action then sends it to the agent-left TwiML), and the agent is made away; already
    ended ``call_ended`` by that action, which came first, the record is put right, whatever order
    Twilio's separate requests arrive in (reference 6.1), and the agent made away only if it is still
    as that end left it (:class:`~callhold.domain.effects.AgentDroppedLate`): it may have set itself
    available, or been given a call, since."""
    if hold.is_open:
        new_state, effects = agent_gone(state, hold, at, policy, HoldEndReason.AGENT_HUNG_UP)
        return Decision(new_state=new_state, effects=effects)
    if hold.end_reason is not HoldEndReason.CALL_ENDED:
        return ignored(state, f"hold {hold.id} ended {hold.end_reason}")
    fixed = with_hold(state, replace(hold, end_reason=HoldEndReason.AGENT_HUNG_UP))
    if hold.agent_id is None:
        return Decision(new_state=fixed)
    late = AgentDroppedLate(call_id=state.call.id, agent_id=hold.agent_id)
    return Decision(new_state=fixed, effects=(late,))


def conference_dial_ended(
    state: CallView, hold: Hold, at: datetime, policy: HoldPolicy, call_status: LegStatus | None
) -> Decision:
    """The held customer's ``<Dial><Conference>`` ended (its action): its conference ended under it.

    Twilio's callbacks are separate requests, in any order (reference 6.1): the agent's ``completed``
    may come after this action. The action's own ``CallStatus`` (``call_status``: the action request
    carries the standard TwiML request parameters, https://www.twilio.com/docs/voice/twiml/dial and
    https://www.twilio.com/docs/voice/twiml) says whether the customer is still there: its call over,
    the customer hung up (its status callback's rule; Twilio discards the answer, Q2b). Still there,
    it is told (the agent-left TwiML), and the records decide why (:func:`conference_lost`): not the
    customer's status, which is the same whether the agent hung up, the customer was removed or the
    conference was ended through the API -- the ``conference-end`` event tells those apart
    (:func:`agent_dropped_after`), whichever comes first.
    """
    if call_status is not None and call_status.is_terminal:
        gone = customer_gone(state, hold, at)
        return replace(gone, effects=(*gone.effects, ActionReply(twiml_path=None)))
    new_state, effects = conference_lost(state, hold, at, policy)
    reply = ActionReply(twiml_path=paths.customer_agent_left(state.call.id))
    return Decision(new_state=new_state, effects=(*effects, reply))


def agent_hung_up(state: CallView, hold: Hold, at: datetime, policy: HoldPolicy) -> Decision:
    """The agent hung up during ``hold``: it ends and a live customer is sent to the agent-left TwiML.

    Legs: by a redirect (nothing else moves a customer waiting in the hold's queue). Conference: by
    the customer's ``<Dial>`` action (:func:`~callhold.domain.replies.action_reply`), not a redirect
    too. The agent joined with ``endConferenceOnExit``, so its leaving ends the conference and the
    customer's ``<Dial>`` with it: the action always comes. A redirect sent as well could reach the
    customer after the action had connected it to the next agent, pull it out of that conference
    (ending it: the customer has ``endConferenceOnExit`` too) and drop the new agent.
    """
    new_state, effects = agent_gone(state, hold, at, policy, HoldEndReason.AGENT_HUNG_UP)
    commands: tuple[Command, ...] = ()
    customer = live(state.customer_leg)
    if customer is not None and hold.strategy is Strategy.LEGS:
        path = paths.customer_agent_left(state.call.id)
        commands = (RedirectLeg(call_sid=customer.call_sid, twiml_path=path),)
    return Decision(new_state=new_state, commands=commands, effects=effects)


def party_gone(state: CallView, hold: Hold, call_sid: str, at: datetime, policy: HoldPolicy) -> Decision:
    """Twilio says ``call_sid`` is gone: the customer's or the agent's hang-up rule, else nothing."""
    leg = state.leg(call_sid)
    if leg is not None and leg.role is LegRole.CUSTOMER:
        return customer_gone(state, hold, at)
    if leg is not None and leg.role is LegRole.AGENT:
        return agent_hung_up(state, hold, at, policy)
    return ignored(state, f"{call_sid} is gone")
