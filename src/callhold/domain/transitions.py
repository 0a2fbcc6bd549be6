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
from callhold.domain.effects import ActionReply, AgentLeft, DisarmHoldTimers, Effect, Ignored
from callhold.domain.errors import CallEnded, NotHeld
from callhold.domain.model import (
    AgentHangupPolicy,
    CallState,
    CallView,
    Hold,
    HoldEndReason,
    HoldPolicy,
    HoldState,
    LegRole,
    LegStatus,
    Strategy,
)
from callhold.domain.strategies import live, resume_plan

__all__ = [
    "Decision",
    "agent_gone",
    "agent_hung_up",
    "conference_dial_ended",
    "conference_lost",
    "customer_gone",
    "end",
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
    state: CallView, hold: Hold, at: datetime, policy: HoldPolicy, *, customer_live: bool = False
) -> tuple[CallView, tuple[Effect, ...]]:
    """The held customer's conference ended under it: the agent hung up -- the agent's leg is over on
    record, or Twilio says the customer is still on the line (``customer_live``) -- or else the
    call ended (nobody's hang-up known)."""
    agent_left = customer_live or live(state.agent_leg) is None
    reason = HoldEndReason.AGENT_HUNG_UP if agent_left else HoldEndReason.CALL_ENDED
    return agent_gone(state, hold, at, policy, reason)


def conference_dial_ended(
    state: CallView, hold: Hold, at: datetime, policy: HoldPolicy, call_status: LegStatus | None
) -> Decision:
    """The held customer's ``<Dial><Conference>`` ended (its action): its conference ended under it.

    Twilio's callbacks are separate requests, in any order (reference 6.1): the agent's ``completed``
    may come after this action. The action's own ``CallStatus`` (``call_status``: the action request
    carries the standard TwiML request parameters, https://www.twilio.com/docs/voice/twiml/dial and
    https://www.twilio.com/docs/voice/twiml) says who left whatever the order: the customer's call
    over, the customer hung up (its status callback's rule; Twilio discards the answer, Q2b); still
    in progress, the agent's side left: ``agent_hung_up``, the customer told (the agent-left TwiML)
    and the agent made away, as when the agent's callback comes first. Not said: the records decide
    (:func:`conference_lost`).
    """
    if call_status is not None and call_status.is_terminal:
        gone = customer_gone(state, hold, at)
        return replace(gone, effects=(*gone.effects, ActionReply(twiml_path=None)))
    live_customer = call_status is LegStatus.IN_PROGRESS
    new_state, effects = conference_lost(state, hold, at, policy, customer_live=live_customer)
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
