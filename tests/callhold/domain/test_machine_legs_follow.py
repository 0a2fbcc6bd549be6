"""The legs follow rule when the lead redirect's answer comes after the follower's action."""

from __future__ import annotations

from domain_builders import AGENT, CUSTOMER, HOLD_ID, at, view

from callhold.domain import events as ev
from callhold.domain import paths
from callhold.domain.commands import RedirectLeg
from callhold.domain.machine import decide
from callhold.domain.model import HoldState


def test_a_leading_customer_is_on_hold_when_the_agents_action_came_before_its_redirects_answer() -> None:
    """The customer is the agent's ``<Dial>`` child, so it leads. The agent's action (the bridge broke)
    may reach callhold before Twilio's 200 to the customer's redirect (callbacks come in any order,
    reference 6.1): the action confirms the hold, and the 200 then says the customer is in the queue."""
    state = view(hold=HoldState.HOLDING, customer_is_child=True)
    action = ev.DialActionReceived(call_sid=AGENT, dial_call_status="completed", at=at(11))
    state = decide(state, action).new_state
    assert state.hold is not None and state.hold.state is HoldState.HELD
    lead = RedirectLeg(call_sid=CUSTOMER, twiml_path=paths.legs_enqueue(HOLD_ID))
    state = decide(state, ev.CommandSucceeded(command=lead, at=at(11))).new_state
    customer = state.customer_leg
    assert customer is not None and customer.on_hold
