"""callhold served over real HTTP for a browser: a uvicorn server on 127.0.0.1 (a free port) in a
background thread, with an embedded voicesim on its virtual clock.

Everything that touches the emulator or the clock runs on the server's own event loop
(:meth:`LiveCallhold.run`), so the test thread never races a request the browser made; time moves
only when the test says so (:meth:`LiveCallhold.advance`).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from fastapi import FastAPI
from tests.flows.callhold_harness import heard

from callhold.config import Settings
from callhold.web.app import Services, create_app
from voicesim import Emulator, VirtualClock

BASE = "http://callhold.test"  # what voicesim calls callhold at (in process)
ADMIN = "console-admin-token"
NUMBER = "+15550001000"

T = TypeVar("T")


class _Server(uvicorn.Server):
    """A uvicorn server that says when it is accepting connections."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


class LiveCallhold:
    """The running server, its emulator and clock, and helpers to drive the simulated world."""

    def __init__(self, app: FastAPI, emu: Emulator, clock: VirtualClock, base_url: str) -> None:
        self.app, self.emu, self.clock, self.base_url = app, emu, clock, base_url
        self.loop: asyncio.AbstractEventLoop | None = None
        self._customers = 0

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    # -- on the server's loop ----------------------------------------------------------------------
    def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """``await work()`` on the server's event loop, from the test thread."""
        assert self.loop is not None

        async def wrapped() -> T:
            return await work()

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result(timeout=60)

    def advance(self, seconds: float) -> None:
        """Move voicesim's virtual clock (calls ring, answer, hear music...); flow errors are raised."""

        async def advance() -> None:
            await self.clock.advance(seconds)
            self.clock.raise_errors()

        self.run(advance)

    def customer_calls(self, *, wait: float = 20, customer: str | None = None) -> str:
        """A customer calls callhold's number; after ``wait`` virtual seconds, the call's SID."""
        self._customers += 1
        number = customer or f"+1555123{self._customers:04d}"

        async def call_in() -> str:
            call = self.emu.inbound_call(number, NUMBER)
            await self.clock.advance(wait)
            self.clock.raise_errors()
            return call.sid

        return self.run(call_in)

    def hang_up(self, call_sid: str, *, wait: float = 3) -> None:
        """The far end of ``call_sid`` hangs up; ``wait`` virtual seconds pass."""

        async def hang_up() -> None:
            self.emu.hang_up(call_sid)
            await self.clock.advance(wait)
            self.clock.raise_errors()

        self.run(hang_up)

    def heard(self, call_sid: str) -> list[tuple[str, str, str]]:
        """(kind, context, detail or voices) of each segment of what ``call_sid`` heard."""

        async def what_was_heard() -> list[tuple[str, str, str]]:
            return heard(self.emu, call_sid)

        return self.run(what_was_heard)

    # -- over HTTP, like any client ------------------------------------------------------------------
    def request(self, method: str, path: str, token: str | None = ADMIN, **kwargs: Any) -> httpx.Response:
        """``method /api/v1{path}`` with ``token`` (the admin's by default)."""
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return httpx.request(method, f"{self.base_url}/api/v1{path}", headers=headers, timeout=30, **kwargs)

    def agent(self, agent_id: str, *, available: bool = True) -> str:
        """Create an agent (endpoint ``client:<id>``, named like its id); its API token."""
        body = {"id": agent_id, "name": agent_id.title(), "endpoint": f"client:{agent_id}"}
        response = self.request("POST", "/agents", json={**body, "available": available})
        assert response.status_code == 201, response.text
        token: str = response.json()["token"]
        return token

    def call(self, call_id: str) -> dict[str, Any]:
        """``GET /calls/{id}`` as the admin."""
        response = self.request("GET", f"/calls/{call_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def leg(self, call_id: str, role: str) -> dict[str, Any]:
        """The first leg of ``call_id`` in ``role`` (``customer``, ``agent``, ``third_party``), as
        ``GET /calls/{id}`` shows it."""
        legs: list[dict[str, Any]] = self.call(call_id)["legs"]
        return next(leg for leg in legs if leg["role"] == role)


@contextmanager
def serve(tmp_path: Path, **settings: Any) -> Iterator[LiveCallhold]:
    """callhold (with ``settings``) on a virtual-clock voicesim, served on 127.0.0.1 until the end."""
    clock = VirtualClock()
    emu = Emulator(clock, seed=0)
    config = Settings(
        database_url=f"sqlite:///{tmp_path}/console.db",
        public_base_url=BASE,
        admin_token=ADMIN,  # type: ignore[arg-type]
        **settings,
    )
    app = create_app(config, emulator=emu, seed=0)
    emu.buy_number(NUMBER, voice_url=f"{BASE}/twiml/voice", status_callback=f"{BASE}/webhooks/call-status")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _Server(
        uvicorn.Config(app, log_level="warning", access_log=False, ws="none", lifespan="on", http="h11")
    )
    live = LiveCallhold(app, emu, clock, f"http://127.0.0.1:{port}")
    loop = asyncio.new_event_loop()
    live.loop = loop

    def run_server() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.serve(sockets=[sock]))
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=run_server, name="callhold-console-server", daemon=True)
    thread.start()
    try:
        if not server.ready.wait(timeout=30):
            raise RuntimeError("callhold did not start serving within 30 s")
        yield live
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        emu.close()
        live.services.store.engine.dispose()
