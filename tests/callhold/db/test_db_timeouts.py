"""A database that hangs, or a lock never released, costs a request seconds and a 503 -- not a
frozen instance: on PostgreSQL the engine sets a connect timeout, a statement and a lock timeout
(unless the URL sets its own) and a pool timeout."""

from __future__ import annotations

import httpx
from sqlalchemy.engine import make_url
from tests.callhold.api.conftest import BASE

from callhold.adapters.db import make_engine, upgrade
from callhold.adapters.db.engine import (
    POOL_TIMEOUT_S,
    POSTGRES_CONNECT_TIMEOUT_S,
    POSTGRES_LOCK_TIMEOUT,
    POSTGRES_STATEMENT_TIMEOUT,
)
from callhold.config import Settings
from callhold.web.app import create_app
from voicesim import Emulator


def settings_of(url: str) -> dict[str, str]:
    """What a connection of callhold's engine on ``url`` runs with."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            shown = {
                name: str(connection.exec_driver_sql(f"SHOW {name}").scalar_one())
                for name in ("statement_timeout", "lock_timeout", "search_path")
            }
            driver = connection.connection.driver_connection
            assert driver is not None
            shown["connect_timeout"] = driver.info.get_parameters()["connect_timeout"]
            shown["pool_timeout"] = str(engine.pool.timeout())  # type: ignore[attr-defined]
            return shown
    finally:
        engine.dispose()


def with_options(url: str, *options: str, **query: str) -> str:
    """``url`` with more libpq ``options`` (after those it has: its ``search_path``) and parameters."""
    parsed = make_url(url)
    given = str(parsed.query.get("options", ""))
    return parsed.update_query_dict(
        {"options": " ".join([given, *options]).strip(), **query}
    ).render_as_string(hide_password=False)


def test_postgresql_connections_have_timeouts(postgres_url: str) -> None:
    schema = str(make_url(postgres_url).query["options"]).split("=", 1)[1]
    assert settings_of(postgres_url) == {
        "statement_timeout": POSTGRES_STATEMENT_TIMEOUT,
        "lock_timeout": POSTGRES_LOCK_TIMEOUT,
        "search_path": schema,  # the URL's own options are kept
        "connect_timeout": str(POSTGRES_CONNECT_TIMEOUT_S),
        "pool_timeout": str(POOL_TIMEOUT_S),
    }


def test_the_database_url_sets_its_own_timeouts(postgres_url: str) -> None:
    url = with_options(postgres_url, "-c statement_timeout=30s", "-c lock_timeout=250ms", connect_timeout="2")
    shown = settings_of(url)
    assert (shown["statement_timeout"], shown["lock_timeout"], shown["connect_timeout"]) == (
        "30s",
        "250ms",
        "2",
    )


def test_migrations_run_without_a_statement_timeout(postgres_url: str) -> None:
    """A migration may rewrite a whole table: only its lock waits are limited."""
    engine = make_engine(postgres_url, statement_timeout="0")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW statement_timeout").scalar_one() == "0"
            assert connection.exec_driver_sql("SHOW lock_timeout").scalar_one() == POSTGRES_LOCK_TIMEOUT
    finally:
        engine.dispose()


async def test_a_table_locked_by_someone_else_is_a_503_after_the_lock_timeout(
    postgres_url: str, voicesim: Emulator
) -> None:
    """Another session holds the agents table (a stuck migration, a forgotten ``psql`` session):
    the API answers 503 ``database-unavailable`` once the default lock timeout is over, instead of
    waiting for ever. (The blocker gives up on its own after 3x that, so that without a lock
    timeout this test fails -- a 200 -- rather than hangs.)"""
    upgrade(postgres_url)
    app = create_app(Settings(database_url=postgres_url, public_base_url=BASE), emulator=voicesim, seed=0)
    blocker = make_engine(postgres_url)
    try:
        with blocker.connect() as session:
            session.exec_driver_sql("SET idle_in_transaction_session_timeout = '15s'")
            session.exec_driver_sql("LOCK TABLE agents IN ACCESS EXCLUSIVE MODE")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
                listed = await client.get(
                    "/api/v1/agents", headers={"Authorization": "Bearer change-me-admin"}
                )
            assert listed.status_code == 503, listed.text
            assert listed.json()["type"].endswith("/database-unavailable")
            assert listed.headers["retry-after"] == "5"
            session.rollback()
    finally:
        blocker.dispose()
        app.state.services.store.engine.dispose()
