"""Agent availability in the store, on SQLite and PostgreSQL: an agent on an active call is never
made available (it would be handed a second customer mid-call)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from callhold.adapters.db import SqlHoldStore
from callhold.domain.errors import NotFound
from callhold.domain.machine import Decision
from callhold.domain.model import Agent, Call, CallState, CallView, Leg, LegRole, LegStatus, Strategy

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SID = "CA" + "1" * 32


def test_an_agent_on_an_active_call_is_not_made_available(store: SqlHoldStore) -> None:
    store.save_agent(Agent(id="alice", name="Alice", endpoint="client:alice", available=False))
    call = Call(id=SID, strategy=Strategy.CONFERENCE, customer_call_sid=SID, agent_id="alice", created_at=T0)
    leg = Leg(call_sid=SID, call_id=SID, role=LegRole.CUSTOMER, status=LegStatus.IN_PROGRESS)
    assert store.insert_call(call, [leg])
    assert not store.make_available("alice")
    assert store.get_agent("alice") == Agent(
        id="alice", name="Alice", endpoint="client:alice", available=False
    )

    def end(view: CallView) -> Decision:
        ended = replace(view.call, status=CallState.ENDED, ended_at=T0)
        return Decision(new_state=replace(view, call=ended))

    store.transact(SID, end)
    assert store.make_available("alice")
    agent = store.get_agent("alice")
    assert agent is not None and agent.available


def test_an_unknown_agent_is_not_found(store: SqlHoldStore) -> None:
    with pytest.raises(NotFound):
        store.make_available("nobody")


def _alice(store: SqlHoldStore) -> Agent:
    agent = store.get_agent("alice")
    assert agent is not None
    return agent


def test_an_agent_away_is_not_freed_by_callhold_until_it_says_so(store: SqlHoldStore) -> None:
    """The agent's own "not available" outlives callhold's claim: neither releasing a claim nor the
    end of its call makes it available; only its own "available" does."""
    store.save_agent(Agent(id="alice", name="Alice", endpoint="client:alice"))
    assert store.claim_agent("alice")  # callhold claims it for a call
    store.set_agent_available("alice", False)  # the agent, meanwhile: away after this
    assert (_alice(store).available, _alice(store).away) == (False, True)

    assert not store.free_agent("alice")  # the call did not happen: still away
    assert not store.make_available("alice", by_agent=False)  # its call ended: still away
    assert (_alice(store).available, _alice(store).away) == (False, True)

    assert store.make_available("alice")  # the agent is back
    assert (_alice(store).available, _alice(store).away) == (True, False)


def test_an_agent_not_away_is_freed_by_callhold(store: SqlHoldStore) -> None:
    store.save_agent(Agent(id="alice", name="Alice", endpoint="client:alice"))
    assert store.claim_agent("alice")
    assert store.free_agent("alice")
    assert (_alice(store).available, _alice(store).away) == (True, False)
    assert not store.free_agent("nobody")
