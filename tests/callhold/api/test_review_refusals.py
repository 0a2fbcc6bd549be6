"""Twilio refusing a participant, hold or resume command: the API reports it as problem JSON.

Refusals come either from voicesim itself (a participant that already left, one not connected yet, a
label in use) or are injected at the SDK's transport, where Twilio's answer would arrive. 409 when the
request cannot apply to the call as it is, 422 for a number Twilio finds invalid, 502 otherwise
(Twilio's 429, "never processed", stands for a refusal: its retries spent), and 504 for a server error
(5xx: Twilio may have carried it out); each problem carries ``twilio_code`` and the record is exactly as
the domain left it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from api_checks import assert_problem
from tests.flows.callhold_signed import Courier
from tests.twilio_refusals import RefusingTransport, telephony_over

from callhold.domain.errors import TelephonyError
from callhold.web.problems import telephony_status
from voicesim import PhoneScript

BASE = "http://callhold.test"
THIRD = "+15554440003"
PARTICIPANT = re.compile(r"/Conferences/CF\w{32}/Participants/CA\w{32}\.json$")
PARTICIPANTS = re.compile(r"/Conferences/[^/]+/Participants\.json$")


def refuse(api: Any, method: str, pattern: re.Pattern[str], status: int, code: int) -> RefusingTransport:
    """From now on Twilio answers callhold's ``method`` requests matching ``pattern`` with a refusal."""
    transport = RefusingTransport(
        api.emu,
        lambda sent, url, _: sent == method and pattern.search(url) is not None,
        status=status,
        code=code,
    )
    api.services.service.telephony = telephony_over(api.emu, transport, BASE)
    return transport


async def with_third_party(api: Any) -> tuple[str, str, str]:
    """A live call with a third party in its conference: (call id, agent token, third party's SID)."""
    sid, alice = await api.live_call()
    added = await api.request("POST", f"/calls/{sid}/participants", alice, json={"to": THIRD})
    assert added.status_code == 201, added.text
    [third] = [leg["call_sid"] for leg in added.json()["legs"] if leg["role"] == "third_party"]
    await api.clock.advance(10)
    return sid, alice, third


def leg(detail: dict[str, Any], call_sid: str) -> dict[str, Any]:
    return next(x for x in detail["legs"] if x["call_sid"] == call_sid)


# -- remove -----------------------------------------------------------------------------------------
async def test_a_remove_twilio_fails_is_a_502_and_the_participant_stays(api) -> None:
    sid, alice, third = await with_third_party(api)
    before = (await api.request("GET", f"/calls/{sid}")).json()
    transport = refuse(api, "DELETE", PARTICIPANT, 429, 20429)
    problem = assert_problem(
        await api.request("DELETE", f"/calls/{sid}/participants/{third}", alice), 502, "telephony-error"
    )
    assert (problem["twilio_code"], problem["twilio_status"]) == (20429, 429)
    assert third in problem["detail"] and "remove" in problem["detail"]
    assert len(transport.refused) == 1
    await api.clock.advance(5)
    assert (await api.request("GET", f"/calls/{sid}")).json() == before
    assert api.emu.calls.get(third).status == "in-progress"


async def test_removing_a_participant_voicesim_says_is_gone_is_a_409_and_changes_nothing(api) -> None:
    sid, alice, third = await with_third_party(api)
    # Every webhook about the third party is held back: callhold has not heard that it left.
    courier = Courier(api.app)
    api.emu.webhooks.mount(BASE, courier)
    courier.keep_back(lambda path, form: form.get("CallSid") == third)
    assert api.emu.hang_up(third)
    await api.clock.advance(5)
    before = (await api.request("GET", f"/calls/{sid}")).json()
    assert leg(before, third)["status"] == "in-progress"

    response = await api.request("DELETE", f"/calls/{sid}/participants/{third}", alice)
    problem = assert_problem(response, 409, "conflict")
    assert problem["twilio_code"] == 20404 and problem["twilio_status"] == 404
    assert (await api.request("GET", f"/calls/{sid}")).json() == before
    # The late callbacks then record the leave, and the call goes on.
    for kept in courier.kept:
        assert (await courier.deliver(kept, BASE)).is_success
    assert leg((await api.request("GET", f"/calls/{sid}")).json(), third)["status"] == "completed"
    assert (await api.request("POST", f"/calls/{sid}/hold", alice)).status_code == 200


# -- add --------------------------------------------------------------------------------------------
async def test_a_number_twilio_finds_invalid_is_a_422_and_no_leg_is_recorded(api) -> None:
    sid, alice = await api.live_call()
    refuse(api, "POST", PARTICIPANTS, 400, 21211)
    response = await api.request("POST", f"/calls/{sid}/participants", alice, json={"to": THIRD})
    problem = assert_problem(response, 422, "invalid")
    assert problem["twilio_code"] == 21211 and THIRD in problem["detail"]
    legs = (await api.request("GET", f"/calls/{sid}")).json()["legs"]
    assert {x["role"] for x in legs} == {"customer", "agent"}


async def test_an_add_twilio_refuses_is_a_502(api) -> None:
    sid, alice = await api.live_call()
    refuse(api, "POST", PARTICIPANTS, 429, 20429)
    response = await api.request("POST", f"/calls/{sid}/participants", alice, json={"to": THIRD})
    assert assert_problem(response, 502, "telephony-error")["twilio_code"] == 20429
    assert len((await api.request("GET", f"/calls/{sid}")).json()["legs"]) == 2


