"""voicesim over real HTTP: the ASGI app under uvicorn, driven by the official SDK and by raw HTTP.

The server runs in this test's event loop (so the virtual clock and the webhook app live there too);
the synchronous SDK, which blocks, runs in a worker thread. The same scenario runs in process and
over HTTP and must give identical results. ``python -m voicesim`` is started as a subprocess.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.voicesim.contract import Api, Contract, asgi_api, basic_auth
from tests.webhook_app import BASE, WebhookApp
from voicesim import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, Emulator, VirtualClock
from voicesim.rest.app import MAX_BODY_BYTES
from voicesim.sdk import AsyncForwardingHttpClient, ForwardingHttpClient, client
from voicesim.server import build_app, emulator_for, parse_args

T = TypeVar("T")
FROM, AGENT, CALLER = "+15550000001", "+15550000002", "+15559990000"


@contextlib.asynccontextmanager
async def serving(emu: Emulator) -> AsyncIterator[str]:
    """``build_app(emu)`` under uvicorn on 127.0.0.1, a free port; yields the base URL."""
    config = uvicorn.Config(
        build_app(emu), host="127.0.0.1", port=0, lifespan="on", log_config=None, access_log=False
    )
    config.load()
    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)
    await server.startup()  # bound and listening when this returns: no polling
    await server.on_tick(0)  # the Date header, as the main loop would set it
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.shutdown()


@dataclass
class Surface:
    """One way to reach an emulator: its SDK client, an HTTP driver, and how to call the sync SDK."""

    name: str
    emu: Emulator
    clock: VirtualClock
    hooks: WebhookApp
    sdk: Client
    api: Api
    base_url: str | None

    async def run(self, fn: Callable[[], T]) -> T:
        """Call the (blocking) sync SDK: in a thread over HTTP, inline in process."""
        if self.base_url is None:
            return fn()
        return await asyncio.to_thread(fn)

    def async_sdk(self) -> Client:
        """The SDK's async flavour on the same surface (create inside the running loop)."""
        if self.base_url is None:
            return client(self.emu, asynchronous=True)
        return client(
            base_url=self.base_url,
            account_sid=self.emu.account_sid,
            auth_token=self.emu.auth_token,
            asynchronous=True,
        )


@contextlib.asynccontextmanager
async def open_surface(name: str, seed: int = 0) -> AsyncIterator[Surface]:
    clock = VirtualClock()
    emu = Emulator(clock, seed=seed)
    hooks = WebhookApp()
    emu.webhooks.mount(BASE, hooks.asgi)
    emu.webhooks.use_transport(httpx.MockTransport(lambda r: httpx.Response(404)))  # never the network
    contract = Contract()
    try:
        if name == "in-process":
            async with asgi_api(emu, contract) as api:
                yield Surface(name, emu, clock, hooks, client(emu), api, None)
        else:
            async with serving(emu) as base_url, httpx.AsyncClient(base_url=base_url) as http:
                sdk = client(base_url=base_url, account_sid=emu.account_sid, auth_token=emu.auth_token)
                assert isinstance(sdk.http_client, ForwardingHttpClient)
                try:
                    yield Surface(
                        name,
                        emu,
                        clock,
                        hooks,
                        sdk,
                        Api(http, emu.account_sid, emu.auth_token, contract),
                        base_url,
                    )
                finally:
                    sdk.http_client.session.close()
        clock.raise_errors()
    finally:
        emu.close()
        await emu.webhooks.aclose()


@pytest.fixture(params=["in-process", "http"])
async def surface(request: pytest.FixtureRequest) -> AsyncIterator[Surface]:
    async with open_surface(request.param) as opened:
        yield opened


def props(instance: Any) -> dict[str, Any]:
    """An SDK instance's data attributes (what it parsed from the JSON)."""
    simple = (str, int, float, bool, dict, list, dt.datetime, type(None))
    return {
        k: v
        for k, v in vars(instance).items()
        if (not k.startswith("_") or k == "_from") and isinstance(v, simple)
    }


