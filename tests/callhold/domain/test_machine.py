"""State machine rules: hold, resume, their confirmations and refusals; whole lifecycles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

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
    CONF,
    CONF_HOLD,
    CONF_UNHOLD,
    CUSTOMER_TO_QUEUE,
    END,
    HANGUP_POLICY,
    HELD,
    LEGS,
    RES,
    H,
    Rule,
    assert_rule,
    dial_action,
    failed,
    hold_is,
    hold_req,
    leg_is,
    ok,
    resume_req,
    run,
    status,
)

from callhold.domain import events as ev
from callhold.domain.commands import RedirectLeg
from callhold.domain.effects import ActionReply, ArmHoldTimers, DisarmHoldTimers, Ignored
from callhold.domain.errors import (
    CallEnded,
    CallholdError,
    ConferenceNotStarted,
    Conflict,
    NotConnected,
    NotFound,
    NotHeld,
    WrongStrategy,
)
from callhold.domain.machine import Decision, decide
from callhold.domain.model import CallState, CallView, HoldEndReason, Leg, LegRole, LegStatus


def follow_check_is(expected: bool) -> Callable[[Decision], object]:
    """Check: the hold's timers are armed with (or without) the legs follow check."""

    def check(decision: Decision) -> None:
        arm = [e for e in decision.effects if isinstance(e, ArmHoldTimers)]
        assert [e.follow_check for e in arm] == [expected]

    return check


