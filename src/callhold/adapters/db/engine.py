"""Engines for callhold's database: SQLite (WAL) by default, PostgreSQL (psycopg 3) by URL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url

__all__ = ["SINGLE_READ", "SQLITE_BUSY_TIMEOUT_MS", "WRITE_LOCK", "make_engine"]

SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long a SQLite writer waits for another writer before giving up."""

SINGLE_READ = "callhold_single_read"
"""Connection execution option: the connection runs one SELECT, which SQLite already makes atomic
in autocommit mode, so no ``BEGIN`` is emitted (one driver round trip fewer per lookup)."""

WRITE_LOCK = "callhold_write_lock"
"""Connection execution option: on SQLite, begin the transaction with ``BEGIN IMMEDIATE`` so a
read-decide-write cycle holds the write lock from its first read (PostgreSQL uses ``FOR UPDATE``)."""


def make_engine(url: str | URL, *, echo: bool = False) -> Engine:
    """An engine for ``url``.

    SQLite: WAL journal, foreign keys on, a busy timeout, and explicit ``BEGIN`` so that transactions
    span reads too (``BEGIN IMMEDIATE`` when the connection carries :data:`WRITE_LOCK`).
    PostgreSQL: ``postgresql://`` is read as ``postgresql+psycopg://`` (psycopg 3).
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        engine = create_engine(parsed, echo=echo, connect_args={"check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, echo=echo, pool_pre_ping=True)
    return create_engine(parsed, echo=echo)


def _configure_sqlite(engine: Engine) -> None:
    memory = engine.url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see _on_begin
        cursor = dbapi_connection.cursor()
        try:
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        if options.get(SINGLE_READ, False):
            return
        # Straight to the driver: this runs on every transaction, and the statement needs none of
        # SQLAlchemy's execution machinery (compilation, events, a result object).
        driver = connection.connection.driver_connection
        assert driver is not None
        driver.execute("BEGIN IMMEDIATE" if options.get(WRITE_LOCK, False) else "BEGIN")
