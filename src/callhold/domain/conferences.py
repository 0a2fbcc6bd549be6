"""Rules for conference events: the call's live conference and its participants' flags.

A call has one live conference at a time (``Call.conference_sid``), always under the same friendly
name: recorded when it starts -- or, its ``conference-start`` callback lost, when another event proves
the start -- and forgotten when it ends, so nothing is held or resumed in a conference that is over
(``ConferenceNotStarted``). A participant's ``hold``/``muted`` flags belong to one conference and are
guarded by its SequenceNumber; a hold event of the customer of a conference hold confirms the hold
(``holding`` -> ``held``) or ends its resume (``resuming`` -> ended).
"""

from __future__ import annotations

from dataclasses import replace

from callhold.domain import events as ev
from callhold.domain.effects import Effect
from callhold.domain.model import (
    NO_SEQUENCE,
    CallState,
    CallView,
    HoldEndReason,
    HoldState,
    LegRole,
    Strategy,
)
from callhold.domain.policies import HoldPolicy
from callhold.domain.transitions import (
    Decision,
    agent_dropped_after,
    confirm_held,
    end,
    ended_by_agent,
    ignored,
)

__all__ = ["conference_ended", "conference_seen", "conference_started", "participant_changed"]


def participant_changed(
    state: CallView, event: ev.ParticipantHoldChanged | ev.ParticipantMuteChanged
) -> Decision:
    """A participant's hold or mute flag changed (a conference event): recorded on its leg, and for
    the customer of a conference hold, its confirmation (``holding``) or the end of its resume."""
    leg = state.leg(event.call_sid)
    if leg is None:
        return ignored(state, f"unknown participant {event.call_sid}")
    current = state.call.conference_sid
    if event.conference_sid is not None and current is None:
        # A late event of a conference that has ended (its flags were cleared then): no conference is
        # live, and callhold holds or mutes only in a live one (ConferenceNotStarted otherwise).
        return ignored(state, f"event of an ended conference {event.conference_sid}")
    if event.conference_sid is not None and current is not None and event.conference_sid != current:
        # A late event of the call's earlier conference (the customer was requeued into a new one
        # under the same name): its SequenceNumber counts another conference's events, and its
        # flags are not this conference's.
        return ignored(state, f"event of an earlier conference {event.conference_sid}")
    if event.sequence_number <= leg.participant_sequence_number:
        return ignored(state, f"stale or duplicate conference event for {event.call_sid}")
    if isinstance(event, ev.ParticipantMuteChanged):
        updated = replace(leg, muted=event.muted, participant_sequence_number=event.sequence_number)
        return Decision(new_state=state.with_leg(updated))
    updated = replace(leg, on_hold=event.hold, participant_sequence_number=event.sequence_number)
    new_state = state.with_leg(updated)
    hold = new_state.open_hold
    if hold is None or hold.strategy is not Strategy.CONFERENCE or leg.role is not LegRole.CUSTOMER:
        return Decision(new_state=new_state)
    if event.hold and hold.state is HoldState.HOLDING:
        return confirm_held(new_state, hold, event.at)
    if not event.hold and hold.state is HoldState.RESUMING:
        return Decision(new_state=end(new_state, hold, hold.end_reason or HoldEndReason.RESUMED, event.at))
    # An unhold while ``held`` (someone else's API call, or a late event of an earlier resume) is only
    # recorded on the leg: the hold stays open until callhold resumes it.
    return Decision(new_state=new_state)


def conference_started(state: CallView, event: ev.ConferenceStarted) -> Decision:
    """The call's conference started: it becomes the live one, unless its start is old news."""
    # A call has one live conference at a time, always under the same friendly name. A *different*
    # conference starting means the customer was connected again (requeued to the next agent after
    # the first conference ended): the new SID replaces the old one, even if the old one's end event
    # has not arrived yet.
    # Participant flags and the conference SequenceNumber that guards them belong to one conference:
    # in the new one every participant starts unheld and unmuted, and its SequenceNumbers start again.
    # Callbacks are separate requests and may arrive out of order (reference 6.1); every conference
    # event carries its Timestamp (2.2). A start older than the latest start recorded is a late one of
    # an earlier conference (ended, or about to): it must not replace the live conference, whose
    # participant events would then all be ignored as another conference's.
    if state.call.conference_sid == event.conference_sid:
        return ignored(state, "conference start already recorded")
    latest = state.call.conference_started_at
    if latest is not None and event.at <= latest:  # a new conference never starts in the same second
        return ignored(state, f"late start of an earlier conference {event.conference_sid}")
    fresh = tuple(
        replace(leg, on_hold=False, muted=False, participant_sequence_number=NO_SEQUENCE)
        for leg in state.legs
    )
    call = replace(state.call, conference_sid=event.conference_sid, conference_started_at=event.at)
    return Decision(new_state=replace(state, call=call, legs=fresh))


def conference_seen(state: CallView, event: ev.ParticipantJoined | ev.ConferenceFound) -> Decision:
    """Proof that the call's conference started, standing in for a lost ``conference-start``."""
    # Twilio sends a status callback again only if it could not connect, unless the URL's connection
    # overrides ask for more (https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides,
    # Q9): a conference-start callhold answered 503 (or lost in a restart) is lost. With no live one, other
    # proof of the start stands in for it: the join of the call's agent (every party callhold connects
    # has startConferenceOnEnter and the customer is in first, so the agent's joining starts it,
    # reference 2.2), or Twilio's Conferences list. Not the customer's join (it comes while the
    # conference waits, init) nor an earlier agent's; and as a start: no newer than the latest, ignored.
    if state.call.status is CallState.ENDED:
        return ignored(state, f"call {state.call.id} has ended")
    if state.call.conference_sid is not None:
        return ignored(state, f"the live conference {state.call.conference_sid} is on record")
    agent = state.agent_leg
    if isinstance(event, ev.ParticipantJoined) and (agent is None or agent.call_sid != event.call_sid):
        return ignored(state, f"{event.call_sid} joining is no sign that the conference has started")
    return conference_started(state, ev.ConferenceStarted(conference_sid=event.conference_sid, at=event.at))


def conference_ended(state: CallView, event: ev.ConferenceEnded, policy: HoldPolicy) -> Decision:
    """The call's conference ended: forgotten, and a hold whose agent hung up ends (or is put right)."""
    # Forget the ended conference, so that nothing is held or resumed in it (ConferenceNotStarted
    # until the next one starts). The hold itself is ended by the legs' status callbacks and the
    # customer's dial action, not here -- unless the event says the agent hung up: then its hold
    # ends (or, if the action came first, is recorded) agent_hung_up, whatever the order of the rest.
    current = state.call.conference_sid == event.conference_sid
    hold = state.hold
    effects: tuple[Effect, ...] = ()
    if (
        hold is not None
        and (current or not hold.is_open)
        and ended_by_agent(hold, event.reason, event.ending_call_sid)
    ):
        decision = agent_dropped_after(state, hold, event.at, policy)
        state, effects = decision.new_state, decision.effects
    elif not current:
        return ignored(state, f"conference {event.conference_sid} is not the call's current one")
    return Decision(new_state=_forget_conference(state) if current else state, effects=effects)


def _forget_conference(state: CallView) -> CallView:
    # Its participants' flags went with it: a customer put back in line after the agent dropped is
    # not "on hold" (the participant flags of the next conference start unheld, unmuted).
    legs = tuple(replace(leg, on_hold=False, muted=False) for leg in state.legs)
    return replace(state, call=replace(state.call, conference_sid=None), legs=legs)
