"""Conference participant requests (mute, add a third party, remove a party): checks and commands."""

from __future__ import annotations

from callhold.domain import events as ev
from callhold.domain.commands import AddParticipant, RemoveParticipant, SetParticipantMuted
from callhold.domain.errors import CallEnded, ConferenceNotStarted, NotFound, WrongStrategy
from callhold.domain.model import CallState, CallView, Leg, Strategy

__all__ = ["add_party", "mute", "party_commands", "remove_party"]


def _conference_sid(state: CallView) -> str:
    if state.call.status is CallState.ENDED:
        raise CallEnded(f"call {state.call.id} has ended")
    if state.call.strategy is not Strategy.CONFERENCE:
        raise WrongStrategy(f"call {state.call.id} uses the {state.call.strategy} strategy, not conference")
    if state.call.conference_sid is None:
        raise ConferenceNotStarted(f"call {state.call.id}: the conference has not started yet")
    return state.call.conference_sid


def _participant(state: CallView, call_sid: str) -> Leg:
    leg = state.leg(call_sid)
    if leg is None or leg.status.is_terminal:
        raise NotFound("participant", call_sid)
    return leg


def mute(state: CallView, call_sid: str, muted: bool) -> SetParticipantMuted:
    """Mute or unmute one participant of the call's conference."""
    conference_sid = _conference_sid(state)
    leg = _participant(state, call_sid)
    return SetParticipantMuted(conference_sid=conference_sid, call_sid=leg.call_sid, muted=muted)


def add_party(state: CallView, to: str, from_: str, label: str | None) -> AddParticipant:
    """Dial a third party into the call's conference."""
    return AddParticipant(conference=_conference_sid(state), to=to, from_=from_, label=label)


def remove_party(state: CallView, call_sid: str) -> RemoveParticipant:
    """Remove one participant from the call's conference."""
    conference_sid = _conference_sid(state)
    leg = _participant(state, call_sid)
    return RemoveParticipant(conference_sid=conference_sid, call_sid=leg.call_sid)


def party_commands(
    state: CallView, event: ev.MuteRequested | ev.AddPartyRequested | ev.RemovePartyRequested
) -> tuple[SetParticipantMuted | AddParticipant | RemoveParticipant]:
    """The one command a participant request turns into (or a domain error)."""
    if isinstance(event, ev.MuteRequested):
        return (mute(state, event.call_sid, event.muted),)
    if isinstance(event, ev.AddPartyRequested):
        return (add_party(state, event.to, event.from_, event.label),)
    return (remove_party(state, event.call_sid),)
