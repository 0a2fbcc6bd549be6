"""``/_voicesim/...``: reset and seed, clock, phones, inbound calls, far-end actions, logs, timelines."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.voicesim.contract import Api, asgi_api
from tests.webhook_app import WebhookApp
from voicesim import Emulator, PhoneScript, RealtimeClock, VirtualClock
from voicesim.clock import DEFAULT_EPOCH

NUMBER, CALLER, AGENT = "+15550000001", "+15559990000", "+15550000002"


@pytest.fixture
async def api(voicesim: Emulator) -> AsyncIterator[Api]:
    async with asgi_api(voicesim) as driver:
        yield driver


async def place(api: Api, to: str = AGENT, url: str = "http://app.test/voice") -> dict[str, Any]:
    response = await api.post("Calls.json", {"To": to, "From": NUMBER, "Url": url})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def inbound(api: Api, from_: str = CALLER, to: str = NUMBER) -> httpx.Response:
    return await api.post("/_voicesim/inbound-calls", {"From": from_, "To": to})


async def test_control_calls_need_the_accounts_credentials(api: Api) -> None:
    response = await api.http.get("/_voicesim/clock")
    assert (response.status_code, response.json()["code"]) == (401, 20003)
    wrong = await api.get("/_voicesim/clock", auth=(api.account_sid, "wrong"))
    assert wrong.status_code == 401


async def test_reset_with_a_seed_gives_the_same_sids_again(
    voicesim: Emulator, api: Api, app: WebhookApp
) -> None:
    first = [(await place(api))["sid"] for _ in range(2)]
    number = voicesim.buy_number(NUMBER)
    voicesim.phones.script(AGENT, PhoneScript(outcome="busy"))

    reset = await api.post("/_voicesim/reset", {"seed": "0"})
    assert reset.json() == {"reset": True, "seed": 0}
    assert voicesim.calls.all() == [] and voicesim.numbers == {} and voicesim.phones.scripts == {}
    assert voicesim.events == [] and voicesim.alerts == []
    assert (await api.get("Calls.json")).json()["calls"] == []
    assert [(await place(api))["sid"] for _ in range(2)] == first
    assert voicesim.buy_number(NUMBER).sid == number.sid

    await api.post(
        "/_voicesim/reset",
        content=json.dumps({"seed": 7}).encode(),
        headers={"Content-Type": "application/json"},
    )
    seven = (await place(api))["sid"]
    await api.post("/_voicesim/reset", {"seed": "7"})
    assert (await place(api))["sid"] == seven != first[0]
    assert (await api.post("/_voicesim/reset", {"seed": "-1"})).status_code == 400


async def test_clock_get_and_advance(voicesim: Emulator, api: Api, app: WebhookApp) -> None:
    app.twiml("/voice", '<Pause length="30"/>')
    clock = (await api.get("/_voicesim/clock")).json()
    assert clock == {"now": DEFAULT_EPOCH, "iso": "2026-01-01T00:00:00+00:00", "virtual": True, "pending": 0}
    call = await place(api)
    assert (await api.get("/_voicesim/clock")).json()["pending"] == 1

    moved = (await api.post("/_voicesim/clock/advance", {"seconds": "10.5"})).json()
    assert moved["now"] == DEFAULT_EPOCH + 10.5 and moved["iso"] == "2026-01-01T00:00:10.500000+00:00"
    assert voicesim.calls.by_sid[call["sid"]].status == "in-progress"  # the flow ran on the way
    for bad in ("", "abc", "-1", "nan", "inf", "604801"):
        response = await api.post("/_voicesim/clock/advance", {"seconds": bad})
        assert response.status_code == 400, bad
    assert voicesim.clock.now() == DEFAULT_EPOCH + 10.5


async def test_run_until_idle_and_its_409s(voicesim: Emulator, api: Api, app: WebhookApp) -> None:
    app.twiml("/voice", '<Pause length="30"/>')
    app.twiml("/forever", '<Pause length="10"/><Redirect>/forever</Redirect>')
    call = await place(api)
    idle = await api.post("/_voicesim/clock/run-until-idle")
    assert idle.status_code == 200 and idle.json()["pending"] == 0
    assert voicesim.calls.by_sid[call["sid"]].status == "completed"

    looping = await place(api, url="http://app.test/forever")
    busy = await api.post("/_voicesim/clock/run-until-idle", {"limit": "600"})
    assert (busy.status_code, busy.json()["status"]) == (409, 409)
    assert "600" in busy.json()["message"]
    assert voicesim.calls.by_sid[looping["sid"]].status == "in-progress"


async def test_a_real_time_clock_cannot_be_moved() -> None:
    emu = Emulator(RealtimeClock())
    try:
        async with asgi_api(emu) as api:
            clock = (await api.get("/_voicesim/clock")).json()
            assert clock["virtual"] is False
            for path in ("/_voicesim/clock/advance", "/_voicesim/clock/run-until-idle"):
                response = await api.post(path, {"seconds": "5"})
                assert (response.status_code, response.json()["status"]) == (409, 409), path
    finally:
        emu.close()


async def test_phones_put_and_get(
    voicesim: Emulator, voicesim_clock: VirtualClock, api: Api, app: WebhookApp
) -> None:
    app.twiml("/voice", '<Pause length="60"/>')
    busy = await api.put("/_voicesim/phones/+15550000011", {"outcome": "busy"})
    assert busy.json() == {
        "address": "+15550000011",
        "outcome": "busy",
        "answer_after": 3.0,
        "hang_up_after": None,
        "presses": [],
    }
    scripted = await api.request(
        "PUT",
        "/_voicesim/phones/client:alice",
        content=json.dumps({"answer_after": 2, "hang_up_after": 5, "presses": [[1, "12#"]]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert scripted.status_code == 200 and scripted.json()["presses"] == [[1.0, "12#"]]
    phones = (await api.get("/_voicesim/phones")).json()["phones"]
    assert {p["address"]: p["outcome"] for p in phones} == {"+15550000011": "busy", "client:alice": "answer"}

    to_busy = await place(api, "+15550000011")
    to_alice = await place(api, "client:alice")
    await voicesim_clock.advance(30)
    assert voicesim.calls.by_sid[to_busy["sid"]].status == "busy"
    alice = voicesim.calls.by_sid[to_alice["sid"]]
    assert (alice.status, alice.answered_at, alice.end_time) == (
        "completed",
        DEFAULT_EPOCH + 2,
        DEFAULT_EPOCH + 7,
    )

    before = dict(voicesim.phones.scripts)
    for fields in (
        {"outcome": "explode"},
        {"answer_after": "soon"},
        {"answer_after": "nan"},
        {"answer_after": "inf"},
        {"hang_up_after": "-1"},
        {"hang_up_after": "nan"},
    ):
        assert (await api.put("/_voicesim/phones/+15550000012", fields)).status_code == 400, fields
    for presses in ([[1, "x"]], [["nan", "1"]], [[-1, "1"]], "12", [[1]]):
        body = json.dumps({"presses": presses}).encode()
        response = await api.put(
            "/_voicesim/phones/+15550000012", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, presses
    assert voicesim.phones.scripts == before


async def test_inbound_calls(
    voicesim: Emulator, voicesim_clock: VirtualClock, api: Api, app: WebhookApp
) -> None:
    app.twiml("/voice", "<Say>Welcome</Say>")
    number = voicesim.buy_number(NUMBER, voice_url="http://app.test/voice")
    created = await inbound(api, "client:bob", "+1 (555) 000-0001")
    assert created.status_code == 201
    body = created.json()
    assert (body["direction"], body["from"], body["to"], body["phone_number_sid"], body["status"]) == (
        "inbound",
        "client:bob",
        NUMBER,
        number.sid,
        "queued",
    )
    await voicesim_clock.advance(10)
    assert [r.params["CallSid"] for r in app.to("/voice")] == [body["sid"]]

    before = len(voicesim.calls.all())
    for fields in ({"From": CALLER, "To": "+15550009999"}, {"From": CALLER}, {"To": NUMBER}, {}):
        response = await api.post("/_voicesim/inbound-calls", fields)
        assert response.status_code == 400, fields
    assert len(voicesim.calls.all()) == before


async def test_far_end_hangs_up_and_presses_digits(
    voicesim: Emulator, voicesim_clock: VirtualClock, api: Api, app: WebhookApp
) -> None:
    app.twiml("/voice", '<Gather action="/gathered" numDigits="3" timeout="10"/><Pause length="60"/>')
    app.twiml("/gathered", '<Pause length="60"/>')
    voicesim.buy_number(NUMBER, voice_url="http://app.test/voice")
    call = (await inbound(api)).json()
    await voicesim_clock.advance(1)
    pressed = await api.post(f"/_voicesim/calls/{call['sid']}/digits", {"Digits": "42#"})
    assert pressed.status_code == 200 and pressed.json()["sid"] == call["sid"]
    await voicesim_clock.advance(1)
    [gathered] = app.to("/gathered")
    assert gathered.params["Digits"] == "42"  # finishOnKey "#" ends the input and is not sent

    for bad in ("", "12a", "1 2"):
        assert (await api.post(f"/_voicesim/calls/{call['sid']}/digits", {"Digits": bad})).status_code == 400
    hung = await api.post(f"/_voicesim/calls/{call['sid']}/hangup")
    assert hung.status_code == 200 and hung.json()["status"] == "completed"
    assert (await api.get(f"Calls/{call['sid']}.json")).json()["status"] == "completed"
    again = await api.post(f"/_voicesim/calls/{call['sid']}/hangup")  # already ended: still 200, no change
    assert again.json()["end_time"] == hung.json()["end_time"]
    for action in ("hangup", "digits"):
        response = await api.post(f"/_voicesim/calls/CA{'0' * 32}/{action}", {"Digits": "1"})
        assert (response.status_code, response.json()["code"]) == (404, 20404)


async def test_events_since_and_type(
    voicesim: Emulator, voicesim_clock: VirtualClock, api: Api, app: WebhookApp
) -> None:
    app.twiml("/voice", '<Pause length="5"/>')
    call = await place(api)
    await voicesim_clock.advance(30)
    log = (await api.get("/_voicesim/events")).json()
    assert log["next"] == len(voicesim.events) == len(log["events"])
    assert [e["seq"] for e in log["events"]] == list(range(log["next"]))
    statuses = (await api.get("/_voicesim/events", params={"type": "call.status"})).json()["events"]
    assert [(e["call_sid"], e["status"]) for e in statuses] == [
        (call["sid"], "ringing"),
        (call["sid"], "in-progress"),
        (call["sid"], "completed"),
    ]
    assert statuses[0]["time"] == DEFAULT_EPOCH
    tail = (await api.get("/_voicesim/events", params={"since": str(statuses[1]["seq"])})).json()["events"]
    assert tail[0] == statuses[1] and tail[-1] == log["events"][-1]
    nothing = (await api.get("/_voicesim/events", params={"since": str(log["next"])})).json()
    assert nothing == {"events": [], "next": log["next"]}
    assert (await api.get("/_voicesim/events", params={"since": "-1"})).status_code == 400


async def test_alerts(voicesim: Emulator, voicesim_clock: VirtualClock, api: Api, app: WebhookApp) -> None:
    app.raw("/voice", b"<Response><Say>unclosed", "text/xml")
    call = await place(api)
    await voicesim_clock.advance(30)
    alerts = (await api.get("/_voicesim/alerts")).json()["alerts"]
    assert [(a["error_code"], a["call_sid"], a["url"]) for a in alerts] == [
        (12100, call["sid"], "http://app.test/voice")
    ]
    assert alerts[0]["sid"].startswith("NO") and alerts[0]["time"] == DEFAULT_EPOCH + 3


async def test_timelines_as_json_and_text(
    voicesim: Emulator, voicesim_clock: VirtualClock, api: Api, app: WebhookApp
) -> None:
    app.twiml("/voice", "<Say>Hello there</Say>")
    call = await place(api)
    await voicesim_clock.advance(30)
    every = (await api.get("/_voicesim/timelines")).json()["timelines"]
    one = (await api.get(f"/_voicesim/timelines/{call['sid']}")).json()
    assert every == [one]
    assert one["call_sid"] == call["sid"] and one["status"] == "completed"
    speech = [s for s in one["segments"] if s["kind"] == "speech"]
    assert [s["detail"] for s in speech] == ["Hello there"] and speech[0]["start"] == 3.0

    text = await api.get("/_voicesim/timelines", params={"format": "text"})
    assert text.headers["content-type"].startswith("text/plain")
    assert call["sid"] in text.text and 'speech "Hello there"' in text.text
    single = await api.get(f"/_voicesim/timelines/{call['sid']}", params={"format": "text"})
    assert single.text.splitlines()[0].startswith(
        f"{call['sid']}  outbound-api  {NUMBER} -> {AGENT}  [completed]"
    )
    missing = await api.get(f"/_voicesim/timelines/CA{'0' * 32}")
    assert (missing.status_code, missing.json()["code"]) == (404, 20404)
