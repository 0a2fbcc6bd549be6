"""The Alembic migrations create exactly the tables of ``tables.py``."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from callhold.adapters.db import make_engine, upgrade
from callhold.adapters.db.migrate import MIGRATIONS, downgrade
from callhold.adapters.db.tables import Base

TABLES = {"agents", "calls", "legs", "holds", "callback_receipts"}


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
    assert not (MIGRATIONS / "alembic.ini").exists()  # not needed at run time
