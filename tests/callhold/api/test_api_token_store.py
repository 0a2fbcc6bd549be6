"""The store's agent-token methods on SQLite and PostgreSQL: lookup by hash, rotation, uniqueness."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from callhold.adapters.db import SqlHoldStore
from callhold.domain.errors import NotFound
from callhold.domain.model import Agent, Call, CallState, Strategy


def test_tokens_are_looked_up_by_hash_and_survive_agent_updates(store: SqlHoldStore) -> None:
    store.save_agent(Agent(id="alice", name="Alice", endpoint="client:alice"))
    assert store.agent_for_token("a" * 64) is None
    store.set_agent_token("alice", "a" * 64)
    assert store.agent_for_token("a" * 64) == "alice"
    store.save_agent(Agent(id="alice", name="Renamed", endpoint="client:alice", available=False))
    assert store.agent_for_token("a" * 64) == "alice"
    store.set_agent_token("alice", "b" * 64)
    assert store.agent_for_token("a" * 64) is None and store.agent_for_token("b" * 64) == "alice"
    with pytest.raises(NotFound):
        store.set_agent_token("nobody", "c" * 64)


def test_a_token_hash_belongs_to_one_agent(store: SqlHoldStore) -> None:
    for agent_id in ("alice", "bob"):
        store.save_agent(Agent(id=agent_id, name=agent_id, endpoint=f"client:{agent_id}"))
    store.set_agent_token("alice", "a" * 64)
    with pytest.raises(IntegrityError):  # tokens are random: a clash is a bug, not a case
        store.set_agent_token("bob", "a" * 64)


def test_deleting_an_agent_keeps_its_calls(store: SqlHoldStore) -> None:
    store.save_agent(Agent(id="alice", name="Alice", endpoint="client:alice"))
    store.set_agent_token("alice", "a" * 64)
    sid = "CA" + "1" * 32
    now = datetime.now(UTC)
    call = Call(id=sid, strategy=Strategy.LEGS, customer_call_sid=sid, agent_id="alice", created_at=now)
    store.save_call(call)
    assert store.delete_agent("alice") is False  # not while its call is active
    assert store.get_agent("alice") is not None
    store.save_call(replace(call, status=CallState.ENDED, ended_at=now))
    assert store.delete_agent("alice") is True
    assert store.delete_agent("alice") is False
    assert store.get_agent("alice") is None and store.agent_for_token("a" * 64) is None
    kept = store.get_call(sid)
    assert kept is not None and kept.agent_id is None
