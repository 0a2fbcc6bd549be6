"""Conversions between the domain's records and the database rows."""

from __future__ import annotations

from callhold.adapters.db.tables import AgentRow, CallRow, HoldRow, LegRow
from callhold.domain.model import (
    Agent,
    Call,
    CallState,
    Hold,
    HoldEndReason,
    HoldState,
    Leg,
    LegRole,
    LegStatus,
    Strategy,
)

__all__ = ["agent_of", "call_of", "call_values", "hold_of", "hold_values", "leg_of", "leg_row"]


def agent_of(row: AgentRow) -> Agent:
    """The agent record of a row."""
    return Agent(
        id=row.id,
        name=row.name,
        endpoint=row.endpoint,
        available=row.available,
        away=row.away,
        placing_to=row.placing_to,
        placing_since=row.placing_since,
    )


def call_of(row: CallRow) -> Call:
    """The call record of a row."""
    return Call(
        id=row.id,
        strategy=Strategy(row.strategy),
        customer_call_sid=row.customer_call_sid,
        agent_id=row.agent_id,
        created_at=row.created_at,
        conference_name=row.conference_name,
        conference_sid=row.conference_sid,
        status=CallState(row.status),
        ended_at=row.ended_at,
        conference_started_at=row.conference_started_at,
        customer_number=row.customer_number,
        given_at=row.given_at,
    )


def call_values(call: Call) -> dict[str, object]:
    """Column values of a call record."""
    return {
        "id": call.id,
        "strategy": call.strategy.value,
        "customer_call_sid": call.customer_call_sid,
        "agent_id": call.agent_id,
        "conference_name": call.conference_name,
        "conference_sid": call.conference_sid,
        "status": call.status.value,
        "created_at": call.created_at,
        "ended_at": call.ended_at,
        "conference_started_at": call.conference_started_at,
        "customer_number": call.customer_number,
        "given_at": call.given_at,
    }


def leg_of(row: LegRow) -> Leg:
    """The leg record of a row."""
    return Leg(
        call_sid=row.call_sid,
        call_id=row.call_id,
        role=LegRole(row.role),
        status=LegStatus(row.status),
        sequence_number=row.sequence_number,
        status_at=row.status_at,
        muted=row.muted,
        on_hold=row.on_hold,
        participant_sequence_number=row.participant_sequence_number,
        parent_call_sid=row.parent_call_sid,
    )


def leg_row(leg: Leg) -> LegRow:
    """A new row for a leg record."""
    return LegRow(
        call_sid=leg.call_sid,
        call_id=leg.call_id,
        role=leg.role.value,
        status=leg.status.value,
        status_rank=leg.status.rank,
        sequence_number=leg.sequence_number,
        status_at=leg.status_at,
        muted=leg.muted,
        on_hold=leg.on_hold,
        participant_sequence_number=leg.participant_sequence_number,
        parent_call_sid=leg.parent_call_sid,
    )


def hold_of(row: HoldRow) -> Hold:
    """The hold record of a row."""
    return Hold(
        id=row.id,
        call_id=row.call_id,
        state=HoldState(row.state),
        strategy=Strategy(row.strategy),
        requested_by=row.requested_by,
        started_at=row.started_at,
        reason=row.reason,
        music_url=row.music_url,
        queue_name=row.queue_name,
        confirmed_at=row.confirmed_at,
        ended_at=row.ended_at,
        end_reason=HoldEndReason(row.end_reason) if row.end_reason is not None else None,
        agent_id=row.agent_id,
        agent_call_sid=row.agent_call_sid,
        state_since=row.state_since,
        agent_reminded_at=row.agent_reminded_at,
        max_hold_acted_at=row.max_hold_acted_at,
        recovered_at=row.recovered_at,
    )


def hold_values(hold: Hold) -> dict[str, object]:
    """Column values of a hold record (``duration_seconds`` once it has ended)."""
    duration = (hold.ended_at - hold.started_at).total_seconds() if hold.ended_at is not None else None
    return {
        "id": hold.id,
        "call_id": hold.call_id,
        "state": hold.state.value,
        "strategy": hold.strategy.value,
        "requested_by": hold.requested_by,
        "reason": hold.reason,
        "music_url": hold.music_url,
        "queue_name": hold.queue_name,
        "started_at": hold.started_at,
        "confirmed_at": hold.confirmed_at,
        "ended_at": hold.ended_at,
        "end_reason": hold.end_reason.value if hold.end_reason is not None else None,
        "agent_id": hold.agent_id,
        "agent_call_sid": hold.agent_call_sid,
        "duration_seconds": max(duration, 0.0) if duration is not None else None,
        "state_since": hold.state_since,
        "agent_reminded_at": hold.agent_reminded_at,
        "max_hold_acted_at": hold.max_hold_acted_at,
        "recovered_at": hold.recovered_at,
    }
