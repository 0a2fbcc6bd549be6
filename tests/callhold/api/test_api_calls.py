"""``/api/v1/calls``: read, hold, resume, mute, parties, outbound calls -- and every way to get them wrong."""

from __future__ import annotations

import pytest
from api_checks import assert_problem

UNKNOWN = "CA" + "0" * 32
THIRD = "+15554440003"
MUSIC = "http://callhold.test/media/hold-music.wav"  # served by callhold itself


async def test_list_and_filter_calls(api) -> None:
    sid, _ = await api.live_call()
    calls = (await api.request("GET", "/calls")).json()
    assert [(c["id"], c["status"], c["agent_id"], c["strategy"]) for c in calls] == [
        (sid, "active", "alice", "conference")
    ]
    assert (await api.request("GET", "/calls", params={"status": "active"})).json() == calls
    assert (await api.request("GET", "/calls", params={"status": "ended"})).json() == []
    assert_problem(await api.request("GET", "/calls", params={"status": "gone"}), 422, "invalid")
    assert_problem(await api.request("GET", "/calls", params={"limit": 0}), 422, "invalid")


async def test_listed_calls_carry_the_state_of_their_open_else_latest_hold(api) -> None:
    sid, alice = await api.live_call()

    async def states() -> tuple[object, object]:
        listed = (await api.request("GET", "/calls")).json()
        detail = (await api.request("GET", f"/calls/{sid}")).json()
        assert detail["hold_state"] == (detail["hold"] or {}).get("state")
        return listed[0]["hold_state"], detail["hold_state"]

    assert await states() == (None, None)  # never held
    assert (await api.request("POST", f"/calls/{sid}/hold", alice)).status_code == 200
    assert await states() == ("held", "held")
    assert (await api.request("GET", "/calls", alice)).json()[0]["hold_state"] == "held"  # agents too
    assert (await api.request("POST", f"/calls/{sid}/resume", alice)).status_code == 200
    assert await states() == ("ended", "ended")  # the latest hold, ended


async def test_listed_with_detail_each_call_is_what_its_own_get_gives(api) -> None:
    first, alice = await api.live_call("alice")
    second, bob = await api.live_call("bob")
    assert (await api.request("POST", f"/calls/{first}/hold", alice)).status_code == 200

    async def listed(*token: str, **params: object) -> list[dict[str, object]]:
        response = await api.request("GET", "/calls", *token, params={"detail": "true", **params})
        assert response.status_code == 200, response.text
        body: list[dict[str, object]] = response.json()
        return body

    one_by_one = [(await api.request("GET", f"/calls/{sid}")).json() for sid in (second, first)]
    assert await listed() == one_by_one  # newest first, legs and hold as GET /calls/{sid}
    assert one_by_one[1]["hold"]["state"] == "held" and len(one_by_one[1]["legs"]) == 2
    assert await listed(alice) == [one_by_one[1]]  # an agent: its own calls only
    assert await listed(bob, status="active") == [one_by_one[0]]
    assert await listed(status="ended") == []
    plain = (await api.request("GET", "/calls")).json()
    assert "legs" not in plain[0] and plain[0]["hold_state"] == one_by_one[0]["hold_state"]
    assert_problem(await api.request("GET", "/calls", params={"detail": "maybe"}), 422, "invalid")


async def test_a_call_shows_its_legs_and_is_found_by_any_leg_sid(api) -> None:
    sid, _ = await api.live_call()
    call = (await api.request("GET", f"/calls/{sid}")).json()
    assert call["id"] == sid == call["customer_call_sid"]
    assert call["customer_number"] == api.emu.calls.get(sid).from_  # who is calling: its From
    assert call["conference_sid"].startswith("CF") and call["hold"] is None
    roles = {leg["role"]: leg for leg in call["legs"]}
    assert set(roles) == {"customer", "agent"}
    agent_leg = roles["agent"]["call_sid"]
    assert (await api.request("GET", f"/calls/{agent_leg}")).json()["id"] == sid


