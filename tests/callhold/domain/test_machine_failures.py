"""State machine rules: compensation of failed commands, and hang-ups during a hold."""

from __future__ import annotations

import pytest
from domain_builders import (
    AGENT,
    AGENT_ID,
    CALL_ID,
    CONFERENCE,
    CUSTOMER,
    HOLD_ID,
    NEW_AGENT,
    THIRD,
    at,
    view,
    with_leg,
)
from machine_rules import (
    AGENT_TO_DEQUEUE,
    AGENT_TO_MUSIC,
    AGENT_TOLD_CUSTOMER_LEFT,
    CONF,
    CONF_HOLD,
    CONF_UNHOLD,
    CUSTOMER_TO_QUEUE,
    CUSTOMER_TOLD_AGENT_LEFT,
    END,
    GONE,
    HANGUP_POLICY,
    HELD,
    LEGS,
    NO_ANSWER,
    PARTICIPANT_GONE,
    RES,
    H,
    Rule,
    assert_rule,
    call_is,
    failed,
    leg_is,
    reply,
    status,
)

from callhold.domain import events as ev
from callhold.domain.commands import Announce, RedirectLeg
from callhold.domain.effects import (
    ActionReply,
    AgentDroppedLate,
    AgentLeft,
    ArmHoldTimers,
    Compensating,
    DisarmHoldTimers,
    Ignored,
    away_agent,
    stranded_agent,
)
from callhold.domain.machine import Decision
from callhold.domain.model import CallState, HoldEndReason, HoldState, Leg, LegRole, LegStatus
from callhold.domain.transitions import AGENT_LEFT_REASON


def made_away(decision: Decision) -> None:
    """Check: the decision makes the call's agent away (it dropped out of the hold)."""
    assert [away_agent(effect) for effect in decision.effects if away_agent(effect)] == [AGENT_ID]


def stranded_made_away(decision: Decision) -> None:
    """Check: the decision makes the call's agent away if it is still stranded (the store decides)."""
    assert [stranded_agent(effect) for effect in decision.effects if stranded_agent(effect)] == [AGENT_ID]


def not_made_away(decision: Decision) -> None:
    """Check: the decision makes no agent away."""
    assert not any(away_agent(effect) for effect in decision.effects)


