"""Hold timers fire once per hold, whatever the number of service instances.

Every instance arms the agent reminder and the maximum hold of every open hold (at start-up, all of
them), so ``AgentReminderDue`` and ``MaxHoldReached`` arrive once per instance, and again whenever an
instance restarts and catches up. The hold records what was done: one reminder, one announcement, one
auto-resume per retry interval (a refused auto-resume is retried, a duplicate within the interval is not).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from domain_builders import AGENT, AGENT_ID, CONFERENCE, HOLD_ID, at, view, with_hold
from machine_rules import AGENT_TO_DEQUEUE, ANNOUNCE_POLICY, CONF, HELD, LEGS, RES, TRANSIENT, run

from callhold.domain import events as ev
from callhold.domain.commands import Announce, Command, RedirectLeg
from callhold.domain.effects import ArmHoldTimers, Ignored
from callhold.domain.errors import Invalid
from callhold.domain.machine import DEFAULT_POLICY, Decision, decide
from callhold.domain.model import HoldEndReason, Strategy
from callhold.domain.policies import HoldPolicy, MaxHoldPolicy

RETRY = DEFAULT_POLICY.max_hold_retry_after
REMIND_LEGS = RedirectLeg(call_sid=AGENT, twiml_path="/twiml/legs/agent-notice/h1/agent-reminder")
ANNOUNCE_MAX = Announce(conference_sid=CONFERENCE, call_sid=AGENT, twiml_path="/twiml/announce/h1/max-hold")


def reminder(t: float) -> ev.AgentReminderDue:
    """The agent reminder timer of hold h1 firing at t."""
    return ev.AgentReminderDue(hold_id=HOLD_ID, at=at(t))


def max_hold(t: float) -> ev.MaxHoldReached:
    """The maximum-hold timer of hold h1 firing at t."""
    return ev.MaxHoldReached(hold_id=HOLD_ID, at=at(t))


def refused(command: Command, t: float) -> ev.CommandFailed:
    """Twilio refused ``command`` at t (a transient error)."""
    return ev.CommandFailed(command=command, error=TRANSIENT, at=at(t))


def commands(decisions: list[Decision]) -> list[tuple[Command, ...]]:
    """The commands of each decision."""
    return [decision.commands for decision in decisions]


def ignored(decision: Decision) -> bool:
    """The decision changed nothing and said why."""
    return decision.commands == () and any(isinstance(effect, Ignored) for effect in decision.effects)


@pytest.mark.parametrize("strategy", [CONF, LEGS])
def test_the_agent_is_reminded_once_whatever_the_number_of_instances(strategy: Strategy) -> None:
    # three instances' timers at the same deadline, then one restarting much later and catching up
    decisions = run(view(strategy, hold=HELD), reminder(70), reminder(70), reminder(70.3), reminder(900))
    assert [len(c) for c in commands(decisions)] == [1, 0, 0, 0]
    assert all(ignored(d) for d in decisions[1:])
    assert decisions[-1].new_state == decisions[0].new_state
    assert decisions[0].new_state.hold is not None
    assert decisions[0].new_state.hold.agent_reminded_at == at(70)


def test_a_reminder_given_before_a_refused_resume_is_not_given_again() -> None:
    resume = ev.ResumeRequested(by=AGENT_ID, at=at(80))
    decisions = run(view(LEGS, hold=HELD), reminder(70), resume, refused(AGENT_TO_DEQUEUE, 81), reminder(82))
    assert decisions[2].new_state.hold is not None and decisions[2].new_state.hold.state is HELD
    assert commands(decisions) == [(REMIND_LEGS,), (AGENT_TO_DEQUEUE,), (), ()]
    assert ignored(decisions[3])


def test_a_reminder_not_given_yet_survives_a_refused_resume() -> None:
    resume = ev.ResumeRequested(by=AGENT_ID, at=at(30))
    decisions = run(view(LEGS, hold=HELD), resume, refused(AGENT_TO_DEQUEUE, 31), reminder(70), reminder(70))
    assert commands(decisions) == [(AGENT_TO_DEQUEUE,), (), (REMIND_LEGS,), ()]


def test_the_max_hold_announcement_is_made_once_even_long_after() -> None:
    events = (max_hold(310), max_hold(310), max_hold(310.5), max_hold(310 + 2 * 30), max_hold(3600))
    decisions = run(view(CONF, hold=HELD), *events, policy=ANNOUNCE_POLICY)
    assert commands(decisions) == [(ANNOUNCE_MAX,), (), (), (), ()]
    assert all(ignored(d) for d in decisions[1:])
    final = decisions[-1].new_state.hold
    assert final is not None and final.state is HELD and final.max_hold_acted_at == at(310)


def test_auto_resume_is_done_once_when_every_instance_fires() -> None:
    decisions = run(view(LEGS, hold=HELD), max_hold(310), max_hold(310), max_hold(310.4))
    assert commands(decisions) == [(AGENT_TO_DEQUEUE,), (), ()]
    final = decisions[-1].new_state.hold
    assert final is not None and final.state is RES
    assert (final.end_reason, final.max_hold_acted_at) == (HoldEndReason.MAX_HOLD_AUTO_RESUMED, at(310))


def test_a_refused_auto_resume_is_retried_but_duplicates_within_the_interval_are_not() -> None:
    retry = RETRY.total_seconds()
    decisions = run(
        view(LEGS, hold=HELD),
        max_hold(310),  # instance A resumes
        refused(AGENT_TO_DEQUEUE, 310.2),  # Twilio refuses: held again, A re-arms the timer
        max_hold(310.5),  # instance B's timer, a moment late: duplicate
        max_hold(320),  # instance C restarts and catches up: still within the interval
        max_hold(310.2 + retry),  # A's retry: resumes again
        refused(AGENT_TO_DEQUEUE, 340.5),
        max_hold(345),  # B restarts: within the interval of the second attempt
        max_hold(340.5 + retry),  # A's second retry
    )
    assert commands(decisions) == [
        (AGENT_TO_DEQUEUE,), (), (), (), (AGENT_TO_DEQUEUE,), (), (), (AGENT_TO_DEQUEUE,),
    ]  # fmt: skip
    assert [ignored(decisions[i]) for i in (2, 3, 6)] == [True, True, True]
    again = decisions[1]
    assert again.new_state.hold is not None and again.new_state.hold.state is HELD
    assert again.new_state.hold.max_hold_acted_at == at(310)  # kept through the refusal
    assert any(isinstance(effect, ArmHoldTimers) for effect in again.effects)
    final = decisions[-1].new_state.hold
    assert final is not None and final.state is RES and final.max_hold_acted_at == at(340.5 + retry)


@pytest.mark.parametrize(
    ("after", "acts"),
    [(RETRY - timedelta(microseconds=1), False), (RETRY, True), (RETRY * 3, True)],
    ids=["just-before-the-interval", "at-the-interval", "long-after"],
)
def test_auto_resume_retry_boundary(after: timedelta, acts: bool) -> None:
    state = with_hold(view(LEGS, hold=HELD), max_hold_acted_at=at(310))
    event = ev.MaxHoldReached(hold_id=HOLD_ID, at=at(310) + after)
    decision = decide(state, event)
    assert decision.commands == ((AGENT_TO_DEQUEUE,) if acts else ())
    if not acts:
        assert ignored(decision) and decision.new_state == state


def test_the_retry_interval_is_the_policys() -> None:
    policy = HoldPolicy(max_hold_retry_after=timedelta(seconds=90))
    state = with_hold(view(LEGS, hold=HELD), max_hold_acted_at=at(310))
    assert decide(state, max_hold(310 + 60), policy).commands == ()
    assert decide(state, max_hold(310 + 90), policy).commands == (AGENT_TO_DEQUEUE,)


def test_timers_of_another_hold_or_a_hold_not_held_are_ignored() -> None:
    other = ev.MaxHoldReached(hold_id="h0", at=at(310))
    assert ignored(decide(view(LEGS, hold=HELD), other))
    assert ignored(decide(view(LEGS, hold=RES), max_hold(310)))
    assert ignored(decide(view(LEGS, hold=RES), reminder(70)))


def test_the_default_policy() -> None:
    assert DEFAULT_POLICY.max_hold is MaxHoldPolicy.AUTO_RESUME
    assert DEFAULT_POLICY.max_hold_retry_after == timedelta(seconds=30)
    assert DEFAULT_POLICY.recovery_grace == timedelta(seconds=30)


@pytest.mark.parametrize("field", ["max_hold_retry_after", "recovery_grace"])
@pytest.mark.parametrize("seconds", [0, -1])
def test_the_policy_refuses_intervals_that_are_not_positive(field: str, seconds: int) -> None:
    with pytest.raises(Invalid):
        HoldPolicy(**{field: timedelta(seconds=seconds)})  # type: ignore[arg-type]
