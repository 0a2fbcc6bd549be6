"""Rules for the events the service schedules: hold timers and the recovery of holds left in flight.

Several service instances share the database, and each arms the timers of every open hold (at
start-up, all of them). ``decide`` runs under the call's lock, so the hold record itself makes these
events idempotent, whichever instance sends them and however many times:

* :class:`~callhold.domain.events.AgentReminderDue`: the reminder is given once per hold; it stamps
  ``Hold.agent_reminded_at`` and any later one is ignored.
* :class:`~callhold.domain.events.MaxHoldReached`: the action stamps ``Hold.max_hold_acted_at``.
  *Announce*: once per hold. *Auto-resume*: if Twilio refuses the resume the hold is ``held`` again and
  the service re-arms the timer to retry; a ``MaxHoldReached`` less than ``policy.max_hold_retry_after``
  after the last action is a duplicate (another instance's timer, a restart catching up) and is
  ignored, one that comes later is the retry and resumes again (stamping the time again).
* :class:`~callhold.domain.events.HoldRecoveryDue`: an instance that stops between saving a hold as
  ``holding``/``resuming`` and sending (or confirming) its commands leaves the hold in that state. Once
  the hold has been in it for ``policy.recovery_grace`` (counted from ``Hold.state_since``; after a
  recovery that did not move it on, a doubling wait: ``HoldPolicy.recovery_due``), the commands of
  that state are sent again (the whole hold plan for ``holding``, the resume plan for ``resuming``;
  participant hold updates are idempotent, a repeated redirect only restarts the music or re-enters
  the same per-hold queue) and ``Hold.recovered_at`` is stamped, so a second instance recovering at
  the same time does nothing. Their outcomes then drive the hold forward
  as usual (``CommandSucceeded`` step by step). If callhold already knows a party is gone, the hold ends
  by the hang-up rules instead, with no command to a dead leg; one that Twilio reports gone (21220/20404)
  is a hang-up as always. A legs hold ``resuming`` whose customer never reached the hold's queue has
  it redirected there as well (``strategies.follow_step``): the agent's ``<Dial><Queue>`` waits for it.
* :class:`~callhold.domain.events.LegsFollowDue`: a legs customer not in the hold's queue
  ``HoldTimings.follow_after`` seconds after the hold (its action did not follow the lead leg) is
  redirected there, also when the hold is resuming already (the agent's ``<Dial><Queue>`` waits
  for it). Another instance's duplicate only moves it into the same queue again.
"""

from __future__ import annotations

from dataclasses import replace

from callhold.domain import events as ev
from callhold.domain import paths
from callhold.domain.commands import RedirectLeg
from callhold.domain.model import CallState, CallView, HoldEndReason, HoldState, Strategy
from callhold.domain.policies import HoldPolicy, MaxHoldPolicy
from callhold.domain.strategies import follow_step, hold_plan, live, notice, resume_plan
from callhold.domain.transitions import (
    Decision,
    agent_hung_up,
    conference_lost,
    customer_gone,
    ignored,
    resume,
    with_hold,
)

__all__ = ["agent_reminder", "legs_follow", "max_hold", "recover"]


def agent_reminder(state: CallView, event: ev.AgentReminderDue) -> Decision:
    """Remind the agent of a held customer, once per hold."""
    hold = state.open_hold
    if hold is None or hold.id != event.hold_id or hold.state is not HoldState.HELD:
        return ignored(state, f"hold {event.hold_id} is not held")
    if hold.agent_reminded_at is not None:
        return ignored(state, f"hold {hold.id}: the agent was reminded at {hold.agent_reminded_at}")
    reminded = replace(hold, agent_reminded_at=event.at)
    return Decision(new_state=with_hold(state, reminded), commands=notice(state, hold, paths.AGENT_REMINDER))