@pytest.mark.parametrize(
    "bad", ["nope", "CA123", "CA" + "G" * 32, "CA" + "A" * 32, "CF" + "0" * 32, "CA" + "0" * 33]
)
async def test_malformed_sids_are_422_and_unknown_ones_404(api, bad) -> None:
    for method, path in [("GET", ""), ("POST", "/hold"), ("POST", "/resume")]:
        assert_problem(await api.request(method, f"/calls/{bad}{path}"), 422, "invalid")
        assert_problem(await api.request(method, f"/calls/{UNKNOWN}{path}"), 404, "not-found")
    body = {"call_sid": bad}
    assert_problem(await api.request("POST", f"/calls/{UNKNOWN}/mute", json=body), 422, "invalid")
    assert_problem(await api.request("DELETE", f"/calls/{UNKNOWN}/participants/{bad}"), 422, "invalid")


async def test_hold_is_idempotent_and_resume_when_not_held_is_a_409(api) -> None:
    sid, alice = await api.live_call()
    assert_problem(await api.request("POST", f"/calls/{sid}/resume", alice), 409, "not-held")

    first = await api.request(
        "POST", f"/calls/{sid}/hold", alice, json={"reason": "checking", "music_url": MUSIC}
    )
    assert first.status_code == 200
    hold = first.json()
    assert (hold["state"], hold["requested_by"], hold["agent_id"], hold["reason"]) == (
        "held",
        "alice",
        "alice",
        "checking",
    )
    assert hold["music_url"] == MUSIC and hold["strategy"] == "conference"
    await api.clock.advance(5)
    second = await api.request("POST", f"/calls/{sid}/hold", json={"reason": "again"})
    assert second.status_code == 200
    assert second.json()["id"] == hold["id"] and second.json()["reason"] == "checking"
    assert second.json()["duration_seconds"] == 5
    detail = (await api.request("GET", f"/calls/{sid}")).json()
    assert detail["hold"]["id"] == hold["id"]
    assert [leg["on_hold"] for leg in detail["legs"] if leg["role"] == "customer"] == [True]

    resumed = await api.request("POST", f"/calls/{sid}/resume", alice)
    assert resumed.status_code == 200
    assert resumed.json()["id"] == hold["id"] and resumed.json()["state"] == "ended"
    assert resumed.json()["end_reason"] == "resumed"
    assert_problem(await api.request("POST", f"/calls/{sid}/resume", alice), 409, "not-held")


@pytest.mark.parametrize(
    "body",
    [
        {"music_url": "ftp://example.com/m.mp3"},
        {"music_url": "not a url"},
        {"music_url": "https://example.com/" + "a" * 2000},
        {"reason": "r" * 501},
        {"reason": "line\nbreak"},
        {"hold": True},
        {"reason": 5},
    ],
)
async def test_bad_hold_bodies_are_422_and_hold_nothing(api, body) -> None:
    sid, _ = await api.live_call()
    assert_problem(await api.request("POST", f"/calls/{sid}/hold", json=body), 422, "invalid")
    assert (await api.request("GET", f"/calls/{sid}")).json()["hold"] is None


async def test_hold_before_the_agent_answers_is_a_409(api) -> None:
    await api.agent("alice")
    sid = await api.customer_calls(wait=1)  # the agent's phone is still ringing
    response = await api.request("POST", f"/calls/{sid}/hold")
    assert_problem(response, 409, "conference-not-started")
    assert (await api.request("GET", f"/calls/{sid}")).json()["hold"] is None


async def test_a_call_that_ended_refuses_hold_with_a_409(api) -> None:
    sid, _ = await api.live_call()
    api.emu.calls.complete(api.emu.calls.get(sid), "completed", by="caller")
    await api.clock.advance(5)
    assert (await api.request("GET", f"/calls/{sid}")).json()["status"] == "ended"
    assert (await api.request("GET", "/calls", params={"status": "ended"})).json()[0]["id"] == sid
    assert_problem(await api.request("POST", f"/calls/{sid}/hold"), 409, "call-ended")


async def test_mute_and_unmute_a_participant(api) -> None:
    sid, alice = await api.live_call()
    body = {"call_sid": sid}
    muted = await api.request("POST", f"/calls/{sid}/mute", alice, json=body)
    assert muted.status_code == 200
    assert [leg["muted"] for leg in muted.json()["legs"] if leg["call_sid"] == sid] == [True]
    unmuted = await api.request("POST", f"/calls/{sid}/unmute", alice, json=body)
    assert [leg["muted"] for leg in unmuted.json()["legs"] if leg["call_sid"] == sid] == [False]
    unknown = {"call_sid": UNKNOWN}
    assert_problem(await api.request("POST", f"/calls/{sid}/mute", json=unknown), 404, "not-found")
    assert_problem(await api.request("POST", f"/calls/{sid}/mute", json={}), 422, "invalid")
    extra = {"call_sid": sid, "muted": True}
    assert_problem(await api.request("POST", f"/calls/{sid}/mute", json=extra), 422, "invalid")


