"""Recovery of holds left ``holding``/``resuming`` by an instance that stopped before sending (or
confirming) their commands: ``HoldRecoveryDue`` re-sends the plan of the hold's state once the hold has
been in it longer than the grace period, or ends the hold by the hang-up rules if a party is gone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from domain_builders import AGENT_ID, CUSTOMER, HOLD_ID, at, view, with_hold, with_leg
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
    HELD,
    LEGS,
    NO_ANSWER,
    RES,
    TRANSIENT,
    H,
    Rule,
    assert_rule,
    call_is,
    dial_action,
    hold_is,
    run,
)

from callhold.domain import events as ev
from callhold.domain.commands import Command
from callhold.domain.effects import (
    ActionReply,
    AgentLeft,
    ArmHoldTimers,
    Compensating,
    DisarmHoldTimers,
    Ignored,
)
from callhold.domain.errors import Invalid, TelephonyError
from callhold.domain.machine import DEFAULT_POLICY, Decision, decide
from callhold.domain.model import CallState, CallView, Hold, HoldEndReason, HoldState, LegStatus, Strategy
from callhold.domain.policies import HoldPolicy

GRACE = DEFAULT_POLICY.recovery_grace.total_seconds()  # 30 s
RESUMED, AUTO = HoldEndReason.RESUMED, HoldEndReason.MAX_HOLD_AUTO_RESUMED


def recovery(t: float) -> ev.HoldRecoveryDue:
    """The service's recovery of hold h1 at t."""
    return ev.HoldRecoveryDue(hold_id=HOLD_ID, at=at(t))


def follow(t: float) -> ev.LegsFollowDue:
    """The service's follow check of hold h1 at t."""
    return ev.LegsFollowDue(hold_id=HOLD_ID, at=at(t))


def stuck(
    strategy: Strategy,
    state: HoldState,
    since: float,
    end_reason: HoldEndReason | None = None,
    *,
    followed: bool = True,
    **kw: object,
) -> CallView:
    """A call whose hold h1 has been in ``state`` since t = ``since`` (see ``view`` for ``kw``); a legs
    customer past ``holding`` is in the hold's queue (``on_hold``) unless it never ``followed``."""
    if state is HoldState.RESUMING and end_reason is None:
        end_reason = RESUMED
    stuck = with_hold(view(strategy, hold=state, end_reason=end_reason, **kw), state_since=at(since))  # type: ignore[arg-type]
    if strategy is Strategy.LEGS and state is not HoldState.HOLDING and followed:
        stuck = with_leg(stuck, CUSTOMER, on_hold=True)
    return stuck


def done(command: Command, t: float) -> ev.CommandSucceeded:
    """The service executed ``command`` at t."""
    return ev.CommandSucceeded(command=command, at=at(t))


def refused(command: Command, t: float, error: TelephonyError = TRANSIENT) -> ev.CommandFailed:
    """Twilio refused ``command`` at t."""
    return ev.CommandFailed(command=command, error=error, at=at(t))


def hold_of(decision: Decision) -> Hold:
    """The hold after ``decision``."""
    assert decision.new_state.hold is not None
    return decision.new_state.hold