RULES = [
    # --- hold -----------------------------------------------------------------------------------
    Rule(
        "conference hold: participant hold with our looping music",
        view(CONF),
        hold_req(),
        H,
        None,
        (CONF_HOLD,),
    ),
    Rule(
        "legs hold: only the agent (dial child) is redirected, to music; the customer follows by its action",
        view(LEGS),
        hold_req(),
        H,
        None,
        (AGENT_TO_MUSIC,),
    ),
    Rule(
        "legs hold: a customer that is the dial child is the one redirected; the agent follows",
        view(LEGS, customer_is_child=True),
        hold_req(),
        H,
        None,
        (CUSTOMER_TO_QUEUE,),
    ),
    Rule(
        "hold when holding is a no-op reporting the current hold",
        view(LEGS, hold=H),
        hold_req(),
        unchanged=True,
    ),
    Rule("hold when held is a no-op (conference)", view(CONF, hold=HELD), hold_req(), unchanged=True),
    Rule("hold when held is a no-op (legs)", view(LEGS, hold=HELD), hold_req(), unchanged=True),
    Rule(
        "a new hold after an ended one",
        view(LEGS, hold=END),
        replace(hold_req(), hold_id="h2"),
        H,
        None,
        (RedirectLeg(call_sid=AGENT, twiml_path="/twiml/legs/hold-music/h2"),),
    ),
    # --- resume ---------------------------------------------------------------------------------
    Rule(
        "conference resume: hold=false",
        view(CONF, hold=HELD),
        resume_req(),
        RES,
        HoldEndReason.RESUMED,
        (CONF_UNHOLD,),
        (DisarmHoldTimers,),
    ),
    Rule(
        "legs resume: the agent dials the hold's queue",
        view(LEGS, hold=HELD),
        resume_req(),
        RES,
        HoldEndReason.RESUMED,
        (AGENT_TO_DEQUEUE,),
        (DisarmHoldTimers,),
    ),
    Rule(
        "resume while resuming re-issues the resume (retry)",
        view(LEGS, hold=RES),
        resume_req(),
        commands=(AGENT_TO_DEQUEUE,),
        unchanged=True,
    ),
    # --- confirmations --------------------------------------------------------------------------
    Rule(
        "conference hold confirmed by the participant update",
        view(CONF, hold=H),
        ok(CONF_HOLD),
        HELD,
        effects=(ArmHoldTimers,),
        check=leg_is(CUSTOMER, on_hold=True),
    ),
    Rule(
        "legs: the agent on music, held; the customer reads on hold only once it follows (checked later)",
        view(LEGS, hold=H),
        ok(AGENT_TO_MUSIC),
        HELD,
        effects=(ArmHoldTimers,),
        check=lambda d: (
            leg_is(CUSTOMER, on_hold=False)(d),
            leg_is(AGENT, on_hold=False)(d),
            follow_check_is(True)(d),
        ),
    ),
    Rule(
        "legs: the agent on music after the customer followed: held, no follow check",
        with_leg(view(LEGS, hold=H), CUSTOMER, on_hold=True),
        ok(AGENT_TO_MUSIC),
        HELD,
        effects=(ArmHoldTimers,),
        check=follow_check_is(False),
    ),
    Rule(
        "legs: the customer's move into the queue (the follow check's) done: it reads on hold, not the agent",
        view(LEGS, hold=HELD),
        ok(CUSTOMER_TO_QUEUE),
        check=lambda d: (leg_is(CUSTOMER, on_hold=True)(d), leg_is(AGENT, on_hold=False)(d)),
    ),
    Rule(
        "legs: a customer that is the dial child, in the queue: on hold, held, nothing follows it",
        view(LEGS, customer_is_child=True, hold=H),
        ok(CUSTOMER_TO_QUEUE),
        HELD,
        effects=(ArmHoldTimers,),
        check=lambda d: (leg_is(CUSTOMER, on_hold=True)(d), follow_check_is(False)(d)),
    ),
    Rule(
        "conference resume confirmed by hold=false succeeding",
        view(CONF, hold=RES, end_reason=HoldEndReason.RESUMED),
        ok(CONF_UNHOLD),
        END,
        HoldEndReason.RESUMED,
        check=leg_is(CUSTOMER, on_hold=False),
    ),
    Rule(
        "legs resume waits for the bridge, not for the redirect",
        view(LEGS, hold=RES),
        ok(AGENT_TO_DEQUEUE),
        unchanged=True,
    ),
    Rule(
        "legs resume confirmed by the <Queue url> (LegsBridged): the customer is off hold",
        with_leg(view(LEGS, hold=RES, end_reason=HoldEndReason.RESUMED), CUSTOMER, on_hold=True),
        ev.LegsBridged(hold_id=HOLD_ID, at=at(31)),
        END,
        HoldEndReason.RESUMED,
        check=leg_is(CUSTOMER, on_hold=False),
    ),
    Rule(
        "LegsBridged of another hold is ignored",
        view(LEGS, hold=RES),
        ev.LegsBridged(hold_id="old", at=at(31)),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "participant-hold event confirms a conference hold",
        view(CONF, hold=H),
        ev.ParticipantHoldChanged(call_sid=CUSTOMER, hold=True, sequence_number=3, at=at(11)),
        HELD,
        effects=(ArmHoldTimers,),
    ),
    Rule(
        "a confirmation stamped before the request (Twilio's whole seconds) is dated at the request",
        view(CONF, hold=H),
        ev.ParticipantHoldChanged(call_sid=CUSTOMER, hold=True, sequence_number=3, at=at(9)),
        HELD,
        effects=(ArmHoldTimers,),
        check=hold_is(confirmed_at=at(10), state_since=at(10)),
    ),
    Rule(
        "participant-unhold event confirms a conference resume",
        view(CONF, hold=RES, end_reason=HoldEndReason.RESUMED),
        ev.ParticipantHoldChanged(call_sid=CUSTOMER, hold=False, sequence_number=3, at=at(31)),
        END,
        HoldEndReason.RESUMED,
    ),
    Rule(
        "an unhold while held is recorded on the leg only",
        view(CONF, hold=HELD),
        ev.ParticipantHoldChanged(call_sid=CUSTOMER, hold=False, sequence_number=3, at=at(31)),
        check=leg_is(CUSTOMER, on_hold=False, participant_sequence_number=3),
    ),
    Rule(
        "a stale conference event is ignored",
        with_leg(view(CONF, hold=H), CUSTOMER, participant_sequence_number=7),
        ev.ParticipantHoldChanged(call_sid=CUSTOMER, hold=True, sequence_number=6, at=at(11)),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "participant-mute event",
        view(CONF),
        ev.ParticipantMuteChanged(call_sid=AGENT, muted=True, sequence_number=1, at=at(5)),
        check=leg_is(AGENT, muted=True),
    ),
    Rule(
        "participant-mute event of the call's live conference",
        view(CONF),
        ev.ParticipantMuteChanged(
            call_sid=AGENT, muted=True, sequence_number=1, at=at(5), conference_sid=CONFERENCE
        ),
        check=leg_is(AGENT, muted=True),
    ),
    Rule(
        "a late participant event of the call's earlier conference is ignored",
        view(CONF, hold=H),
        ev.ParticipantHoldChanged(
            call_sid=CUSTOMER, hold=True, sequence_number=9, at=at(11), conference_sid="CF" + "e" * 32
        ),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        # Its flags were cleared when it ended: a hold event delivered late must not set them again
        # (a customer back in line shown "on hold").
        "a late participant event of a conference that has ended is ignored",
        view(CONF, started=False),
        ev.ParticipantHoldChanged(
            call_sid=CUSTOMER, hold=True, sequence_number=9, at=at(11), conference_sid=CONFERENCE
        ),
        effects=(Ignored,),
        unchanged=True,
    ),
]


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_rule(rule: Rule) -> None:
    assert_rule(rule)


