"""The hold/resume state machine: ``decide(state, event) -> Decision``, a pure function.

The service loads a :class:`~callhold.domain.model.CallView`, decides, saves ``decision.new_state``
(call, legs, latest hold), then executes ``decision.commands`` in order, feeding each outcome back as
:class:`~callhold.domain.events.CommandSucceeded` / :class:`~callhold.domain.events.CommandFailed`
(stopping at the first failure). Domain errors (``NotHeld``, ``ConferenceNotStarted``...) are raised.

Hold lifecycle::

    HoldRequested -> holding --last hold command succeeded--> held --ResumeRequested--> resuming -> ended
                               (or participant-hold, or the    |  (or MaxHoldReached,
                                legs follower's action)        |   auto-resume)
                                                               +--legs follow step refused--> resuming
    conference: resuming ends when Hold=false succeeds (or participant-unhold arrives);
    legs: resuming ends on LegsBridged (the <Queue url> of the agent's <Dial><Queue>).

**Compensation** (legs: the lead redirect, then the other leg follows by its action; see
:mod:`callhold.domain.strategies`). A failure of the lead redirect moved nobody: the hold ends
``failed_compensated`` with no command. A customer that did not follow in time is redirected into the
hold's queue (``LegsFollowDue``); a refusal of that second step leaves one leg moved: the hold goes to
``resuming`` (end reason ``failed_compensated``) with the resume plan — the agent ``<Dial><Queue>``s the
hold's queue — while every ``<Dial>``/``<Enqueue>`` action of the call is answered with "customer:
enqueue, agent: dequeue", so both sides meet in the hold's queue whichever leg had moved. A failure of a
resume command puts the hold back to ``held`` (both sides still hear music; resume can be retried). A
failure meaning "that call is gone" (21220/20404) is a hang-up: see the hang-up rules.

**Conference events** (start, end, participant flags): see :mod:`callhold.domain.conferences`.
**Hang-ups during a hold**: see :mod:`callhold.domain.transitions`. **Timers and recovery**
(``AgentReminderDue``, ``MaxHoldReached``, ``HoldRecoveryDue``, ``LegsFollowDue``, idempotent across
service instances):
see :mod:`callhold.domain.scheduled`. A *recovered* hold's re-sent first hold step that Twilio refuses
proves nothing (the step may have been done before the instance stopped): the hold stays ``holding``
for the next recovery instead of ending as if nothing had moved.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TypeGuard

from callhold.domain import events as ev
from callhold.domain import paths
from callhold.domain.commands import Command, RedirectLeg, SetParticipantHold, SetParticipantMuted
from callhold.domain.conferences import (
    conference_ended,
    conference_seen,
    conference_started,
    participant_changed,
)
from callhold.domain.effects import ActionReply, AgentMissed, Compensating, DisarmHoldTimers
from callhold.domain.errors import CallEnded, Conflict
from callhold.domain.model import (
    CallState,
    CallView,
    Hold,
    HoldEndReason,
    HoldState,
    Leg,
    LegRole,
    LegStatus,
    Strategy,
    leg_status_advances,
    queue_name_for,
)
from callhold.domain.participants import party_commands
from callhold.domain.policies import HoldPolicy
from callhold.domain.replies import action_reply
from callhold.domain.scheduled import agent_reminder, legs_follow, max_hold, recover
from callhold.domain.strategies import check_can_hold, follow_step, hold_plan, resume_plan
from callhold.domain.transitions import (
    Decision,
    agent_hung_up,
    arm_timers,
    conference_dial_ended,
    confirm_held,
    customer_gone,
    end,
    enter,
    ignored,
    party_gone,
    resume,
    with_hold,
)

__all__ = ["DEFAULT_POLICY", "Decision", "decide"]

DEFAULT_POLICY = HoldPolicy()
"""Requeue the customer when the agent hangs up during a hold; auto-resume at the maximum hold time."""


def decide(state: CallView, event: ev.Event, policy: HoldPolicy = DEFAULT_POLICY) -> Decision:
    """Decide what ``event`` does to the call ``state``. Pure: no I/O, no clock, no randomness."""
    match event:
        case ev.HoldRequested():
            return _hold_requested(state, event)
        case ev.ResumeRequested():
            return resume(state, event.at, HoldEndReason.RESUMED)
        case ev.MuteRequested() | ev.AddPartyRequested() | ev.RemovePartyRequested():
            return Decision(new_state=state, commands=party_commands(state, event))
        case ev.LegJoined():
            return _leg_joined(state, event)
        case ev.LegStatusChanged():
            return _leg_status_changed(state, event, policy)
        case ev.ParticipantHoldChanged() | ev.ParticipantMuteChanged():
            return participant_changed(state, event)
        case ev.ConferenceStarted():
            return conference_started(state, event)
        case ev.ParticipantJoined() | ev.ConferenceFound():
            return conference_seen(state, event)
        case ev.ConferenceEnded():
            return conference_ended(state, event, policy)
        case ev.DialActionReceived() | ev.EnqueueActionReceived():
            return _action(state, event, policy)
        case ev.LegsBridged():
            return _legs_bridged(state, event)
        case ev.CommandSucceeded():
            return _command_succeeded(state, event)
        case ev.CommandFailed():
            return _command_failed(state, event, policy)
        case ev.AgentReminderDue():
            return agent_reminder(state, event)
        case ev.MaxHoldReached():
            return max_hold(state, event, policy)
        case ev.HoldRecoveryDue():
            return recover(state, event, policy)
        case ev.LegsFollowDue():
            return legs_follow(state, event)


def _hold_requested(state: CallView, event: ev.HoldRequested) -> Decision:
    if state.call.status is CallState.ENDED:
        raise CallEnded(f"call {state.call.id} has ended")
    current = state.open_hold
    if current is not None:
        if current.state in (HoldState.HOLDING, HoldState.HELD):
            return Decision(new_state=state)  # idempotent: report the current hold
        raise Conflict(f"call {state.call.id}: a resume is in progress")
    check_can_hold(state)
    if state.hold is not None and state.hold.id == event.hold_id:
        raise Conflict(f"hold id {event.hold_id!r} was already used")
    legs = state.call.strategy is Strategy.LEGS
    agent = state.agent_leg
    hold = Hold(
        id=event.hold_id,
        call_id=state.call.id,
        state=HoldState.HOLDING,
        strategy=state.call.strategy,
        requested_by=event.by,
        started_at=event.at,
        reason=event.reason,
        music_url=event.music_url,
        queue_name=queue_name_for(event.hold_id) if legs else None,
        agent_id=state.call.agent_id,
        agent_call_sid=agent.call_sid if agent is not None else None,
        state_since=event.at,
    )
    new_state = with_hold(state, hold)
    return Decision(new_state=new_state, commands=hold_plan(new_state, hold))


def _leg_joined(state: CallView, event: ev.LegJoined) -> Decision:
    if state.leg(event.call_sid) is not None:
        return ignored(state, f"leg {event.call_sid} already known")
    leg = Leg(
        call_sid=event.call_sid,
        call_id=state.call.id,
        role=event.role,
        status=event.status,
        parent_call_sid=event.parent_call_sid,
    )
    return Decision(new_state=state.with_leg(leg))


def _leg_status_changed(state: CallView, event: ev.LegStatusChanged, policy: HoldPolicy) -> Decision:
    leg = state.leg(event.call_sid)
    if leg is None and event.call_sid == state.call.customer_call_sid:
        # The customer's own leg, not on record (a call recorded before adoption wrote the call and
        # its leg in one transaction): recorded now, from this status, rather than the status lost.
        leg = Leg(
            call_sid=event.call_sid, call_id=state.call.id, role=LegRole.CUSTOMER, status=LegStatus.QUEUED
        )
        state = state.with_leg(leg)
    if leg is None:
        return ignored(state, f"unknown leg {event.call_sid}")
    if not leg_status_advances(leg, event.status, event.sequence_number, event.timestamp):
        return ignored(state, f"stale or duplicate status {event.status} for {event.call_sid}")
    sequence = leg.sequence_number if event.sequence_number is None else event.sequence_number
    updated = replace(leg, status=event.status, sequence_number=sequence, status_at=event.timestamp)
    if not event.status.is_terminal:
        return Decision(new_state=state.with_leg(updated))
    # A call that is over is in no conference: it is neither held nor muted any more (else the API
    # shows a hung-up customer "on hold" for ever).
    new_state = state.with_leg(replace(updated, on_hold=False, muted=False))
    hold = new_state.open_hold
    if leg.role is LegRole.CUSTOMER:
        call = replace(new_state.call, status=CallState.ENDED, ended_at=event.timestamp)
        new_state = replace(new_state, call=call)
        if hold is None:
            return Decision(new_state=new_state)
        return customer_gone(new_state, hold, event.timestamp)
    current_agent = new_state.agent_leg
    is_current_agent = current_agent is not None and current_agent.call_sid == leg.call_sid
    if leg.role is LegRole.AGENT and hold is not None and is_current_agent:
        return agent_hung_up(new_state, hold, event.timestamp, policy)
    if leg.role is LegRole.AGENT and is_current_agent and event.status in NEVER_ANSWERED:
        return _agent_missed(new_state, event.status.value)
    return Decision(new_state=new_state)


NEVER_ANSWERED = frozenset({LegStatus.BUSY, LegStatus.NO_ANSWER, LegStatus.FAILED})
"""A dialled agent's final status when it never answered (``canceled``: the customer hung up first)."""


