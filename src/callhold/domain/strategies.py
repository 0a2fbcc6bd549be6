"""What hold and resume mean, as commands, for each strategy.

**conference** — the customer is a conference participant. Hold: Participant ``Hold=true`` with
``HoldUrl`` = :func:`~callhold.domain.paths.conference_hold_music`. Resume: ``Hold=false``. The TwiML of
the calls never changes.

**legs** — customer and agent are two calls bridged by ``<Dial>``. Hold moves **one** leg through
the REST API and lets the other follow by its own TwiML:

1. the *lead*: the leg that is the ``<Dial>`` **child** (the agent: the customer's leg, inbound or
   placed by callhold, dials it; a customer leg only leads if it is the agent's child), or, when
   neither is the other's child (a bridge made by ``<Dial><Queue>``), the agent. The agent goes to
   :func:`~callhold.domain.paths.legs_hold_music`, the customer to
   :func:`~callhold.domain.paths.legs_enqueue` (a queue unique to the hold);
2. the other leg's ``<Dial>`` (or ``<Enqueue>``) ends with the bridge, and Twilio requests its action,
   which callhold answers with that leg's hold TwiML (``domain.replies``).

Two redirects back to back (the lead, then the other leg) would race: Twilio applies a redirect
asynchronously (a redirected parent's child ends about 166 ms after the 200, reference §3.3, Q3), so
the second could reach a ``<Dial>`` parent whose child (the lead) is still bridged, and Twilio would
hang up the lead it had just moved. So the second redirect is only a fallback
(:func:`follow_step`): a customer whose action has not put it in the hold's queue
``HoldTimings.follow_after`` seconds after the hold (``LegsFollowDue``) is redirected there.

Resume is one redirect: the agent to :func:`~callhold.domain.paths.legs_dequeue` (``<Dial><Queue>`` of
that queue), which can only reconnect that customer to that agent.
"""

from __future__ import annotations

from callhold.domain import paths
from callhold.domain.commands import Announce, Command, RedirectLeg, SetParticipantHold
from callhold.domain.errors import CallEnded, ConferenceNotStarted, NotConnected
from callhold.domain.model import CallState, CallView, Hold, Leg, LegStatus, Strategy

__all__ = [
    "check_can_hold",
    "conference_to_find",
    "follow_step",
    "hold_plan",
    "live",
    "notice",
    "resume_plan",
]


def live(leg: Leg | None) -> Leg | None:
    """``leg`` if it exists and has not reached a terminal status."""
    return leg if leg is not None and not leg.status.is_terminal else None


def check_can_hold(view: CallView) -> None:
    """Raise unless the call is in a state where its customer can be put on hold."""
    if view.call.status is CallState.ENDED:
        raise CallEnded(f"call {view.call.id} has ended")
    customer = view.customer_leg
    if customer is not None and customer.status.is_terminal:
        raise CallEnded(f"call {view.call.id}: the customer has hung up")
    if view.call.strategy is Strategy.CONFERENCE:
        if view.call.conference_sid is None:
            raise ConferenceNotStarted(f"call {view.call.id}: the conference has not started yet")
        if customer is None:
            raise NotConnected(f"call {view.call.id}: the customer is not in the conference")
        return
    agent = view.agent_leg
    connected = LegStatus.IN_PROGRESS
    if customer is None or agent is None or customer.status is not connected or agent.status is not connected:
        raise NotConnected(f"call {view.call.id}: customer and agent are not connected")


def conference_to_find(view: CallView) -> str | None:
    """The friendly name of the conference to look for in Twilio before a request is refused as
    ``ConferenceNotStarted`` -- its start may have been missed (the ``conference-start`` callback
    lost) -- or ``None``: a live conference is on record, or the customer is in none (gone, or
    waiting in line: no live agent leg was dialled into a conference with it)."""
    call = view.call
    if call.strategy is not Strategy.CONFERENCE or call.conference_sid is not None:
        return None
    if call.status is CallState.ENDED or live(view.customer_leg) is None or live(view.agent_leg) is None:
        return None
    return call.conference_name


def _legs(view: CallView) -> tuple[Leg, Leg]:
    customer, agent = view.customer_leg, view.agent_leg
    if customer is None or agent is None:
        raise NotConnected(f"call {view.call.id}: customer and agent legs are both needed")
    return customer, agent


def _conference_sid(view: CallView) -> str:
    if view.call.conference_sid is None:
        raise ConferenceNotStarted(f"call {view.call.id}: the conference has not started yet")
    return view.call.conference_sid


def hold_plan(view: CallView, hold: Hold) -> tuple[Command, ...]:
    """The commands that put the customer on hold, in the order they must be executed."""
    if hold.strategy is Strategy.CONFERENCE:
        return (
            SetParticipantHold(
                conference_sid=_conference_sid(view),
                call_sid=view.call.customer_call_sid,
                hold=True,
                hold_path=paths.conference_hold_music(hold.id),
            ),
        )
    customer, agent = _legs(view)
    if _customer_leads(customer, agent):
        return (RedirectLeg(call_sid=customer.call_sid, twiml_path=paths.legs_enqueue(hold.id)),)
    return (RedirectLeg(call_sid=agent.call_sid, twiml_path=paths.legs_hold_music(hold.id)),)


def _customer_leads(customer: Leg, agent: Leg) -> bool:
    """Whether the customer's leg is the agent's ``<Dial>`` child: then it is the one redirected."""
    return customer.parent_call_sid == agent.call_sid


def follow_step(view: CallView, hold: Hold) -> RedirectLeg | None:
    """The fallback that moves a legs customer into the hold's queue when its action did not (see
    the module's docstring), or ``None``: a conference hold, a leg not known yet, or a customer that
    leads (it is moved by the hold itself; the agent that follows it needs no fallback: it is not
    the one left waiting, and the resume redirects it anyway)."""
    customer, agent = view.customer_leg, view.agent_leg
    if hold.strategy is not Strategy.LEGS or customer is None or agent is None:
        return None
    if _customer_leads(customer, agent):
        return None
    return RedirectLeg(call_sid=customer.call_sid, twiml_path=paths.legs_enqueue(hold.id))


def resume_plan(view: CallView, hold: Hold) -> tuple[Command, ...]:
    """The commands that take the customer off hold (also the legs compensation: reconnect both)."""
    if hold.strategy is Strategy.CONFERENCE:
        return (
            SetParticipantHold(
                conference_sid=_conference_sid(view), call_sid=view.call.customer_call_sid, hold=False
            ),
        )
    _, agent = _legs(view)
    return (RedirectLeg(call_sid=agent.call_sid, twiml_path=paths.legs_dequeue(hold.id)),)


def notice(view: CallView, hold: Hold, kind: str) -> tuple[Command, ...]:
    """The command that plays a notice (``paths.AGENT_REMINDER``/``paths.MAX_HOLD``) to the agent."""
    agent = live(view.agent_leg)
    if agent is None:
        return ()
    if hold.strategy is Strategy.CONFERENCE:
        return (
            Announce(
                conference_sid=_conference_sid(view),
                call_sid=agent.call_sid,
                twiml_path=paths.announce(hold.id, kind),
            ),
        )
    return (RedirectLeg(call_sid=agent.call_sid, twiml_path=paths.legs_agent_notice(hold.id, kind)),)
