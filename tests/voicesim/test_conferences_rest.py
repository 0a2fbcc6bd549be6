"""REST for Conferences and Participants, every response checked against Twilio's OpenAPI spec."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.voicesim.contract import Api
from tests.webhook_app import BASE, WebhookApp
from voicesim import Emulator, PhoneScript, VirtualClock
from voicesim.conference_model import ConferenceError
from voicesim.rest.app import make_asgi_app

NUMBER, CUSTOMER, AGENT, SUPERVISOR = "+15550000001", "+15551110000", "+15552220000", "+15553330000"


@pytest.fixture
async def api(voicesim: Emulator) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=make_asgi_app(voicesim))
    async with httpx.AsyncClient(transport=transport, base_url="https://api.twilio.com") as http:
        yield Api(http, voicesim.account_sid, voicesim.auth_token)


@pytest.fixture
async def room(voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp) -> str:
    """A customer alone in conference "room" (init); returns the conference SID."""
    app.twiml("/voice", "<Dial><Conference>room</Conference></Dial>")
    voicesim.buy_number(NUMBER, voice_url=f"{BASE}/voice")
    voicesim.inbound_call(CUSTOMER, NUMBER)
    await voicesim_clock.advance(1)
    return voicesim.conferences.list()[0].sid


async def test_participant_lifecycle(api: Api, room: str, voicesim_clock: VirtualClock) -> None:
    created = await api.post(
        f"Conferences/{room}/Participants.json", {"From": NUMBER, "To": AGENT, "Label": "agent"}
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["status"], body["queue_time"], body["label"]) == ("queued", "0", "agent")
    agent = body["call_sid"]
    await voicesim_clock.advance(5)
    fetched = (await api.get(f"Conferences/{room}/Participants/{agent}.json")).json()
    assert (fetched["status"], fetched["queue_time"]) == ("connected", None)
    assert (await api.get(f"Conferences/{room}.json")).json()["status"] == "in-progress"

    held = await api.post(f"Conferences/{room}/Participants/agent.json", {"Hold": "true", "Muted": "true"})
    assert (held.json()["hold"], held.json()["muted"], held.json()["call_sid"]) == (True, True, agent)
    listed = (await api.get(f"Conferences/{room}/Participants.json", params={"Hold": "true"})).json()
    assert [p["call_sid"] for p in listed["participants"]] == [agent]
    assert (await api.get(f"Conferences/{room}/Participants.json", params={"Muted": "false"})).json()[
        "participants"
    ][0]["call_sid"] != agent

    gone = await api.delete(f"Conferences/{room}/Participants/{agent}.json")
    assert gone.status_code == 204
    missing = await api.get(f"Conferences/{room}/Participants/{agent}.json")
    assert (missing.status_code, missing.json()["code"]) == (404, 20404)


async def test_create_by_friendly_name_makes_a_conference(api: Api, voicesim_clock: VirtualClock) -> None:
    reply = await api.post(
        f"Conferences/{quote('Sales Team')}/Participants.json",
        [("From", NUMBER), ("To", AGENT), ("ConferenceStatusCallbackEvent", "start end join")],
    )
    assert reply.status_code == 201
    conference_sid = reply.json()["conference_sid"]
    conference = (await api.get(f"Conferences/{conference_sid}.json")).json()
    assert (conference["friendly_name"], conference["status"], conference["region"]) == (
        "Sales Team",
        "init",
        "us1",
    )
    again = await api.post(
        f"Conferences/{quote('Sales Team')}/Participants.json", {"From": NUMBER, "To": SUPERVISOR}
    )
    assert again.json()["conference_sid"] == conference_sid  # same active conference
    await voicesim_clock.advance(5)
    listed = (
        await api.get("Conferences.json", params={"FriendlyName": "Sales Team", "Status": "in-progress"})
    ).json()
    assert [c["sid"] for c in listed["conferences"]] == [conference_sid]


async def test_conference_list_filters_and_update(api: Api, room: str, voicesim_clock: VirtualClock) -> None:
    day = voicesim_clock.now_datetime().date().isoformat()
    for params in ({"DateCreated": day}, {"DateUpdated>": day}, {"Status": "init"}, {"FriendlyName": "room"}):
        assert [
            c["sid"] for c in (await api.get("Conferences.json", params=params)).json()["conferences"]
        ] == [room]
    assert (await api.get("Conferences.json", params={"DateCreated<": "2020-01-01"})).json()[
        "conferences"
    ] == []
    ended = await api.post(f"Conferences/{room}.json", {"Status": "completed"})
    assert ended.json()["status"] == "completed"
    assert ended.json()["reason_conference_ended"] == "conference-ended-via-api"
    assert (await api.get(f"Conferences/{room}/Participants.json")).json()["participants"] == []


async def test_bad_input_is_a_twilio_error_and_changes_nothing(
    api: Api, room: str, voicesim: Emulator, voicesim_clock: VirtualClock
) -> None:
    voicesim.phones.script(AGENT, PhoneScript(answer_after=30))
    ringing = (await api.post(f"Conferences/{room}/Participants.json", {"From": NUMBER, "To": AGENT})).json()
    await voicesim_clock.advance(1)
    customer = voicesim.conferences.participants.list(room)[0].call_sid
    cases = [
        ("POST", f"Conferences/{room}/Participants/{ringing['call_sid']}.json", {"Hold": "true"}, 400, 21220),
        ("POST", f"Conferences/{room}/Participants/nobody.json", {"Hold": "true"}, 404, 20404),
        ("POST", f"Conferences/{room}/Participants/{customer}.json", {"Hold": "maybe"}, 400, 20001),
        ("POST", f"Conferences/{room}/Participants/{customer}.json", {"HoldMethod": "PUT"}, 400, 21209),
        ("POST", f"Conferences/{room}/Participants/{customer}.json", {"HoldUrl": "nope"}, 400, 21205),
        (
            "POST",
            f"Conferences/{room}/Participants.json",
            {"From": NUMBER, "To": AGENT, "MaxParticipants": "300"},
            400,
            20001,
        ),
        (
            "POST",
            f"Conferences/{room}/Participants.json",
            {"From": NUMBER, "To": AGENT, "Timeout": "3"},
            400,
            21208,
        ),
        (
            "POST",
            f"Conferences/{room}/Participants.json",
            {"From": NUMBER, "To": AGENT, "TimeLimit": "0"},
            400,
            13216,
        ),
        ("POST", f"Conferences/{room}/Participants.json", {"From": NUMBER}, 400, 21201),
        ("POST", f"Conferences/{room}/Participants.json", {"From": NUMBER, "To": "12"}, 400, 21211),
        ("POST", f"Conferences/{room}.json", {"Status": "in-progress"}, 400, 20001),
        ("GET", "Conferences/CF" + "0" * 32 + ".json", None, 404, 20404),
        ("GET", "Conferences.json?Status=ringing", None, 400, 20001),
    ]
    for method, path, data, status, code in cases:
        reply = await api.request(method, path, data=data)
        assert (reply.status_code, reply.json()["code"]) == (status, code), (method, path, data)
    participant = voicesim.conferences.participants.get(room, customer)
    assert (participant.hold, participant.muted) == (False, False)
    assert len(voicesim.conferences.participants.list(room)) == 2
    await api.post(f"Conferences/{room}.json", {"Status": "completed"})
    after = await api.post(f"Conferences/{room}/Participants/{customer}.json", {"Muted": "true"})
    assert (after.status_code, after.json()["code"]) == (404, 20404)
    announce = await api.post(f"Conferences/{room}.json", {"AnnounceUrl": f"{BASE}/a.mp3"})
    assert (announce.status_code, announce.json()["code"]) == (400, 16001)


async def test_date_created_before_a_date_excludes_that_day_after_midnight(
    api: Api, voicesim: Emulator, voicesim_clock: VirtualClock, twilio_client: Client
) -> None:
    """The spec: ``DateCreated<=YYYY-MM-DD`` is "on or before midnight of this date" (r2, F3)."""
    await voicesim_clock.advance(60)  # 00:01 UTC
    twilio_client.conferences("room").participants.create(from_=NUMBER, to=AGENT)
    sid = voicesim.conferences.list()[0].sid
    day = dt.date(2026, 1, 1)
    assert twilio_client.conferences.list(date_created_before=day) == []
    assert twilio_client.conferences.list(date_updated_before=day) == []
    assert [c.sid for c in twilio_client.conferences.list(date_created_before=dt.date(2026, 1, 2))] == [sid]
    assert [c.sid for c in twilio_client.conferences.list(date_created_after=day)] == [sid]
    assert [c.sid for c in twilio_client.conferences.list(date_created=day)] == [sid]
    assert twilio_client.conferences.list(date_created_after=dt.date(2026, 1, 2)) == []
    raw = await api.get("Conferences.json", params={"DateCreated<": "2026-01-01"})
    assert raw.json()["conferences"] == []


async def test_not_found_messages_name_the_request_path(
    api: Api, room: str, voicesim: Emulator, twilio_client: Client
) -> None:
    """Twilio's 20404 names the path, as voicesim's Calls did already (r2, F6)."""
    base = f"/2010-04-01/Accounts/{voicesim.account_sid}"
    nowhere = "CF" + "0" * 32
    nobody = "CA" + "0" * 32
    for method, path in (
        ("GET", f"Conferences/{nowhere}.json"),
        ("POST", f"Conferences/{nowhere}.json"),
        ("GET", f"Conferences/{nowhere}/Participants.json"),
        ("POST", f"Conferences/{nowhere}/Participants.json"),
        ("GET", f"Conferences/{room}/Participants/{nobody}.json"),
        ("POST", f"Conferences/{room}/Participants/nobody.json"),
        ("DELETE", f"Conferences/{room}/Participants/{nobody}.json"),
    ):
        data = (
            {"From": NUMBER, "To": AGENT} if path.endswith("Participants.json") and method == "POST" else None
        )
        reply = await api.request(
            method, path, data=data or ({"Muted": "true"} if method == "POST" else None)
        )
        assert reply.status_code == 404, (method, path)
        assert reply.json()["message"] == f"The requested resource {base}/{path} was not found", (
            method,
            path,
        )
    with pytest.raises(TwilioRestException) as info:
        twilio_client.conferences(nowhere).fetch()
    assert f"{base}/Conferences/{nowhere}.json" in info.value.msg
    with pytest.raises(ConferenceError, match=f"Conference {nowhere}"):  # the Python API keeps its words
        voicesim.conferences.get(nowhere)
