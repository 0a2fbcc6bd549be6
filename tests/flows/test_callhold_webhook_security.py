"""Every Twilio-facing endpoint checks ``X-Twilio-Signature`` (issue 4, Deliver 6), behind proxies too.

The routes are read from callhold's webhook router, so a route added later is covered (or this test
fails). Requests are signed with the SDK's ``RequestValidator``, as Twilio signs them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import urlencode

import pytest
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from callhold.config import Settings
from callhold.web import security, webhooks
from callhold.web.app import create_app
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.flows.callhold_signed import Form, send
from voicesim import Emulator, VirtualClock

ROUTES = sorted(
    (method, route.path)
    for route in webhooks.router.routes
    if isinstance(route, APIRoute)
    for method in route.methods or ()
)


@pytest.fixture
async def h(voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path) -> Harness:
    """A customer held on a conference call, so every route has a real call and hold to name."""
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")
    await h.held()
    return h


def url_for(h: Harness, path: str) -> tuple[str, dict[str, str]]:
    """The absolute URL of ``path`` for the harness's call, and a form Twilio would send to it."""
    view = h.services.service.view(h.services.store.list_calls()[0].id)
    assert view.hold is not None
    filled = path.format(call_id=view.call.id, hold_id=view.hold.id, kind="agent-reminder")
    form = {
        "AccountSid": h.emu.account_sid,
        "ApiVersion": "2010-04-01",
        "CallSid": view.call.customer_call_sid,
        "CallStatus": "in-progress",
        "From": "+15551230001",
        "To": "+15550001000",
        "Direction": "inbound",
    }
    return BASE + filled, form


def test_the_signed_routes_are_every_twilio_facing_route(voicesim: Emulator, tmp_path: Path) -> None:
    app = create_app(
        Settings(database_url=f"sqlite:///{tmp_path}/c.db", public_base_url=BASE), emulator=voicesim, seed=0
    )
    signed = {path for _, path in ROUTES}
    twilio_facing = {path for path in _paths(app.routes) if path.startswith(("/twiml/", "/webhooks/"))}
    assert twilio_facing == signed
    assert len(signed) >= 17


def _paths(routes: Sequence[BaseRoute]) -> Iterator[str]:
    """Every API route's path, looking inside included routers (FastAPI keeps them nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route.path
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _paths(included.routes)


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_each_route_answers_403_unless_the_signature_is_right(
    h: Harness, method: str, path: str
) -> None:
    url, form = url_for(h, path)
    body: dict[str, str] = form
    if method == "GET":  # Twilio sends a GET's parameters in the query string, which the URL signature covers
        url, body = f"{url}?{urlencode(form)}", {}
    token = h.emu.auth_token

    async def status(
        auth_token: str | None, *, signed_url: str | None = None, signed_form: Form | None = None
    ) -> int:
        response = await send(
            h.app,
            url,
            body,
            method=method,
            auth_token=auth_token,
            signed_url=signed_url,
            signed_form=signed_form,
        )
        return response.status_code

    assert await status(auth_token=None) == 403  # unsigned
    assert await status(auth_token="0" * 32) == 403  # signed with another token
    assert await status(auth_token=token, signed_url=url + "x") == 403  # signed for another URL
    if method == "POST":  # the form was changed after it was signed
        assert await status(auth_token=token, signed_form={**form, "CallStatus": "ringing"}) == 403
    response = await send(h.app, url, body, method=method, auth_token=token)
    assert 200 <= response.status_code < 300, response.text
    forbidden = await send(h.app, url, body, method=method, auth_token=None)
    assert forbidden.headers["content-type"] == "application/problem+json"


async def test_a_get_signature_covers_the_query_string(h: Harness) -> None:
    url, _ = url_for(h, "/twiml/conference/hold-music/{hold_id}")
    token = h.emu.auth_token
    ok = await send(h.app, url + "?since=20", method="GET", auth_token=token)
    assert ok.status_code == 200 and "<Play" in ok.text
    moved = await send(h.app, url + "?since=40", method="GET", auth_token=token, signed_url=url + "?since=20")
    assert moved.status_code == 403


@pytest.mark.parametrize(
    ("public_base_url", "reach_at"),
    [
        ("https://calls.example.com", "http://internal:8000"),  # TLS ends at the proxy
        ("https://calls.example.com/callhold", "http://internal:8000"),  # the proxy strips a prefix
    ],
)
async def test_behind_a_proxy_the_public_url_is_what_is_signed(
    voicesim: Emulator, tmp_path: Path, public_base_url: str, reach_at: str
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/c.db", public_base_url=public_base_url)
    app = create_app(settings, emulator=voicesim, seed=0)
    token = voicesim.auth_token
    form = {"CallSid": "CA" + "1" * 32, "CallStatus": "ringing", "SequenceNumber": "1"}
    public = f"{public_base_url}/webhooks/call-status"

    async def status(signed_url: str) -> int:
        response = await send(
            app,
            public,
            form,
            auth_token=token,
            signed_url=signed_url,
            reach_at=reach_at,
            path="/webhooks/call-status",
        )
        return response.status_code

    assert await status(public) == 204
    assert await status(public.replace(".com/", ".com:443/", 1)) == 204  # Twilio may sign with the port
    assert await status(f"{reach_at}/webhooks/call-status") == 403  # the URL the app was reached at


async def test_repeated_form_keys_are_signed_and_checked_as_twilio_signs_them(h: Harness) -> None:
    url = f"{BASE}/webhooks/conference"
    form = [
        ("AccountSid", h.emu.account_sid),
        ("ConferenceSid", "CF" + "9" * 32),
        ("FriendlyName", "not-a-callhold-conference"),
        ("SequenceNumber", "1"),
        ("StatusCallbackEvent", "participant-join"),
        ("StatusCallbackEvent", "participant-mute"),
    ]
    token = h.emu.auth_token
    assert (await send(h.app, url, form, auth_token=token)).status_code == 204
    # A signature over only one of the two values does not cover the request.
    partial = await send(h.app, url, form, auth_token=token, signed_form=form[:-1])
    assert partial.status_code == 403


async def test_refused_webhooks_are_logged_naming_the_url_checked_at_most_every_few_seconds(
    h: Harness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong auth token or public base URL refuses every webhook: the log must say which URL the
    signature was checked against -- once, not once per request of a flood."""
    now = [1000.0]
    monkeypatch.setattr("callhold.web.security.time.monotonic", lambda: now[0])
    monkeypatch.setattr(security, "_refusals", security._Refusals())
    url, form = url_for(h, "/webhooks/call-status")
    caplog.set_level("WARNING", logger="callhold.webhooks")
    for _ in range(3):
        assert (await send(h.app, url, form, auth_token="0" * 32)).status_code == 403
    assert [r.getMessage() for r in caplog.records] == [
        f"webhook refused (403): X-Twilio-Signature does not match POST {url!r}: if Twilio sent it, "
        "this is not the URL Twilio requested (CALLHOLD_PUBLIC_BASE_URL) or not its auth token"
    ]
    now[0] += security._Refusals.every
    music, _ = url_for(h, "/twiml/conference/hold-music/{hold_id}")
    query = "?since=5&From=%2B15551230001"  # a GET carries the caller's number in its query
    assert (await send(h.app, music + query, method="GET", auth_token="0" * 32)).status_code == 403
    logged = caplog.records[-1].getMessage()
    assert logged.endswith("(2 more refused since the last such line)")
    assert f"GET {music!r}" in logged and "15551230001" not in logged
