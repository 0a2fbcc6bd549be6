"""The table machinery for the state machine's rule tests: named commands, event builders, checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from domain_builders import AGENT, AGENT_ID, CONFERENCE, CUSTOMER, HOLD_ID, at

from callhold.domain import events as ev
from callhold.domain.commands import Command, RedirectLeg, SetParticipantHold
from callhold.domain.effects import ActionReply
from callhold.domain.errors import TelephonyError
from callhold.domain.machine import DEFAULT_POLICY, Decision, decide
from callhold.domain.model import CallView, HoldEndReason, HoldState, LegStatus, Strategy
from callhold.domain.policies import AgentHangupPolicy, HoldPolicy, MaxHoldPolicy

CONF = Strategy.CONFERENCE
LEGS = Strategy.LEGS
H, HELD, RES, END = HoldState.HOLDING, HoldState.HELD, HoldState.RESUMING, HoldState.ENDED
GONE = TelephonyError("Call is not in-progress", code=21220, status=400)
PARTICIPANT_GONE = TelephonyError("Participant not found", code=20404, status=404)
TRANSIENT = TelephonyError("Service unavailable", code=20503, status=503)
NO_ANSWER = TelephonyError("no answer from Twilio", status=504, uncertain=True)
HANGUP_POLICY = HoldPolicy(agent_hangup=AgentHangupPolicy.HANGUP)
ANNOUNCE_POLICY = HoldPolicy(max_hold=MaxHoldPolicy.ANNOUNCE)

# The commands the rules produce, named once.
CONF_HOLD = SetParticipantHold(
    conference_sid=CONFERENCE, call_sid=CUSTOMER, hold=True, hold_path="/twiml/conference/hold-music/h1"
)
CONF_UNHOLD = SetParticipantHold(conference_sid=CONFERENCE, call_sid=CUSTOMER, hold=False)
AGENT_TO_MUSIC = RedirectLeg(call_sid=AGENT, twiml_path="/twiml/legs/hold-music/h1")
CUSTOMER_TO_QUEUE = RedirectLeg(call_sid=CUSTOMER, twiml_path="/twiml/legs/enqueue/h1")
AGENT_TO_DEQUEUE = RedirectLeg(call_sid=AGENT, twiml_path="/twiml/legs/dequeue/h1")
AGENT_TOLD_CUSTOMER_LEFT = RedirectLeg(call_sid=AGENT, twiml_path="/twiml/legs/customer-left/call-1")
CUSTOMER_TOLD_AGENT_LEFT = RedirectLeg(call_sid=CUSTOMER, twiml_path="/twiml/customer/agent-left/call-1")

SAME = object()


def hold_req(**kw: object) -> ev.HoldRequested:
    """A hold request for hold h1 at t+10 s."""
    return ev.HoldRequested(hold_id=HOLD_ID, by=AGENT_ID, at=at(10), reason="checking", **kw)  # type: ignore[arg-type]


def resume_req() -> ev.ResumeRequested:
    """A resume request at t+30 s."""
    return ev.ResumeRequested(by=AGENT_ID, at=at(30))


def status(call_sid: str, st: LegStatus, seq: int | None = 9, t: float = 40) -> ev.LegStatusChanged:
    """A status callback."""
    return ev.LegStatusChanged(call_sid=call_sid, status=st, sequence_number=seq, timestamp=at(t))


def ok(command: Command) -> ev.CommandSucceeded:
    """The service executed ``command``."""
    return ev.CommandSucceeded(command=command, at=at(12))


def failed(command: Command, error: TelephonyError = TRANSIENT) -> ev.CommandFailed:
    """Twilio refused ``command``."""
    return ev.CommandFailed(command=command, error=error, at=at(12))


def dial_action(call_sid: str, dial_status: str = "completed") -> ev.DialActionReceived:
    """A ``<Dial>`` action request."""
    return ev.DialActionReceived(call_sid=call_sid, dial_call_status=dial_status, at=at(12))


@dataclass(frozen=True)
class Rule:
    """One rule: from ``state``, ``event`` gives this hold state/end reason, these commands and effects."""

    name: str
    state: CallView
    event: ev.Event
    hold: object = SAME  # expected new_state.hold.state (SAME: unchanged hold record)
    end_reason: HoldEndReason | None = None
    commands: tuple[Command, ...] = ()
    effects: tuple[type, ...] = ()
    policy: HoldPolicy = DEFAULT_POLICY
    check: Callable[[Decision], object] | None = None
    unchanged: bool = False  # new_state must equal state


def reply(path: str | None) -> Callable[[Decision], object]:
    """Check: the action is answered with ``path``."""

    def check(decision: Decision) -> None:
        assert ActionReply(twiml_path=path) in decision.effects

    return check


def leg_is(call_sid: str, **expected: object) -> Callable[[Decision], object]:
    """Check: a leg's fields."""

    def check(decision: Decision) -> None:
        leg = decision.new_state.leg(call_sid)
        assert leg is not None
        for name, value in expected.items():
            assert getattr(leg, name) == value, name

    return check


def hold_is(**expected: object) -> Callable[[Decision], object]:
    """Check: the hold's fields."""

    def check(decision: Decision) -> None:
        hold = decision.new_state.hold
        assert hold is not None
        for name, value in expected.items():
            assert getattr(hold, name) == value, name

    return check


def call_is(**expected: object) -> Callable[[Decision], object]:
    """Check: the call's fields."""

    def check(decision: Decision) -> None:
        for name, value in expected.items():
            assert getattr(decision.new_state.call, name) == value, name

    return check


def assert_rule(rule: Rule) -> None:
    """Decide ``rule.event`` on ``rule.state`` and check every expectation of the rule."""
    decision = decide(rule.state, rule.event, rule.policy)
    assert decision.commands == rule.commands
    assert tuple(type(effect) for effect in decision.effects) == rule.effects
    if rule.unchanged:
        assert decision.new_state == rule.state
    new_hold = decision.new_state.hold
    if rule.hold is SAME:
        assert new_hold == rule.state.hold
    else:
        assert new_hold is not None
        assert new_hold.state is rule.hold
        assert new_hold.end_reason is rule.end_reason
        assert (new_hold.ended_at is not None) == (rule.hold is END)
    if rule.check is not None:
        rule.check(decision)


def run(state: CallView, *events: ev.Event, policy: HoldPolicy = DEFAULT_POLICY) -> list[Decision]:
    """Decide ``events`` one after the other from ``state``."""
    decisions = []
    for event in events:
        decision = decide(state, event, policy)
        decisions.append(decision)
        state = decision.new_state
    return decisions
