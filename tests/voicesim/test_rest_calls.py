"""``/Calls`` in Twilio's wire format: dates, durations, URIs, paging, filters, form bodies, updates.

Every request goes through the real ASGI app in process, and every response is also checked
against Twilio's OpenAPI description (:mod:`tests.voicesim.contract`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from twilio.rest import Client

from tests.voicesim.contract import Api, asgi_api
from tests.webhook_app import WebhookApp
from voicesim import Emulator, PhoneScript, VirtualClock
from voicesim.clock import DEFAULT_EPOCH

FROM = "+15550000001"
EPOCH = "Thu, 01 Jan 2026 00:00:00 +0000"


@pytest.fixture
async def api(voicesim: Emulator) -> AsyncIterator[Api]:
    async with asgi_api(voicesim) as driver:
        yield driver


async def create(api: Api, to: str = "+15550000010", **fields: Any) -> dict[str, Any]:
    form = {"To": to, "From": FROM, "Url": "http://app.test/voice", **fields}
    response = await api.post("Calls.json", form)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def fetch(api: Api, sid: str) -> dict[str, Any]:
    response = await api.get(f"Calls/{sid}.json")
    assert response.status_code == 200, response.text
    return dict(response.json())


def at(seconds: float) -> str:
    """The RFC 2822 form of the virtual epoch plus ``seconds``."""
    return Emulator.rfc2822(DEFAULT_EPOCH + seconds)


async def test_dates_are_rfc_2822_gmt_and_follow_the_call(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, api: Api
) -> None:
    app.twiml("/voice", '<Pause length="60"/>')
    voicesim.phones.script("+15550000010", PhoneScript(answer_after=5))
    call = await create(api)
    assert call["date_created"] == call["date_updated"] == EPOCH
    assert parsedate_to_datetime(EPOCH).timestamp() == DEFAULT_EPOCH
    assert call["start_time"] is None and call["end_time"] is None

    await voicesim_clock.advance(1)
    ringing = await fetch(api, call["sid"])
    assert (ringing["status"], ringing["start_time"], ringing["end_time"]) == ("ringing", at(0), None)

    await voicesim_clock.advance(10)
    live = await fetch(api, call["sid"])
    assert (live["status"], live["date_updated"], live["duration"]) == ("in-progress", at(5), None)

    await voicesim_clock.advance(60)
    done = await fetch(api, call["sid"])
    assert done["status"] == "completed"
    assert (done["start_time"], done["end_time"], done["date_created"]) == (at(0), at(65), EPOCH)
    assert done["duration"] == "60"  # a string of whole seconds from answer to end
    voicesim_clock.raise_errors()


@pytest.mark.parametrize(
    ("script", "timeout", "status"),
    [
        (PhoneScript(outcome="busy"), "60", "busy"),
        (PhoneScript(outcome="failed"), "60", "failed"),
        (PhoneScript(outcome="no-answer"), "15", "no-answer"),
        (PhoneScript(answer_after=30), "10", "no-answer"),  # Timeout shorter than the ringing
    ],
)
async def test_calls_never_answered_have_an_empty_duration(
    voicesim: Emulator, voicesim_clock: VirtualClock, api: Api, script: PhoneScript, timeout: str, status: str
) -> None:
    voicesim.phones.script("+15550000010", script)
    call = await create(api, Timeout=timeout)
    await voicesim_clock.advance(int(timeout) + 1)
    ended = await fetch(api, call["sid"])
    assert (ended["status"], ended["duration"], ended["price"]) == (status, None, None)


async def test_uri_and_subresource_uris(voicesim: Emulator, api: Api) -> None:
    call = await create(api)
    own = f"/2010-04-01/Accounts/{voicesim.account_sid}/Calls/{call['sid']}"
    assert call["uri"] == own + ".json"
    assert call["api_version"] == "2010-04-01" and call["direction"] == "outbound-api"
    assert call["subresource_uris"] == {
        "notifications": f"{own}/Notifications.json",
        "recordings": f"{own}/Recordings.json",
        "payments": f"{own}/Payments.json",
        "events": f"{own}/Events.json",
        "siprec": f"{own}/Siprec.json",
        "streams": f"{own}/Streams.json",
        "transcriptions": f"{own}/Transcriptions.json",
        "user_defined_message_subscriptions": f"{own}/UserDefinedMessageSubscriptions.json",
        "user_defined_messages": f"{own}/UserDefinedMessages.json",
    }
    assert (call["to"], call["to_formatted"], call["from"], call["from_formatted"]) == (
        "+15550000010",
        "(555) 000-0010",
        FROM,
        "(555) 000-0001",
    )


async def test_next_page_uri_is_relative_and_followable_newest_first(voicesim: Emulator, api: Api) -> None:
    sids = [(await create(api, f"+1555000002{i}"))["sid"] for i in range(5)]
    await create(api, "+15550000099", From="+15550000002")  # filtered out below
    first = (await api.get("Calls.json", params={"From": FROM, "PageSize": "2"})).json()
    assert (first["page"], first["page_size"], first["start"], first["end"]) == (0, 2, 0, 1)
    assert first["previous_page_uri"] is None
    assert first["first_page_uri"].startswith(f"/2010-04-01/Accounts/{voicesim.account_sid}/Calls.json?")

    pages, page = [first], first
    while page["next_page_uri"]:
        assert page["next_page_uri"].startswith("/2010-04-01/")  # relative to https://api.twilio.com
        assert "From=%2B15550000001" in page["next_page_uri"]  # the filter is kept
        page = (await api.get(page["next_page_uri"])).json()
        pages.append(page)
    assert [p["page"] for p in pages] == [0, 1, 2]
    assert [(p["start"], p["end"]) for p in pages] == [(0, 1), (2, 3), (4, 4)]
    assert [c["sid"] for p in pages for c in p["calls"]] == sids[::-1]  # newest first, each once
    back = (await api.get(pages[2]["previous_page_uri"])).json()
    assert [c["sid"] for c in back["calls"]] == sids[::-1][2:4]
    again = (await api.get(pages[2]["first_page_uri"])).json()
    assert [c["sid"] for c in again["calls"]] == [c["sid"] for c in first["calls"]]


async def test_page_and_page_token_select_records(api: Api) -> None:
    sids = [(await create(api, f"+1555000002{i}"))["sid"] for i in range(5)][::-1]
    by_page = (await api.get("Calls.json", params={"PageSize": "2", "Page": "1"})).json()
    assert [c["sid"] for c in by_page["calls"]] == sids[2:4]
    by_token = (await api.get("Calls.json", params={"PageSize": "2", "Page": "2", "PageToken": "PT4"})).json()
    assert [c["sid"] for c in by_token["calls"]] == sids[4:] and by_token["next_page_uri"] is None
    everything = (await api.get("Calls.json")).json()
    assert everything["page_size"] == 50 and [c["sid"] for c in everything["calls"]] == sids
    beyond = (await api.get("Calls.json", params={"PageSize": "2", "Page": "9"})).json()
    assert beyond["calls"] == [] and beyond["next_page_uri"] is None


async def test_list_filters(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, api: Api
) -> None:
    app.twiml("/voice", '<Pause length="600"/>')
    app.twiml("/bridge", "<Dial><Number>+15550000030</Number></Dial>")
    voicesim.buy_number("+15550000001", voice_url="http://app.test/bridge")
    voicesim.phones.script("+15550000011", PhoneScript(outcome="busy"))
    live = await create(api, "+15550000010")
    busy = await create(api, "+15550000011")
    inbound = (await api.post("/_voicesim/inbound-calls", {"From": "+15559990000", "To": FROM})).json()
    await voicesim_clock.advance(10)
    child = next(c for c in voicesim.calls.all() if c.parent_call_sid == inbound["sid"])

    async def sids(**params: str) -> list[str]:
        return [c["sid"] for c in (await api.get("Calls.json", params=params)).json()["calls"]]

    assert await sids(To="+15550000011") == [busy["sid"]]
    assert await sids(From="+15559990000") == [child.sid, inbound["sid"]]  # a Dial keeps the caller ID
    assert await sids(Status="busy") == [busy["sid"]]
    assert set(await sids(Status="in-progress")) == {live["sid"], inbound["sid"], child.sid}
    assert await sids(ParentCallSid=inbound["sid"]) == [child.sid]
    assert await sids(To="+15550000010", Status="busy") == []
    assert len(await sids(**{"StartTime>": "2026-01-01"})) == 4
    assert await sids(**{"StartTime<": "2025-12-31"}) == []
    assert await sids(EndTime="2026-01-01") == [busy["sid"]]


async def test_repeated_status_callback_event_keys_choose_the_callbacks(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, api: Api
) -> None:
    app.twiml("/voice", '<Pause length="20"/>')
    voicesim.phones.script("+15550000010", PhoneScript(answer_after=5))
    form = [
        ("To", "+15550000010"),
        ("From", FROM),
        ("Url", "http://app.test/voice"),
        ("StatusCallback", "http://app.test/status"),
        *[("StatusCallbackEvent", e) for e in ("initiated", "ringing", "answered", "completed")],
    ]
    every = await api.post("Calls.json", form)
    default = await create(api, "+15550000010", StatusCallback="http://app.test/default")
    only = await api.post("Calls.json", [*form[:4], ("StatusCallbackEvent", "answered")])
    assert {every.status_code, only.status_code} == {201}
    await voicesim_clock.advance(60)

    def seen(path: str, sid: str) -> list[tuple[str, str, str]]:
        return [
            (r.params["CallStatus"], r.params["SequenceNumber"], r.params["CallbackSource"])
            for r in app.to(path)
            if r.params["CallSid"] == sid
        ]

    assert seen("/status", every.json()["sid"]) == [
        ("initiated", "0", "call-progress-events"),
        ("ringing", "1", "call-progress-events"),
        ("in-progress", "2", "call-progress-events"),
        ("completed", "3", "call-progress-events"),
    ]
    assert seen("/status", only.json()["sid"]) == [("in-progress", "0", "call-progress-events")]
    assert seen("/default", default["sid"]) == [("completed", "0", "call-progress-events")]
    final = next(r for r in app.to("/status") if r.params["CallStatus"] == "completed")
    assert (final.params["CallDuration"], final.params["Timestamp"]) == ("20", at(25))
    voicesim_clock.raise_errors()


async def test_redirect_with_url_or_twiml_runs_the_new_instructions(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, api: Api
) -> None:
    app.twiml("/voice", '<Pause length="600"/>')
    app.twiml("/next", '<Say>Moved</Say><Pause length="600"/>')
    call = await create(api)
    await voicesim_clock.advance(10)
    moved = await api.post(f"Calls/{call['sid']}.json", {"Url": "http://app.test/next", "Method": "GET"})
    assert moved.status_code == 200 and moved.json()["status"] == "in-progress"
    await voicesim_clock.advance(1)
    assert [(r.method, r.params["CallSid"]) for r in app.to("/next")] == [("GET", call["sid"])]

    ended = await api.post(f"Calls/{call['sid']}.json", {"Twiml": "<Response><Hangup/></Response>"})
    assert ended.status_code == 200
    await voicesim_clock.advance(1)
    assert (await fetch(api, call["sid"]))["status"] == "completed"
    voicesim_clock.raise_errors()


async def test_status_completed_hangs_up_and_canceled_spares_calls_in_progress(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, api: Api
) -> None:
    app.twiml("/voice", '<Pause length="600"/>')
    voicesim.phones.script("+15550000012", PhoneScript(answer_after=30))
    live = await create(api, "+15550000010", StatusCallback="http://app.test/old")
    ringing = await create(api, "+15550000012", StatusCallback="http://app.test/ringing")
    queued = await create(api, "+15550000013", StatusCallback="http://app.test/queued")

    assert (await api.post(f"Calls/{queued['sid']}.json", {"Status": "canceled"})).json()[
        "status"
    ] == "canceled"
    await voicesim_clock.advance(10)
    spared = await api.post(f"Calls/{live['sid']}.json", {"Status": "canceled"})
    assert spared.status_code == 200 and spared.json()["status"] == "in-progress"
    cancel = await api.post(f"Calls/{ringing['sid']}.json", {"Status": "canceled"})
    assert cancel.json()["status"] == "canceled" and cancel.json()["duration"] is None

    await api.post(f"Calls/{live['sid']}.json", {"StatusCallback": "http://app.test/new"})
    hung = await api.post(f"Calls/{live['sid']}.json", {"Status": "completed"})
    assert hung.json()["status"] == "completed" and hung.json()["end_time"] == at(10)
    await voicesim_clock.settle()
    assert [r.params["CallStatus"] for r in app.to("/new")] == ["completed"]
    assert app.to("/old") == [] and app.to("/queued") == []  # canceled while queued: no callbacks
    assert [r.params["CallStatus"] for r in app.to("/ringing")] == ["canceled"]
    voicesim_clock.raise_errors()


async def test_delete_removes_the_record_of_an_ended_call(voicesim_clock: VirtualClock, api: Api) -> None:
    keep = await create(api, "+15550000010")
    gone = await create(api, "+15550000011")
    await api.post(f"Calls/{gone['sid']}.json", {"Status": "canceled"})
    deleted = await api.delete(f"Calls/{gone['sid']}.json")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert (await api.get(f"Calls/{gone['sid']}.json")).status_code == 404
    listed = (await api.get("Calls.json")).json()["calls"]
    assert [c["sid"] for c in listed] == [keep["sid"]]
    assert (await api.delete(f"Calls/{gone['sid']}.json")).status_code == 404


async def test_date_filters_before_a_date_exclude_that_day_after_midnight(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, api: Api
) -> None:
    """The spec: ``StartTime<`` "started before this date"; on the wire ``StartTime<=``, "on or before
    midnight of this date" (reference r2, F3). ``>`` is "on or after" midnight, ``=`` the whole day."""
    app.twiml("/voice", '<Pause length="5"/>')
    at_midnight = await create(api)  # starts (rings) at 00:00:00
    await voicesim_clock.advance(60)
    later = await create(api)  # starts at 00:01:00
    await voicesim_clock.advance(60)

    async def sids(**params: str) -> set[str]:
        return {c["sid"] for c in (await api.get("Calls.json", params=params)).json()["calls"]}

    both = {at_midnight["sid"], later["sid"]}
    assert await sids(**{"StartTime<": "2026-01-01"}) == {at_midnight["sid"]}  # not 00:01 that day
    assert await sids(**{"EndTime<": "2026-01-01"}) == set()  # both ended after midnight
    assert await sids(**{"StartTime<": "2026-01-02"}) == both
    assert await sids(**{"StartTime<": "2026-01-01T12:00:00Z"}) == {at_midnight["sid"]}  # the date counts
    assert await sids(**{"StartTime>": "2026-01-01"}) == both
    assert await sids(**{"EndTime>": "2026-01-02"}) == set()
    assert await sids(StartTime="2026-01-01") == both
    assert await sids(EndTime="2025-12-31") == set()


