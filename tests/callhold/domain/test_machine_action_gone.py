"""An action whose caller is gone is a hang-up, not the lead leg's move: it never confirms a hold
(the status callback settles it). ``<Enqueue>`` says so by ``QueueResult=hangup`` (reference 4.1)."""

from __future__ import annotations

from domain_builders import CUSTOMER, at, view

from callhold.domain import events as ev
from callhold.domain.effects import ArmHoldTimers
from callhold.domain.machine import DEFAULT_POLICY, decide
from callhold.domain.model import HoldState, Strategy


def test_a_customer_that_hung_up_in_the_queue_does_not_confirm_a_holding_legs_hold() -> None:
    state = view(Strategy.LEGS, hold=HoldState.HOLDING)
    hung_up = ev.EnqueueActionReceived(call_sid=CUSTOMER, queue_result="hangup", at=at(12))
    decision = decide(state, hung_up, DEFAULT_POLICY)
    assert decision.new_state.open_hold is not None
    assert decision.new_state.open_hold.state is HoldState.HOLDING
    assert not any(isinstance(e, ArmHoldTimers) for e in decision.effects)