def _agent_missed(state: CallView, outcome: str, *, reply: bool = False) -> Decision:
    """The agent never answered: the call has no agent again, and a live customer is connected to
    the next free agent or put in line (``paths.connect``). Conference strategy: the customer, alone
    in the conference, is redirected there; legs: the failed ``<Dial>``'s action (``reply``)
    answers with it, and the agent leg's status callback changes nothing more. Whatever the
    agent-hangup policy: the customer never spoke to anyone. The agent stays unavailable (likely
    away) until it sets itself available again."""
    customer = state.customer_leg
    if state.call.status is CallState.ENDED or customer is None or customer.status.is_terminal:
        return Decision(new_state=state)
    missed = AgentMissed(call_id=state.call.id, agent_id=state.call.agent_id, outcome=outcome)
    new_state = replace(state, call=replace(state.call, agent_id=None))
    if reply:
        return Decision(
            new_state=new_state, effects=(missed, ActionReply(twiml_path=paths.connect(state.call.id)))
        )
    if state.call.strategy is not Strategy.CONFERENCE:
        return Decision(new_state=new_state, effects=(missed,))
    redirect = RedirectLeg(call_sid=customer.call_sid, twiml_path=paths.connect(state.call.id))
    return Decision(new_state=new_state, commands=(redirect,), effects=(missed,))


