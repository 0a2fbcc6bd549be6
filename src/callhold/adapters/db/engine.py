"""Engines for callhold's database: SQLite (WAL) by default, PostgreSQL (psycopg 3) by URL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url

__all__ = [
    "POOL_TIMEOUT_S",
    "POSTGRES_CONNECT_TIMEOUT_S",
    "POSTGRES_LOCK_TIMEOUT",
    "POSTGRES_STATEMENT_TIMEOUT",
    "SINGLE_READ",
    "SQLITE_BUSY_TIMEOUT_MS",
    "WRITE_LOCK",
    "make_engine",
]

SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long a SQLite writer waits for another writer before giving up."""

# PostgreSQL defaults, so that a database that hangs (or a lock that is never released) costs a
# request seconds and a 503 ``database-unavailable``, not a frozen instance. Each is a libpq
# connection parameter, so the database URL may set its own (``?connect_timeout=3``,
# ``?options=-c statement_timeout=30s``), which is then kept as it is.
POSTGRES_CONNECT_TIMEOUT_S = 5
"""Seconds to open a connection (libpq ``connect_timeout``)."""

POSTGRES_STATEMENT_TIMEOUT = "10s"
"""Server-side limit on one statement (``statement_timeout``). callhold's statements are small
lookups and single-row writes; 10 s is far above what they take, and under the 11 s callhold allows
itself while answering a Twilio webhook (Twilio gives up at 15 s, error 11205)."""

POSTGRES_LOCK_TIMEOUT = "5s"
"""Server-side limit on waiting for a lock (``lock_timeout``): row locks are held for one
read-decide-write by another instance, never across a request to Twilio."""

POOL_TIMEOUT_S = 10
"""Seconds to wait for a free pooled connection before giving up (a 503, like the others)."""

SINGLE_READ = "callhold_single_read"
"""Connection execution option: the connection runs one SELECT, which SQLite already makes atomic
in autocommit mode, so no ``BEGIN`` is emitted (one driver round trip fewer per lookup)."""

WRITE_LOCK = "callhold_write_lock"
"""Connection execution option: on SQLite, begin the transaction with ``BEGIN IMMEDIATE`` so a
read-decide-write cycle holds the write lock from its first read (PostgreSQL uses ``FOR UPDATE``)."""


def make_engine(url: str | URL, *, echo: bool = False, statement_timeout: str | None = None) -> Engine:
    """An engine for ``url``.

    SQLite: WAL journal, foreign keys on, a busy timeout, and explicit ``BEGIN`` so that transactions
    span reads too (``BEGIN IMMEDIATE`` when the connection carries :data:`WRITE_LOCK`).
    PostgreSQL: ``postgresql://`` is read as ``postgresql+psycopg://`` (psycopg 3); a connect timeout,
    a statement and a lock timeout (unless the URL sets its own) and a pool timeout.
    ``statement_timeout`` replaces :data:`POSTGRES_STATEMENT_TIMEOUT` (``"0"``: none, for migrations).
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
        return create_engine(
            parsed,
            echo=echo,
            pool_pre_ping=True,
            pool_timeout=POOL_TIMEOUT_S,
            connect_args=_postgres_timeouts(parsed, statement_timeout or POSTGRES_STATEMENT_TIMEOUT),
        )
    return create_engine(parsed, echo=echo)


def _postgres_timeouts(url: URL, statement_timeout: str) -> dict[str, Any]:
    """psycopg connection arguments adding callhold's timeouts to what ``url`` says, without
    overriding any the URL sets itself (``connect_args`` win over the URL's query, so the URL's own
    ``options`` -- a ``search_path``, say -- are carried over)."""
    query = url.query
    given = query.get("options", "")
    options = " ".join(given) if isinstance(given, tuple) else given
    wanted = {"statement_timeout": statement_timeout, "lock_timeout": POSTGRES_LOCK_TIMEOUT}
    added = [f"-c {name}={value}" for name, value in wanted.items() if name not in options]
    args: dict[str, Any] = {"options": " ".join([options, *added]).strip()}
    if "connect_timeout" not in query:
        args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_S
    return args


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