async def test_date_filters_through_the_sdk(twilio_client: Client, voicesim_clock: VirtualClock) -> None:
    day = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # the virtual epoch's day
    await voicesim_clock.advance(60)  # 00:01 UTC, clearly after midnight
    call = twilio_client.calls.create(
        to="+15550000010", from_=FROM, twiml="<Response><Pause length='5'/></Response>"
    )
    await voicesim_clock.advance(60)
    assert twilio_client.calls(call.sid).fetch().start_time.date() == day.date()
    assert twilio_client.calls.list(start_time_before=day) == []
    assert twilio_client.calls.list(end_time_before=day) == []
    assert [c.sid for c in twilio_client.calls.list(start_time_after=day)] == [call.sid]
    assert [c.sid for c in twilio_client.calls.list(start_time=day)] == [call.sid]


def test_from_need_not_be_an_account_number_a_documented_leniency(
    twilio_client: Client, voicesim: Emulator
) -> None:
    """Twilio refuses a From that is not the account's number or a verified caller ID (21210); voicesim
    accepts it on purpose (voicesim.rest.calls: its users place calls from numbers they never bought)."""
    assert voicesim.numbers == {}
    call = twilio_client.calls.create(to="+15550000010", from_="+15559999999", twiml="<Response/>")
    assert (call.status, call._from) == ("queued", "+15559999999")
    participant = twilio_client.conferences("room").participants.create(
        from_="+15559999999", to="+15550000011"
    )
    assert participant.status == "queued"
