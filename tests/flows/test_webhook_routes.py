"""The webhook routes as the app serves them: errors as problem JSON, typed query parameters, and
``webhooks.install`` (the routes added to the app itself) serving exactly what ``include_router`` does.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from callhold.web import problems, webhooks
from callhold.web.deps import WebhookRoute
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.flows.callhold_signed import send, signature
from voicesim import Emulator, VirtualClock

PROBLEM = "application/problem+json"


@pytest.fixture
async def h(voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path) -> Harness:
    """A customer held on a conference call."""
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")
    await h.held()
    return h


def hold_id(h: Harness) -> str:
    view = h.view(h.services.store.list_calls()[0].id)
    assert view.hold is not None
    return view.hold.id


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/twiml/conference/hold-music/{hold}?since=soon", "since"),
        ("/twiml/conference/hold-music/{hold}?since=nan", "since"),
        ("/twiml/legs/hold-music/{hold}?again=x", "again"),
    ],
)
async def test_a_query_parameter_of_the_wrong_type_is_a_422_problem(h: Harness, path: str, name: str) -> None:
    url = BASE + path.format(hold=hold_id(h))
    response = await send(h.app, url, method="GET", auth_token=h.emu.auth_token)
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["loc"] == ["query", name]
    # The signature is checked first: a forged request is 403 whatever its query.
    forged = await send(h.app, url, method="GET", auth_token="0" * 32)
    assert forged.status_code == 403


async def test_typed_query_parameters_are_read(h: Harness) -> None:
    await h.clock.advance(30)  # 35 s into the hold: a reminder is due unless it was said after 30 s
    url = f"{BASE}/twiml/conference/hold-music/{hold_id(h)}"
    token = h.emu.auth_token
    from_start = await send(h.app, url, method="GET", auth_token=token)
    after_reminder = await send(h.app, url + "?since=30.5", method="GET", auth_token=token)
    assert from_start.status_code == after_reminder.status_code == 200
    assert "<Say" in from_start.text and "<Say" not in after_reminder.text


async def test_domain_errors_and_wrong_methods_are_problems(h: Harness) -> None:
    token = h.emu.auth_token
    missing = await send(h.app, f"{BASE}/twiml/legs/enqueue/HO404", auth_token=token)
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    assert missing.json()["type"].endswith("/not-found")
    wrong_method = await send(h.app, f"{BASE}/twiml/voice", method="GET", auth_token=token)
    assert wrong_method.status_code == 405 and wrong_method.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"CallSid=%ZZ&&=&\xff\xfe", "application/x-www-form-urlencoded"),
        (b"--x\r\nnot a part", "multipart/form-data; boundary=x"),
        (b"--x\r\n", "multipart/form-data"),
        (  # a file: nothing Twilio signs (it used to reach the SDK and fail there, a 500)
            b'--x\r\nContent-Disposition: form-data; name="CallSid"; filename="a"\r\n\r\nCA1\r\n--x--\r\n',
            "multipart/form-data; boundary=x",
        ),
        (b'{"CallSid": "CA1"}', "application/json"),
        (b"\x00\x01\x02", "application/octet-stream"),
    ],
)
@pytest.mark.parametrize("path", ["/webhooks/call-status", "/twiml/voice", "/twiml/wait-music"])
async def test_a_garbled_body_is_never_a_server_error(
    h: Harness, path: str, body: bytes, content_type: str
) -> None:
    async with _client(h) as client:
        for headers in ({}, {"X-Twilio-Signature": signature("0" * 32, BASE + path)}):
            response = await client.post(
                path, content=body, headers={"Content-Type": content_type, **headers}
            )
            assert response.status_code in (400, 403), response.text
            assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/webhooks/conference", {"StatusCallbackEvent": "participant-hold", "SequenceNumber": "x1"}),
        ("/webhooks/conference", {"StatusCallbackEvent": "conference-start", "Timestamp": "not a date"}),
        ("/webhooks/call-status", {"CallStatus": "ringing", "SequenceNumber": "-3", "Timestamp": "Mon, 99"}),
    ],
)
async def test_unreadable_callback_fields_are_never_a_server_error(
    h: Harness, path: str, form: dict[str, str]
) -> None:
    """A correctly signed callback with a SequenceNumber or Timestamp Twilio would never send (a
    proxy mangling it, say) is taken as having none: recorded as of now, not a 500."""
    call = h.services.store.list_calls()[0]
    fields = {"CallSid": call.customer_call_sid, "FriendlyName": call.conference_name or "", **form}
    fields["ConferenceSid"] = "CF" + "9" * 32
    response = await send(h.app, BASE + path, fields, auth_token=h.emu.auth_token)
    assert response.status_code == 204, response.text


def _client(h: Harness) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=h.app), base_url=BASE)


def _routes(routes: list[BaseRoute]) -> set[tuple[str, tuple[str, ...], str]]:
    return {
        (route.path, tuple(sorted(route.methods or ())), route.name)
        for route in routes
        if isinstance(route, APIRoute) and route.path.startswith(("/twiml/", "/webhooks/"))
    }


async def test_install_adds_the_same_routes_as_include_router(h: Harness) -> None:
    included = FastAPI()
    included.include_router(webhooks.router)
    installed = FastAPI()
    webhooks.install(installed)
    assert all(isinstance(route, WebhookRoute) for route in webhooks.router.routes)
    assert _routes(installed.router.routes) == _routes(list(webhooks.router.routes))
    assert len(_routes(installed.router.routes)) == len(webhooks.router.routes) >= 17
    # ... and serves them the same: signature checked, errors as problems.
    installed.state.services = h.services
    problems.install(installed)
    url = f"{BASE}/twiml/wait-music"
    ok = await send(installed, url, method="GET", auth_token=h.emu.auth_token)
    assert ok.status_code == 200 and "<Play" in ok.text
    forbidden = await send(installed, url, auth_token=None)
    assert forbidden.status_code == 403 and forbidden.headers["content-type"] == PROBLEM
    held = f"{BASE}/twiml/conference/hold-music/{hold_id(h)}"
    assert (await send(installed, held, method="GET", auth_token=h.emu.auth_token)).text == (
        await send(h.app, held, method="GET", auth_token=h.emu.auth_token)
    ).text