def _action(
    state: CallView, event: ev.DialActionReceived | ev.EnqueueActionReceived, policy: HoldPolicy
) -> Decision:
    leg = state.leg(event.call_sid)
    hold = state.open_hold
    customer = leg is not None and leg.role is LegRole.CUSTOMER
    if (
        isinstance(event, ev.DialActionReceived)
        and customer
        and hold
        and hold.strategy is Strategy.CONFERENCE
    ):
        # The held customer's <Dial><Conference> ended: the conference ended under it (callhold never
        # redirects a held conference customer, so this is not an interrupted <Dial>).
        return conference_dial_ended(state, hold, event.at, policy, event.call_status)
    outcome = event.dial_call_status if isinstance(event, ev.DialActionReceived) else event.queue_result
    if (
        isinstance(event, ev.DialActionReceived)
        and customer
        and hold is None
        and state.call.strategy is Strategy.LEGS
        and outcome in {s.value for s in NEVER_ANSWERED}
    ):
        # The customer's <Dial> to the agent was never answered (not a hang-up, not our hold).
        return _agent_missed(state, outcome, reply=True)
    reply = action_reply(state, leg, outcome)
    answered = (ActionReply(twiml_path=reply),)
    if (
        leg is None
        or hold is None
        or reply not in (paths.legs_enqueue(hold.id), paths.legs_hold_music(hold.id))
    ):
        return Decision(new_state=state, effects=answered)
    if customer:  # it follows the hold's lead leg into the hold's queue (strategies): it is on hold
        state = state.with_leg(replace(leg, on_hold=True))
    gone = (
        event.call_status is not None and event.call_status.is_terminal
        if isinstance(event, ev.DialActionReceived)
        else event.queue_result == "hangup"  # the caller hung up in the queue
    )
    if hold.state is HoldState.HOLDING and not gone:
        # The bridge broke: Twilio's own word that the lead leg moved, whatever became of the answer
        # to callhold's request (lost, or not back yet). Not if the caller itself is gone: then it
        # was a hang-up, which its status callback settles.
        held = confirm_held(state, hold, event.at)
        return Decision(new_state=held.new_state, effects=(*answered, *held.effects))
    return Decision(new_state=state, effects=answered)