async def scenario(s: Surface) -> list[tuple[str, Any]]:
    """A little of everything, through the sync SDK and the control API; returns what was seen."""
    seen: list[tuple[str, Any]] = []

    async def control(method: str, path: str, **kwargs: Any) -> Any:
        response = await s.api.request(method, path, **kwargs)
        seen.append((f"{method} {path}", (response.status_code, response.json())))
        return response.json()

    async def sdk_error(fn: Callable[[], object]) -> None:
        with pytest.raises(TwilioRestException) as caught:
            await s.run(fn)
        seen.append(("error", (caught.value.code, caught.value.status, caught.value.msg)))

    s.hooks.twiml("/voice", f'<Say>Please hold</Say><Dial action="/after"><Number>{AGENT}</Number></Dial>')
    s.hooks.twiml("/after", "<Say>Goodbye</Say>")
    s.hooks.twiml("/music", '<Pause length="30"/>')
    await control("POST", "/_voicesim/reset", data={"seed": "42"})
    await control("PUT", "/_voicesim/phones/+15550000011", data={"outcome": "busy"})
    await control("PUT", f"/_voicesim/phones/{AGENT}", data={"answer_after": "4"})
    number = await s.run(
        lambda: s.sdk.incoming_phone_numbers.create(phone_number=FROM, voice_url=f"{BASE}/voice")
    )
    seen.append(("number", props(number)))
    busy = await s.run(lambda: s.sdk.calls.create(to="+15550000011", from_=FROM, url=f"{BASE}/music"))
    seen.append(("busy", props(busy)))
    inbound = await control("POST", "/_voicesim/inbound-calls", data={"From": CALLER, "To": FROM})
    await control("POST", "/_voicesim/clock/advance", data={"seconds": "20"})
    calls = await s.run(lambda: s.sdk.calls.list(page_size=2))
    seen.append(("list", [props(c) for c in calls]))
    child = next(c for c in calls if c.parent_call_sid == inbound["sid"])
    moved = await s.run(lambda: s.sdk.calls(child.sid).update(url=f"{BASE}/music", method="POST"))
    seen.append(("redirect child", props(moved)))
    await control("POST", "/_voicesim/clock/advance", data={"seconds": "40"})
    for sid in (inbound["sid"], child.sid, busy.sid):
        seen.append((f"fetch {sid}", props(await s.run(functools.partial(s.sdk.calls(sid).fetch)))))
    await sdk_error(lambda: s.sdk.calls(child.sid).update(status="completed"))
    await sdk_error(lambda: s.sdk.calls.create(to="nope", from_=FROM, url=f"{BASE}/voice"))
    await sdk_error(lambda: s.sdk.calls("CA" + "0" * 32).fetch())
    seen.append(("delete", await s.run(lambda: s.sdk.calls(busy.sid).delete())))
    await control("GET", "/_voicesim/events", params={"type": "call.status"})
    await control("GET", "/_voicesim/alerts")
    await control("GET", "/_voicesim/timelines")
    text = await s.api.get("/_voicesim/timelines", params={"format": "text"})
    seen.append(("timelines text", text.text))
    seen.append(("webhooks", [(r.method, r.path, sorted(r.params.items())) for r in s.hooks.received]))
    return seen


async def test_the_same_scenario_gives_identical_results_in_process_and_over_http() -> None:
    async with open_surface("in-process", seed=1) as local:
        expected = await scenario(local)
    async with open_surface("http", seed=2) as remote:  # the scenario's reset re-seeds both
        actual = await scenario(remote)
    assert len(actual) == len(expected)
    for (label, want), (label_got, got) in zip(expected, actual, strict=True):
        assert (label_got, got) == (label, want)
    # It exercised what it claims to: a Dial bridge, a redirect, the action, statuses, errors.
    assert (
        "error",
        (21220, 400, "Unable to update record: Call is not in-progress. Cannot redirect."),
    ) in expected
    assert any(
        label == "webhooks" and any(path == "/after" for _, path, _ in value) for label, value in expected
    )


