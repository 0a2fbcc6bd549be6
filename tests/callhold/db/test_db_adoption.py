"""Adoption: a new call is written with its customer leg in one transaction, on SQLite and
PostgreSQL -- a status callback handled meanwhile (another instance) finds both or neither."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from callhold.adapters.db import SqlHoldStore
from callhold.domain import events as ev
from callhold.domain.errors import Conflict
from callhold.domain.machine import Decision, decide
from callhold.domain.model import Call, CallState, Leg, LegRole, LegStatus, Strategy

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FIRST, SECOND = "CA" + "1" * 32, "CA" + "2" * 32


def _call(sid: str) -> Call:
    return Call(id=sid, strategy=Strategy.CONFERENCE, customer_call_sid=sid, agent_id=None, created_at=T0)


def _leg(sid: str, call_id: str, status: LegStatus = LegStatus.QUEUED) -> Leg:
    return Leg(call_sid=sid, call_id=call_id, role=LegRole.CUSTOMER, status=status)


def test_a_call_is_inserted_with_its_legs_and_only_once(store: SqlHoldStore) -> None:
    assert store.insert_call(_call(FIRST), [_leg(FIRST, FIRST)])
    view = store.load_view(FIRST)
    assert view.customer_leg is not None and view.customer_leg.status is LegStatus.QUEUED
    # Adopted again (a retried webhook, another instance): nothing written, the leg untouched.
    assert not store.insert_call(_call(FIRST), [_leg(FIRST, FIRST, LegStatus.IN_PROGRESS)])
    assert store.load_view(FIRST).legs == view.legs


def test_a_call_whose_leg_is_refused_is_not_written_either(store: SqlHoldStore) -> None:
    assert store.insert_call(_call(FIRST), [_leg(FIRST, FIRST)])
    # SECOND's first leg names a Call SID that is already FIRST's leg: refused, and SECOND with it.
    with pytest.raises(Conflict):
        store.insert_call(_call(SECOND), [_leg(FIRST, SECOND)])
    assert store.get_call(SECOND) is None


def test_a_customer_leg_missing_from_an_older_record_is_recorded_by_its_status(store: SqlHoldStore) -> None:
    # A call recorded without its customer leg (adoption interrupted before it was atomic): the
    # customer's "busy" is applied, not ignored, and ends the call.
    assert store.insert_call(_call(FIRST))
    busy = ev.LegStatusChanged(call_sid=FIRST, status=LegStatus.BUSY, sequence_number=2, timestamp=T0)
    assert store.transact_once(f"status:{FIRST}:2", T0, FIRST, lambda view: decide(view, busy)) is not None
    view = store.load_view(FIRST)
    assert view.call.status is CallState.ENDED
    assert view.customer_leg is not None and view.customer_leg.status is LegStatus.BUSY


def test_a_call_given_an_agent_that_no_longer_exists_is_a_conflict(store: SqlHoldStore) -> None:
    # The agent deleted between its claim and its assignment: the foreign key refuses the update,
    # which is a domain Conflict (the caller tries another agent), not a database error.
    assert store.insert_call(_call(FIRST), [_leg(FIRST, FIRST)])
    with pytest.raises(Conflict):
        store.transact(
            FIRST, lambda view: Decision(new_state=replace(view, call=replace(view.call, agent_id="gone")))
        )
    assert store.load_view(FIRST).call.agent_id is None
    # An outbound call placed for it: the call is real, so it is recorded, with no agent (it waits
    # for the next one).
    assert store.insert_call(replace(_call(SECOND), agent_id="gone"), [_leg(SECOND, SECOND)])
    recorded = store.get_call(SECOND)
    assert recorded is not None and recorded.agent_id is None