@dataclass(frozen=True)
class Refusal:
    name: str
    state: CallView
    event: ev.Event
    error: type[CallholdError]
    also: tuple[type[CallholdError], ...] = field(default=())


REFUSALS = [
    Refusal(
        "hold before the conference started",
        view(CONF, started=False),
        hold_req(),
        ConferenceNotStarted,
        (NotConnected, Conflict),
    ),
    Refusal(
        "legs hold while the agent still rings", view(LEGS, agent=LegStatus.RINGING), hold_req(), NotConnected
    ),
    Refusal("legs hold with no agent leg", view(LEGS, agent=None), hold_req(), NotConnected),
    Refusal("hold on an ended call", view(LEGS, call_status=CallState.ENDED), hold_req(), CallEnded),
    Refusal(
        "hold when the customer has hung up", view(CONF, customer=LegStatus.COMPLETED), hold_req(), CallEnded
    ),
    Refusal("hold while a resume is in progress", view(LEGS, hold=RES), hold_req(), Conflict),
    Refusal("hold reusing an old hold id", view(LEGS, hold=END), hold_req(), Conflict),
    Refusal("resume with no hold", view(CONF), resume_req(), NotHeld, (Conflict,)),
    Refusal("resume after the hold ended", view(LEGS, hold=END), resume_req(), NotHeld),
    Refusal("resume while the hold is being placed", view(LEGS, hold=H), resume_req(), NotHeld),
    Refusal(
        "resume on an ended call", view(LEGS, hold=HELD, call_status=CallState.ENDED), resume_req(), CallEnded
    ),
    Refusal(
        "mute on the legs strategy",
        view(LEGS),
        ev.MuteRequested(call_sid=AGENT, muted=True, at=at(5)),
        WrongStrategy,
    ),
    Refusal(
        "mute before the conference started",
        view(CONF, started=False),
        ev.MuteRequested(call_sid=AGENT, muted=True, at=at(5)),
        ConferenceNotStarted,
    ),
    Refusal(
        "mute an unknown participant",
        view(CONF),
        ev.MuteRequested(call_sid=THIRD, muted=True, at=at(5)),
        NotFound,
    ),
    Refusal(
        "remove a participant who left",
        view(CONF, agent=LegStatus.COMPLETED),
        ev.RemovePartyRequested(call_sid=AGENT, at=at(5)),
        NotFound,
    ),
    Refusal(
        "add a party to an ended call",
        view(CONF, call_status=CallState.ENDED),
        ev.AddPartyRequested(to="+15550001111", from_="+15550002222", at=at(5)),
        CallEnded,
    ),
]


@pytest.mark.parametrize("refusal", REFUSALS, ids=[r.name for r in REFUSALS])
def test_refusal(refusal: Refusal) -> None:
    with pytest.raises(refusal.error) as raised:
        decide(refusal.state, refusal.event)
    for parent in refusal.also:
        assert isinstance(raised.value, parent)