async def test_sync_sdk_create_fetch_list_update_delete(surface: Surface) -> None:
    sdk = surface.sdk
    surface.hooks.twiml("/voice", '<Pause length="600"/>')
    sids = [
        (
            await surface.run(
                functools.partial(sdk.calls.create, to=f"+1555000002{i}", from_=FROM, url=f"{BASE}/voice")
            )
        ).sid
        for i in range(5)
    ]
    listed = await surface.run(lambda: sdk.calls.list(page_size=2))
    assert [c.sid for c in listed] == sids[::-1]  # across three pages, newest first
    await surface.clock.advance(10)
    fetched = await surface.run(lambda: sdk.calls(sids[0]).fetch())
    assert (fetched.status, fetched.start_time.year, fetched.duration) == ("in-progress", 2026, None)
    done = await surface.run(lambda: sdk.calls(sids[0]).update(status="completed"))
    assert (done.status, done.duration) == ("completed", "7")
    assert await surface.run(lambda: sdk.calls(sids[0]).delete()) is True
    with pytest.raises(TwilioRestException) as caught:
        await surface.run(lambda: sdk.calls(sids[0]).fetch())
    assert (caught.value.code, caught.value.status) == (20404, 404)
    bad = (
        client(surface.emu, auth_token="wrong")
        if surface.base_url is None
        else client(base_url=surface.base_url, account_sid=surface.emu.account_sid, auth_token="wrong")
    )
    with pytest.raises(TwilioRestException) as denied:
        await surface.run(lambda: bad.calls(sids[1]).fetch())
    assert (denied.value.code, denied.value.status) == (20003, 401)
    if isinstance(bad.http_client, ForwardingHttpClient):
        bad.http_client.session.close()


async def test_async_sdk(surface: Surface) -> None:
    surface.hooks.twiml("/voice", '<Pause length="600"/>')
    sdk = surface.async_sdk()
    if surface.base_url is not None:
        assert isinstance(sdk.http_client, AsyncForwardingHttpClient)
    try:
        number = await sdk.incoming_phone_numbers.create_async(phone_number=FROM, voice_url=f"{BASE}/voice")
        updated = await sdk.incoming_phone_numbers(number.sid).update_async(voice_method="GET")
        assert (updated.voice_url, updated.voice_method) == (f"{BASE}/voice", "GET")
        sids = [
            (await sdk.calls.create_async(to=f"+1555000002{i}", from_=FROM, url=f"{BASE}/voice")).sid
            for i in range(3)
        ]
        assert [c.sid for c in await sdk.calls.list_async(page_size=2)] == sids[::-1]
        await surface.clock.advance(10)
        call = await sdk.calls(sids[1]).update_async(twiml="<Response><Hangup/></Response>")
        assert call.status == "in-progress"
        await surface.clock.advance(1)
        assert (await sdk.calls(sids[1]).fetch_async()).status == "completed"
        assert await sdk.calls(sids[1]).delete_async() is True
        with pytest.raises(TwilioRestException) as caught:
            await sdk.calls.create_async(to=FROM, from_=FROM)
        assert (caught.value.code, caught.value.status) == (21205, 400)
        assert await sdk.incoming_phone_numbers(number.sid).delete_async() is True
    finally:
        await sdk.http_client.close()


