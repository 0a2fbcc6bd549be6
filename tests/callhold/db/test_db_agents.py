"""Agent availability in the store, on SQLite and PostgreSQL: an agent on an active call is never
made available (it would be handed a second customer mid-call)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from callhold.adapters.db import SqlHoldStore
from callhold.domain.errors import Conflict, NotFound
from callhold.domain.machine import Decision
from callhold.domain.model import Agent, Call, CallState, CallView, Leg, LegRole, LegStatus, Strategy
from callhold.domain.ports import Handover

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TO = "+14155550123"
SID = "CA" + "1" * 32


def test_an_agent_on_an_active_call_is_not_made_available(store: SqlHoldStore) -> None:
    store.save_agent(Agent(id="alice", name="Alice", endpoint="client:alice"))
    assert store.claim_for_outbound("alice", TO, T0)  # an outbound call, recorded for alice
    call = Call(id=SID, strategy=Strategy.CONFERENCE, customer_call_sid=SID, agent_id="alice", created_at=T0)
    leg = Leg(call_sid=SID, call_id=SID, role=LegRole.CUSTOMER, status=LegStatus.IN_PROGRESS)
    assert store.insert_call(call, [leg], placed_since=T0)
    assert store.load_view(SID).call.agent_id == "alice"
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
    assert store.claim_for_outbound("alice", TO, T0)  # callhold claims it for a call
    store.set_agent_available("alice", False)  # the agent, meanwhile: away after this
    assert (_alice(store).available, _alice(store).away) == (False, True)

    assert store.end_placement("alice", T0, free=True)  # the call did not happen: still away
    assert not store.free_agent("alice")
    assert not store.make_available("alice", by_agent=False)  # its call ended: still away
    assert (_alice(store).available, _alice(store).away) == (False, True)

    assert store.make_available("alice")  # the agent is back
    assert (_alice(store).available, _alice(store).away) == (True, False)


def test_an_agent_not_away_is_freed_by_callhold(store: SqlHoldStore) -> None:
    store.save_agent(Agent(id="alice", name="Alice", endpoint="client:alice"))
    assert store.claim_for_outbound("alice", TO, T0)
    assert not store.free_agent("alice")  # placing a call: busy
    assert store.end_placement("alice", T0, free=True)
    assert (_alice(store).available, _alice(store).away) == (True, False)
    assert not store.free_agent("nobody")


def _waiting_call(store: SqlHoldStore, n: int) -> str:
    sid = "CA" + str(n) * 32
    call = Call(id=sid, strategy=Strategy.CONFERENCE, customer_call_sid=sid, agent_id=None, created_at=T0)
    leg = Leg(call_sid=sid, call_id=sid, role=LegRole.CUSTOMER, status=LegStatus.IN_PROGRESS)
    assert store.insert_call(call, [leg])
    return sid


def test_an_agent_placing_an_outbound_call_is_handed_no_customer(store: SqlHoldStore) -> None:
    """Claimed for an outbound call, the agent makes itself available meanwhile: it stays busy (not
    handed the waiting customer, which would give it two calls), and is made available when the
    placement ends with no call -- or kept busy by the call once it is recorded."""
    store.save_agent(Agent(id="alice", name="Alice", endpoint="client:alice"))
    first = _waiting_call(store, 1)
    assert store.claim_for_outbound("alice", TO, T0)  # placing an outbound call
    assert (_alice(store).placing_to, _alice(store).placing_since) == (TO, T0)
    assert not store.make_available("alice")  # the agent, meanwhile: not handed anyone yet
    assert store.give_call(first, "alice", T0) is Handover.AGENT_TAKEN
    assert [a.id for a in store.placements(T0)] == ["alice"]
    assert store.placements(T0 - timedelta(seconds=1)) == []

    assert not store.end_placement("alice", T0 + timedelta(seconds=1), free=True)  # not that one
    assert store.end_placement("alice", T0, free=True)  # Twilio refused the call
    assert not store.end_placement("alice", T0, free=True)  # over already (another instance)
    assert (_alice(store).available, _alice(store).placing_to, _alice(store).placing_since) == (
        True,
        None,
        None,
    )
    assert store.give_call(first, "alice", T0) is Handover.GIVEN


def test_recording_the_outbound_call_ends_its_placement(store: SqlHoldStore) -> None:
    store.save_agent(Agent(id="alice", name="Alice", endpoint="client:alice"))
    assert store.claim_for_outbound("alice", TO, T0)
    sid = _outbound(store, 7, T0)
    assert store.load_view(sid).call.agent_id == "alice"
    assert (_alice(store).available, _alice(store).placing_since) == (False, None)
    assert store.placements(T0) == []
    assert not store.make_available("alice")  # on the call now
    assert not store.end_placement("alice", T0, free=True)


def _outbound(store: SqlHoldStore, n: int, placed_since: datetime | None) -> str:
    """Record outbound call ``n`` placed for alice (at ``placed_since``, if the URL said); its SID."""
    sid = "CA" + str(n) * 32
    call = Call(id=sid, strategy=Strategy.CONFERENCE, customer_call_sid=sid, agent_id="alice", created_at=T0)
    leg = Leg(call_sid=sid, call_id=sid, role=LegRole.CUSTOMER, status=LegStatus.QUEUED)
    assert store.insert_call(call, [leg], placed_since=placed_since)
    return sid


def test_a_call_that_names_no_placement_never_takes_the_agents_open_one(store: SqlHoldStore) -> None:
    """A late call of an earlier placement (its URL without ``placed``) while the agent places another:
    it does not end the open placement -- whose own call is still to come -- and is not the agent's."""
    store.save_agent(Agent(id="alice", name="Alice", endpoint="client:alice"))
    later = T0 + timedelta(minutes=5)
    assert store.claim_for_outbound("alice", TO, later)
    old = _outbound(store, 8, None)
    assert store.load_view(old).call.agent_id is None  # waits for the next agent
    assert (_alice(store).placing_since, _alice(store).available) == (later, False)
    own = _outbound(store, 9, later)
    assert store.load_view(own).call.agent_id == "alice"
    assert _alice(store).placing_since is None


def test_an_endpoint_belongs_to_one_agent_even_when_two_take_it_at_once(store: SqlHoldStore) -> None:
    """Checked in the writing transaction: of two agents created (or changed) to one endpoint at the
    same moment, one gets it and the other a ``Conflict``."""
    store.insert_agent(Agent(id="carol", name="Carol", endpoint="client:carol"))
    with pytest.raises(Conflict, match="client:carol"):
        store.insert_agent(Agent(id="dave", name="Dave", endpoint="client:carol"))
    assert store.get_agent("dave") is None
    store.insert_agent(Agent(id="dave", name="Dave", endpoint="client:dave"))
    with pytest.raises(Conflict):
        store.update_agent("dave", name="D", endpoint="client:carol")
    assert store.get_agent("dave") == Agent(id="dave", name="Dave", endpoint="client:dave")

    outcomes: list[str] = []
    start = threading.Barrier(4)

    def create(agent_id: str) -> None:
        start.wait()
        try:
            store.insert_agent(Agent(id=agent_id, name=agent_id, endpoint="+15550009999"))
            outcomes.append("created")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=create, args=(f"racer{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "created"]
    assert len([a for a in store.list_agents() if a.endpoint == "+15550009999"]) == 1
