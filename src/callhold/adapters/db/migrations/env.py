"""Alembic environment for callhold: the URL comes from ``config.attributes["url"]`` (see
``callhold.adapters.db.migrate``), or ``sqlalchemy.url`` when run from the ``alembic`` command line; an
open connection may be passed as ``config.attributes["connection"]`` (its owner then keeps other
migration runs out, see :func:`_one_run_at_a_time`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from callhold.adapters.db.engine import make_engine
from callhold.adapters.db.migrate import MIGRATION_LOCK_KEY
from callhold.adapters.db.tables import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: pass it to callhold.adapters.db.migrate.upgrade(url)")
    return str(url) if isinstance(url, str) else url.render_as_string(hide_password=False)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


@contextmanager
def _one_run_at_a_time(connection: Connection) -> Iterator[None]:
    """On PostgreSQL, hold a session advisory lock (:data:`MIGRATION_LOCK_KEY`) around the run.

    Two instances starting together (or two ``callhold db upgrade``) would otherwise both find the
    database behind and both create its tables: one fails (``duplicate key value violates unique
    constraint "pg_type_typname_nsp_index"``). With the lock the second waits, then reads the
    version the first left and has nothing to do. The wait is not limited (a migration may take
    long); the migrations' own lock waits are, by the engine's ``lock_timeout``. A session lock, not a
    transaction one, so that a migration committing part-way (``autocommit_block``) keeps it.
    SQLite needs none: its writers take turns on the database file.
    """
    if connection.dialect.name != "postgresql":
        yield
        return
    # Wait as long as the other run takes: these last for this transaction only.
    connection.exec_driver_sql("SET LOCAL lock_timeout = 0")
    connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
    connection.exec_driver_sql("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
    connection.commit()  # the session lock stays; Alembic begins its own transaction
    try:
        yield
    except BaseException:
        # The run's error is what to report; closing the connection (the engine is disposed)
        # releases the lock if this cannot.
        with suppress(SQLAlchemyError):
            _unlock(connection)
        raise
    _unlock(connection)


def _unlock(connection: Connection) -> None:
    if connection.in_transaction():  # a migration failed: its transaction is over
        connection.rollback()
    connection.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
    connection.commit()


def run_offline() -> None:
    """Emit SQL instead of running it (``alembic upgrade --sql``)."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run the migrations on a connection (given, or from callhold's own engine settings, with no
    statement timeout: a migration may rewrite a whole table)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url(), statement_timeout="0")
    try:
        with engine.connect() as connection, _one_run_at_a_time(connection):
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