def _legs_bridged(state: CallView, event: ev.LegsBridged) -> Decision:
    hold = state.open_hold
    if hold is None or hold.id != event.hold_id or hold.state is not HoldState.RESUMING:
        return ignored(state, f"no resume of hold {event.hold_id} in progress")
    return Decision(new_state=end(state, hold, hold.end_reason or HoldEndReason.RESUMED, event.at))


def _command_succeeded(state: CallView, event: ev.CommandSucceeded) -> Decision:
    command = event.command
    if isinstance(command, SetParticipantMuted):
        leg = state.leg(command.call_sid)
        if leg is None:
            return ignored(state, f"unknown participant {command.call_sid}")
        return Decision(new_state=state.with_leg(replace(leg, muted=command.muted)))
    hold = state.open_hold
    if hold is not None and hold.state is HoldState.HOLDING:
        plan = hold_plan(state, hold)
        if command in plan:
            new_state = _mark_participant_hold(state, command, hold)
            if command == plan[-1]:
                return confirm_held(new_state, hold, event.at)
            return Decision(new_state=new_state)
    if hold is not None and hold.state is not HoldState.HOLDING and _into_queue(command, hold):
        # The customer followed (the fallback), or led after the agent's action had confirmed the hold.
        return Decision(new_state=_mark_participant_hold(state, command, hold))
    if hold is not None and hold.state is HoldState.RESUMING and command in resume_plan(state, hold):
        if hold.strategy is Strategy.CONFERENCE:
            new_state = _mark_participant_hold(state, command, hold)
            return Decision(
                new_state=end(new_state, hold, hold.end_reason or HoldEndReason.RESUMED, event.at)
            )
        return Decision(new_state=state)  # legs: wait for LegsBridged
    return ignored(state, "command outcome does not change the hold")


def _into_queue(command: Command, hold: Hold) -> TypeGuard[RedirectLeg]:
    """Whether ``command`` moves a legs customer into ``hold``'s queue (the hold's lead step when the
    customer leads, or the follow step when it follows)."""
    return isinstance(command, RedirectLeg) and command.twiml_path == paths.legs_enqueue(hold.id)


def _mark_participant_hold(state: CallView, command: Command, hold: Hold) -> CallView:
    """The leg ``command`` (confirmed by Twilio) put on or took off hold: a participant's ``Hold``, or
    a legs customer moved into the hold's queue (the end of the hold clears it: ``end``)."""
    if isinstance(command, SetParticipantHold):
        on_hold = command.hold
    elif _into_queue(command, hold):
        on_hold = True
    else:
        return state
    leg = state.leg(command.call_sid)
    return state if leg is None else state.with_leg(replace(leg, on_hold=on_hold))


