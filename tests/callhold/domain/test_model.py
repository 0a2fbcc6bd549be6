"""Records, states, SID types and the monotonic leg-status rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from domain_builders import AGENT, CALL_ID, CUSTOMER, at, make_hold, view

from callhold.domain.errors import Invalid
from callhold.domain.model import (
    TERMINAL_RANK,
    Agent,
    Call,
    HoldState,
    Leg,
    LegRole,
    LegStatus,
    Strategy,
    leg_status_advances,
    queue_name_for,
    utc,
)
from callhold.domain.sids import CallSid, ConferenceSid

S = LegStatus


@pytest.mark.parametrize(
    ("status", "rank", "terminal"),
    [
        (S.QUEUED, 0, False),
        (S.INITIATED, 1, False),
        (S.RINGING, 2, False),
        (S.IN_PROGRESS, 3, False),
        (S.COMPLETED, TERMINAL_RANK, True),
        (S.BUSY, TERMINAL_RANK, True),
        (S.FAILED, TERMINAL_RANK, True),
        (S.NO_ANSWER, TERMINAL_RANK, True),
        (S.CANCELED, TERMINAL_RANK, True),
    ],
)
def test_leg_status_rank_and_terminal(status: LegStatus, rank: int, terminal: bool) -> None:
    assert (status.rank, status.is_terminal) == (rank, terminal)


def test_leg_status_values_are_twilios_wire_values() -> None:
    assert LegStatus("in-progress") is S.IN_PROGRESS
    assert LegStatus("no-answer") is S.NO_ANSWER


LEG = Leg(call_sid=CUSTOMER, call_id=CALL_ID, role=LegRole.CUSTOMER, status=S.RINGING, sequence_number=2,
          status_at=at(5))  # fmt: skip


@pytest.mark.parametrize(
    ("leg", "status", "sequence", "seconds", "applies"),
    [
        (LEG, S.IN_PROGRESS, 3, 6, True),  # newer, forward
        (LEG, S.RINGING, 3, 6, True),  # same rank, newer sequence (a refreshed timestamp)
        (LEG, S.IN_PROGRESS, 2, 6, False),  # duplicate sequence
        (LEG, S.IN_PROGRESS, 1, 6, False),  # older sequence
        (LEG, S.INITIATED, 3, 6, False),  # lower rank
        (LEG, S.COMPLETED, 3, 4, False),  # older timestamp
        (LEG, S.COMPLETED, 3, 5, True),  # same second is not older
        (LEG, S.COMPLETED, None, 6, True),  # no sequence: a higher rank applies
        (LEG, S.RINGING, None, 6, False),  # no sequence: same rank does not
        (replace(LEG, status=S.COMPLETED), S.BUSY, 9, 9, False),  # terminal is final
        (replace(LEG, status=S.COMPLETED), S.COMPLETED, 9, 9, False),
        (replace(LEG, sequence_number=-1, status_at=None), S.QUEUED, 0, 1, False),  # lower rank than ringing
        (replace(LEG, sequence_number=-1, status_at=None), S.RINGING, 0, 1, True),  # first callback
    ],
)
def test_leg_status_advances(
    leg: Leg, status: LegStatus, sequence: int | None, seconds: int, applies: bool
) -> None:
    assert leg_status_advances(leg, status, sequence, at(seconds)) is applies


@pytest.mark.parametrize(
    ("kind", "value", "valid"),
    [
        (CallSid, "CA" + "0123456789abcdef" * 2, True),
        (CallSid, "CA" + "0123456789ABCDEF" * 2, True),
        (CallSid, "CF" + "0" * 32, False),
        (CallSid, "CA" + "0" * 31, False),
        (CallSid, "CA" + "0" * 33, False),
        (CallSid, "CA" + "g" * 32, False),
        (CallSid, "", False),
        (CallSid, " CA" + "0" * 32, False),
        (ConferenceSid, "CF" + "f" * 32, True),
        (ConferenceSid, "CA" + "f" * 32, False),
    ],
)
def test_sid_parse(kind: type[CallSid] | type[ConferenceSid], value: str, valid: bool) -> None:
    if valid:
        parsed = kind.parse(value)
        assert parsed == value
        assert isinstance(parsed, kind)
    else:
        with pytest.raises(Invalid):
            kind.parse(value)


def test_invalid_is_a_value_error_too() -> None:
    with pytest.raises(ValueError, match="CallSid"):
        CallSid.parse("nope")


@pytest.mark.parametrize(
    ("endpoint", "valid"),
    [("client:alice", True), ("+14155550100", True), ("sip:bob@example.com", True), ("alice", False),
     ("14155550100", False), ("+0123", False), ("client:", False)],
)  # fmt: skip
def test_agent_endpoint(endpoint: str, valid: bool) -> None:
    if valid:
        assert Agent(id="a", name="A", endpoint=endpoint).available
    else:
        with pytest.raises(Invalid):
            Agent(id="a", name="A", endpoint=endpoint)


def test_records_refuse_naive_datetimes() -> None:
    with pytest.raises(Invalid, match="naive"):
        Call(
            id="c",
            strategy=Strategy.LEGS,
            customer_call_sid=CUSTOMER,
            agent_id=None,
            created_at=datetime(2026, 1, 1),
        )


def test_utc_normalises() -> None:
    plus_two = datetime(2026, 1, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert utc(plus_two) == datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)  # noqa: UP017
    assert utc(plus_two).utcoffset() == timedelta(0)
    assert utc(datetime(2026, 1, 1, 12, 0)).tzinfo is not None


def test_queue_name_is_unique_per_hold_and_within_twilios_limit() -> None:
    assert queue_name_for("abc") == "hold-abc"
    assert len(queue_name_for("x" * 59)) == 64
    with pytest.raises(Invalid):
        queue_name_for("x" * 60)


def test_hold_duration_open_and_ended() -> None:
    held = make_hold(Strategy.LEGS, HoldState.HELD)
    ended = make_hold(Strategy.LEGS, HoldState.ENDED)
    assert held is not None and ended is not None
    assert held.duration(at(70)) == timedelta(seconds=60)
    assert ended.duration(at(999)) == timedelta(seconds=10)
    assert held.duration(at(0)) == timedelta(0)  # clock skew never gives a negative duration
    assert held.is_open and not ended.is_open


def test_hold_ended_at_goes_with_the_ended_state() -> None:
    held = make_hold(Strategy.LEGS, HoldState.HELD)
    assert held is not None
    with pytest.raises(Invalid):
        replace(held, ended_at=at(20))
    with pytest.raises(Invalid):
        replace(held, state=HoldState.ENDED)


def test_call_view_helpers() -> None:
    state = view(Strategy.LEGS, hold=HoldState.ENDED)
    assert state.customer_leg is not None and state.customer_leg.call_sid == CUSTOMER
    assert state.agent_leg is not None and state.agent_leg.call_sid == AGENT
    assert state.open_hold is None and state.hold is not None
    newer = Leg(call_sid="CA" + "9" * 32, call_id=CALL_ID, role=LegRole.AGENT, status=S.RINGING)
    assert state.with_leg(newer).agent_leg == newer
    assert state.with_leg(replace(newer, call_sid=AGENT)).legs[1].status is S.RINGING
