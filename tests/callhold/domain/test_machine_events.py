"""Machine rules: leg status order, the interrupted <Dial>'s action, conference, participants, timers."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from domain_builders import AGENT, CONFERENCE, CUSTOMER, HOLD_ID, THIRD, at, view, with_leg
from machine_rules import (
    AGENT_TO_DEQUEUE,
    ANNOUNCE_POLICY,
    CONF,
    END,
    HELD,
    LEGS,
    RES,
    H,
    Rule,
    assert_rule,
    call_is,
    dial_action,
    hold_is,
    leg_is,
    ok,
    reply,
    status,
)

from callhold.domain import events as ev
from callhold.domain.commands import (
    AddParticipant,
    Announce,
    RedirectLeg,
    RemoveParticipant,
    SetParticipantMuted,
)
from callhold.domain.effects import (
    ActionReply,
    AgentLeft,
    AgentMissed,
    ArmHoldTimers,
    DisarmHoldTimers,
    Ignored,
)
from callhold.domain.model import NO_SEQUENCE, CallState, CallView, HoldEndReason, LegRole, LegStatus

NEW_CONFERENCE = "CF" + "e" * 32


def started_at(state: CallView, conference_sid: str | None, when: datetime) -> CallView:
    """``state`` with live conference ``conference_sid`` (``None``: ended), the latest started ``when``."""
    return replace(state, call=replace(state.call, conference_sid=conference_sid, conference_started_at=when))


RULES = [
    # --- monotonic leg status -------------------------------------------------------------------
    Rule(
        "older SequenceNumber ignored",
        view(LEGS, hold=HELD),
        status(CUSTOMER, LegStatus.COMPLETED, seq=4),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "duplicate SequenceNumber ignored",
        view(LEGS),
        status(AGENT, LegStatus.COMPLETED, seq=5),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "lower-rank status ignored even with a newer SequenceNumber",
        view(LEGS),
        status(AGENT, LegStatus.RINGING),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "terminal status is final",
        view(LEGS, agent=LegStatus.COMPLETED),
        status(AGENT, LegStatus.IN_PROGRESS),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "older Timestamp ignored",
        view(LEGS, hold=HELD),
        status(CUSTOMER, LegStatus.COMPLETED, t=-1),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "without a SequenceNumber only a higher rank applies",
        view(LEGS),
        status(AGENT, LegStatus.COMPLETED, None),
        check=leg_is(AGENT, status=LegStatus.COMPLETED, sequence_number=5),
    ),
    Rule(
        "unknown leg ignored",
        view(LEGS),
        status("CA" + "9" * 32, LegStatus.COMPLETED),
        effects=(Ignored,),
        unchanged=True,
    ),
    # --- the interrupted <Dial>'s action (pitfalls 7, 8) ----------------------------------------
    Rule(
        "legs holding: customer's DialCallStatus=completed is not a hang-up; it follows into the queue, "
        "and the broken bridge confirms the hold (the agent moved)",
        view(LEGS, hold=H),
        dial_action(CUSTOMER),
        HELD,
        effects=(ActionReply, ArmHoldTimers),
        check=lambda d: (reply("/twiml/legs/enqueue/h1")(d), leg_is(CUSTOMER, on_hold=True)(d)),
    ),
    Rule(
        "legs holding: the customer's action says its call is over: a hang-up, not the agent's move",
        view(LEGS, hold=H),
        replace(dial_action(CUSTOMER), call_status=LegStatus.COMPLETED),
        effects=(ActionReply,),
        check=reply("/twiml/legs/enqueue/h1"),
    ),
    Rule(
        "legs held: the customer's action (it follows the agent) puts it on hold in the queue",
        view(LEGS, hold=HELD),
        dial_action(CUSTOMER),
        effects=(ActionReply,),
        check=lambda d: (reply("/twiml/legs/enqueue/h1")(d), leg_is(CUSTOMER, on_hold=True)(d)),
    ),
    Rule(
        "legs held: a late duplicate action changes nothing",
        with_leg(view(LEGS, hold=HELD), CUSTOMER, on_hold=True),
        dial_action(CUSTOMER),
        effects=(ActionReply,),
        unchanged=True,
        check=reply("/twiml/legs/enqueue/h1"),
    ),
    Rule(
        "legs holding, agent is the dial parent: agent's action goes to hold music; the hold is held",
        view(LEGS, hold=H, customer_is_child=True),
        dial_action(AGENT),
        HELD,
        effects=(ActionReply, ArmHoldTimers),
        check=lambda d: (reply("/twiml/legs/hold-music/h1")(d), leg_is(AGENT, on_hold=False)(d)),
    ),
    Rule(
        "legs compensating: the agent's action goes to the hold queue",
        view(LEGS, hold=RES, end_reason=HoldEndReason.FAILED_COMPENSATED, customer_is_child=True),
        dial_action(AGENT),
        effects=(ActionReply,),
        unchanged=True,
        check=reply("/twiml/legs/dequeue/h1"),
    ),
    Rule(
        "legs resuming: the agent's <Dial><Queue> failed (no queue: the customer not in it yet): "
        "it tries again after a pause, not in a loop",
        view(LEGS, hold=RES, end_reason=HoldEndReason.RESUMED),
        dial_action(AGENT, "failed"),
        effects=(ActionReply,),
        unchanged=True,
        check=reply("/twiml/legs/dequeue/h1?paced=1"),
    ),
    Rule(
        "no hold: a completed dial is the end of the conversation",
        view(LEGS),
        dial_action(CUSTOMER),
        effects=(ActionReply,),
        unchanged=True,
        check=reply(None),
    ),
    Rule(
        "legs, no hold: the agent never answered: the call has no agent, the customer is connected again",
        view(LEGS, agent=LegStatus.RINGING),
        dial_action(CUSTOMER, "no-answer"),
        effects=(AgentMissed, ActionReply),
        check=lambda d: (reply("/twiml/connect/call-1")(d), call_is(agent_id=None)(d)),
    ),
    Rule(
        "legs, no hold: the unanswered agent's status callback changes nothing more",
        view(LEGS, agent=LegStatus.RINGING),
        status(AGENT, LegStatus.BUSY),
        effects=(AgentMissed,),
        check=lambda d: (call_is(agent_id=None)(d), leg_is(AGENT, status=LegStatus.BUSY)(d)),
    ),
    Rule(
        "conference, no hold: the agent never answered: the customer, alone, is connected again",
        view(CONF, agent=LegStatus.RINGING),
        status(AGENT, LegStatus.NO_ANSWER),
        commands=(RedirectLeg(call_sid=CUSTOMER, twiml_path="/twiml/connect/call-1"),),
        effects=(AgentMissed,),
        check=call_is(agent_id=None),
    ),
    Rule(
        "conference, no hold: the customer hung up first (canceled): nobody to connect",
        view(CONF, agent=LegStatus.RINGING, customer=LegStatus.COMPLETED, call_status=CallState.ENDED),
        status(AGENT, LegStatus.CANCELED),
        check=call_is(agent_id="alice"),
    ),
    Rule(
        "conference held: the customer's conference ended under it: told the agent left",
        view(CONF, hold=HELD, agent=LegStatus.COMPLETED),
        dial_action(CUSTOMER, "answered"),
        END,
        HoldEndReason.AGENT_HUNG_UP,
        (),
        (DisarmHoldTimers, AgentLeft, ActionReply),
        check=reply("/twiml/customer/agent-left/call-1"),
    ),
    Rule(
        "conference held, conference ended by someone else",
        view(CONF, hold=HELD),
        dial_action(CUSTOMER, "answered"),
        END,
        HoldEndReason.CALL_ENDED,
        (),
        (DisarmHoldTimers, AgentLeft, ActionReply),
    ),
    Rule(
        "legs held: customer's enqueue action (redirected) goes back to the queue",
        with_leg(view(LEGS, hold=HELD), CUSTOMER, on_hold=True),
        ev.EnqueueActionReceived(call_sid=CUSTOMER, queue_result="redirected", at=at(12)),
        effects=(ActionReply,),
        unchanged=True,
        check=reply("/twiml/legs/enqueue/h1"),
    ),
    Rule(
        "legs held after a <Dial><Queue> bridge: the customer's enqueue action (bridged) follows the agent",
        view(LEGS, hold=HELD),
        ev.EnqueueActionReceived(call_sid=CUSTOMER, queue_result="bridged", at=at(12)),
        effects=(ActionReply,),
        check=lambda d: (reply("/twiml/legs/enqueue/h1")(d), leg_is(CUSTOMER, on_hold=True)(d)),
    ),
    Rule(
        "no hold: the bridge from the queue ended: hang up",
        view(LEGS, hold=END),
        ev.EnqueueActionReceived(call_sid=CUSTOMER, queue_result="bridged", at=at(50)),
        effects=(ActionReply,),
        unchanged=True,
        check=reply(None),
    ),
    # --- conference lifecycle -------------------------------------------------------------------
    Rule(
        "conference start records the SID and when it started",
        view(CONF, started=False),
        ev.ConferenceStarted(conference_sid=CONFERENCE, at=at(1)),
        check=call_is(conference_sid=CONFERENCE, conference_started_at=at(1)),
    ),
    Rule(
        "the start of an earlier conference, arriving after the live one's, leaves the live one alone",
        started_at(view(CONF), NEW_CONFERENCE, at(60)),
        ev.ConferenceStarted(conference_sid=CONFERENCE, at=at(1)),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "... and so one with the same Timestamp (whole seconds: a requeue takes longer than a second)",
        started_at(view(CONF), NEW_CONFERENCE, at(60)),
        ev.ConferenceStarted(conference_sid=CONFERENCE, at=at(60)),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "... and so after the live one has ended (it is not live again)",
        started_at(view(CONF), None, at(60)),
        ev.ConferenceStarted(conference_sid=CONFERENCE, at=at(1)),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "a conference started after the last one ended becomes the live one",
        started_at(view(CONF), None, at(1)),
        ev.ConferenceStarted(conference_sid=NEW_CONFERENCE, at=at(60)),
        check=call_is(conference_sid=NEW_CONFERENCE, conference_started_at=at(60)),
    ),
    Rule(
        "duplicate conference start ignored",
        view(CONF),
        ev.ConferenceStarted(conference_sid=CONFERENCE, at=at(1)),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "a different conference starting (customer requeued to a new agent) replaces the ended one",
        view(CONF),
        ev.ConferenceStarted(conference_sid=NEW_CONFERENCE, at=at(60)),
        check=call_is(conference_sid=NEW_CONFERENCE),
    ),
    Rule(
        "a new conference starts every participant afresh (flags and SequenceNumber are per conference)",
        replace(
            view(CONF),
            legs=tuple(
                replace(leg, on_hold=True, muted=True, participant_sequence_number=7)
                for leg in view(CONF).legs
            ),
        ),
        ev.ConferenceStarted(conference_sid=NEW_CONFERENCE, at=at(60)),
        check=leg_is(CUSTOMER, on_hold=False, muted=False, participant_sequence_number=NO_SEQUENCE),
    ),
    Rule(
        "conference end forgets the conference; the hold is left to the legs' callbacks and actions",
        view(CONF, hold=HELD),
        ev.ConferenceEnded(conference_sid=CONFERENCE, at=at(50)),
        check=call_is(conference_sid=None),
    ),
    Rule(
        "the end of an earlier conference (arriving late) leaves the current one alone",
        view(CONF, hold=HELD),
        ev.ConferenceEnded(conference_sid=NEW_CONFERENCE, at=at(50)),
        effects=(Ignored,),
        unchanged=True,
    ),
    # --- participants ---------------------------------------------------------------------------
    Rule(
        "mute a participant",
        view(CONF),
        ev.MuteRequested(call_sid=AGENT, muted=True, at=at(5)),
        commands=(SetParticipantMuted(conference_sid=CONFERENCE, call_sid=AGENT, muted=True),),
        unchanged=True,
    ),
    Rule(
        "mute confirmed",
        view(CONF),
        ok(SetParticipantMuted(conference_sid=CONFERENCE, call_sid=AGENT, muted=True)),
        check=leg_is(AGENT, muted=True),
    ),
    Rule(
        "add a third party",
        view(CONF),
        ev.AddPartyRequested(to="+15550001111", from_="+15550002222", at=at(5)),
        commands=(AddParticipant(conference=CONFERENCE, to="+15550001111", from_="+15550002222"),),
        unchanged=True,
    ),
    Rule(
        "remove a participant",
        view(CONF, third_party=True),
        ev.RemovePartyRequested(call_sid=THIRD, at=at(5)),
        commands=(RemoveParticipant(conference_sid=CONFERENCE, call_sid=THIRD),),
        unchanged=True,
    ),
    Rule(
        "a leg joins",
        view(CONF),
        ev.LegJoined(call_sid=THIRD, role=LegRole.THIRD_PARTY, status=LegStatus.RINGING, at=at(5)),
        check=leg_is(THIRD, role=LegRole.THIRD_PARTY, status=LegStatus.RINGING),
    ),
    Rule(
        "a known leg joining again is ignored",
        view(CONF),
        ev.LegJoined(call_sid=AGENT, role=LegRole.AGENT, status=LegStatus.RINGING, at=at(5)),
        effects=(Ignored,),
        unchanged=True,
    ),
    # --- timers ---------------------------------------------------------------------------------
    Rule(
        "agent reminder (conference): announced to the agent",
        view(CONF, hold=HELD),
        ev.AgentReminderDue(hold_id=HOLD_ID, at=at(70)),
        HELD,
        commands=(
            Announce(
                conference_sid=CONFERENCE, call_sid=AGENT, twiml_path="/twiml/announce/h1/agent-reminder"
            ),
        ),
        check=hold_is(agent_reminded_at=at(70)),
    ),
    Rule(
        "agent reminder (legs): the agent's music is interrupted by the notice",
        view(LEGS, hold=HELD),
        ev.AgentReminderDue(hold_id=HOLD_ID, at=at(70)),
        HELD,
        commands=(RedirectLeg(call_sid=AGENT, twiml_path="/twiml/legs/agent-notice/h1/agent-reminder"),),
        check=hold_is(agent_reminded_at=at(70)),
    ),
    Rule(
        "a reminder for an older hold is ignored",
        view(LEGS, hold=HELD),
        ev.AgentReminderDue(hold_id="h0", at=at(70)),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "max hold (auto-resume)",
        view(LEGS, hold=HELD),
        ev.MaxHoldReached(hold_id=HOLD_ID, at=at(600)),
        RES,
        HoldEndReason.MAX_HOLD_AUTO_RESUMED,
        (AGENT_TO_DEQUEUE,),
        (DisarmHoldTimers,),
        check=hold_is(max_hold_acted_at=at(600), state_since=at(600)),
    ),
    Rule(
        "max hold (announce)",
        view(CONF, hold=HELD),
        ev.MaxHoldReached(hold_id=HOLD_ID, at=at(600)),
        HELD,
        commands=(
            Announce(conference_sid=CONFERENCE, call_sid=AGENT, twiml_path="/twiml/announce/h1/max-hold"),
        ),
        policy=ANNOUNCE_POLICY,
        check=hold_is(max_hold_acted_at=at(600)),
    ),
    Rule(
        "max hold while resuming is ignored",
        view(LEGS, hold=RES),
        ev.MaxHoldReached(hold_id=HOLD_ID, at=at(600)),
        effects=(Ignored,),
        unchanged=True,
    ),
]


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_rule(rule: Rule) -> None:
    assert_rule(rule)
