"""The Alembic migrations create exactly the tables of ``tables.py``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import String, column, insert, inspect, select, table

from callhold.adapters.db import make_engine, upgrade
from callhold.adapters.db.migrate import MIGRATIONS, downgrade
from callhold.adapters.db.records import hold_of, hold_values
from callhold.adapters.db.tables import Base, HoldRow, UTCDateTime
from callhold.domain.model import Hold, HoldEndReason, HoldState, Strategy

TABLES = {"agents", "calls", "legs", "holds", "callback_receipts"}
HOLD_PROGRESS = {"state_since", "agent_reminded_at", "max_hold_acted_at", "recovered_at"}
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def drift(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_head_matches_the_metadata(db_url: str) -> None:
    upgrade(db_url)
    assert tables(db_url) == TABLES | {"alembic_version"}
    assert drift(db_url) == []


def test_the_open_hold_index_is_unique_and_partial(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        indexes = {index["name"]: index for index in inspect(engine).get_indexes("holds")}
        index = indexes["uq_holds_one_open_per_call"]
        assert index["unique"] and index["column_names"] == ["call_id"]
        where = index.get("dialect_options", {})
        assert "ended" in str(where.get(f"{engine.dialect.name}_where", ""))
    finally:
        engine.dispose()


def test_upgrade_is_repeatable_and_downgrade_reverses_it(db_url: str) -> None:
    upgrade(db_url)
    upgrade(db_url)
    downgrade(db_url, "base")
    assert tables(db_url) == {"alembic_version"}
    upgrade(db_url)
    assert drift(db_url) == []


def test_migrations_ship_inside_the_package() -> None:
    assert (MIGRATIONS / "env.py").is_file()
    assert (MIGRATIONS / "versions" / "0001_initial.py").is_file()
    assert (MIGRATIONS / "versions" / "0003_hold_progress.py").is_file()
    assert (MIGRATIONS / "versions" / "0004_latest_hold_index.py").is_file()
    assert not (MIGRATIONS / "alembic.ini").exists()  # not needed at run time


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def hold_columns(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {c["name"] for c in inspect(engine).get_columns("holds")}
    finally:
        engine.dispose()


# The tables as revision 0002 left them (only the columns these tests write).
CALLS_0002 = table(
    "calls",
    column("id", String),
    column("strategy", String),
    column("customer_call_sid", String),
    column("status", String),
    column("created_at", UTCDateTime()),
)
HOLDS_0002 = table(
    "holds",
    column("id", String),
    column("call_id", String),
    column("state", String),
    column("strategy", String),
    column("requested_by", String),
    column("started_at", UTCDateTime()),
    column("confirmed_at", UTCDateTime()),
    column("ended_at", UTCDateTime()),
    column("end_reason", String),
)
#: hold id -> (state, confirmed_at, ended_at, the state_since 0003 must fill in)
HOLDS_BEFORE_0003 = {
    "holding": ("holding", None, None, at(10)),
    "held": ("held", at(11), None, at(11)),
    "resuming": ("resuming", at(11), None, at(11)),
    "ended": ("ended", at(11), at(20), at(20)),
}


def test_0003_adds_the_hold_progress_stamps_fills_state_since_and_downgrades(db_url: str) -> None:
    upgrade(db_url, "0002")
    assert not HOLD_PROGRESS & hold_columns(db_url)
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            for n, (hold_id, (state, confirmed, ended, _)) in enumerate(HOLDS_BEFORE_0003.items()):
                call_id = f"call-{n}"
                connection.execute(
                    insert(CALLS_0002).values(
                        id=call_id,
                        strategy="legs",
                        customer_call_sid=f"CA{n:032d}",
                        status="active",
                        created_at=at(0),
                    )
                )
                connection.execute(
                    insert(HOLDS_0002).values(
                        id=hold_id,
                        call_id=call_id,
                        state=state,
                        strategy="legs",
                        requested_by="alice",
                        started_at=at(10),
                        confirmed_at=confirmed,
                        ended_at=ended,
                        end_reason="resumed" if ended else None,
                    )
                )
        upgrade(db_url)
        assert hold_columns(db_url) >= HOLD_PROGRESS
        assert drift(db_url) == []
        with engine.connect() as connection:
            rows = {row.id: row for row in connection.execute(select(HoldRow.__table__))}
        assert {hold_id: row.state_since for hold_id, row in rows.items()} == {
            hold_id: expected[3] for hold_id, expected in HOLDS_BEFORE_0003.items()
        }
        for row in rows.values():
            assert (row.agent_reminded_at, row.max_hold_acted_at, row.recovered_at) == (None, None, None)
            unstamped = replace(hold_of(row), state_since=None)
            assert unstamped.in_state_since == row.state_since  # the domain's fallback agrees

        downgrade(db_url, "0002")
        assert not HOLD_PROGRESS & hold_columns(db_url)
        with engine.connect() as connection:
            kept = {row.id: row.state for row in connection.execute(select(HOLDS_0002))}
        assert kept == {hold_id: expected[0] for hold_id, expected in HOLDS_BEFORE_0003.items()}
        upgrade(db_url)
        assert drift(db_url) == []
    finally:
        engine.dispose()


def test_the_hold_progress_stamps_round_trip_through_the_records(db_url: str) -> None:
    upgrade(db_url)
    hold = Hold(
        id="h1",
        call_id="call-1",
        state=HoldState.HELD,
        strategy=Strategy.LEGS,
        requested_by="alice",
        started_at=at(10),
        confirmed_at=at(12),
        queue_name="hold-h1",
        state_since=at(41),
        agent_reminded_at=at(70),
        max_hold_acted_at=at(310),
        recovered_at=at(40),
    )
    ended = Hold(
        id="h0",
        call_id="call-1",
        state=HoldState.ENDED,
        strategy=Strategy.LEGS,
        requested_by="alice",
        started_at=at(1),
        ended_at=at(5),
        end_reason=HoldEndReason.RESUMED,
    )  # a record without the stamps (state_since None) stays so
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(CALLS_0002).values(
                    id="call-1",
                    strategy="legs",
                    customer_call_sid="CA" + "c" * 32,
                    status="active",
                    created_at=at(0),
                )
            )
            connection.execute(insert(HoldRow.__table__).values(hold_values(hold)))
            connection.execute(insert(HoldRow.__table__).values(hold_values(ended)))
        with engine.connect() as connection:
            rows = {row.id: row for row in connection.execute(select(HoldRow.__table__))}
        assert hold_of(rows["h1"]) == hold
        assert hold_of(rows["h0"]) == ended
    finally:
        engine.dispose()


AGENTS_0006 = table(
    "agents", column("id"), column("name"), column("endpoint"), column("available"), column("token_hash")
)
CALLS_0006 = table("calls", *(column(c.name, c.type) for c in CALLS_0002.c), column("agent_id", String))


def test_0007_makes_unavailable_agents_with_no_call_away(db_url: str) -> None:
    """Before 0007 "unavailable" meant either "on a call" or "said so": an agent unavailable with no
    active call said so (or never answered), and must not come out of the upgrade looking busy --
    with nothing ever to free it."""
    upgrade(db_url, "0006")
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            for agent_id, available in (("on-call", False), ("off", False), ("free", True)):
                connection.execute(
                    insert(AGENTS_0006).values(
                        id=agent_id, name=agent_id, endpoint=f"client:{agent_id}", available=available
                    )
                )
            connection.execute(
                insert(CALLS_0006).values(
                    id="call-1",
                    strategy="conference",
                    customer_call_sid="CA" + "1" * 32,
                    agent_id="on-call",
                    status="active",
                    created_at=at(0),
                )
            )
        upgrade(db_url)
        agents = table("agents", column("id"), column("available"), column("away"))
        with engine.connect() as connection:
            rows = {
                row.id: (bool(row.available), bool(row.away)) for row in connection.execute(select(agents))
            }
        assert rows == {"on-call": (False, False), "off": (False, True), "free": (True, False)}
    finally:
        engine.dispose()
