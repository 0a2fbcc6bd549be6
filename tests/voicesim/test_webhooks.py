"""Every outbound request is signed like Twilio's and carries Twilio's parameters."""

from __future__ import annotations

import httpx
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.webhook_app import BASE, Received, WebhookApp
from voicesim import Emulator, Source, VirtualClock

NUMBER, CALLER = "+15550001000", "+15551230001"


def valid(emu: Emulator, got: Received) -> bool:
    params = got.params if got.method == "POST" else {}
    return bool(RequestValidator(emu.auth_token).validate(got.url, params, got.headers["x-twilio-signature"]))


async def test_every_request_validates_with_the_sdk_request_validator(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    app.twiml("/voice", '<Say>Hi</Say><Redirect method="GET">/next?x=1</Redirect>')
    app.twiml("/next", '<Dial action="/after"><Number>+15552220000</Number></Dial>')
    app.twiml("/after", "<Hangup/>")
    voicesim.buy_number(NUMBER, voice_url=f"{BASE}/voice", status_callback=f"{BASE}/status")
    voicesim.phones.script("+15552220000", hang_up_after=3)
    voicesim.inbound_call(CALLER, NUMBER)
    await voicesim_clock.advance(60)
    paths = [(r.method, r.path) for r in app.received]
    assert paths == [("POST", "/voice"), ("GET", "/next"), ("POST", "/after"), ("POST", "/status")]
    assert all(valid(voicesim, r) for r in app.received)
    tampered = app.received[0]
    assert not RequestValidator("another-token").validate(
        tampered.url, tampered.params, tampered.headers["x-twilio-signature"]
    )
    assert app.to("/next")[0].params["x"] == "1"  # GET: parameters in the query string, signed with the URL


async def test_standard_parameters(voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp) -> None:
    app.twiml("/voice", "<Say>Hi</Say>")
    number = voicesim.buy_number(NUMBER, voice_url=f"{BASE}/voice")
    call = voicesim.inbound_call(CALLER, NUMBER)
    await voicesim_clock.advance(5)
    params = app.to("/voice")[0].params
    assert params == {
        "AccountSid": voicesim.account_sid,
        "ApiVersion": "2010-04-01",
        "CallSid": call.sid,
        "CallStatus": "ringing",
        "Called": NUMBER,
        "Caller": CALLER,
        "Direction": "inbound",
        "From": CALLER,
        "To": NUMBER,
    }
    assert number.sid == call.phone_number_sid


async def test_status_callbacks_for_each_subscribed_event(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, twilio_client: Client
) -> None:
    app.twiml("/out", '<Pause length="12"/>')
    voicesim.phones.script("+15557770000", answer_after=5)
    created = twilio_client.calls.create(
        to="+15557770000",
        from_=NUMBER,
        url=f"{BASE}/out",
        status_callback=f"{BASE}/status",
        status_callback_event=["initiated", "ringing", "answered", "completed"],
    )
    await voicesim_clock.advance(30)
    events = app.to("/status")
    assert [(e.params["CallStatus"], e.params["SequenceNumber"]) for e in events] == [
        ("initiated", "0"),
        ("ringing", "1"),
        ("in-progress", "2"),
        ("completed", "3"),
    ]
    assert all(
        e.params["CallbackSource"] == "call-progress-events" and e.params["CallSid"] == created.sid
        for e in events
    )
    assert events[-1].params["CallDuration"] == "12" and events[-1].params["Duration"] == "1"
    assert events[2].params["Timestamp"] == voicesim.rfc2822(voicesim_clock.now() - 25)
    assert "CallDuration" not in events[1].params
    assert all(valid(voicesim, e) for e in events)


async def test_default_subscription_is_completed_only(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, twilio_client: Client
) -> None:
    app.twiml("/out", "<Say>hi</Say>")
    twilio_client.calls.create(
        to="+15557770000", from_=NUMBER, url=f"{BASE}/out", status_callback=f"{BASE}/status"
    )
    await voicesim_clock.advance(30)
    assert [e.params["CallStatus"] for e in app.to("/status")] == ["completed"]


async def test_a_call_canceled_while_queued_sends_no_callbacks(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, twilio_client: Client
) -> None:
    call = twilio_client.calls.create(
        to="+15557770000", from_=NUMBER, url=f"{BASE}/out", status_callback=f"{BASE}/status"
    )
    assert twilio_client.calls(call.sid).update(status="canceled").status == "canceled"
    await voicesim_clock.advance(30)
    assert app.to("/status") == [] and app.to("/out") == []


async def test_timeout_and_connection_failure_are_11205(
    voicesim: Emulator, voicesim_clock: VirtualClock
) -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer in 15 s", request=request)

    voicesim.webhooks.use_transport(httpx.MockTransport(timeout))
    voicesim.create_call(to="+15557770000", from_=NUMBER, source=Source(url="http://slow.test/voice"))
    await voicesim_clock.advance(30)
    assert [a.error_code for a in voicesim.alerts] == [11205]
    voicesim.webhooks.use_transport(None)
    voicesim.create_call(to="+15557770000", from_=NUMBER, source=Source(url="http://127.0.0.1:9/voice"))
    await voicesim_clock.advance(30)
    assert [a.error_code for a in voicesim.alerts] == [11205, 11205]


async def test_http_redirects_are_followed_up_to_ten(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    from starlette.responses import RedirectResponse

    app.twiml("/final", "<Say>made it</Say>")
    loop = {"/r1": "/final", "/loop": "/loop"}
    for path, target in loop.items():
        app.bodies[path] = lambda _r, t=target: (302, "text/plain", t.encode())
    original = app.asgi

    async def redirecting(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http" and scope["path"] in loop:
            await RedirectResponse(loop[scope["path"]], status_code=302)(scope, receive, send)
            return
        await original(scope, receive, send)

    voicesim.webhooks.mount(BASE, redirecting)
    ok = voicesim.create_call(to="+15557770000", from_=NUMBER, source=Source(url=f"{BASE}/r1"))
    bad = voicesim.create_call(to="+15557770001", from_=NUMBER, source=Source(url=f"{BASE}/loop"))
    await voicesim_clock.advance(30)
    assert voicesim.media.segments(ok.sid)[0].detail == "made it"
    assert [a.error_code for a in voicesim.alerts if a.call_sid == bad.sid] == [11215]
