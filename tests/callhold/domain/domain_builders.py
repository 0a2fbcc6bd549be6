"""Builders for call views used by the domain's table tests (no I/O)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from callhold.domain.model import (
    Call,
    CallState,
    CallView,
    Hold,
    HoldEndReason,
    HoldState,
    Leg,
    LegRole,
    LegStatus,
    Strategy,
)

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
CUSTOMER = "CA" + "c" * 32
AGENT = "CA" + "a" * 32
NEW_AGENT = "CA" + "0" * 32
THIRD = "CA" + "3" * 32
CONFERENCE = "CF" + "f" * 32
CALL_ID = "call-1"
HOLD_ID = "h1"
AGENT_ID = "alice"

CONFERENCE_STRATEGY = Strategy.CONFERENCE
LEGS = Strategy.LEGS


def at(seconds: float) -> datetime:
    """``T0`` plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


def view(
    strategy: Strategy = Strategy.LEGS,
    *,
    hold: HoldState | None = None,
    end_reason: HoldEndReason | None = None,
    started: bool = True,
    customer: LegStatus = LegStatus.IN_PROGRESS,
    agent: LegStatus | None = LegStatus.IN_PROGRESS,
    customer_is_child: bool = False,
    third_party: bool = False,
    call_status: CallState = CallState.ACTIVE,
    sequence: int = 5,
) -> CallView:
    """A call between CUSTOMER and AGENT, optionally with hold ``h1`` in state ``hold``."""
    conference = strategy is Strategy.CONFERENCE
    call = Call(
        id=CALL_ID,
        strategy=strategy,
        customer_call_sid=CUSTOMER,
        agent_id=AGENT_ID,
        created_at=T0,
        conference_name="room-call-1" if conference else None,
        conference_sid=CONFERENCE if conference and started else None,
        status=call_status,
        ended_at=at(1) if call_status is CallState.ENDED else None,
    )
    legs = [
        Leg(
            call_sid=CUSTOMER,
            call_id=CALL_ID,
            role=LegRole.CUSTOMER,
            status=customer,
            sequence_number=sequence,
            status_at=at(0),
            parent_call_sid=AGENT if customer_is_child else None,
        )
    ]
    if agent is not None:
        legs.append(
            Leg(
                call_sid=AGENT,
                call_id=CALL_ID,
                role=LegRole.AGENT,
                status=agent,
                sequence_number=sequence,
                status_at=at(0),
                parent_call_sid=None if customer_is_child else CUSTOMER,
            )
        )
    if third_party:
        legs.append(
            Leg(call_sid=THIRD, call_id=CALL_ID, role=LegRole.THIRD_PARTY, status=LegStatus.IN_PROGRESS)
        )
    return CallView(call=call, legs=tuple(legs), hold=make_hold(strategy, hold, end_reason))


def make_hold(
    strategy: Strategy, state: HoldState | None, end_reason: HoldEndReason | None = None
) -> Hold | None:
    """Hold ``h1`` requested at ``at(10)`` by the agent, in ``state``."""
    if state is None:
        return None
    if state is HoldState.ENDED and end_reason is None:
        end_reason = HoldEndReason.RESUMED
    return Hold(
        id=HOLD_ID,
        call_id=CALL_ID,
        state=state,
        strategy=strategy,
        requested_by=AGENT_ID,
        started_at=at(10),
        reason="checking",
        queue_name="hold-h1" if strategy is Strategy.LEGS else None,
        confirmed_at=at(11) if state in (HoldState.HELD, HoldState.RESUMING, HoldState.ENDED) else None,
        ended_at=at(20) if state is HoldState.ENDED else None,
        end_reason=end_reason,
        agent_id=AGENT_ID,
        agent_call_sid=AGENT,
    )


def with_leg(state: CallView, call_sid: str, **changes: object) -> CallView:
    """``state`` with one leg changed."""
    leg = state.leg(call_sid)
    assert leg is not None
    return state.with_leg(replace(leg, **changes))  # type: ignore[arg-type]


def with_hold(state: CallView, **changes: object) -> CallView:
    """``state`` with its hold's fields changed."""
    assert state.hold is not None
    return replace(state, hold=replace(state.hold, **changes))  # type: ignore[arg-type]