RULES = [
    # --- re-sending the plan of the hold's state ------------------------------------------------
    Rule(
        "legs holding past the grace: the hold plan again, the <Dial> child (the customer follows it)",
        stuck(LEGS, H, 10),
        recovery(10 + GRACE),
        H,
        None,
        (AGENT_TO_MUSIC,),
        check=hold_is(recovered_at=at(40), state_since=at(10)),
    ),
    Rule(
        "legs holding, customer is the <Dial> child: the customer is moved again (the agent follows it)",
        stuck(LEGS, H, 10, customer_is_child=True),
        recovery(45),
        H,
        None,
        (CUSTOMER_TO_QUEUE,),
    ),
    Rule(
        "legs resuming, the customer never followed into the queue: the agent dials it, it is moved there",
        stuck(LEGS, RES, 100, AUTO, followed=False),
        recovery(130),
        RES,
        AUTO,
        (AGENT_TO_DEQUEUE, CUSTOMER_TO_QUEUE),
    ),
    Rule(
        "conference holding: participant hold again (idempotent)",
        stuck(CONF, H, 10),
        recovery(45),
        H,
        None,
        (CONF_HOLD,),
        check=hold_is(recovered_at=at(45)),
    ),
    Rule(
        "conference holding with no agent leg: the agent is not part of the plan",
        stuck(CONF, H, 10, agent=None),
        recovery(45),
        H,
        None,
        (CONF_HOLD,),
    ),
    Rule(
        "legs resuming: the agent dials the hold's queue again, the end reason kept",
        stuck(LEGS, RES, 100, AUTO),
        recovery(130),
        RES,
        AUTO,
        (AGENT_TO_DEQUEUE,),
        check=hold_is(recovered_at=at(130), state_since=at(100)),
    ),
    Rule(
        "legs compensation in flight: the agent dials the hold's queue again",
        stuck(LEGS, RES, 12, HoldEndReason.FAILED_COMPENSATED),
        recovery(60),
        RES,
        HoldEndReason.FAILED_COMPENSATED,
        (AGENT_TO_DEQUEUE,),
    ),
    Rule(
        "conference resuming: participant unhold again",
        stuck(CONF, RES, 100),
        recovery(130),
        RES,
        RESUMED,
        (CONF_UNHOLD,),
    ),
    # --- not yet, or nothing to recover ---------------------------------------------------------
    Rule(
        "holding within the grace: maybe in flight in another instance",
        stuck(LEGS, H, 10),
        ev.HoldRecoveryDue(hold_id=HOLD_ID, at=at(10 + GRACE) - timedelta(microseconds=1)),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "resuming within the grace",
        stuck(CONF, RES, 100),
        recovery(129),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "recovered a moment ago (another instance starting at the same time)",
        with_hold(stuck(LEGS, H, 10), recovered_at=at(40)),
        recovery(41),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "recovered longer than the grace ago and still stuck: re-sent again",
        with_hold(stuck(LEGS, H, 10), recovered_at=at(40)),
        recovery(70),
        H,
        None,
        (AGENT_TO_MUSIC,),
        check=hold_is(recovered_at=at(70)),
    ),
    Rule(
        "a held hold: nothing in flight",
        stuck(LEGS, HELD, 11),
        recovery(500),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule("an ended hold", stuck(LEGS, END, 20), recovery(500), effects=(Ignored,), unchanged=True),
    # --- the legs follow check: a customer its action did not put in the hold's queue ---------------
    Rule(
        "legs held, the customer not in the queue after the follow delay: it is redirected there",
        stuck(LEGS, HELD, 11, followed=False),
        follow(16),
        commands=(CUSTOMER_TO_QUEUE,),
        unchanged=True,
    ),
    Rule(
        "legs resumed before the customer followed: it is redirected into the queue the agent dials",
        stuck(LEGS, RES, 12, followed=False),
        follow(16),
        commands=(CUSTOMER_TO_QUEUE,),
        unchanged=True,
    ),
    Rule(
        "legs resuming: the customer's move refused: it stays resuming, for the recovery",
        stuck(LEGS, RES, 12, followed=False),
        refused(CUSTOMER_TO_QUEUE, 17),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "legs resuming: the customer's move finds it gone (21220): a hang-up",
        stuck(LEGS, RES, 12, followed=False),
        refused(CUSTOMER_TO_QUEUE, 17, GONE),
        END,
        HoldEndReason.CUSTOMER_HUNG_UP,
        (AGENT_TOLD_CUSTOMER_LEFT,),
        (DisarmHoldTimers,),
    ),
    Rule(
        "legs held, the customer followed by its action: nothing to send",
        stuck(LEGS, HELD, 11),
        follow(16),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "legs, the customer is the <Dial> child (the hold moved it): nothing follows it",
        stuck(LEGS, HELD, 11, followed=False, customer_is_child=True),
        follow(16),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "legs holding (the agent's move unconfirmed): the recovery's business, not the follow check's",
        stuck(LEGS, H, 10),
        follow(16),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "legs held, the agent gone: the hang-up rules apply, nothing is sent",
        stuck(LEGS, HELD, 11, followed=False, agent=LegStatus.COMPLETED),
        follow(16),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "another hold's follow check",
        stuck(LEGS, HELD, 11, followed=False),
        ev.LegsFollowDue(hold_id="h0", at=at(16)),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule("no hold", view(LEGS), recovery(500), effects=(Ignored,), unchanged=True),
    Rule(
        "another hold",
        stuck(LEGS, H, 10),
        ev.HoldRecoveryDue(hold_id="h0", at=at(500)),
        effects=(Ignored,),
        unchanged=True,
    ),
    # --- parties gone meanwhile: the hang-up rules, no command to a dead leg ---------------------
    Rule(
        "legs: the customer hung up meanwhile: hold ends, the agent is told",
        stuck(LEGS, H, 10, customer=LegStatus.COMPLETED),
        recovery(45),
        END,
        HoldEndReason.CUSTOMER_HUNG_UP,
        (AGENT_TOLD_CUSTOMER_LEFT,),
        (DisarmHoldTimers,),
        check=hold_is(ended_at=at(45), state_since=at(45)),
    ),
    Rule(
        "legs: both parties gone: hold ends, nothing sent",
        stuck(LEGS, RES, 100, customer=LegStatus.COMPLETED, agent=LegStatus.COMPLETED),
        recovery(130),
        END,
        HoldEndReason.CUSTOMER_HUNG_UP,
        (),
        (DisarmHoldTimers,),
    ),
    Rule(
        "conference: the call ended meanwhile",
        stuck(CONF, RES, 100, customer=LegStatus.COMPLETED, call_status=CallState.ENDED),
        recovery(130),
        END,
        HoldEndReason.CUSTOMER_HUNG_UP,
        (),
        (DisarmHoldTimers,),
    ),
    Rule(
        "legs: the agent hung up meanwhile: hold ends, the customer is told, call back to waiting",
        stuck(LEGS, RES, 100, agent=LegStatus.COMPLETED),
        recovery(130),
        END,
        HoldEndReason.AGENT_HUNG_UP,
        (CUSTOMER_TOLD_AGENT_LEFT,),
        (DisarmHoldTimers, AgentLeft),
        check=call_is(agent_id=None),
    ),
    Rule(
        "conference ended under the held customer, agent still there: the call ended",
        stuck(CONF, H, 10, started=False),
        recovery(45),
        END,
        HoldEndReason.CALL_ENDED,
        (CUSTOMER_TOLD_AGENT_LEFT,),
        (DisarmHoldTimers, AgentLeft),
    ),
    Rule(
        "conference ended under the held customer, agent gone: the agent hung up",
        stuck(CONF, RES, 100, started=False, agent=LegStatus.COMPLETED),
        recovery(130),
        END,
        HoldEndReason.AGENT_HUNG_UP,
        (CUSTOMER_TOLD_AGENT_LEFT,),
        (DisarmHoldTimers, AgentLeft),
    ),
]


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_rule(rule: Rule) -> None:
    assert_rule(rule)


# --- the re-sent plan drives the hold forward as usual ----------------------------------------------


def test_a_recovered_legs_hold_completes_forward_and_arms_its_timers() -> None:
    decisions = run(stuck(LEGS, H, 10), recovery(40), done(AGENT_TO_MUSIC, 41))
    held = hold_of(decisions[-1])
    assert (held.state, held.confirmed_at, held.state_since) == (HELD, at(41), at(41))
    assert ArmHoldTimers(hold_id=HOLD_ID, started_at=at(10), follow_check=True) in decisions[-1].effects


def test_a_recovered_conference_hold_completes_forward() -> None:
    decisions = run(stuck(CONF, H, 10), recovery(40), done(CONF_HOLD, 41))
    assert hold_of(decisions[-1]).state is HELD
    assert decisions[-1].new_state.leg(CUSTOMER).on_hold  # type: ignore[union-attr]


def test_a_recovered_legs_resume_completes_when_bridged() -> None:
    bridged = ev.LegsBridged(hold_id=HOLD_ID, at=at(132))
    decisions = run(stuck(LEGS, RES, 100, AUTO), recovery(130), done(AGENT_TO_DEQUEUE, 131), bridged)
    ended = hold_of(decisions[-1])
    assert (ended.state, ended.end_reason, ended.ended_at) == (END, AUTO, at(132))


def test_a_recovered_conference_resume_completes() -> None:
    decisions = run(stuck(CONF, RES, 100), recovery(130), done(CONF_UNHOLD, 131))
    assert (hold_of(decisions[-1]).state, hold_of(decisions[-1]).end_reason) == (END, RESUMED)


def test_instances_recovering_at_once_send_the_plan_once() -> None:
    decisions = run(stuck(LEGS, H, 10), recovery(40), recovery(40.2), recovery(41), recovery(69))
    assert [d.commands for d in decisions] == [(AGENT_TO_MUSIC,), (), (), ()]


# --- refusals of the re-sent commands ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "first"),
    [(stuck(LEGS, H, 10), AGENT_TO_MUSIC)],
    ids=["legs"],
)
def test_a_refused_first_step_of_a_recovered_hold_keeps_it_holding(state: CallView, first: Command) -> None:
    """It may have been done before the instance stopped: neither "nothing moved" nor compensating
    (moving the customer back is not safe when we do not know where it is)."""
    recovered = decide(state, recovery(40)).new_state
    decision = decide(recovered, refused(first, 41))
    assert decision.commands == ()
    assert [type(effect) for effect in decision.effects] == [Ignored]
    assert decision.new_state == recovered
    # without the recovery, the same refusal means nothing moved: the hold ends
    assert hold_of(decide(state, refused(first, 41))).state is END
    # the next recovery sends it again
    assert decide(recovered, recovery(70)).commands[0] == first


def test_recoveries_that_move_nothing_back_off_doubling_up_to_the_maximum() -> None:
    """A legs first step Twilio keeps refusing (an outage): re-sent after 30 s, then 30, 60, then
    every ``recovery_backoff_max`` (2 minutes); each early recovery (another instance's timer) is
    ignored."""
    state, sent_at, t = stuck(LEGS, H, 0), [], 0.0
    while t < 3600:
        t += 1
        decision = decide(state, recovery(t))
        if decision.commands:
            sent_at.append(t)
            state = decide(decision.new_state, refused(AGENT_TO_MUSIC, t)).new_state
    gaps = [b - a for a, b in zip([0.0, *sent_at], sent_at, strict=False)]
    assert gaps[:3] == [30, 30, 60]
    assert set(gaps[3:]) == {DEFAULT_POLICY.recovery_backoff_max.total_seconds()}  # 120 s


def test_a_recovery_after_the_hold_moved_on_waits_only_the_grace() -> None:
    """The wait grows only while the hold stays in one state: a new state starts at the grace again."""
    recovered = hold_of(decide(stuck(LEGS, H, 0), recovery(30)))  # a recovery while holding, at 30
    resuming = with_hold(stuck(LEGS, RES, 500), recovered_at=recovered.recovered_at)
    assert decide(resuming, recovery(529)).commands == ()
    assert decide(resuming, recovery(530)).commands == (AGENT_TO_DEQUEUE,)


def test_the_backoff_maximum_is_at_least_the_grace() -> None:
    with pytest.raises(Invalid):
        HoldPolicy(recovery_grace=timedelta(minutes=5), recovery_backoff_max=timedelta(minutes=1))


def test_a_refused_recovered_conference_hold_is_undone_not_retried_forever() -> None:
    """Conference: the participant may be on hold or not; taking it off hold is safe either way
    (Twilio's update is idempotent), so the hold is undone instead of re-sent every grace period."""
    state = stuck(CONF, H, 10)
    recovered = decide(state, recovery(40)).new_state
    decision = decide(recovered, refused(CONF_HOLD, 41))
    assert decision.commands == (CONF_UNHOLD,)
    assert [type(effect) for effect in decision.effects] == [Compensating]
    undoing = hold_of(decision)
    assert (undoing.state, undoing.end_reason) == (RES, HoldEndReason.FAILED_COMPENSATED)
    ended = decide(decision.new_state, done(CONF_UNHOLD, 42))
    assert (hold_of(ended).state, hold_of(ended).end_reason) == (END, HoldEndReason.FAILED_COMPENSATED)


def test_a_recovered_hold_whose_customer_does_not_follow_is_compensated_as_usual() -> None:
    """Its customer is redirected into the queue by the follow check; refused, the hold is undone."""
    follow = ev.LegsFollowDue(hold_id=HOLD_ID, at=at(46))
    decisions = run(
        stuck(LEGS, H, 10), recovery(40), done(AGENT_TO_MUSIC, 41), follow, refused(CUSTOMER_TO_QUEUE, 47)
    )
    assert decisions[-2].commands == (CUSTOMER_TO_QUEUE,)
    undoing = hold_of(decisions[-1])
    assert (undoing.state, undoing.end_reason, undoing.state_since) == (
        RES,
        HoldEndReason.FAILED_COMPENSATED,
        at(47),
    )
    assert decisions[-1].commands == (AGENT_TO_DEQUEUE, CUSTOMER_TO_QUEUE)
    assert [type(effect) for effect in decisions[-1].effects] == [Compensating, DisarmHoldTimers]


def test_a_leg_twilio_reports_gone_during_recovery_is_a_hang_up() -> None:
    decisions = run(stuck(LEGS, H, 10), recovery(40), refused(AGENT_TO_MUSIC, 41, GONE))
    ended = hold_of(decisions[-1])
    assert (ended.state, ended.end_reason) == (END, HoldEndReason.AGENT_HUNG_UP)
    assert decisions[-1].commands == (CUSTOMER_TOLD_AGENT_LEFT,)


def test_a_refused_recovered_resume_leaves_the_hold_held_as_usual() -> None:
    decisions = run(stuck(LEGS, RES, 100), recovery(130), refused(AGENT_TO_DEQUEUE, 131))
    held = hold_of(decisions[-1])
    assert (held.state, held.end_reason, held.state_since) == (HELD, None, at(131))
    assert any(isinstance(effect, ArmHoldTimers) for effect in decisions[-1].effects)


# --- the grace is counted from the latest transition: every transition stamps state_since ---------


def test_every_transition_stamps_state_since() -> None:
    resume = ev.ResumeRequested(by=AGENT_ID, at=at(30))
    decisions = run(
        view(LEGS),
        ev.HoldRequested(hold_id=HOLD_ID, by=AGENT_ID, at=at(10)),
        done(AGENT_TO_MUSIC, 11),
        resume,
        refused(AGENT_TO_DEQUEUE, 31),
        ev.ResumeRequested(by=AGENT_ID, at=at(40)),
        ev.LegsBridged(hold_id=HOLD_ID, at=at(41)),
    )
    stamps = [(hold_of(d).state, hold_of(d).state_since) for d in decisions]
    assert stamps == [
        (H, at(10)), (HELD, at(11)), (RES, at(30)), (HELD, at(31)), (RES, at(40)), (END, at(41)),
    ]  # fmt: skip


def test_a_conference_hold_confirmed_by_the_participant_event_is_stamped() -> None:
    event = ev.ParticipantHoldChanged(call_sid=CUSTOMER, hold=True, sequence_number=9, at=at(13))
    assert hold_of(decide(stuck(CONF, H, 10), event)).state_since == at(13)


def test_a_fresh_resume_of_an_old_hold_is_not_recovered_within_the_grace() -> None:
    """Resumed at t=100 a hold confirmed at t=11: the grace runs from the resume, not the confirmation."""
    held = with_leg(view(LEGS, hold=HELD), CUSTOMER, on_hold=True)
    resuming = decide(held, ev.ResumeRequested(by=AGENT_ID, at=at(100))).new_state
    assert decide(resuming, recovery(129)).commands == ()
    assert decide(resuming, recovery(130)).commands == (AGENT_TO_DEQUEUE,)


def test_a_fresh_compensation_is_not_recovered_within_the_grace() -> None:
    """Held since t=11, compensation started at t=50: the grace runs from t=50. The customer never
    followed into the queue, so the recovery moves it there as well as the agent."""
    compensating = run(stuck(LEGS, H, 10), done(AGENT_TO_MUSIC, 11), refused(CUSTOMER_TO_QUEUE, 50))[
        -1
    ].new_state
    assert decide(compensating, recovery(79)).commands == ()
    assert decide(compensating, recovery(80)).commands == (AGENT_TO_DEQUEUE, CUSTOMER_TO_QUEUE)


def test_the_grace_is_the_policys() -> None:
    policy = HoldPolicy(recovery_grace=timedelta(minutes=2))
    assert decide(stuck(LEGS, H, 10), recovery(100), policy).commands == ()
    assert decide(stuck(LEGS, H, 10), recovery(130), policy).commands == (AGENT_TO_MUSIC,)


@pytest.mark.parametrize(
    ("state", "since"),
    [(H, at(10)), (HELD, at(11)), (RES, at(11)), (END, at(20))],
    ids=["holding: started", "held: confirmed", "resuming: confirmed", "ended: ended"],
)
def test_a_record_without_state_since_falls_back_on_what_it_records(state: HoldState, since: object) -> None:
    hold = view(LEGS, hold=state).hold
    assert hold is not None and hold.state_since is None
    assert hold.in_state_since == since
    assert hold.last_progress_at == since
    assert with_hold(view(LEGS, hold=state), recovered_at=at(500)).hold.last_progress_at == at(500)  # type: ignore[union-attr]


# --- no answer from Twilio: the step may have been carried out ----------------------------------


def test_an_unanswered_first_legs_step_is_not_taken_for_nothing_moved() -> None:
    """The agent may already be on hold music: ending the hold as if nothing moved would leave the
    customer's interrupted <Dial> to hang up. It stays holding, and the recovery re-sends it."""
    state = stuck(LEGS, H, 10)
    decision = decide(state, refused(AGENT_TO_MUSIC, 11, NO_ANSWER))
    assert decision.commands == ()
    assert [type(effect) for effect in decision.effects] == [Ignored]
    assert decision.new_state == state
    assert decide(decision.new_state, recovery(45)).commands == (AGENT_TO_MUSIC,)


def test_an_unanswered_lead_step_is_confirmed_by_the_customers_action() -> None:
    """Twilio's answer to the agent's redirect was lost, but the customer's ``<Dial>`` action comes:
    the bridge broke, so the agent moved; the customer follows into the queue and the hold is held
    (not left for the recovery to re-send 30 s later)."""
    unanswered = decide(stuck(LEGS, H, 10), refused(AGENT_TO_MUSIC, 11, NO_ANSWER)).new_state
    decision = decide(unanswered, dial_action(CUSTOMER))
    assert hold_of(decision).state is HELD
    assert decision.new_state.leg(CUSTOMER).on_hold  # type: ignore[union-attr]
    assert ActionReply(twiml_path="/twiml/legs/enqueue/h1") in decision.effects
    assert decide(decision.new_state, recovery(45)).commands == ()


def test_an_unanswered_conference_hold_is_undone_not_forgotten() -> None:
    """The participant may be on hold: the hold is undone (taking it off hold is idempotent), never
    ended with the customer left on hold and resume refused."""
    decision = decide(stuck(CONF, H, 10), refused(CONF_HOLD, 11, NO_ANSWER))
    assert decision.commands == (CONF_UNHOLD,)
    assert [type(effect) for effect in decision.effects] == [Compensating]
    undoing = hold_of(decision)
    assert (undoing.state, undoing.end_reason) == (RES, HoldEndReason.FAILED_COMPENSATED)


@pytest.mark.parametrize(("strategy", "command"), [(CONF, CONF_UNHOLD), (LEGS, AGENT_TO_DEQUEUE)])
def test_an_unanswered_resume_stays_resuming_for_its_confirmation_or_the_recovery(
    strategy: Strategy, command: Command
) -> None:
    """The customer may be back already: not "back to held" (the hold would stay open over a
    conversation); the unhold event or the bridge ends it, else the recovery re-sends the resume."""
    state = stuck(strategy, RES, 100)
    decision = decide(state, refused(command, 101, NO_ANSWER))
    assert decision.new_state == state and decision.commands == ()
    assert decide(state, recovery(131)).commands == (command,)
    # a refusal (nothing moved) still goes back to held
    assert hold_of(decide(state, refused(command, 101))).state is HELD
