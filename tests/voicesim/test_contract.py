"""Every response of every implemented Calls / IncomingPhoneNumbers operation, against Twilio's OpenAPI.

The scenarios drive the REST API through the real ASGI app (in process) with :class:`Api`, which checks
each response with :mod:`tests.voicesim.contract`; calls are caught in every status so that each
nullable field is seen both empty and filled. The last tests prove the checker itself catches the
mismatches it exists for, so that its allow-list cannot hide one.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.voicesim.contract import (
    CALL,
    CALLS,
    DEVIATIONS,
    NUMBER,
    NUMBERS,
    OPERATIONS,
    Api,
    Contract,
    ContractError,
    asgi_api,
    spec,
)
from tests.webhook_app import WebhookApp
from voicesim import Emulator, PhoneScript, VirtualClock

AGENT, CUSTOMER, SUPPORT = "+15550000002", "+15559990000", "+15550000001"


@pytest.fixture
def contract() -> Contract:
    spec()  # skip (or fail under CI) before doing anything when the spec is missing
    return Contract()


@pytest.fixture
async def api(voicesim: Emulator, contract: Contract) -> AsyncIterator[Api]:
    async with asgi_api(voicesim, contract) as driver:
        yield driver


def statuses(contract: Contract, method: str, template: str) -> set[int]:
    return {status for m, t, status in contract.seen if (m, t) == (method, template)}


async def test_every_call_operation_in_every_state_matches_the_spec(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, api: Api, contract: Contract
) -> None:
    app.twiml("/long", '<Say>Hello</Say><Pause length="600"/>')
    app.twiml("/bridge", f'<Dial action="/after"><Number>{AGENT}</Number></Dial>')
    app.twiml("/after", "<Hangup/>")
    app.twiml("/music", '<Play loop="0">http://app.test/music.mp3</Play>')
    voicesim.phones.script("+15550000010", PhoneScript(answer_after=5))
    voicesim.phones.script("+15550000011", PhoneScript(outcome="busy"))
    voicesim.phones.script("+15550000012", PhoneScript(outcome="no-answer"))
    voicesim.phones.script("+15550000013", PhoneScript(outcome="failed"))
    voicesim.phones.script("+15550000014", PhoneScript(answer_after=30))

    # Numbers first (inbound calls need one): create, list, fetch, update.
    created = await api.post(
        "IncomingPhoneNumbers.json", {"PhoneNumber": SUPPORT, "VoiceUrl": "http://app.test/bridge"}
    )
    assert created.status_code == 201
    number_sid = created.json()["sid"]

    def place(to: str, **extra: Any) -> dict[str, Any]:
        return {"To": to, "From": SUPPORT, "Url": "http://app.test/long", **extra}

    answered = (
        await api.post("Calls.json", place("+15550000010", StatusCallback="http://app.test/cb"))
    ).json()
    busy = (await api.post("Calls.json", place("+15550000011"))).json()
    no_answer = (await api.post("Calls.json", place("+15550000012", Timeout="10"))).json()
    failed = (await api.post("Calls.json", place("+15550000013"))).json()
    to_cancel = (await api.post("Calls.json", place("+15550000014"))).json()
    queued = (
        await api.post("Calls.json", place("client:alice", Twiml="<Response><Say>hi</Say></Response>"))
    ).json()
    assert {c["status"] for c in (answered, busy, no_answer, failed, to_cancel, queued)} == {"queued"}
    assert (await api.post(f"Calls/{queued['sid']}.json", {"Status": "canceled"})).json()[
        "status"
    ] == "canceled"

    await voicesim_clock.advance(1)  # ringing (start_time set, no answer yet); busy ended
    assert (await api.get(f"Calls/{answered['sid']}.json")).json()["status"] == "ringing"
    cancelled = await api.post(f"Calls/{to_cancel['sid']}.json", {"Status": "canceled"})
    assert cancelled.json()["status"] == "canceled"

    await voicesim_clock.advance(5)  # answered: in-progress
    live = (await api.get(f"Calls/{answered['sid']}.json")).json()
    assert live["status"] == "in-progress" and live["start_time"] and live["end_time"] is None
    redirected = await api.post(
        f"Calls/{answered['sid']}.json", {"Url": "http://app.test/music", "Method": "POST"}
    )
    assert redirected.status_code == 200
    inline = await api.post(
        f"Calls/{answered['sid']}.json", {"Twiml": "<Response><Pause length='60'/></Response>"}
    )
    assert inline.status_code == 200
    moved = await api.post(f"Calls/{answered['sid']}.json", {"StatusCallback": "http://app.test/cb2"})
    assert moved.status_code == 200

    inbound = await api.post("/_voicesim/inbound-calls", {"From": CUSTOMER, "To": SUPPORT})
    assert inbound.status_code == 201
    parent_sid = inbound.json()["sid"]
    await voicesim_clock.advance(10)  # the Dial's child leg answers
    children = (await api.get("Calls.json", params={"ParentCallSid": parent_sid})).json()["calls"]
    assert [c["direction"] for c in children] == ["outbound-dial"]
    assert children[0]["parent_call_sid"] == parent_sid
    parent = (await api.get(f"Calls/{parent_sid}.json")).json()
    assert parent["phone_number_sid"] == number_sid and parent["direction"] == "inbound"

    await voicesim_clock.advance(20)  # no-answer after its Timeout
    hung = await api.post(f"Calls/{answered['sid']}.json", {"Status": "completed"})
    assert hung.json()["status"] == "completed" and hung.json()["duration"] is not None

    for params in (
        {},
        {"Status": "completed"},
        {"Status": "busy"},
        {"To": "+15550000013"},
        {"From": CUSTOMER},
        {"ParentCallSid": parent_sid},
        {"Status": "in-progress", "PageSize": "1"},
        {"StartTime>": "2025-12-31", "EndTime<": "2026-01-02"},
        {"PageSize": "2"},
        {"PageSize": "2", "Page": "1", "PageToken": "PT2"},
    ):
        listing = await api.get("Calls.json", params=params)
        assert listing.status_code == 200, params
    seen = {c["status"] for c in (await api.get("Calls.json")).json()["calls"]}
    assert seen >= {"completed", "busy", "no-answer", "failed", "canceled", "in-progress"}

    assert (await api.delete(f"Calls/{busy['sid']}.json")).status_code == 204

    # Error answers (checked against Twilio's documented error shape).
    assert (await api.get(f"Calls/{busy['sid']}.json")).status_code == 404
    assert (await api.get("Calls/CAnope.json")).status_code == 404
    assert (await api.post("Calls.json", {"From": SUPPORT, "Url": "http://app.test/long"})).status_code == 400
    assert (await api.get("Calls.json", params={"PageSize": "0"})).status_code == 400
    assert (await api.post(f"Calls/{failed['sid']}.json", {"Url": "http://app.test/long"})).status_code == 400
    assert (await api.delete(f"Calls/{parent_sid}.json")).status_code == 400  # still in progress
    assert (await api.delete("Calls/CA00000000000000000000000000000000.json")).status_code == 404
    assert (await api.get("Calls.json", auth=(voicesim.account_sid, "wrong"))).status_code == 401

    for method, template in ((m, t) for m, t in OPERATIONS if t in (CALLS, CALL)):
        assert any(200 <= s < 300 for s in statuses(contract, method, template)), (method, template)
        assert any(400 <= s < 500 for s in statuses(contract, method, template)), (method, template)
    voicesim_clock.raise_errors()


async def test_every_number_operation_matches_the_spec(
    voicesim: Emulator, api: Api, contract: Contract
) -> None:
    first = await api.post(
        "IncomingPhoneNumbers.json",
        {
            "PhoneNumber": "+15550001001",
            "VoiceUrl": "https://app.test/voice",
            "VoiceMethod": "GET",
            "VoiceFallbackUrl": "https://app.test/fallback",
            "StatusCallback": "https://app.test/status",
            "FriendlyName": "Support line",
        },
    )
    assert first.status_code == 201
    plain = await api.post("IncomingPhoneNumbers.json", {"PhoneNumber": "+442071838750"})
    assert plain.status_code == 201 and plain.json()["voice_url"] is None
    third = await api.post("IncomingPhoneNumbers.json", {"PhoneNumber": "+15550001003"})
    sid = first.json()["sid"]

    assert (await api.get(f"IncomingPhoneNumbers/{sid}.json")).json()["friendly_name"] == "Support line"
    for params in (
        {},
        {"PhoneNumber": "+15550001001"},
        {"FriendlyName": "Support line"},
        {"PageSize": "1"},
        {"PageSize": "1", "Page": "1", "PageToken": "PT1"},
        {"FriendlyName": "nobody"},
    ):
        assert (await api.get("IncomingPhoneNumbers.json", params=params)).status_code == 200
    updated = await api.post(
        f"IncomingPhoneNumbers/{sid}.json",
        {"VoiceUrl": "https://app.test/other", "VoiceMethod": "POST", "StatusCallbackMethod": "GET"},
    )
    assert updated.status_code == 200 and updated.json()["voice_url"] == "https://app.test/other"
    assert (await api.delete(f"IncomingPhoneNumbers/{third.json()['sid']}.json")).status_code == 204

    assert (await api.get(f"IncomingPhoneNumbers/{third.json()['sid']}.json")).status_code == 404
    assert (await api.post("IncomingPhoneNumbers.json", {"PhoneNumber": "+15550001001"})).status_code == 400
    assert (await api.post("IncomingPhoneNumbers.json", {})).status_code == 400
    assert (await api.post(f"IncomingPhoneNumbers/{sid}.json", {"VoiceUrl": "not a url"})).status_code == 400
    assert (await api.get("IncomingPhoneNumbers.json", params={"PageSize": "1001"})).status_code == 400
    assert (await api.delete("IncomingPhoneNumbers/PNnope.json")).status_code == 404

    for method, template in ((m, t) for m, t in OPERATIONS if t in (NUMBERS, NUMBER)):
        assert any(200 <= s < 300 for s in statuses(contract, method, template)), (method, template)
        assert any(400 <= s < 500 for s in statuses(contract, method, template)), (method, template)


# -- the checker itself: it must catch what it exists to catch ------------------------------------


def _valid_call(voicesim: Emulator) -> dict[str, Any]:
    from voicesim.calls import Source
    from voicesim.rest.render import call_json

    call = voicesim.create_call(to="+15550000010", from_=SUPPORT, source=Source(url="http://app.test/x"))
    return call_json(voicesim, call)


BROKEN_CALLS = {
    "duration as a number": lambda b: b.update(duration=12),
    "ISO 8601 date": lambda b: b.update(date_created="2026-01-01T00:00:00Z"),
    "RFC 2822 date not in GMT": lambda b: b.update(date_created="Thu, 01 Jan 2026 01:00:00 +0100"),
    "unknown status": lambda b: b.update(status="initiated"),
    "malformed sid": lambda b: b.update(sid="CA123"),
    "a field missing": lambda b: b.pop("queue_time"),
    "an undeclared field": lambda b: b.update(voicesim_debug=True),
    "sub-resource the spec lacks": lambda b: b["subresource_uris"].update(
        feedback=b["uri"].removesuffix(".json") + "/Feedback.json"
    ),
    "sub-resource of another call": lambda b: b["subresource_uris"].update(
        events=b["uri"].replace(b["sid"], "CA" + "0" * 32).removesuffix(".json") + "/Events.json"
    ),
    "absolute uri": lambda b: b.update(uri="https://api.twilio.com" + b["uri"]),
}


@pytest.mark.parametrize("mutation", sorted(BROKEN_CALLS))
def test_the_checker_rejects_a_broken_call(voicesim: Emulator, contract: Contract, mutation: str) -> None:
    body = _valid_call(voicesim)
    path = body["uri"]
    contract.check("GET", path, 200, body)  # the unbroken body passes
    broken = copy.deepcopy(body)
    BROKEN_CALLS[mutation](broken)
    with pytest.raises(ContractError):
        contract.check("GET", path, 200, broken)


def test_the_checker_rejects_broken_envelopes_and_errors(voicesim: Emulator, contract: Contract) -> None:
    call = _valid_call(voicesim)
    base = call["uri"].rsplit("/", 1)[0]
    page: dict[str, Any] = {
        "calls": [call],
        "end": 0,
        "first_page_uri": f"{base}.json?PageSize=50&Page=0",
        "next_page_uri": None,
        "page": 0,
        "page_size": 50,
        "previous_page_uri": None,
        "start": 0,
        "uri": f"{base}.json?PageSize=50&Page=0",
    }
    contract.check("GET", f"{base}.json", 200, page)
    for change in (
        {"total": 1},  # an extra paging key (the SDK would refuse the page)
        {"next_page_uri": "https://api.twilio.com" + page["uri"]},  # absolute: relative ones only
        {"next_page_uri": page["uri"].replace("Calls.json", "Queues.json")},  # a page of another list
        {"page_size": "50"},
    ):
        with pytest.raises(ContractError):
            contract.check("GET", f"{base}.json", 200, {**page, **change})
    with pytest.raises(ContractError):
        contract.check("GET", f"{base}.json", 200, {k: v for k, v in page.items() if k != "end"})

    error = {
        "code": 20404,
        "message": "not found",
        "more_info": "https://www.twilio.com/docs/errors/20404",
        "status": 404,
    }
    contract.check("GET", call["uri"], 404, error)
    for change in ({"status": 400}, {"code": "20404"}, {"more_info": "https://example.com"}, {"extra": 1}):
        with pytest.raises(ContractError):
            contract.check("GET", call["uri"], 404, {**error, **change})
    with pytest.raises(ContractError):
        contract.check("DELETE", call["uri"], 204, {"deleted": True})


def test_every_deviation_names_a_spec_defect() -> None:
    import inspect

    import tests.voicesim.contract as module

    source = inspect.getsource(module)
    for key in DEVIATIONS:
        block = source.split(f'"{key}"')[0].rsplit("\n\n", 1)[-1]
        assert "Spec defect" in block or "Spec gap" in block, key