RULES = [
    # --- compensation ---------------------------------------------------------------------------
    Rule(
        "conference hold refused: nothing moved, hold ends failed",
        view(CONF, hold=H),
        failed(CONF_HOLD),
        END,
        HoldEndReason.FAILED_COMPENSATED,
        effects=(Compensating,),
    ),
    Rule(
        "legs: first redirect refused: nothing to undo",
        view(LEGS, hold=H),
        failed(AGENT_TO_MUSIC),
        END,
        HoldEndReason.FAILED_COMPENSATED,
        effects=(Compensating,),
    ),
    Rule(
        "legs: the customer did not follow, its redirect refused: the agent dials the queue, it goes again",
        view(LEGS, hold=HELD),
        failed(CUSTOMER_TO_QUEUE),
        RES,
        HoldEndReason.FAILED_COMPENSATED,
        (AGENT_TO_DEQUEUE, CUSTOMER_TO_QUEUE),
        (Compensating, DisarmHoldTimers),
    ),
    Rule(
        "legs: the customer's fallback redirect refused after its action put it in the queue: still held",
        with_leg(view(LEGS, hold=HELD), CUSTOMER, on_hold=True),
        failed(CUSTOMER_TO_QUEUE),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "legs: the customer's fallback redirect unanswered: it may be in the queue, the hold stays held",
        view(LEGS, hold=HELD),
        failed(CUSTOMER_TO_QUEUE, NO_ANSWER),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "legs: the customer (the dial child) refused its move into the queue: nothing moved, hold over",
        view(LEGS, hold=H, customer_is_child=True),
        failed(CUSTOMER_TO_QUEUE),
        END,
        HoldEndReason.FAILED_COMPENSATED,
        (),
        (Compensating,),
    ),
    Rule(
        "compensation completes when the legs are bridged again",
        view(LEGS, hold=RES, end_reason=HoldEndReason.FAILED_COMPENSATED),
        ev.LegsBridged(hold_id=HOLD_ID, at=at(13)),
        END,
        HoldEndReason.FAILED_COMPENSATED,
    ),
    Rule(
        "a refused resume leaves the hold held (music on both sides), retryable",
        view(LEGS, hold=RES, end_reason=HoldEndReason.RESUMED),
        failed(AGENT_TO_DEQUEUE),
        HELD,
        effects=(ArmHoldTimers,),
        check=lambda d: d.new_state.hold and d.new_state.hold.end_reason is None,
    ),
    Rule(
        "a refused conference resume leaves the hold held",
        view(CONF, hold=RES),
        failed(CONF_UNHOLD),
        HELD,
        effects=(ArmHoldTimers,),
    ),
    Rule(
        "customer gone while being redirected = customer hung up",
        view(LEGS, hold=HELD),
        failed(CUSTOMER_TO_QUEUE, GONE),
        END,
        HoldEndReason.CUSTOMER_HUNG_UP,
        (AGENT_TOLD_CUSTOMER_LEFT,),
        (DisarmHoldTimers,),
    ),
    Rule(
        "agent gone while being redirected = agent hung up",
        view(LEGS, hold=H),
        failed(AGENT_TO_MUSIC, GONE),
        END,
        HoldEndReason.AGENT_HUNG_UP,
        (CUSTOMER_TOLD_AGENT_LEFT,),
        (DisarmHoldTimers, AgentLeft),
    ),
    Rule(
        "conference participant gone on hold = customer hung up",
        view(CONF, hold=H),
        failed(CONF_HOLD, PARTICIPANT_GONE),
        END,
        HoldEndReason.CUSTOMER_HUNG_UP,
        effects=(DisarmHoldTimers,),
    ),
    Rule(
        "agent gone during resume = agent hung up",
        view(LEGS, hold=RES),
        failed(AGENT_TO_DEQUEUE, GONE),
        END,
        HoldEndReason.AGENT_HUNG_UP,
        (CUSTOMER_TOLD_AGENT_LEFT,),
        (DisarmHoldTimers, AgentLeft),
    ),
    Rule(
        "a failed notice while held changes nothing",
        view(CONF, hold=HELD),
        failed(Announce(conference_sid=CONFERENCE, call_sid=AGENT, twiml_path="/x")),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "a failed command of an older plan is ignored",
        view(LEGS, hold=H),
        failed(RedirectLeg(call_sid=AGENT, twiml_path="/twiml/legs/hold-music/old")),
        effects=(Ignored,),
        unchanged=True,
    ),
    # --- hang-ups -------------------------------------------------------------------------------
    Rule(
        "legs: customer hangs up while held: hold closed, agent taken off the music",
        view(LEGS, hold=HELD),
        status(CUSTOMER, LegStatus.COMPLETED),
        END,
        HoldEndReason.CUSTOMER_HUNG_UP,
        (AGENT_TOLD_CUSTOMER_LEFT,),
        (DisarmHoldTimers,),
        check=call_is(status=CallState.ENDED, ended_at=at(40)),
    ),
    Rule(
        "conference: customer hangs up while held: hold closed, nothing to un-play",
        view(CONF, hold=HELD),
        status(CUSTOMER, LegStatus.COMPLETED),
        END,
        HoldEndReason.CUSTOMER_HUNG_UP,
        (),
        (DisarmHoldTimers,),
        check=call_is(status=CallState.ENDED),
    ),
    Rule(
        "legs: customer hangs up while resuming",
        view(LEGS, hold=RES),
        status(CUSTOMER, LegStatus.COMPLETED),
        END,
        HoldEndReason.CUSTOMER_HUNG_UP,
        (AGENT_TOLD_CUSTOMER_LEFT,),
        (DisarmHoldTimers,),
    ),
    Rule(
        "customer hangs up with no hold: the call ends, no command",
        view(LEGS),
        status(CUSTOMER, LegStatus.COMPLETED),
        check=call_is(status=CallState.ENDED),
    ),
    Rule(
        "legs: agent hangs up while customer held (requeue): customer told (off hold), call back to waiting",
        with_leg(view(LEGS, hold=HELD), CUSTOMER, on_hold=True),
        status(AGENT, LegStatus.COMPLETED),
        END,
        HoldEndReason.AGENT_HUNG_UP,
        (CUSTOMER_TOLD_AGENT_LEFT,),
        (DisarmHoldTimers, AgentLeft),
        check=lambda d: (call_is(agent_id=None)(d), leg_is(CUSTOMER, on_hold=False)(d)),
    ),
    Rule(
        # Its <Dial> action says the customer is still on the line (CallStatus), which it is as well
        # if the customer was removed or the conference ended through the API: the customer is told,
        # and the agent, live on record, is not made away (the conference-end says who left).
        "conference: the held customer's conference ended, the customer on the line: told, call ended",
        view(CONF, hold=HELD),
        ev.DialActionReceived(
            call_sid=CUSTOMER, dial_call_status="answered", at=at(12), call_status=LegStatus.IN_PROGRESS
        ),
        END,
        HoldEndReason.CALL_ENDED,
        (),
        (DisarmHoldTimers, AgentLeft, ActionReply),
        check=lambda d: (
            reply("/twiml/customer/agent-left/call-1")(d),
            call_is(agent_id=None)(d),
            not_made_away(d),
        ),
    ),
    Rule(
        # Twilio's conference-end names the participant that ended it: the agent, hanging up.
        "conference: a conference-end saying the agent left ends the hold agent_hung_up",
        view(CONF, hold=HELD),
        ev.ConferenceEnded(
            conference_sid=CONFERENCE, at=at(12), reason=AGENT_LEFT_REASON, ending_call_sid=AGENT
        ),
        END,
        HoldEndReason.AGENT_HUNG_UP,
        (),
        (DisarmHoldTimers, AgentLeft),
        check=lambda d: (made_away(d), call_is(agent_id=None, conference_sid=None)(d)),
    ),
    Rule(
        # ... and after the customer's action ended it call_ended: the record is put right (the
        # agent not made away so late: it may be back at work since).
        "conference: a conference-end saying the agent left, after the action: recorded agent_hung_up",
        view(CONF, hold=HoldState.ENDED, end_reason=HoldEndReason.CALL_ENDED),
        ev.ConferenceEnded(
            conference_sid=CONFERENCE, at=at(12), reason=AGENT_LEFT_REASON, ending_call_sid=AGENT
        ),
        END,
        HoldEndReason.AGENT_HUNG_UP,
        effects=(AgentDroppedLate,),
        check=lambda d: (not_made_away(d), stranded_made_away(d)),
    ),
    Rule(
        "conference: a conference-end for the held customer kicked: the agent is not made away",
        view(CONF, hold=HoldState.ENDED, end_reason=HoldEndReason.CALL_ENDED),
        ev.ConferenceEnded(
            conference_sid=CONFERENCE,
            at=at(12),
            reason="participant-with-end-conference-on-exit-kicked",
            ending_call_sid=CUSTOMER,
        ),
        END,
        HoldEndReason.CALL_ENDED,
        check=lambda d: (not_made_away(d), call_is(conference_sid=None)(d)),
    ),
    Rule(
        "conference: a conference ended through the API: the hold is left to the action",
        view(CONF, hold=HELD),
        ev.ConferenceEnded(conference_sid=CONFERENCE, at=at(12), reason="conference-ended-via-api"),
        check=lambda d: (not_made_away(d), call_is(conference_sid=None)(d)),
    ),
    Rule(
        "conference: the held customer's <Dial> action says its call is over: the customer hung up",
        view(CONF, hold=HELD),
        ev.DialActionReceived(
            call_sid=CUSTOMER, dial_call_status="answered", at=at(12), call_status=LegStatus.COMPLETED
        ),
        END,
        HoldEndReason.CUSTOMER_HUNG_UP,
        (),
        (DisarmHoldTimers, ActionReply),
        check=lambda d: (reply(None)(d), call_is(agent_id=AGENT_ID)(d)),
    ),
    Rule(
        # Told by the customer's <Dial> action (the agent's leaving ends the conference), not by a
        # redirect as well: one arriving after the action would pull the customer out of wherever
        # the action's answer took it (the next agent's conference).
        "conference: agent hangs up while customer held (hangup policy): no redirect, agent kept on record",
        view(CONF, hold=HELD),
        status(AGENT, LegStatus.COMPLETED),
        END,
        HoldEndReason.AGENT_HUNG_UP,
        (),
        (DisarmHoldTimers, AgentLeft),
        HANGUP_POLICY,
        check=call_is(agent_id=AGENT_ID, status=CallState.ACTIVE),
    ),
    Rule(
        "agent hangs up with no hold: nothing to do here (the dial action answers)",
        view(LEGS),
        status(AGENT, LegStatus.COMPLETED),
        check=leg_is(AGENT, status=LegStatus.COMPLETED, sequence_number=9),
    ),
    Rule(
        "a former agent's leg ending does not end the hold",
        view(LEGS, hold=HELD).with_leg(
            Leg(call_sid=NEW_AGENT, call_id=CALL_ID, role=LegRole.AGENT, status=LegStatus.IN_PROGRESS)
        ),
        status(AGENT, LegStatus.COMPLETED),
        check=leg_is(AGENT, status=LegStatus.COMPLETED),
    ),
    Rule(
        "a third party hanging up does not end the hold",
        view(CONF, hold=HELD, third_party=True),
        status(THIRD, LegStatus.COMPLETED),
        check=leg_is(THIRD, status=LegStatus.COMPLETED),
    ),
]


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_rule(rule: Rule) -> None:
    assert_rule(rule)