async def test_an_add_twilio_answers_500_to_is_a_504_saying_so(api) -> None:
    """Twilio may have dialled the party (docs/api/errors/20500): not a 502 "refused" that invites a
    retry dialling them twice. Here it did not: no leg is recorded, none appears."""
    sid, alice = await api.live_call()
    refuse(api, "POST", PARTICIPANTS, 500, 20500)
    response = await api.request("POST", f"/calls/{sid}/participants", alice, json={"to": THIRD})
    problem = assert_problem(response, 504, "telephony-uncertain")
    assert (problem["twilio_code"], problem["twilio_status"]) == (20500, 500)
    assert "HTTP 500" in problem["detail"] and "no answer" not in problem["detail"]
    await api.clock.advance(10)
    assert len((await api.request("GET", f"/calls/{sid}")).json()["legs"]) == 2


async def test_a_label_in_use_carries_twilio_code_16025(api) -> None:
    sid, alice = await api.live_call()
    body = {"to": THIRD, "label": "expert"}
    assert (await api.request("POST", f"/calls/{sid}/participants", alice, json=body)).status_code == 201
    again = await api.request(
        "POST", f"/calls/{sid}/participants", alice, json={**body, "to": "+15554440004"}
    )
    assert assert_problem(again, 409, "conflict")["twilio_code"] == 16025
    third_parties = [
        x for x in (await api.request("GET", f"/calls/{sid}")).json()["legs"] if x["role"] == "third_party"
    ]
    assert len(third_parties) == 1


# -- mute -------------------------------------------------------------------------------------------
async def test_muting_a_participant_not_connected_yet_is_a_409_from_voicesim(api) -> None:
    sid, alice = await api.live_call()
    api.emu.phones.script(THIRD, PhoneScript(answer_after=30))
    added = await api.request("POST", f"/calls/{sid}/participants", alice, json={"to": THIRD})
    [third] = [x["call_sid"] for x in added.json()["legs"] if x["role"] == "third_party"]
    await api.clock.advance(5)  # still ringing
    problem = assert_problem(
        await api.request("POST", f"/calls/{sid}/mute", alice, json={"call_sid": third}), 409, "conflict"
    )
    assert problem["twilio_code"] == 21220 and "mute" in problem["detail"]
    assert leg((await api.request("GET", f"/calls/{sid}")).json(), third)["muted"] is False


async def test_a_mute_twilio_fails_is_a_502_and_nobody_is_muted(api) -> None:
    sid, alice = await api.live_call()
    refuse(api, "POST", PARTICIPANT, 429, 20429)
    for verb in ("mute", "unmute"):
        response = await api.request("POST", f"/calls/{sid}/{verb}", alice, json={"call_sid": sid})
        assert assert_problem(response, 502, "telephony-error")["twilio_code"] == 20429
    detail = (await api.request("GET", f"/calls/{sid}")).json()
    assert not any(x["muted"] for x in detail["legs"])
    assert not api.emu.conferences.get(detail["conference_sid"]).participants[sid].muted


# -- hold and resume --------------------------------------------------------------------------------
async def test_a_refused_hold_reports_twilio_code_and_is_undone(api) -> None:
    sid, alice = await api.live_call()
    refuse(api, "POST", PARTICIPANT, 429, 20429)
    problem = assert_problem(await api.request("POST", f"/calls/{sid}/hold", alice), 502, "telephony-error")
    assert problem["twilio_code"] == 20429 and "undone" in problem["detail"]
    hold = (await api.request("GET", f"/calls/{sid}")).json()["hold"]
    assert (hold["state"], hold["end_reason"]) == ("ended", "failed_compensated")


async def test_a_refused_resume_reports_twilio_code_and_stays_held(make_desk) -> None:
    api = make_desk(strategy="legs")
    sid, alice = await api.live_call()
    assert (await api.request("POST", f"/calls/{sid}/hold", alice)).status_code == 200
    await api.clock.advance(10)
    refuse(api, "POST", re.compile(r"/Calls/CA\w{32}\.json$"), 429, 20429)
    problem = assert_problem(await api.request("POST", f"/calls/{sid}/resume", alice), 502, "telephony-error")
    assert problem["twilio_code"] == 20429 and "still on hold" in problem["detail"]
    assert (await api.request("GET", f"/calls/{sid}")).json()["hold"]["state"] == "held"


async def test_holding_a_customer_twilio_says_is_gone_is_a_409(api) -> None:
    sid, alice = await api.live_call()
    refuse(api, "POST", PARTICIPANT, 404, 20404)
    problem = assert_problem(await api.request("POST", f"/calls/{sid}/hold", alice), 409, "conflict")
    assert problem["twilio_code"] == 20404
    hold = (await api.request("GET", f"/calls/{sid}")).json()["hold"]
    assert hold["state"] == "ended"


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        (16025, 400, (409, "conflict")),
        (16020, 400, (409, "conflict")),
        (20404, 404, (409, "conflict")),
        (21220, 400, (409, "conflict")),
        (21211, 400, (422, "invalid")),
        (20003, 401, (502, "telephony-error")),  # callhold's credentials: not the caller's fault
        (20429, 429, (502, "telephony-error")),
        (20503, 503, (502, "telephony-error")),
        (None, None, (502, "telephony-error")),  # no answer from Twilio at all
    ],
)
def test_twilio_codes_map_to_problem_statuses(code, status, expected) -> None:
    assert telephony_status(TelephonyError("x", code=code, status=status)) == expected
