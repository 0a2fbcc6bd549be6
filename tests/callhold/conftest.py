"""Database fixtures for callhold's tests: ``db_url`` (SQLite file, and PostgreSQL when
``CALLHOLD_TEST_POSTGRES_URL`` is set; with ``CI=true`` a missing PostgreSQL URL fails) and ``store``
(a migrated ``SqlHoldStore``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from callhold.adapters.db import SqlHoldStore, make_engine, upgrade

POSTGRES_ENV = "CALLHOLD_TEST_POSTGRES_URL"


def _postgres_base_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {POSTGRES_ENV} is not set: the PostgreSQL store tests must run in CI")
    pytest.skip(f"{POSTGRES_ENV} not set (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose ``search_path`` is a fresh schema, dropped afterwards."""
    base = _postgres_base_url()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = make_engine(base)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'callhold.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(db_url: str) -> Iterator[SqlHoldStore]:
    """A ``SqlHoldStore`` on a database brought to the latest migration."""
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        yield SqlHoldStore(engine)
    finally:
        engine.dispose()
