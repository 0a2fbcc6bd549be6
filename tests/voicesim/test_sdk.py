"""The official ``twilio`` SDK, unchanged, against voicesim in process: sync and ``*_async``."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from tests.webhook_app import WebhookApp
from voicesim import Emulator, PhoneScript, VirtualClock
from voicesim.sdk import AsyncInProcessHttpClient, InProcessHttpClient, client

FROM, TO = "+15550000001", "+15550000010"


def test_the_plugin_client_is_the_sdk_on_an_in_process_transport(
    twilio_client: Client, voicesim: Emulator
) -> None:
    assert isinstance(twilio_client, Client)
    assert isinstance(twilio_client.http_client, InProcessHttpClient)
    assert twilio_client.account_sid == voicesim.account_sid


def test_sync_calls_create_fetch_list_update_delete(twilio_client: Client, voicesim: Emulator) -> None:
    call = twilio_client.calls.create(
        to=TO,
        from_=FROM,
        url="http://app.test/voice",
        status_callback="http://app.test/status",
        status_callback_event=["initiated", "answered"],
        timeout=20,
    )
    assert (call.status, call.to, call._from, call.direction) == ("queued", TO, FROM, "outbound-api")
    assert call.date_created is not None and call.date_created.year == 2026  # parsed from RFC 2822
    record = voicesim.calls.by_sid[call.sid]
    assert record.status_callback_events == {"initiated", "answered"} and record.timeout == 20

    fetched = twilio_client.calls(call.sid).fetch()
    assert (fetched.sid, fetched.status, fetched.duration) == (call.sid, "queued", None)
    assert [c.sid for c in twilio_client.calls.list(to=TO)] == [call.sid]
    assert twilio_client.calls.list(status="completed") == []

    canceled = twilio_client.calls(call.sid).update(status="canceled")
    assert canceled.status == "canceled"
    assert twilio_client.calls(call.sid).delete() is True
    assert twilio_client.calls.list() == []


def test_sync_list_pages_through_every_record_newest_first(twilio_client: Client) -> None:
    sids = [
        twilio_client.calls.create(to=f"+1555000002{i}", from_=FROM, twiml="<Response/>").sid
        for i in range(7)
    ]
    assert [c.sid for c in twilio_client.calls.list(page_size=2)] == sids[::-1]
    assert [c.sid for c in twilio_client.calls.stream(page_size=3, limit=5)] == sids[::-1][:5]
    page = twilio_client.calls.page(page_size=3)
    second = page.next_page()
    assert [c.sid for c in second] == sids[::-1][3:6]
    assert [c.sid for c in second.next_page()] == sids[::-1][6:]


def test_sync_numbers_create_list_fetch_update_delete(twilio_client: Client) -> None:
    number = twilio_client.incoming_phone_numbers.create(
        phone_number="+15550001001", voice_url="http://app.test/voice", voice_method="GET"
    )
    assert (number.phone_number, number.voice_url, number.voice_method) == (
        "+15550001001",
        "http://app.test/voice",
        "GET",
    )
    assert number.capabilities == {"voice": True, "sms": False, "mms": False, "fax": False}
    assert [n.sid for n in twilio_client.incoming_phone_numbers.list(phone_number="+15550001001")] == [
        number.sid
    ]
    updated = twilio_client.incoming_phone_numbers(number.sid).update(
        voice_url="http://app.test/v2", friendly_name="Support"
    )
    assert (updated.voice_url, updated.friendly_name) == ("http://app.test/v2", "Support")
    assert twilio_client.incoming_phone_numbers(number.sid).fetch().voice_url == "http://app.test/v2"
    assert twilio_client.incoming_phone_numbers(number.sid).delete() is True
    assert twilio_client.incoming_phone_numbers.list() == []


@pytest.mark.parametrize(
    ("action", "code", "status"),
    [
        (lambda c: c.calls("CA" + "0" * 32).fetch(), 20404, 404),
        (lambda c: c.calls.create(to="", from_=FROM, url="http://app.test/voice"), 21201, 400),
        (lambda c: c.calls.create(to=TO, from_="", url="http://app.test/voice"), 21213, 400),
        (lambda c: c.calls.create(to=TO, from_=FROM), 21205, 400),
        (lambda c: c.incoming_phone_numbers("PNnope").update(voice_url="http://app.test/x"), 20404, 404),
        # Twilio's codes for these (reviewed in r2, F4): 21208 Invalid Timeout, 21209 Invalid Method.
        (lambda c: c.calls.create(to=TO, from_=FROM, twiml="<Response/>", timeout=0), 21208, 400),
        (lambda c: c.calls.create(to=TO, from_=FROM, twiml="<Response/>", timeout=700), 21208, 400),
        (lambda c: c.calls.create(to=TO, from_=FROM, url="http://app.test/v", method="PUT"), 21209, 400),
        (
            lambda c: c.calls.create(to=TO, from_=FROM, url="http://app.test/v", fallback_method="X"),
            21209,
            400,
        ),
        (lambda c: c.calls.create(to=TO, from_=FROM, twiml="<Response/>", time_limit=0), 13216, 400),
    ],
)
def test_sync_errors_are_twilio_rest_exceptions(
    twilio_client: Client, action: object, code: int, status: int
) -> None:
    with pytest.raises(TwilioRestException) as caught:
        action(twilio_client)  # type: ignore[operator]
    assert (caught.value.code, caught.value.status) == (code, status)
    assert caught.value.msg


async def test_deleting_a_live_call_is_20009(twilio_client: Client, voicesim_clock: VirtualClock) -> None:
    call = twilio_client.calls.create(to=TO, from_=FROM, twiml="<Response><Pause length='120'/></Response>")
    await voicesim_clock.advance(5)
    with pytest.raises(TwilioRestException) as caught:
        twilio_client.calls(call.sid).delete()
    assert (caught.value.code, caught.value.status) == (20009, 400)
    twilio_client.calls(call.sid).update(status="completed")
    assert twilio_client.calls(call.sid).delete() is True


def test_a_page_size_over_1000_is_20007(twilio_client: Client) -> None:
    with pytest.raises(TwilioException) as caught:  # the SDK's list() wraps the error page
        twilio_client.calls.list(page_size=1001)
    assert '"code": 20007' in str(caught.value)
    assert twilio_client.calls.list(page_size=1000) == []


def test_sync_wrong_credentials(voicesim: Emulator) -> None:
    bad = client(voicesim, auth_token="not-the-token")
    with pytest.raises(TwilioRestException) as caught:
        bad.calls("CA" + "0" * 32).fetch()
    assert (caught.value.code, caught.value.status) == (20003, 401)


async def test_redirect_and_hang_up_through_the_sync_sdk(
    twilio_client: Client, voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    app.twiml("/voice", '<Pause length="600"/>')
    app.twiml("/next", '<Pause length="600"/>')
    voicesim.phones.script(TO, PhoneScript(answer_after=2))
    call = twilio_client.calls.create(to=TO, from_=FROM, url="http://app.test/voice")
    with pytest.raises(TwilioRestException) as caught:
        twilio_client.calls(call.sid).update(url="http://app.test/next")  # still queued
    assert (caught.value.code, caught.value.status) == (21220, 400)
    await voicesim_clock.advance(5)
    assert (
        twilio_client.calls(call.sid).update(url="http://app.test/next", method="GET").status == "in-progress"
    )
    await voicesim_clock.advance(1)
    assert [r.method for r in app.to("/next")] == ["GET"]
    await voicesim_clock.advance(60)
    done = twilio_client.calls(call.sid).update(status="completed")
    assert (done.status, done.duration, done.end_time is not None) == ("completed", "64", True)
    with pytest.raises(TwilioRestException) as again:
        twilio_client.calls(call.sid).update(status="completed")
    assert (again.value.code, again.value.status) == (21220, 400)
    voicesim_clock.raise_errors()


async def test_async_client_does_everything_the_sync_one_does(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    app.twiml("/voice", '<Pause length="600"/>')
    sdk = client(voicesim, asynchronous=True)
    assert isinstance(sdk.http_client, AsyncInProcessHttpClient)
    number = await sdk.incoming_phone_numbers.create_async(
        phone_number=FROM, voice_url="http://app.test/voice"
    )
    assert (await sdk.incoming_phone_numbers(number.sid).fetch_async()).voice_url == "http://app.test/voice"

    sids = [
        (await sdk.calls.create_async(to=f"+1555000002{i}", from_=FROM, url="http://app.test/voice")).sid
        for i in range(5)
    ]
    assert [c.sid for c in await sdk.calls.list_async(page_size=2)] == sids[::-1]
    await voicesim_clock.advance(5)
    fetched = await sdk.calls(sids[0]).fetch_async()
    assert fetched.status == "in-progress"
    redirected = await sdk.calls(sids[0]).update_async(twiml="<Response><Hangup/></Response>")
    assert redirected.sid == sids[0]
    await voicesim_clock.advance(1)
    assert (await sdk.calls(sids[0]).fetch_async()).status == "completed"
    assert await sdk.calls(sids[0]).delete_async() is True
    assert len(await sdk.calls.list_async()) == 4

    with pytest.raises(TwilioRestException) as caught:
        await sdk.calls(sids[0]).fetch_async()
    assert (caught.value.code, caught.value.status) == (20404, 404)
    with pytest.raises(TwilioRestException) as refused:
        await sdk.calls.create_async(to="bogus", from_=FROM, url="http://app.test/voice")
    assert (refused.value.code, refused.value.status) == (21211, 400)
    await sdk.http_client.close()
    voicesim_clock.raise_errors()