def max_hold(state: CallView, event: ev.MaxHoldReached, policy: HoldPolicy) -> Decision:
    """Auto-resume (retried after a refusal) or announce (once) a hold that reached the maximum time."""
    hold = state.open_hold
    if hold is None or hold.id != event.hold_id or hold.state is not HoldState.HELD:
        return ignored(state, f"hold {event.hold_id} is not held")
    acted = hold.max_hold_acted_at
    if acted is not None and policy.max_hold is MaxHoldPolicy.ANNOUNCE:
        return ignored(state, f"hold {hold.id}: the maximum hold was announced at {acted}")
    if acted is not None and event.at < acted + policy.max_hold_retry_after:
        retry_at = acted + policy.max_hold_retry_after
        return ignored(state, f"hold {hold.id}: maximum hold acted on at {acted}, no retry before {retry_at}")
    acting = with_hold(state, replace(hold, max_hold_acted_at=event.at))
    if policy.max_hold is MaxHoldPolicy.AUTO_RESUME:
        return resume(acting, event.at, HoldEndReason.MAX_HOLD_AUTO_RESUMED)
    return Decision(new_state=acting, commands=notice(state, hold, paths.MAX_HOLD))


def recover(state: CallView, event: ev.HoldRecoveryDue, policy: HoldPolicy) -> Decision:
    """Send again the commands of a hold left ``holding``/``resuming`` longer than the grace period."""
    hold = state.open_hold
    if hold is None or hold.id != event.hold_id or hold.state not in (HoldState.HOLDING, HoldState.RESUMING):
        return ignored(state, f"hold {event.hold_id} has no commands in flight")
    if event.at < policy.recovery_due(hold):
        since = hold.last_progress_at
        return ignored(state, f"hold {hold.id} is {hold.state} since {since}: maybe in flight elsewhere")
    customer = live(state.customer_leg)
    if state.call.status is CallState.ENDED or customer is None:
        return customer_gone(state, hold, event.at)
    if hold.strategy is Strategy.LEGS and live(state.agent_leg) is None:
        return agent_hung_up(state, hold, event.at, policy)
    if hold.strategy is Strategy.CONFERENCE and state.call.conference_sid is None:
        # The conference ended under the held customer and the <Dial> action that ends such a hold was
        # never handled: end it the same way, sending the customer to the agent-left TwiML.
        new_state, effects = conference_lost(state, hold, event.at, policy)
        to_agent_left = RedirectLeg(
            call_sid=customer.call_sid, twiml_path=paths.customer_agent_left(state.call.id)
        )
        return Decision(new_state=new_state, commands=(to_agent_left,), effects=effects)
    if hold.state is HoldState.HOLDING:
        plan = hold_plan(state, hold)
    else:
        # The customer's move after the agent's (the order the undo uses): the service stops at a
        # refusal, and the agent's <Dial><Queue> waits (paced) for a customer on its way.
        follow = follow_step(state, hold) if not customer.on_hold else None
        plan = resume_plan(state, hold) if follow is None else (*resume_plan(state, hold), follow)
    return Decision(new_state=with_hold(state, replace(hold, recovered_at=event.at)), commands=plan)


def legs_follow(state: CallView, event: ev.LegsFollowDue) -> Decision:
    """Redirect a held (or resuming) legs customer into the hold's queue if its action has not put it
    there: a resume's ``<Dial><Queue>`` waits for it there."""
    hold = state.open_hold
    if hold is None or hold.id != event.hold_id or hold.state not in (HoldState.HELD, HoldState.RESUMING):
        return ignored(state, f"hold {event.hold_id} is not held")
    customer, agent = live(state.customer_leg), live(state.agent_leg)
    if customer is None or agent is None:
        return ignored(state, f"hold {hold.id}: a leg has ended (the hang-up rules apply)")
    if customer.on_hold:
        return ignored(state, f"hold {hold.id}: the customer is in the hold's queue")
    step = follow_step(state, hold)
    if step is None:
        return ignored(state, f"hold {hold.id}: the customer leads, nothing follows it")
    return Decision(new_state=state, commands=(step,))
