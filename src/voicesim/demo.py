"""voicesim's own demo: an inbound call, a ``<Dial>`` bridge, a REST redirect -- over real HTTP.

Two servers on loopback: voicesim (on a real-time clock, sped up) and a tiny TwiML app. The twilio
SDK drives voicesim over HTTP exactly as it would drive Twilio. Two rounds show the pitfall
callhold exists for: redirecting the agent's leg drops a caller whose ``<Dial>`` has nothing after
it, and keeps a caller whose ``<Dial>`` has an action.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from voicesim.clock import RealtimeClock
from voicesim.emulator import Emulator
from voicesim.sdk import client
from voicesim.server import build_app

__all__ = ["run_demo"]

CUSTOMER, NUMBER, AGENT = "+15551230001", "+15550001000", "+15559870002"
MUSIC = "http://com.twilio.sounds.music.s3.amazonaws.com/MARKOVICHAMP-Borghestral.mp3"


def _twiml(body: str) -> Response:
    return Response(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>', media_type="text/xml"
    )


def _webhook_app() -> Starlette:
    async def bare(request: Request) -> Response:
        return _twiml(f"<Say>Connecting you.</Say><Dial><Number>{AGENT}</Number></Dial>")

    async def guarded(request: Request) -> Response:
        return _twiml(f'<Say>Connecting you.</Say><Dial action="/after"><Number>{AGENT}</Number></Dial>')

    async def after(request: Request) -> Response:
        return _twiml(f'<Say>Your agent stepped away. Please hold.</Say><Play loop="0">{MUSIC}</Play>')

    async def agent_elsewhere(request: Request) -> Response:
        return _twiml('<Say>You are now off the customer call.</Say><Pause length="30"/>')

    return Starlette(
        routes=[
            Route("/bare", bare, methods=["POST"]),
            Route("/guarded", guarded, methods=["POST"]),
            Route("/after", after, methods=["POST"]),
            Route("/agent-elsewhere", agent_elsewhere, methods=["POST"]),
        ]
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def _serving(app: Any, port: int) -> AsyncIterator[None]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task


async def _demo(speed: float) -> str:
    emu = Emulator(RealtimeClock(speed))
    sim_port, app_port = _free_port(), _free_port()
    base, hooks = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{app_port}"
    sdk = client(base_url=base, account_sid=emu.account_sid, auth_token=emu.auth_token)
    auth = (emu.account_sid, emu.auth_token)

    async def virtual_seconds(n: float) -> None:
        await asyncio.sleep(n / speed)

    async with (
        _serving(build_app(emu), sim_port),
        _serving(_webhook_app(), app_port),
        httpx.AsyncClient(base_url=base, auth=auth) as control,
    ):
        await control.put(f"/_voicesim/phones/{AGENT}", json={"answer_after": 2})
        for path in ("bare", "guarded"):
            number = await asyncio.to_thread(
                sdk.incoming_phone_numbers.create, phone_number=NUMBER, voice_url=f"{hooks}/{path}"
            )
            reply = await control.post("/_voicesim/inbound-calls", data={"From": CUSTOMER, "To": NUMBER})
            customer = reply.json()["sid"]
            await virtual_seconds(10)
            agent = (await asyncio.to_thread(sdk.calls.list, parent_call_sid=customer))[0].sid
            await asyncio.to_thread(sdk.calls(agent).update, url=f"{hooks}/agent-elsewhere")
            await virtual_seconds(15)
            for sid in (customer, agent):
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(sdk.calls(sid).update, status="completed")
            await asyncio.to_thread(sdk.incoming_phone_numbers(number.sid).delete)
        text = (await control.get("/_voicesim/timelines", params={"format": "text"})).text
    return text


def run_demo(speed: float = 20.0) -> int:
    """Run the demo and print every call's audio timeline."""
    print(f"voicesim demo: real-time clock at {speed:g}x, REST over HTTP through the twilio SDK\n")
    print("Round 1: <Dial> with nothing after it; round 2: <Dial action=...>.")
    print("In each round the agent's leg is redirected by the REST API after 10 s.\n")
    print(asyncio.run(_demo(speed)))
    return 0