async def test_add_and_remove_a_third_party(api) -> None:
    sid, alice = await api.live_call()
    added = await api.request(
        "POST", f"/calls/{sid}/participants", alice, json={"to": THIRD, "label": "expert"}
    )
    assert added.status_code == 201
    third = [leg["call_sid"] for leg in added.json()["legs"] if leg["role"] == "third_party"]
    assert len(third) == 1
    await api.clock.advance(10)
    removed = await api.request("DELETE", f"/calls/{sid}/participants/{third[0]}", alice)
    assert removed.status_code == 204 and removed.content == b""
    await api.clock.advance(2)
    legs = (await api.request("GET", f"/calls/{sid}")).json()["legs"]
    assert [leg["status"] for leg in legs if leg["call_sid"] == third[0]] == ["completed"]
    gone = await api.request("DELETE", f"/calls/{sid}/participants/{third[0]}", alice)
    assert_problem(gone, 404, "not-found")
    assert_problem(await api.request("DELETE", f"/calls/{sid}/participants/{UNKNOWN}"), 404, "not-found")


@pytest.mark.parametrize("body", [{"to": "nobody"}, {"to": THIRD, "label": "<x>"}, {"to": THIRD, "x": 1}, {}])
async def test_bad_participant_bodies_are_422(api, body) -> None:
    sid, _ = await api.live_call()
    assert_problem(await api.request("POST", f"/calls/{sid}/participants", json=body), 422, "invalid")


async def test_the_legs_strategy_has_no_mute_or_parties(make_desk) -> None:
    api = make_desk(strategy="legs")
    sid, alice = await api.live_call()
    assert (await api.request("GET", f"/calls/{sid}")).json()["strategy"] == "legs"
    for method, path, body in [
        ("POST", f"/calls/{sid}/mute", {"call_sid": sid}),
        ("POST", f"/calls/{sid}/unmute", {"call_sid": sid}),
        ("POST", f"/calls/{sid}/participants", {"to": THIRD}),
        ("DELETE", f"/calls/{sid}/participants/{sid}", None),
    ]:
        assert_problem(await api.request(method, path, alice, json=body), 409, "wrong-strategy")
    held = await api.request("POST", f"/calls/{sid}/hold", alice)
    assert held.status_code == 200 and held.json()["queue_name"].startswith("hold-")
    await api.clock.advance(10)
    assert (await api.request("POST", f"/calls/{sid}/resume", alice)).status_code == 200


async def test_an_agent_places_an_outbound_call_and_talks_to_the_customer(api) -> None:
    alice = await api.agent("alice")
    response = await api.request("POST", "/calls", alice, json={"to": "+15551239999"})
    assert response.status_code == 201, response.text
    call = response.json()
    sid = call["id"]
    assert response.headers["location"] == f"/api/v1/calls/{sid}"
    assert call["agent_id"] == "alice" and call["customer_call_sid"] == sid
    assert call["customer_number"] == "+15551239999"  # the number dialled
    assert (await api.request("GET", "/agents/alice")).json()["available"] is False
    assert api.emu.calls.get(sid).to == "+15551239999"

    await api.clock.advance(20)  # the customer answers after 3 s, then alice is dialled in
    call = (await api.request("GET", f"/calls/{sid}", alice)).json()
    assert call["conference_sid"] is not None
    assert {leg["role"]: leg["status"] for leg in call["legs"]} == {
        "customer": "in-progress",
        "agent": "in-progress",
    }
    held = await api.request("POST", f"/calls/{sid}/hold", alice)
    assert held.status_code == 200 and held.json()["state"] == "held"


