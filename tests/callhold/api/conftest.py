"""Fixtures for the JSON API tests: callhold on a voicesim emulator (virtual clock), called in process.

``api`` is a :class:`Desk`: an ``httpx.AsyncClient`` on the app plus helpers to create agents (with
their tokens) and to get a live customer call answered by an agent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from callhold.config import Settings
from callhold.web.app import Services, create_app
from voicesim import Emulator, VirtualClock

BASE = "http://callhold.test"
ADMIN = "admin-secret-token"
NUMBER = "+15550001000"


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


class Desk:
    """The app under test, a client for it, and the emulator behind it."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, emu: Emulator, clock: VirtualClock) -> None:
        self.app, self.client, self.emu, self.clock = app, client, emu, clock
        self.admin = bearer(ADMIN)
        self._customers = 0

    @property
    def services(self) -> Services:
        """The app's services (store, service...)."""
        services: Services = self.app.state.services
        return services

    async def request(
        self, method: str, path: str, token: str | None = ADMIN, **kwargs: Any
    ) -> httpx.Response:
        """``method path`` with ``token`` (the admin's by default; ``None``: no Authorization)."""
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers.update(bearer(token))
        return await self.client.request(method, f"/api/v1{path}", headers=headers, **kwargs)

    async def agent(self, agent_id: str = "alice", *, available: bool = True) -> str:
        """Create an agent (endpoint ``client:<id>``); returns its API token."""
        body = {
            "id": agent_id,
            "name": agent_id.title(),
            "endpoint": f"client:{agent_id}",
            "available": available,
        }
        response = await self.request("POST", "/agents", json=body)
        assert response.status_code == 201, response.text
        token: str = response.json()["token"]
        return token

    async def customer_calls(self, *, wait: float = 20) -> str:
        """A customer calls the number; after ``wait`` virtual seconds returns the call id."""
        if not self.emu.numbers:
            self.emu.buy_number(
                NUMBER, voice_url=f"{BASE}/twiml/voice", status_callback=f"{BASE}/webhooks/call-status"
            )
        self._customers += 1
        call = self.emu.inbound_call(f"+1555123{self._customers:04d}", NUMBER)
        await self.clock.advance(wait)
        return call.sid

    async def live_call(self, agent_id: str = "alice") -> tuple[str, str]:
        """An agent and a customer talking: returns (call id, agent token)."""
        token = await self.agent(agent_id)
        return await self.customer_calls(), token


AppFactory = Callable[..., Desk]


@pytest.fixture
async def make_desk(
    tmp_path: Path, voicesim: Emulator, voicesim_clock: VirtualClock
) -> AsyncIterator[Callable[..., Desk]]:
    """Build a :class:`Desk` with extra settings (e.g. ``strategy="legs"``); one per test."""
    clients: list[httpx.AsyncClient] = []

    def build(**settings: Any) -> Desk:
        app = create_app(
            Settings(
                database_url=f"sqlite:///{tmp_path}/t.db",
                public_base_url=BASE,
                admin_token=ADMIN,  # type: ignore[arg-type]
                **settings,
            ),
            emulator=voicesim,
            seed=0,
        )
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
        clients.append(client)
        return Desk(app, client, voicesim, voicesim_clock)

    yield build
    for client in clients:
        await client.aclose()


@pytest.fixture
def api(make_desk: Callable[..., Desk]) -> Desk:
    """callhold (conference strategy) on the emulator."""
    return make_desk()
