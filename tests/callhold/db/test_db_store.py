"""SqlHoldStore on SQLite and PostgreSQL: records, monotonic leg status, locks, restart, statistics."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from callhold.adapters.db import SqlHoldStore, make_engine
from callhold.adapters.db.tables import CallRow, HoldRow
from callhold.domain import events as ev
from callhold.domain.errors import Conflict, NotFound, NotHeld
from callhold.domain.machine import decide
from callhold.domain.model import (
    Agent,
    Call,
    CallState,
    Hold,
    HoldEndReason,
    HoldState,
    HoldStats,
    Leg,
    LegRole,
    LegStatus,
    Strategy,
)
from callhold.domain.ports import HoldStore

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CUSTOMER = "CA" + "c" * 32
AGENT = "CA" + "a" * 32
S = LegStatus


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def seed(
    store: SqlHoldStore, call_id: str = "call-1", *, strategy: Strategy = Strategy.LEGS, n: int = 0
) -> Call:
    """An agent, a call and its two legs, both in progress."""
    if store.get_agent("alice") is None:
        store.save_agent(Agent(id="alice", name="Alice", endpoint="client:alice"))
    customer = CUSTOMER[:-4] + f"{n:04d}"
    agent = AGENT[:-4] + f"{n:04d}"
    call = Call(id=call_id, strategy=strategy, customer_call_sid=customer, agent_id="alice", created_at=at(n))
    store.save_call(call)
    store.save_leg(Leg(call_sid=customer, call_id=call_id, role=LegRole.CUSTOMER, status=S.IN_PROGRESS,
                       sequence_number=1, status_at=at(n)))  # fmt: skip
    store.save_leg(Leg(call_sid=agent, call_id=call_id, role=LegRole.AGENT, status=S.IN_PROGRESS,
                       sequence_number=1, status_at=at(n), parent_call_sid=customer))  # fmt: skip
    return call


def hold(call_id: str, hold_id: str, state: HoldState, start: float, end: float | None = None) -> Hold:
    return Hold(
        id=hold_id,
        call_id=call_id,
        state=state,
        strategy=Strategy.LEGS,
        requested_by="alice",
        started_at=at(start),
        ended_at=at(end) if end is not None else None,
        end_reason=HoldEndReason.RESUMED if end is not None else None,
        queue_name=f"hold-{hold_id}",
        agent_id="alice",
    )


# -- agents and calls -----------------------------------------------------------------------------


def test_agents_round_trip_and_claim_is_atomic(store: SqlHoldStore) -> None:
    store.save_agent(Agent(id="bob", name="Bob", endpoint="+14155550100"))
    store.save_agent(Agent(id="alice", name="Alice", endpoint="client:alice", available=False))
    assert store.get_agent("bob") == Agent(id="bob", name="Bob", endpoint="+14155550100")
    assert [a.id for a in store.list_agents()] == ["alice", "bob"]
    assert [a.id for a in store.list_agents(available=True)] == ["bob"]
    assert store.claim_for_outbound("bob", "+14155550199", datetime(2026, 3, 1, tzinfo=UTC)) is True
    assert store.claim_for_outbound("bob", "+14155550199", datetime(2026, 3, 1, tzinfo=UTC)) is False
    assert store.end_placement("bob", datetime(2026, 3, 1, tzinfo=UTC), free=False)
    store.set_agent_available("bob", True)
    assert store.get_agent("bob") == Agent(id="bob", name="Bob", endpoint="+14155550100", available=True)
    assert store.get_agent("nobody") is None
    with pytest.raises(NotFound):
        store.set_agent_available("nobody", True)


def test_calls_round_trip_find_and_list(store: SqlHoldStore) -> None:
    call = seed(store)
    other = seed(store, "call-2", strategy=Strategy.CONFERENCE, n=5)
    conference = replace(other, conference_name="room-2", conference_sid="CF" + "f" * 32)
    store.save_call(conference)
    assert store.get_call("call-1") == call
    assert store.find_call(call_sid=call.customer_call_sid) == call
    assert store.find_call(call_sid=AGENT[:-4] + "0000") == call  # by the agent's leg
    assert store.find_call(conference="CF" + "f" * 32) == conference
    assert store.find_call(conference="room-2") == conference
    assert store.find_call(call_sid="CA" + "9" * 32) is None
    ended = replace(call, status=CallState.ENDED, ended_at=at(60))
    store.save_call(ended)
    assert [c.id for c in store.list_calls()] == ["call-2", "call-1"]
    assert store.list_calls(status=CallState.ACTIVE) == [conference]
    assert store.list_calls(agent_id="alice", status=CallState.ENDED) == [ended]


def test_the_longest_waiting_customers_are_listed_however_many_calls_are_active(store: SqlHoldStore) -> None:
    # A customer waiting 10 minutes, then 1,000 newer active calls (500 waiting, 500 with agents), and
    # ended calls with no agent: before, the waiting were picked from the newest 1,000 active calls,
    # and the customer who had waited longest was never handed to an agent.
    store.save_agent(Agent(id="alice", name="Alice", endpoint="client:alice"))

    def call(i: int, *, agent: str | None, status: CallState) -> dict[str, object]:
        return {"id": f"CA{i:032d}", "strategy": "conference", "customer_call_sid": f"CA{i:032d}",
                "agent_id": agent, "status": status.value, "created_at": at(i)}  # fmt: skip

    rows = [call(0, agent=None, status=CallState.ACTIVE)]
    rows += [call(600 + i, agent=None if i % 2 else "alice", status=CallState.ACTIVE) for i in range(1000)]
    rows += [call(2000 + i, agent=None, status=CallState.ENDED) for i in range(20)]
    with store.engine.begin() as conn:
        conn.execute(insert(CallRow), rows)
    waiting = store.list_waiting(limit=10)
    assert [c.id for c in waiting] == [
        f"CA{i:032d}" for i in [0, 601, 603, 605, 607, 609, 611, 613, 615, 617]
    ]
    assert len(store.list_waiting()) == 501  # ended calls and calls with an agent are not waiting


def test_list_calls_with_the_state_of_each_ones_open_else_latest_hold(store: SqlHoldStore) -> None:
    seed(store, "call-1")
    seed(store, "call-2", n=1)
    seed(store, "call-3", n=2)
    # call-1: its open hold started *before* an ended one (instances' clocks disagree): the open wins
    store.save_hold(hold("call-1", "h1", HoldState.ENDED, 20, 30))
    store.save_hold(hold("call-1", "h2", HoldState.HELD, 10))
    store.save_hold(hold("call-2", "h3", HoldState.ENDED, 1, 2))
    store.save_hold(hold("call-2", "h4", HoldState.ENDED, 3, 4))
    listed = store.list_calls(with_hold=True)
    assert [(call.id, state) for call, state in listed] == [
        ("call-3", None),
        ("call-2", HoldState.ENDED),
        ("call-1", HoldState.HELD),
    ]
    assert [call for call, _ in listed] == store.list_calls()
    assert [(c.id, s) for c, s in store.list_calls(agent_id="alice", limit=1, with_hold=True)] == [
        ("call-3", None)
    ]
    store.save_call(replace(listed[2][0], status=CallState.ENDED, ended_at=at(60)))
    ended = store.list_calls(status=CallState.ENDED, with_hold=True)
    assert [(c.id, s) for c, s in ended] == [("call-1", HoldState.HELD)]


def test_list_views_gives_each_call_as_load_view_does(store: SqlHoldStore) -> None:
    seed(store, "call-1")
    seed(store, "call-2", n=1)
    seed(store, "call-3", n=2)
    store.save_agent(Agent(id="bob", name="Bob", endpoint="client:bob"))
    store.save_call(replace(store.get_call("call-3"), agent_id="bob"))  # type: ignore[arg-type]
    store.save_hold(hold("call-1", "h1", HoldState.ENDED, 20, 30))
    store.save_hold(hold("call-1", "h2", HoldState.HELD, 10))  # open, though it started earlier
    store.save_hold(hold("call-2", "h3", HoldState.ENDED, 1, 2))
    store.save_hold(hold("call-2", "h4", HoldState.ENDED, 3, 4))
    views = store.list_views()
    assert views == [store.load_view(call_id) for call_id in ("call-3", "call-2", "call-1")]
    assert [(v.call.id, v.hold and v.hold.id, len(v.legs)) for v in views] == [
        ("call-3", None, 2),
        ("call-2", "h4", 2),
        ("call-1", "h2", 2),
    ]
    assert [v.call.id for v in store.list_views(agent_id="alice", limit=1)] == ["call-2"]
    store.save_call(replace(views[2].call, status=CallState.ENDED, ended_at=at(60)))
    assert [v.call.id for v in store.list_views(status=CallState.ENDED)] == ["call-1"]
    assert store.list_views(agent_id="nobody") == []


def test_an_agent_on_an_active_call_is_not_deleted(store: SqlHoldStore) -> None:
    call = seed(store)
    assert store.delete_agent("alice") is False
    assert store.get_agent("alice") is not None and store.get_call("call-1") == call
    store.save_call(replace(call, status=CallState.ENDED, ended_at=at(60)))
    assert store.delete_agent("alice") is True
    assert store.delete_agent("alice") is False  # gone
    kept = store.get_call("call-1")
    assert kept is not None and kept.agent_id is None


def test_deleting_an_agent_waits_for_a_call_being_handed_to_it(store: SqlHoldStore, db_url: str) -> None:
    """A transaction gives alice a call and has not committed yet: the delete waits for it (on
    PostgreSQL the assignment's foreign key check holds alice's row; on SQLite the write lock), then
    sees the active call and deletes nothing -- instead of deleting alice under the call."""
    store.save_agent(Agent(id="alice", name="Alice", endpoint="client:alice"))
    call = Call(
        id=CUSTOMER, strategy=Strategy.LEGS, customer_call_sid=CUSTOMER, agent_id=None, created_at=at(0)
    )
    store.save_call(call)
    other = make_engine(db_url)
    deleted: list[bool] = []
    errors: list[BaseException] = []

    def delete() -> None:
        try:
            deleted.append(store.delete_agent("alice"))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    thread = threading.Thread(target=delete)
    try:
        with other.connect() as assigning:
            assigning.exec_driver_sql(f"UPDATE calls SET agent_id = 'alice' WHERE id = '{CUSTOMER}'")
            thread.start()
            if other.dialect.name == "postgresql":  # the delete is seen waiting for the assignment
                pid = assigning.exec_driver_sql("SELECT pg_backend_pid()").scalar()
                blocked = "SELECT count(*) FROM pg_stat_activity WHERE %(pid)s = ANY(pg_blocking_pids(pid))"
                with other.connect() as watching:
                    for _ in range(1000):
                        if watching.exec_driver_sql(blocked, {"pid": pid}).scalar():
                            break
                        watching.rollback()
                        time.sleep(0.01)  # bounded poll of the database, not a fixed wait
                    else:
                        raise AssertionError("the delete never waited for the assignment")
            assigning.commit()
        thread.join(timeout=30)
    finally:
        other.dispose()
    assert errors == [] and deleted == [False]
    assert store.get_agent("alice") is not None
    stored = store.get_call(CUSTOMER)
    assert stored is not None and stored.agent_id == "alice"


def test_datetimes_come_back_timezone_aware_utc(store: SqlHoldStore) -> None:
    seed(store)
    paris = datetime(2026, 3, 1, 14, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    store.save_hold(replace(hold("call-1", "h1", HoldState.HOLDING, 0), started_at=paris))
    saved = store.get_hold("h1")
    assert saved is not None
    assert saved.started_at == paris
    assert saved.started_at.utcoffset() == timedelta(0)


# -- legs: the monotonic rule ---------------------------------------------------------------------

CALLBACKS = [(S.INITIATED, 0, 0), (S.RINGING, 1, 1), (S.IN_PROGRESS, 2, 3), (S.COMPLETED, 3, 90)]


def fresh_leg(store: SqlHoldStore) -> str:
    seed(store)
    sid = "CA" + "e" * 32
    store.save_leg(Leg(call_sid=sid, call_id="call-1", role=LegRole.THIRD_PARTY, status=S.QUEUED))
    return sid


@pytest.mark.parametrize("seed_value", [1, 2, 3])
def test_out_of_order_and_duplicated_callbacks_cannot_move_a_leg_backwards(
    store: SqlHoldStore, seed_value: int
) -> None:
    sid = fresh_leg(store)
    deliveries = CALLBACKS * 2  # every callback twice
    random.Random(seed_value).shuffle(deliveries)
    seen = (-1, -1)
    for status, sequence, seconds in deliveries:
        store.apply_leg_status(sid, status, sequence, at(seconds))
        leg = store.get_leg(sid)
        assert leg is not None
        now = (leg.status.rank, leg.sequence_number)
        assert now >= seen  # never backwards, at any point
        seen = now
    leg = store.get_leg(sid)
    assert leg is not None
    assert (leg.status, leg.sequence_number, leg.status_at) == (S.COMPLETED, 3, at(90))


@pytest.mark.parametrize(
    ("status", "sequence", "seconds", "applied"),
    [
        (S.IN_PROGRESS, 3, 5, True),
        (S.IN_PROGRESS, 2, 5, False),  # duplicate SequenceNumber
        (S.COMPLETED, 1, 5, False),  # older SequenceNumber
        (S.RINGING, 9, 5, False),  # lower rank
        (S.COMPLETED, 9, 1, False),  # older Timestamp
        (S.COMPLETED, None, 5, True),  # no SequenceNumber, higher rank
        (S.IN_PROGRESS, None, 5, False),  # no SequenceNumber, same rank
    ],
)
def test_apply_leg_status_rule(
    store: SqlHoldStore, status: LegStatus, sequence: int | None, seconds: int, applied: bool
) -> None:
    sid = fresh_leg(store)
    assert store.apply_leg_status(sid, S.IN_PROGRESS, 2, at(2))
    assert store.apply_leg_status(sid, status, sequence, at(seconds)) is applied
    leg = store.get_leg(sid)
    assert leg is not None
    assert leg.status is (status if applied else S.IN_PROGRESS)


def test_terminal_status_is_final_and_unknown_legs_are_no_ops(store: SqlHoldStore) -> None:
    sid = fresh_leg(store)
    assert store.apply_leg_status(sid, S.BUSY, 1, at(1))
    assert not store.apply_leg_status(sid, S.COMPLETED, 2, at(2))
    assert not store.apply_leg_status(sid, S.IN_PROGRESS, 3, at(3))
    assert not store.apply_leg_status("CA" + "9" * 32, S.RINGING, 1, at(1))
    assert store.get_leg(sid).status is S.BUSY  # type: ignore[union-attr]


def test_two_threads_racing_end_at_the_highest_sequence(store: SqlHoldStore) -> None:
    sid = fresh_leg(store)
    top = 120
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def deliver(sequences: range) -> None:
        try:
            barrier.wait(timeout=10)
            for n in sequences:
                store.apply_leg_status(sid, S.IN_PROGRESS if n < top else S.COMPLETED, n, at(n))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=deliver, args=(range(k, top + 1, 2),)) for k in (1, 2)]
    threads.reverse()  # the thread holding the highest sequence starts first
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    leg = store.get_leg(sid)
    assert leg is not None
    assert (leg.status, leg.sequence_number, leg.status_at) == (S.COMPLETED, top, at(top))


def test_leg_flags_and_order(store: SqlHoldStore) -> None:
    seed(store)
    legs = store.list_legs("call-1")
    assert [leg.role for leg in legs] == [LegRole.CUSTOMER, LegRole.AGENT]
    assert legs[1].parent_call_sid == legs[0].call_sid
    store.save_leg(replace(legs[0], muted=True, on_hold=True, participant_sequence_number=4))
    store.save_leg(replace(legs[0], muted=False, participant_sequence_number=3))  # an older event
    assert store.get_leg(legs[0].call_sid) == replace(
        legs[0], muted=True, on_hold=True, participant_sequence_number=4
    )
    with pytest.raises(Conflict):
        store.save_leg(replace(legs[0], call_id="call-2"))


# -- holds ----------------------------------------------------------------------------------------


def test_a_call_never_has_two_open_holds(store: SqlHoldStore) -> None:
    seed(store)
    store.save_hold(hold("call-1", "h1", HoldState.HELD, 0))
    with pytest.raises(Conflict):
        store.save_hold(hold("call-1", "h2", HoldState.HOLDING, 5))
    with store.engine.begin() as connection, pytest.raises(IntegrityError):  # the database itself refuses
        values = {
            "id": "h3",
            "call_id": "call-1",
            "state": "holding",
            "strategy": "legs",
            "requested_by": "x",
        }
        connection.execute(insert(HoldRow).values(started_at=at(6), **values))
    store.save_hold(hold("call-1", "h1", HoldState.ENDED, 0, 10))
    store.save_hold(hold("call-1", "h2", HoldState.HOLDING, 20))  # after the first ended: fine
    assert [h.id for h in store.list_holds(call_id="call-1")] == ["h1", "h2"]


def test_list_holds_filters(store: SqlHoldStore) -> None:
    seed(store)
    seed(store, "call-2", n=1)
    store.save_agent(Agent(id="bob", name="Bob", endpoint="client:bob"))
    store.save_hold(hold("call-1", "h1", HoldState.ENDED, 0, 10))
    store.save_hold(hold("call-1", "h2", HoldState.HELD, 20))
    store.save_hold(replace(hold("call-2", "h3", HoldState.ENDED, 30, 40), agent_id="bob"))

    def ids(holds: list[Hold]) -> list[str]:
        return [h.id for h in holds]

    assert ids(store.list_holds()) == ["h1", "h2", "h3"]
    assert ids(store.list_holds(call_id="call-2")) == ["h3"]
    assert ids(store.list_holds(agent_id="alice")) == ["h1", "h2"]
    assert ids(store.list_holds(state=HoldState.HELD)) == ["h2"]
    assert ids(store.list_holds(since=at(20))) == ["h2", "h3"]
    assert ids(store.list_holds(agent_id="alice", state=HoldState.ENDED, since=at(0))) == ["h1"]


def test_stats_per_call_and_per_agent(store: SqlHoldStore) -> None:
    seed(store)
    seed(store, "call-2", n=1)
    store.save_agent(Agent(id="bob", name="Bob", endpoint="client:bob"))
    store.save_hold(hold("call-1", "h1", HoldState.ENDED, 0, 10))  # 10 s
    store.save_hold(hold("call-1", "h2", HoldState.ENDED, 20, 50))  # 30 s
    store.save_hold(hold("call-1", "h3", HoldState.HELD, 100))  # open: 20 s at now=120
    store.save_hold(replace(hold("call-2", "h4", HoldState.ENDED, 0, 5), agent_id="bob"))  # 5 s
    now = at(120)
    assert store.stats_per_call(now) == [
        HoldStats(subject="call-1", holds=3, total_seconds=60.0, longest_seconds=30.0),
        HoldStats(subject="call-2", holds=1, total_seconds=5.0, longest_seconds=5.0),
    ]
    assert store.stats_per_agent(now) == [
        HoldStats(subject="alice", holds=3, total_seconds=60.0, longest_seconds=30.0),
        HoldStats(subject="bob", holds=1, total_seconds=5.0, longest_seconds=5.0),
    ]
    assert store.stats_per_call(now, call_id="call-2") == [store.stats_per_call(now)[1]]
    assert store.stats_per_agent(now, agent_id="nobody") == []


def test_the_latest_holds_and_the_most_recently_held_calls_come_first_on_request(store: SqlHoldStore) -> None:
    """A page of the newest, chosen by the database: what a console showing the last few asks for."""
    seed(store)
    seed(store, "call-2", n=1)
    store.save_agent(Agent(id="bob", name="Bob", endpoint="client:bob"))
    store.save_hold(hold("call-1", "h1", HoldState.ENDED, 0, 10))  # 10 s
    store.save_hold(replace(hold("call-2", "h2", HoldState.ENDED, 20, 25), agent_id="bob"))  # 5 s
    store.save_hold(hold("call-1", "h3", HoldState.HELD, 100))  # open: 20 s at now=120
    now = at(120)
    assert [h.id for h in store.list_holds(newest_first=True, limit=2)] == ["h3", "h2"]
    assert [s.subject for s in store.stats_per_call(now, limit=10)] == ["call-1", "call-2"]
    assert store.stats_per_call(now, limit=1) == [
        HoldStats(subject="call-1", holds=2, total_seconds=30.0, longest_seconds=20.0)
    ]
    assert store.stats_per_call(now, limit=0) == []
    assert store.stats_per_call(now, since=at(20), limit=5) == [
        HoldStats(subject="call-1", holds=1, total_seconds=20.0, longest_seconds=20.0),
        HoldStats(subject="call-2", holds=1, total_seconds=5.0, longest_seconds=5.0),
    ]
    assert store.stats_per_agent(now, call_id="call-2") == [
        HoldStats(subject="bob", holds=1, total_seconds=5.0, longest_seconds=5.0)
    ]
    assert store.stats_per_agent(now, since=at(20)) == [
        HoldStats(subject="alice", holds=1, total_seconds=20.0, longest_seconds=20.0),
        HoldStats(subject="bob", holds=1, total_seconds=5.0, longest_seconds=5.0),
    ]


# -- transactions, locks, restart -----------------------------------------------------------------


def hold_event(hold_id: str = "h1") -> ev.HoldRequested:
    return ev.HoldRequested(hold_id=hold_id, by="alice", at=at(10))


def test_transact_saves_the_decision_and_nothing_on_a_domain_error(store: SqlHoldStore) -> None:
    seed(store)
    with pytest.raises(NotHeld):
        store.transact("call-1", lambda view: decide(view, ev.ResumeRequested(by="alice", at=at(5))))
    assert store.list_holds() == []
    decision = store.transact("call-1", lambda view: decide(view, hold_event()))
    assert len(decision.commands) == 1  # legs: the lead redirect (the other leg follows)
    view = store.load_view("call-1")
    assert view == decision.new_state
    assert view.open_hold is not None and view.open_hold.state is HoldState.HOLDING
    with pytest.raises(NotFound):
        store.transact("nope", lambda view: decide(view, hold_event()))


def test_transact_writes_leg_status_and_call_end(store: SqlHoldStore) -> None:
    seed(store)
    store.transact("call-1", lambda view: decide(view, hold_event()))
    customer = CUSTOMER[:-4] + "0000"
    gone = ev.LegStatusChanged(call_sid=customer, status=S.COMPLETED, sequence_number=2, timestamp=at(30))
    decision = store.transact("call-1", lambda view: decide(view, gone))
    view = store.load_view("call-1")
    assert view.call.status is CallState.ENDED and view.call.ended_at == at(30)
    assert view.customer_leg is not None and view.customer_leg.status is S.COMPLETED
    assert view.hold is not None and view.hold.end_reason is HoldEndReason.CUSTOMER_HUNG_UP
    assert view == decision.new_state
    assert store.stats_per_call(at(999)) == [HoldStats(subject="call-1", holds=1, total_seconds=20.0,
                                                       longest_seconds=20.0)]  # fmt: skip


def test_transact_writes_the_legs_as_the_domain_decided(store: SqlHoldStore) -> None:
    """A terminal status with no SequenceNumber (a conference participant-leave) after numbered
    callbacks, and the participant flags a new conference resets, are stored as decided."""
    seed(store, strategy=Strategy.CONFERENCE)
    customer, agent = CUSTOMER[:-4] + "0000", AGENT[:-4] + "0000"
    events: list[ev.Event] = [
        ev.ConferenceStarted(conference_sid="CF" + "1" * 32, at=at(1)),
        ev.ParticipantHoldChanged(call_sid=agent, hold=True, sequence_number=9, at=at(2)),
        ev.LegStatusChanged(call_sid=agent, status=S.IN_PROGRESS, sequence_number=5, timestamp=at(3)),
        ev.ConferenceStarted(conference_sid="CF" + "2" * 32, at=at(4)),  # requeued: a new conference
        ev.LegStatusChanged(call_sid=agent, status=S.COMPLETED, sequence_number=None, timestamp=at(5)),
    ]
    for event in events:
        decision = store.transact("call-1", lambda view, event=event: decide(view, event))  # type: ignore[misc]
        assert store.load_view("call-1") == decision.new_state
    stored = store.get_leg(agent)
    assert stored is not None
    assert (stored.status, stored.sequence_number, stored.status_at) == (S.COMPLETED, 5, at(5))
    assert (stored.on_hold, stored.participant_sequence_number) == (False, -1)
    assert store.get_leg(customer) is not None


def test_open_hold_for_update_locks_the_call(store: SqlHoldStore, db_url: str) -> None:
    seed(store)
    other = make_engine(db_url)
    try:
        with store.open_hold_for_update("call-1") as transaction:
            assert transaction.view.call.id == "call-1"
            with other.connect() as connection, pytest.raises(Exception, match="lock"):
                if other.dialect.name == "sqlite":
                    connection.exec_driver_sql("PRAGMA busy_timeout=0")
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                else:
                    connection.exec_driver_sql("SELECT id FROM calls WHERE id = 'call-1' FOR UPDATE NOWAIT")
        with other.connect() as connection:  # released at commit
            connection.exec_driver_sql("UPDATE calls SET agent_id = NULL WHERE id = 'call-1'")
            connection.commit()
    finally:
        other.dispose()


def test_instances_adopting_the_same_call_at_once_insert_it_once(store: SqlHoldStore) -> None:
    """An early status callback and the create's own adoption (or two instances) racing: exactly
    one insert wins, the others see the call already recorded -- no error, nothing overwritten."""
    call = Call(
        id=CUSTOMER, strategy=Strategy.LEGS, customer_call_sid=CUSTOMER, agent_id=None, created_at=at(0)
    )
    barrier = threading.Barrier(6)
    inserted: list[bool] = []
    errors: list[BaseException] = []

    def adopt(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            inserted.append(store.insert_call(replace(call, created_at=at(n))))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=adopt, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sorted(inserted) == [False] * 5 + [True]
    stored = store.get_call(CUSTOMER)
    assert stored is not None and stored.created_at in {at(n) for n in range(6)}
    assert store.insert_call(call) is False and store.get_call(CUSTOMER) == stored


def test_concurrent_hold_requests_make_one_hold(store: SqlHoldStore) -> None:
    seed(store)
    barrier = threading.Barrier(2)
    results: list[str] = []
    errors: list[BaseException] = []

    def request(hold_id: str) -> None:
        try:
            barrier.wait(timeout=10)
            decision = store.transact("call-1", lambda view: decide(view, hold_event(hold_id)))
            assert decision.new_state.hold is not None
            results.append(decision.new_state.hold.id)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=request, args=(hold_id,)) for hold_id in ("h1", "h2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    holds = store.list_holds()
    assert len(holds) == 1
    assert results == [holds[0].id, holds[0].id]  # the second request reported the first hold


def test_restart_loses_nothing_and_a_held_call_resumes_after_it(store: SqlHoldStore, db_url: str) -> None:
    seed(store)
    decision = store.transact("call-1", lambda view: decide(view, hold_event()))
    for command in decision.commands:
        succeeded = ev.CommandSucceeded(command=command, at=at(11))
        store.transact("call-1", lambda view, event=succeeded: decide(view, event))  # type: ignore[misc]
    store.engine.dispose()

    restarted = SqlHoldStore(make_engine(db_url))
    try:
        view = restarted.load_view("call-1")
        assert view.open_hold is not None and view.open_hold.state is HoldState.HELD
        assert [leg.role for leg in view.legs] == [LegRole.CUSTOMER, LegRole.AGENT]
        assert restarted.get_agent("alice") is not None
        resumed = restarted.transact("call-1", lambda v: decide(v, ev.ResumeRequested(by="alice", at=at(40))))
        assert [c.twiml_path for c in resumed.commands] == ["/twiml/legs/dequeue/h1"]  # type: ignore[union-attr]
        restarted.transact("call-1", lambda v: decide(v, ev.LegsBridged(hold_id="h1", at=at(41))))
        final = restarted.get_hold("h1")
        assert final is not None and final.state is HoldState.ENDED and final.ended_at == at(41)
    finally:
        restarted.engine.dispose()


def test_record_callback_deduplicates(store: SqlHoldStore) -> None:
    assert store.record_callback("CF1:7", at(1)) is True
    assert store.record_callback("CF1:7", at(2)) is False
    assert store.record_callback("CF1:8", at(2)) is True


def test_old_callback_keys_are_pruned(store: SqlHoldStore) -> None:
    for n in range(5):
        assert store.record_callback(f"status:CA1:{n}:ringing", at(n * 3600))
    assert store.prune_callbacks(at(3 * 3600)) == 3  # recorded before hour 3
    assert store.prune_callbacks(at(3 * 3600)) == 0
    assert store.record_callback("status:CA1:0:ringing", at(9 * 3600)) is True  # forgotten
    assert store.record_callback("status:CA1:4:ringing", at(9 * 3600)) is False  # still known


def test_sql_store_implements_the_domain_port(store: SqlHoldStore) -> None:
    port: HoldStore = store  # checked by mypy: SqlHoldStore satisfies the Protocol
    assert isinstance(port, SqlHoldStore)


def test_ended_calls_are_deleted_with_their_legs_and_holds_oldest_first_live_ones_never(
    store: SqlHoldStore,
) -> None:
    old = seed(store, "call-old", n=1)
    newer = seed(store, "call-newer", n=2)
    live = seed(store, "call-live", n=3)
    store.save_hold(Hold(id="hold-old", call_id=old.id, state=HoldState.ENDED, strategy=Strategy.LEGS,
                         requested_by="alice", started_at=at(10), ended_at=at(20),
                         end_reason=HoldEndReason.RESUMED))  # fmt: skip
    store.save_call(replace(old, status=CallState.ENDED, ended_at=at(100)))
    store.save_call(replace(newer, status=CallState.ENDED, ended_at=at(200)))
    assert store.delete_ended_calls(at(300), limit=1) == 1  # batches: the oldest first
    assert store.get_call("call-old") is None
    assert store.list_legs("call-old") == [] and store.get_hold("hold-old") is None
    assert store.delete_ended_calls(at(150)) == 0  # call-newer ended after the cut-off
    assert store.delete_ended_calls(at(300)) == 1
    assert store.delete_ended_calls(at(10_000)) == 0  # the live call stays, however old
    assert store.get_call(live.id) == live and len(store.list_legs(live.id)) == 2