async def test_raw_http_wire_format() -> None:
    async with open_surface("http") as s:
        api = s.api
        created = await api.post(
            "Calls.json",
            [
                ("To", AGENT),
                ("From", FROM),
                ("Url", f"{BASE}/voice"),
                ("StatusCallbackEvent", "initiated"),
                ("StatusCallbackEvent", "answered"),
            ],
        )
        assert created.status_code == 201 and created.headers["content-type"] == "application/json"
        assert created.headers["content-length"] == str(len(created.content))
        assert s.emu.calls.by_sid[created.json()["sid"]].status_callback_events == {"initiated", "answered"}
        listed = await api.get("Calls.json", params={"PageSize": "1"})
        assert listed.json()["next_page_uri"] is None and listed.json()["uri"].startswith("/2010-04-01/")
        denied = await api.http.get(api.url("Calls.json"))
        assert (denied.status_code, denied.json()["code"]) == (401, 20003)
        nothing = await api.http.get(
            "/nope", headers={"Authorization": basic_auth(api.account_sid, api.auth_token)}
        )
        assert (nothing.status_code, nothing.json()["code"]) == (404, 20404)
        method = await api.request("PATCH", "Calls.json")
        assert method.status_code == 405
        deleted = await api.delete(f"Calls/{created.json()['sid']}.json")
        assert deleted.status_code == 400  # still queued: not deletable

        big = b"To=%2B15550000002&Pad=" + b"x" * MAX_BODY_BYTES
        too_big = await api.request(
            "POST", "Calls.json", content=big, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert (too_big.status_code, too_big.headers["content-type"], too_big.json()["status"]) == (
            413,
            "application/json",
            413,
        )
        assert len(s.emu.calls.all()) == 1
        clock = await api.get("/_voicesim/clock")
        assert clock.json()["virtual"] is True


async def run_cli(*args: str, timeout: float = 30) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "voicesim",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_python_m_voicesim_help() -> None:
    code, out, _ = await run_cli("--help")
    assert code == 0
    for option in (
        "--host",
        "--port",
        "--account-sid",
        "--auth-token",
        "--api-key",
        "--speed",
        "--virtual-clock",
        "--seed",
        "demo",
    ):
        assert option in out
    code, _, err = await run_cli("--speed", "0")
    assert code == 2 and "--speed must be positive" in err
    code, _, err = await run_cli("--virtual-clock", "--speed", "2")
    assert code == 2 and "--virtual-clock" in err
    for bad in ("SK123:secret", "SK" + "1" * 32, "SK" + "1" * 32 + ":"):
        code, _, err = await run_cli("--api-key", bad)
        assert code == 2 and "--api-key" in err, bad


async def test_python_m_voicesim_serves_on_a_free_port() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "voicesim",
        "--port",
        "0",
        "--speed",
        "2",
        "--api-key",
        "SK" + "7" * 32 + ":key:secret",  # the secret is everything after the first colon
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        banner = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        found = re.search(r"http://127\.0\.0\.1:(\d+)", banner)
        assert found and found.group(1) != "0", banner
        auth = {"Authorization": basic_auth(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{found.group(1)}", timeout=10) as http:
            response = None
            for _ in range(50):  # bounded: the socket listens before the banner, so normally one try
                try:
                    response = await http.get("/_voicesim/clock", headers=auth)
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.1)
            assert response is not None and response.status_code == 200
            assert response.json()["virtual"] is False
            later = (await http.get("/_voicesim/clock", headers=auth)).json()["now"]
            assert later >= response.json()["now"]
            calls = f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Calls.json"
            key = {"Authorization": basic_auth("SK" + "7" * 32, "key:secret")}
            assert (await http.get(calls, headers=key)).status_code == 200
            wrong = {"Authorization": basic_auth("SK" + "7" * 32, "key")}
            assert (await http.get(calls, headers=wrong)).status_code == 401
    finally:
        if proc.returncode is None:
            proc.terminate()
        code = await asyncio.wait_for(proc.wait(), 30)
    assert proc.stderr is not None
    errors = (await proc.stderr.read()).decode()
    # uvicorn shuts down gracefully (lifespan included), then re-raises SIGTERM to exit with it.
    assert code in (0, -signal.SIGTERM) and "Traceback" not in errors, errors


def test_a_server_started_without_a_seed_never_repeats_its_sids() -> None:
    """An application's database outlives ``python -m voicesim``: a restarted server that issued the
    SIDs of its first run again would hand new callers the SIDs of calls on record. ``--seed`` is
    there for the same SIDs on every start."""
    first = emulator_for(parse_args([])).sids.new("CA")
    assert emulator_for(parse_args([])).sids.new("CA") != first
    seeded = [emulator_for(parse_args(["--seed", "5"])).sids.new("CA") for _ in range(2)]
    assert seeded[0] == seeded[1]


async def test_a_virtual_clock_server_moves_only_through_the_control_api() -> None:
    """``python -m voicesim --virtual-clock``: what the README's clock/advance example needs."""
    emu = emulator_for(parse_args(["--virtual-clock", "--seed", "0"]))
    assert isinstance(emu.clock, VirtualClock)
    auth = {"Authorization": basic_auth(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)}
    try:
        async with serving(emu) as base_url, httpx.AsyncClient(base_url=base_url, headers=auth) as http:
            before = (await http.get("/_voicesim/clock")).json()
            assert before["virtual"] is True
            moved = await http.post("/_voicesim/clock/advance", data={"seconds": "90"})
            assert moved.status_code == 200 and moved.json()["now"] == before["now"] + 90
            idle = await http.post("/_voicesim/clock/run-until-idle")
            assert idle.status_code == 200
    finally:
        emu.close()
        await emu.webhooks.aclose()


async def test_a_client_for_a_server_defaults_to_the_servers_default_credentials() -> None:
    """``client(base_url=...)`` alone reaches a ``python -m voicesim`` started without credentials."""
    emu = emulator_for(parse_args(["--virtual-clock"]))
    try:
        async with serving(emu) as base_url:
            sdk = client(base_url=base_url)
            try:
                assert (sdk.username, sdk.password) == (DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
                assert await asyncio.to_thread(lambda: sdk.calls.list()) == []
            finally:
                sdk.http_client.session.close()
    finally:
        emu.close()
        await emu.webhooks.aclose()
