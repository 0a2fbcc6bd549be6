"""Engine settings: SQLite pragmas, the PostgreSQL driver, UTC datetimes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from callhold.adapters.db import make_engine
from callhold.adapters.db.engine import SQLITE_BUSY_TIMEOUT_MS
from callhold.adapters.db.tables import UTCDateTime


def test_sqlite_gets_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as connection:
            pragmas = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            }
            assert pragmas == {
                "journal_mode": "wal",
                "foreign_keys": 1,
                "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
            }
    finally:
        engine.dispose()


def test_sqlite_transactions_span_reads(tmp_path: Path) -> None:
    """pysqlite would only BEGIN before a write; callhold's engine begins at the first statement."""
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
            assert connection.connection.dbapi_connection.in_transaction  # type: ignore[union-attr]
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", ["postgresql://u@localhost/db", "postgresql+psycopg://u@localhost/db"])
def test_postgresql_uses_psycopg3(url: str) -> None:
    engine = make_engine(url)
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
    engine.dispose()


@pytest.mark.parametrize("url", ["sqlite://", "postgresql://u@localhost/db"])
def test_utc_datetime_refuses_naive_values(url: str) -> None:
    engine = make_engine(url)
    try:
        with pytest.raises(ValueError, match="naive"):
            UTCDateTime().process_bind_param(datetime(2026, 1, 1), engine.dialect)
    finally:
        engine.dispose()