def test_new_hold_records_who_what_and_a_queue_unique_to_it() -> None:
    decision = decide(view(LEGS), hold_req(music_url="https://example.com/jazz.mp3"))
    hold = decision.new_state.hold
    assert hold is not None
    assert (hold.id, hold.call_id, hold.strategy, hold.requested_by, hold.reason) == (
        HOLD_ID, CALL_ID, LEGS, AGENT_ID, "checking",
    )  # fmt: skip
    assert hold.music_url == "https://example.com/jazz.mp3"
    assert hold.queue_name == "hold-h1"
    assert (hold.agent_id, hold.agent_call_sid, hold.started_at) == (AGENT_ID, AGENT, at(10))
    assert decide(view(CONF), hold_req()).new_state.hold.queue_name is None  # type: ignore[union-attr]


def test_legs_lifecycle_hold_then_resume_reconnects_the_same_queue() -> None:
    start = view(LEGS)
    first = decide(start, hold_req())
    assert first.commands == (AGENT_TO_MUSIC,)
    decisions = run(
        first.new_state,
        ok(AGENT_TO_MUSIC),
        dial_action(CUSTOMER),  # the interrupted <Dial>: not a hang-up; the customer follows
        ev.LegsFollowDue(hold_id=HOLD_ID, at=at(15)),  # it did: nothing to send
        resume_req(),
        ok(AGENT_TO_DEQUEUE),
        ev.LegsBridged(hold_id=HOLD_ID, at=at(31)),
        dial_action(CUSTOMER),  # a late duplicate of the old action after the resume
    )
    states = [d.new_state.hold.state for d in decisions]  # type: ignore[union-attr]
    assert states == [HELD, HELD, HELD, RES, RES, END, END]
    assert ActionReply(twiml_path="/twiml/legs/enqueue/h1") in decisions[1].effects
    assert decisions[2].commands == () and decisions[3].commands == (AGENT_TO_DEQUEUE,)
    final = decisions[-1].new_state.hold
    assert final is not None
    assert (final.end_reason, final.confirmed_at, final.ended_at) == (HoldEndReason.RESUMED, at(12), at(31))
    assert final.duration(at(99)).total_seconds() == 21
    assert decisions[-1].new_state.call.status is CallState.ACTIVE


def test_compensated_legs_hold_answers_every_action_so_both_sides_meet_in_the_queue() -> None:
    """Agent already on music, the customer not following, and the follow check's redirect of it
    refused: whichever of the parties' actions comes next, the customer is sent to the hold queue and
    the agent dials it."""
    decisions = run(
        view(LEGS), hold_req(), ok(AGENT_TO_MUSIC), failed(CUSTOMER_TO_QUEUE), dial_action(CUSTOMER)
    )
    assert decisions[2].commands == (AGENT_TO_DEQUEUE, CUSTOMER_TO_QUEUE)
    assert ActionReply(twiml_path="/twiml/legs/enqueue/h1") in decisions[3].effects
    ended = decide(decisions[3].new_state, ev.LegsBridged(hold_id=HOLD_ID, at=at(13))).new_state.hold
    assert ended is not None and ended.end_reason is HoldEndReason.FAILED_COMPENSATED


def test_after_agent_left_the_customers_late_action_still_gets_the_fallback() -> None:
    """The agent's hang-up (status callback) and the customer's dial action race: both lead to agent-left."""
    after = decide(view(CONF, hold=HELD), status(AGENT, LegStatus.COMPLETED), HANGUP_POLICY).new_state
    decision = decide(after, dial_action(CUSTOMER, "answered"))
    assert decision.effects == (ActionReply(twiml_path="/twiml/customer/agent-left/call-1"),)
    assert decision.new_state == after


def test_a_new_agent_after_requeue_ends_normally() -> None:
    after = decide(view(CONF, hold=HELD), status(AGENT, LegStatus.COMPLETED)).new_state
    new_agent = Leg(call_sid=NEW_AGENT, call_id=CALL_ID, role=LegRole.AGENT, status=LegStatus.IN_PROGRESS)
    decision = decide(after.with_leg(new_agent), dial_action(CUSTOMER, "answered"))
    assert decision.effects == (ActionReply(twiml_path=None),)


def test_decide_is_deterministic_and_leaves_its_input_alone() -> None:
    state = view(LEGS, hold=HELD)
    snapshot = repr(state)
    assert decide(state, resume_req()) == decide(state, resume_req())
    assert repr(state) == snapshot