def _command_failed(state: CallView, event: ev.CommandFailed, policy: HoldPolicy) -> Decision:
    command, error = event.command, event.error
    hold = state.open_hold
    if hold is not None and hold.state is not HoldState.HOLDING and command == follow_step(state, hold):
        return _follow_failed(state, hold, event, policy)
    if hold is None or hold.state not in (HoldState.HOLDING, HoldState.RESUMING):
        return ignored(state, f"failed command outside a hold transition: {error.message}")
    plan = hold_plan(state, hold) if hold.state is HoldState.HOLDING else resume_plan(state, hold)
    if command not in plan:
        return ignored(state, f"failed command is not part of hold {hold.id}: {error.message}")
    target = getattr(command, "call_sid", None)
    if error.call_gone and isinstance(target, str):
        return party_gone(state, hold, target, event.at, policy)
    if hold.state is HoldState.RESUMING and error.uncertain:
        # No answer: the customer may be back already. Stay resuming: its event (conference) or the
        # bridge (legs) ends the hold, else the recovery re-sends the resume, which is safe to repeat.
        return ignored(state, f"hold {hold.id}: no answer to the resume, stays resuming: {error.message}")
    if hold.state is HoldState.RESUMING:
        # Nobody moved: both sides still hear music. Back to held; resume can be retried.
        held = replace(
            enter(hold, HoldState.HELD, event.at, None), confirmed_at=hold.confirmed_at or event.at
        )
        return Decision(
            new_state=with_hold(state, held),
            effects=(arm_timers(state, held),),
        )
    compensating = Compensating(hold_id=hold.id, command=command, error=error)
    if plan.index(command) == 0 and (hold.recovered_at is not None or error.uncertain):
        # Re-sent by a recovery, or sent with no answer back: the step may have been done, so
        # "nothing moved" is not safe. Conference: taking the participant off hold is (Twilio's
        # update is idempotent), so the hold is undone. Legs: redirecting the customer back is not
        # (it may not be where we think), so it stays holding and the recovery re-sends.
        if hold.strategy is Strategy.CONFERENCE:
            undoing = enter(hold, HoldState.RESUMING, event.at, HoldEndReason.FAILED_COMPENSATED)
            return Decision(
                new_state=with_hold(state, undoing),
                commands=resume_plan(state, hold),
                effects=(compensating,),
            )
        return ignored(state, f"hold {hold.id}: first step unconfirmed, stays holding: {error.message}")
    # The (only) hold step failed: nothing moved, nothing to undo.
    ended = end(state, hold, HoldEndReason.FAILED_COMPENSATED, event.at)
    return Decision(new_state=ended, effects=(compensating,))


def _follow_failed(state: CallView, hold: Hold, event: ev.CommandFailed, policy: HoldPolicy) -> Decision:
    """Twilio refused the fallback that moves a legs customer into the hold's queue: the agent is on
    music, the customer wherever its action left it. Undo: the agent ``<Dial><Queue>``s the hold's
    queue and the customer is sent there once more (every action of it is answered with that queue
    too), so they meet there. No answer at all (``uncertain``), or a customer whose action put it in
    the queue meanwhile: the hold stays held (the next sweep checks again). Refused while resuming
    (the check of a resumed hold, or a recovery's): it stays resuming, for the recovery. A customer
    Twilio reports gone is a hang-up, whatever the hold's state."""
    command, error = event.command, event.error
    if error.call_gone and isinstance(command, RedirectLeg):
        return party_gone(state, hold, command.call_sid, event.at, policy)
    customer = state.customer_leg
    if hold.state is HoldState.RESUMING:  # undoing or resuming already: the recovery sends it again
        return ignored(state, f"hold {hold.id}: the customer's move refused while resuming: {error.message}")
    if error.uncertain or (customer is not None and customer.on_hold):
        return ignored(state, f"hold {hold.id}: the customer may be queued, stays held: {error.message}")
    undoing = enter(hold, HoldState.RESUMING, event.at, HoldEndReason.FAILED_COMPENSATED)
    return Decision(
        new_state=with_hold(state, undoing),
        commands=(*resume_plan(state, hold), command),
        effects=(
            Compensating(hold_id=hold.id, command=command, error=error),
            DisarmHoldTimers(hold_id=hold.id),
        ),
    )