async def test_outbound_rules(api) -> None:
    alice = await api.agent("alice")
    await api.agent("bob")
    to = {"to": "+15551239999"}
    assert_problem(
        await api.request("POST", "/calls", alice, json={**to, "agent_id": "bob"}), 403, "forbidden"
    )
    assert_problem(await api.request("POST", "/calls", json={**to, "agent_id": "carol"}), 404, "not-found")
    assert_problem(
        await api.request("POST", "/calls", json={"to": "5551239999", "agent_id": "bob"}), 422, "invalid"
    )
    assert (await api.request("POST", "/calls", json={**to, "agent_id": "bob"})).status_code == 201
    busy = await api.request("POST", "/calls", json={**to, "agent_id": "bob"})
    assert_problem(busy, 409, "conflict")
    anyone = await api.request("POST", "/calls", json=to)  # the admin names nobody: first available
    assert anyone.status_code == 201 and anyone.json()["agent_id"] == "alice"
    assert_problem(await api.request("POST", "/calls", json=to), 409, "conflict")  # nobody left


async def test_an_unanswered_outbound_call_frees_the_agent(api) -> None:
    from voicesim import PhoneScript

    api.emu.phones.script("+15551239999", PhoneScript(outcome="busy"))
    alice = await api.agent("alice")
    sid = (await api.request("POST", "/calls", alice, json={"to": "+15551239999"})).json()["id"]
    await api.clock.advance(10)
    assert (await api.request("GET", f"/calls/{sid}")).json()["status"] == "ended"
    assert (await api.request("GET", "/agents/alice")).json()["available"] is True


# -- Twilio refusing: reported, never half-applied -------------------------------------------------
def refuse(api, method: str, code: int = 20001) -> None:
    """Make the telephony adapter's ``method`` fail as a Twilio refusal would."""
    from callhold.domain.errors import TelephonyError

    async def fail(*args: object, **kwargs: object) -> None:
        raise TelephonyError("refused", code=code, status=500)

    setattr(api.services.service.telephony, method, fail)


async def test_a_refused_hold_is_undone_and_reported_as_502(api) -> None:
    sid, alice = await api.live_call()
    refuse(api, "set_participant_hold")
    problem = assert_problem(await api.request("POST", f"/calls/{sid}/hold", alice), 502, "telephony-error")
    assert "undone" in problem["detail"]
    hold = (await api.request("GET", f"/calls/{sid}")).json()["hold"]
    assert (hold["state"], hold["end_reason"]) == ("ended", "failed_compensated")
    assert_problem(await api.request("POST", f"/calls/{sid}/resume", alice), 409, "not-held")


async def test_a_refused_resume_leaves_the_hold_in_place_as_502(api) -> None:
    sid, alice = await api.live_call()
    assert (await api.request("POST", f"/calls/{sid}/hold", alice)).status_code == 200
    refuse(api, "set_participant_hold")
    assert_problem(await api.request("POST", f"/calls/{sid}/resume", alice), 502, "telephony-error")
    assert (await api.request("GET", f"/calls/{sid}")).json()["hold"]["state"] == "held"


async def test_a_mute_twilio_refuses_with_a_server_error_is_a_502_problem(api) -> None:
    sid, alice = await api.live_call()
    refuse(api, "set_participant_muted")  # Twilio answers 500 / 20001
    problem = assert_problem(
        await api.request("POST", f"/calls/{sid}/mute", alice, json={"call_sid": sid}), 502, "telephony-error"
    )
    assert problem["twilio_code"] == 20001


async def test_a_participant_label_in_use_is_a_409(api) -> None:
    sid, alice = await api.live_call()
    body = {"to": THIRD, "label": "expert"}
    assert (await api.request("POST", f"/calls/{sid}/participants", alice, json=body)).status_code == 201
    again = await api.request(
        "POST", f"/calls/{sid}/participants", alice, json={**body, "to": "+15554440004"}
    )
    assert "label" in assert_problem(again, 409, "conflict")["detail"]


async def test_a_refused_outbound_call_releases_the_agent(api) -> None:
    alice = await api.agent("alice")
    refuse(api, "place_call", code=21215)
    problem = assert_problem(
        await api.request("POST", "/calls", alice, json={"to": "+15551239999"}), 502, "telephony-error"
    )
    assert problem["twilio_code"] == 21215
    assert (await api.request("GET", "/agents/alice")).json()["available"] is True
    assert (await api.request("GET", "/calls")).json() == []
