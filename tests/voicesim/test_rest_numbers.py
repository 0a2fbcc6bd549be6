"""``/IncomingPhoneNumbers``: create, list, fetch, update, delete -- and inbound calls routed by them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.voicesim.contract import Api, asgi_api
from tests.webhook_app import WebhookApp
from voicesim import Emulator, VirtualClock
from voicesim.clock import DEFAULT_EPOCH

CALLER = "+15559990000"


@pytest.fixture
async def api(voicesim: Emulator) -> AsyncIterator[Api]:
    async with asgi_api(voicesim) as driver:
        yield driver


async def buy(api: Api, number: str, **fields: str) -> dict[str, Any]:
    response = await api.post("IncomingPhoneNumbers.json", {"PhoneNumber": number, **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def ring(api: Api, to: str) -> dict[str, Any]:
    response = await api.post("/_voicesim/inbound-calls", {"From": CALLER, "To": to})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_create_renders_the_voice_configuration(voicesim: Emulator, api: Api) -> None:
    number = await buy(
        api,
        "+1 (555) 000-1001",
        VoiceUrl="https://app.test/voice",
        VoiceMethod="get",
        VoiceFallbackUrl="https://app.test/fallback",
        VoiceFallbackMethod="GET",
        StatusCallback="https://app.test/status",
        StatusCallbackMethod="GET",
    )
    assert number["phone_number"] == "+15550001001"
    assert number["friendly_name"] == "(555) 000-1001"
    assert (number["voice_url"], number["voice_method"]) == ("https://app.test/voice", "GET")
    assert (number["voice_fallback_url"], number["voice_fallback_method"]) == (
        "https://app.test/fallback",
        "GET",
    )
    assert (number["status_callback"], number["status_callback_method"]) == ("https://app.test/status", "GET")
    assert number["capabilities"]["voice"] is True
    assert (
        number["uri"]
        == f"/2010-04-01/Accounts/{voicesim.account_sid}/IncomingPhoneNumbers/{number['sid']}.json"
    )
    assert number["date_created"] == Emulator.rfc2822(DEFAULT_EPOCH)
    plain = await buy(api, "+15550001002", FriendlyName="Sales")
    assert (plain["friendly_name"], plain["voice_url"], plain["voice_method"]) == ("Sales", None, "POST")


async def test_list_fetch_and_filters(api: Api) -> None:
    a = await buy(api, "+15550001001", FriendlyName="Support")
    b = await buy(api, "+15550001002", FriendlyName="Sales")
    c = await buy(api, "+442071838750", FriendlyName="Support")

    async def sids(**params: str) -> list[str]:
        page = (await api.get("IncomingPhoneNumbers.json", params=params)).json()
        return [n["sid"] for n in page["incoming_phone_numbers"]]

    assert await sids() == [a["sid"], b["sid"], c["sid"]]
    assert await sids(PhoneNumber="+15550001002") == [b["sid"]]
    assert await sids(PhoneNumber="555000100") == [a["sid"], b["sid"]]  # partial numbers match
    assert await sids(FriendlyName="Support") == [a["sid"], c["sid"]]
    first = (await api.get("IncomingPhoneNumbers.json", params={"PageSize": "2"})).json()
    rest = (await api.get(first["next_page_uri"])).json()
    assert [n["sid"] for n in first["incoming_phone_numbers"] + rest["incoming_phone_numbers"]] == [
        a["sid"],
        b["sid"],
        c["sid"],
    ]
    fetched = (await api.get(f"IncomingPhoneNumbers/{b['sid']}.json")).json()
    assert fetched == b


async def test_update_changes_only_what_is_sent(voicesim_clock: VirtualClock, api: Api) -> None:
    number = await buy(api, "+15550001001", VoiceUrl="https://app.test/voice", FriendlyName="Support")
    await voicesim_clock.advance(60)
    updated = await api.post(
        f"IncomingPhoneNumbers/{number['sid']}.json",
        {"VoiceUrl": "https://app.test/v2", "VoiceMethod": "GET", "StatusCallback": "https://app.test/s"},
    )
    assert updated.status_code == 200
    body = updated.json()
    assert (body["voice_url"], body["voice_method"], body["status_callback"]) == (
        "https://app.test/v2",
        "GET",
        "https://app.test/s",
    )
    assert body["friendly_name"] == "Support" and body["voice_fallback_url"] is None
    assert body["date_created"] == number["date_created"]
    assert body["date_updated"] == Emulator.rfc2822(DEFAULT_EPOCH + 60)
    assert (await api.get(f"IncomingPhoneNumbers/{number['sid']}.json")).json() == body
    cleared = (await api.post(f"IncomingPhoneNumbers/{number['sid']}.json", {"VoiceUrl": ""})).json()
    assert cleared["voice_url"] is None and cleared["friendly_name"] == "Support"


async def test_delete_releases_the_number(voicesim: Emulator, api: Api) -> None:
    number = await buy(api, "+15550001001")
    deleted = await api.delete(f"IncomingPhoneNumbers/{number['sid']}.json")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert (await api.get(f"IncomingPhoneNumbers/{number['sid']}.json")).status_code == 404
    assert (await api.get("IncomingPhoneNumbers.json")).json()["incoming_phone_numbers"] == []
    refused = await api.post("/_voicesim/inbound-calls", {"From": CALLER, "To": "+15550001001"})
    assert refused.status_code == 400 and voicesim.calls.all() == []
    again = await buy(api, "+15550001001")  # can be bought again
    assert again["sid"] != number["sid"]


async def test_inbound_calls_follow_the_numbers_configuration(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, api: Api
) -> None:
    app.twiml("/voice", '<Say>Hello</Say><Pause length="5"/>')
    app.twiml("/v2", '<Pause length="5"/>')
    app.twiml("/fallback", '<Pause length="5"/>')
    app.raw("/broken", b"oops", "text/plain", status=500)
    app.raw("/status", b"", "text/plain")
    number = await buy(
        api,
        "+15550001001",
        VoiceUrl="http://app.test/voice",
        VoiceMethod="GET",
        StatusCallback="http://app.test/status",
    )

    first = await ring(api, "+15550001001")
    assert (first["direction"], first["phone_number_sid"], first["to"], first["from"]) == (
        "inbound",
        number["sid"],
        "+15550001001",
        CALLER,
    )
    await voicesim_clock.advance(30)
    [fetch] = app.to("/voice")
    assert (
        fetch.method == "GET"
        and fetch.params["CallSid"] == first["sid"]
        and fetch.params["To"] == "+15550001001"
    )
    assert [r.params["CallStatus"] for r in app.to("/status")] == ["completed"]

    await api.post(
        f"IncomingPhoneNumbers/{number['sid']}.json",
        {"VoiceUrl": "http://app.test/v2", "VoiceMethod": "POST", "StatusCallback": ""},
    )
    second = await ring(api, "+1 555 000 1001")  # any spelling of the number routes to it
    await voicesim_clock.advance(30)
    assert [(r.method, r.params["CallSid"]) for r in app.to("/v2")] == [("POST", second["sid"])]
    assert len(app.to("/voice")) == 1 and len(app.to("/status")) == 1

    await api.post(
        f"IncomingPhoneNumbers/{number['sid']}.json",
        {"VoiceUrl": "http://app.test/broken", "VoiceFallbackUrl": "http://app.test/fallback"},
    )
    third = await ring(api, "+15550001001")
    await voicesim_clock.advance(30)
    [fallback] = app.to("/fallback")
    assert fallback.params["CallSid"] == third["sid"] and fallback.params["ErrorCode"] == "11200"
    assert [a.error_code for a in voicesim.alerts] == [11200]
    voicesim_clock.raise_errors()
