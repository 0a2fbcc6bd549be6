"""``/healthz`` and ``/readyz``: what a load balancer or orchestrator asks before sending traffic."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
from sqlalchemy import text
from tests.callhold.api.conftest import BASE, Desk

from callhold.adapters.db import make_engine
from callhold.adapters.db.migrate import downgrade, schema_head, upgrade
from callhold.config import Settings
from callhold.web.app import create_app
from voicesim import Emulator


async def test_a_running_instance_is_live_and_ready_without_a_token(api: Desk) -> None:
    live = await api.client.get("/healthz")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    ready = await api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "sqlite", "schema_revision": schema_head()}


async def test_a_database_behind_this_release_is_not_ready_until_upgraded(api: Desk) -> None:
    """An instance of a newer release, started before ``callhold db upgrade`` ran, must not take
    webhooks it cannot record: not ready, saying what to do; ready once the database is upgraded."""
    url = api.services.settings.database_url
    downgrade(url, "0004")
    ready = await api.client.get("/readyz")
    assert ready.status_code == 503
    assert ready.headers["content-type"] == "application/problem+json"
    body = ready.json()
    assert body["type"].endswith("/not-ready")
    assert "0004" in body["detail"] and schema_head() in body["detail"]
    assert "callhold db upgrade" in body["detail"]
    assert (await api.client.get("/healthz")).status_code == 200  # alive all the same: no restart
    upgrade(url)
    assert (await api.client.get("/readyz")).status_code == 200


async def test_a_database_that_is_gone_makes_the_instance_not_ready(
    voicesim: Emulator, tmp_path: Path
) -> None:
    """The volume holding the SQLite database unmounted (here: its directory removed): 503, not 500."""
    where = tmp_path / "volume"
    where.mkdir()
    settings = Settings(database_url=f"sqlite:///{where}/callhold.db", public_base_url=BASE)
    app = create_app(settings, emulator=voicesim, seed=0)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        assert (await client.get("/readyz")).status_code == 200
        app.state.services.store.engine.dispose()  # its open connections went with the volume
        shutil.rmtree(where)
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["detail"] == "the sqlite database does not answer (OperationalError)"
        assert (await client.get("/healthz")).status_code == 200
        # The API says so too, as problem JSON a client can act on: try again later.
        calls = await client.get("/api/v1/calls", headers={"Authorization": "Bearer change-me-admin"})
        assert (calls.status_code, calls.headers["content-type"]) == (503, "application/problem+json")
        assert calls.json()["type"].endswith("/database-unavailable")
        assert calls.headers["retry-after"] == "5"


async def test_a_database_of_a_newer_release_is_not_ready_and_upgrading_is_not_the_advice(api: Desk) -> None:
    """After a rollback the database is at a revision this release does not ship: ``callhold db
    upgrade`` cannot help, so the probe does not suggest it."""
    engine = make_engine(api.services.settings.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = 'ffff_newer'"))
    finally:
        engine.dispose()
    ready = await api.client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["detail"] == (
        f"the database schema is at revision ffff_newer, newer than this release knows (its latest is "
        f"{schema_head()}): run the release that migrated it"
    )
