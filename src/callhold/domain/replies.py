"""How callhold answers a ``<Dial>`` or ``<Enqueue>`` action: the rule that keeps pitfalls 7 and 8 harmless.

An interrupted ``<Dial>`` reports ``DialCallStatus=completed`` exactly like a hang-up. So the answer
depends on callhold's own record of intent (the call's latest hold), never on the status alone:

* a legs hold is open: the customer goes (back) into the hold's queue; the agent to hold music while
  ``holding``/``held``, to ``<Dial><Queue>`` of that queue while ``resuming`` — so a leg whose bridge
  was broken by the hold (or by its compensation) always lands where the hold wants it;
* the latest hold ended because the agent left (and no new agent leg joined since): the customer hears
  the agent-left TwiML (the same target the agent-hang-up redirect uses, whichever arrives first);
* a waiting customer taken out of the queue by a REST redirect (``QueueResult=redirected``): the
  hand-over's own target, the connect TwiML. Twilio documents that a ``<Dial>`` action's answer is
  ignored after a REST redirect (reference §3.3) but says nothing of ``<Enqueue>``'s, which "is
  requested right away" (https://www.twilio.com/docs/voice/twiml/enqueue): were it run, a
  ``<Hangup/>`` would drop every customer handed to an agent, while this lands where the redirect does;
* otherwise a customer whose agent could not be reached (busy, no-answer, failed, canceled, or a queue
  error) hears the agent-left TwiML; any other ending (``completed``, ``answered``, ``bridged``...) is
  the end of the conversation: ``<Hangup/>``.
"""

from __future__ import annotations

from callhold.domain import paths
from callhold.domain.model import CallState, CallView, HoldEndReason, HoldState, Leg, LegRole, Strategy

__all__ = ["FAILED_OUTCOMES", "REDIRECTED", "action_reply"]

FAILED_OUTCOMES = frozenset(
    {"busy", "no-answer", "failed", "canceled", "error", "system-error", "queue-full"}
)
"""``DialCallStatus``/``QueueResult`` values meaning the customer never reached (or lost) the agent."""

_AGENT_WENT_AWAY = (HoldEndReason.AGENT_HUNG_UP, HoldEndReason.CALL_ENDED)

REDIRECTED = frozenset({"redirected", "redirected-from-bridged"})
"""``QueueResult`` values of a call a REST redirect took out of its queue (or its queue's bridge)."""


def action_reply(state: CallView, leg: Leg | None, outcome: str) -> str | None:
    """The TwiML path to answer an action of ``leg`` with, or ``None`` for ``<Hangup/>``."""
    if leg is None or leg.role is LegRole.THIRD_PARTY:
        return None
    hold = state.hold
    customer = leg.role is LegRole.CUSTOMER
    if hold is not None and hold.is_open and hold.strategy is Strategy.LEGS:
        if customer:
            return paths.legs_enqueue(hold.id)
        if hold.state is HoldState.RESUMING:
            # A failed <Dial><Queue>: the customer is not in the hold's queue yet (it follows the
            # agent by its action, or the follow check moves it): try again, but not in a loop.
            return paths.legs_dequeue(hold.id, paced=outcome in FAILED_OUTCOMES)
        return paths.legs_hold_music(hold.id)
    if not customer or state.call.status is CallState.ENDED:
        return None
    if outcome in REDIRECTED and _handed_on(state):
        return paths.connect(state.call.id)
    agent = state.agent_leg
    agent_sid = agent.call_sid if agent is not None else None
    if hold is not None and hold.end_reason in _AGENT_WENT_AWAY and hold.agent_call_sid == agent_sid:
        return paths.customer_agent_left(state.call.id)
    if outcome in FAILED_OUTCOMES:
        return paths.customer_agent_left(state.call.id)
    if outcome in REDIRECTED:
        return paths.connect(state.call.id)
    return None


def _handed_on(state: CallView) -> bool:
    """Whether the call was given to an agent since its latest hold ended (to another agent than the
    one it was held with, or to the same one again): a customer requeued after that agent left, then
    handed over (the new agent's leg not dialled yet)."""
    hold, call = state.hold, state.call
    if call.agent_id is None:
        return False
    if hold is None or hold.agent_id != call.agent_id:
        return True
    return hold.ended_at is not None and call.given_at is not None and call.given_at > hold.ended_at
