"""How ``<Dial>``/``<Enqueue>`` actions are answered (``replies.action_reply``), outcome by outcome."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from domain_builders import AGENT, CUSTOMER, THIRD, view

from callhold.domain.model import CallState, CallView, HoldEndReason, HoldState, Strategy
from callhold.domain.replies import action_reply

LEGS, CONF = Strategy.LEGS, Strategy.CONFERENCE
ENDED = HoldState.ENDED
AGENT_LEFT = "/twiml/customer/agent-left/call-1"


@pytest.mark.parametrize(
    ("state", "call_sid", "outcome", "path"),
    [
        (view(LEGS, hold=HoldState.HOLDING), CUSTOMER, "completed", "/twiml/legs/enqueue/h1"),
        (view(LEGS, hold=HoldState.HELD), AGENT, "completed", "/twiml/legs/hold-music/h1"),
        (view(LEGS, hold=HoldState.RESUMING), AGENT, "completed", "/twiml/legs/dequeue/h1"),
        (view(LEGS, hold=HoldState.RESUMING), CUSTOMER, "redirected-from-bridged", "/twiml/legs/enqueue/h1"),
        (view(LEGS), CUSTOMER, "completed", None),
        (view(LEGS), CUSTOMER, "bridged", None),
        (view(LEGS), CUSTOMER, "busy", AGENT_LEFT),
        (view(LEGS), CUSTOMER, "failed", AGENT_LEFT),
        (view(LEGS), CUSTOMER, "queue-full", AGENT_LEFT),
        (view(LEGS), CUSTOMER, "error", AGENT_LEFT),
        (view(LEGS), AGENT, "no-answer", None),
        # A waiting customer handed to an agent by a REST redirect: where the redirect goes, should
        # Twilio run the answer (docs silent); an ended call hangs up.
        (view(CONF), CUSTOMER, "redirected", "/twiml/connect/call-1"),
        (view(LEGS), CUSTOMER, "redirected-from-bridged", "/twiml/connect/call-1"),
        (view(LEGS, call_status=CallState.ENDED), CUSTOMER, "redirected", None),
        (
            view(LEGS, hold=ENDED, end_reason=HoldEndReason.AGENT_HUNG_UP),
            CUSTOMER,
            "redirected",
            AGENT_LEFT,
        ),
        (view(LEGS, call_status=CallState.ENDED), CUSTOMER, "busy", None),
        (
            view(CONF, hold=ENDED, end_reason=HoldEndReason.AGENT_HUNG_UP),
            CUSTOMER,
            "answered",
            AGENT_LEFT,
        ),
        (
            view(CONF, hold=ENDED, end_reason=HoldEndReason.CALL_ENDED),
            CUSTOMER,
            "answered",
            AGENT_LEFT,
        ),
        (view(CONF, hold=ENDED, end_reason=HoldEndReason.RESUMED), CUSTOMER, "answered", None),
        (view(CONF, hold=HoldState.HELD, third_party=True), THIRD, "answered", None),
        (view(LEGS, hold=HoldState.HELD), "CA" + "9" * 32, "completed", None),
    ],
)
def test_action_reply(state: CallView, call_sid: str, outcome: str, path: str | None) -> None:
    assert action_reply(state, state.leg(call_sid), outcome) == path


def test_a_customer_requeued_after_its_agent_left_then_handed_over_is_answered_connect() -> None:
    """Its latest hold ended agent_hung_up with the agent leg still the one that left (the next
    agent is dialled by the connect TwiML): the redirect is the hand-over's, not the agent-left one."""
    left = view(LEGS, hold=ENDED, end_reason=HoldEndReason.AGENT_HUNG_UP)
    handed = replace(left, call=replace(left.call, agent_id="agent-2"))
    assert action_reply(handed, handed.leg(CUSTOMER), "redirected") == "/twiml/connect/call-1"
    assert left.hold is not None and left.hold.ended_at is not None
    back = replace(left, call=replace(left.call, given_at=left.hold.ended_at + timedelta(seconds=1)))
    assert action_reply(back, back.leg(CUSTOMER), "redirected") == "/twiml/connect/call-1"  # same agent
    assert action_reply(left, left.leg(CUSTOMER), "redirected") == AGENT_LEFT
