"""``/api/v1/agents``: create, read, change, delete; availability hands over a waiting customer."""

from __future__ import annotations

import pytest
from api_checks import assert_problem


async def test_create_returns_the_agent_its_token_and_location(api) -> None:
    body = {"id": "alice", "name": "Alice", "endpoint": "client:alice", "available": False}
    response = await api.request("POST", "/agents", json=body)
    assert response.status_code == 201
    assert response.headers["location"] == "/api/v1/agents/alice"
    created = response.json()
    token = created.pop("token")
    assert created == {**body, "away": True, "placing_to": None} and len(token) >= 32
    assert (await api.request("GET", "/agents/alice")).json() == {**body, "away": True, "placing_to": None}


async def test_create_chooses_an_id_and_defaults_to_available(api) -> None:
    response = await api.request("POST", "/agents", json={"name": "Bob", "endpoint": "+15559870002"})
    assert response.status_code == 201
    agent = response.json()
    assert agent["id"] and agent["available"] is True and agent["endpoint"] == "+15559870002"
    assert (await api.request("GET", f"/agents/{agent['id']}", agent["token"])).status_code == 200


async def test_a_duplicate_id_is_a_409(api) -> None:
    await api.agent("alice")
    again = {"id": "alice", "name": "Other", "endpoint": "client:other"}
    assert_problem(await api.request("POST", "/agents", json=again), 409, "conflict")
    assert (await api.request("GET", "/agents/alice")).json()["name"] == "Alice"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "A", "endpoint": "alice"},
        {"name": "A", "endpoint": "15551230001"},
        {"name": "A", "endpoint": "+0123456789"},
        {"name": "A", "endpoint": "client:"},
        {"name": "A", "endpoint": "client:" + "a" * 65},
        {"name": "A", "endpoint": "sip:alice@example.com"},
        {"name": "", "endpoint": "client:a"},
        {"name": "A\x00", "endpoint": "client:a"},
        {"name": "A", "endpoint": "client:a", "admin": True},
        {"id": "no spaces", "name": "A", "endpoint": "client:a"},
        {"id": "x" * 65, "name": "A", "endpoint": "client:a"},
        {"name": "A", "endpoint": "client:a", "available": "maybe"},
        {"endpoint": "client:a"},
        [],
    ],
)
async def test_bad_agent_bodies_are_422_problems(api, body) -> None:
    problem = assert_problem(await api.request("POST", "/agents", json=body), 422, "invalid")
    assert problem["errors"]


async def test_malformed_json_and_wrong_content_type_are_4xx_problems(api) -> None:
    headers = {"Content-Type": "application/json"}
    response = await api.request("POST", "/agents", content=b"{not json", headers=headers)
    assert_problem(response, 422, "invalid")
    response = await api.request("POST", "/agents", content=b"name=a", headers={"Content-Type": "text/plain"})
    assert response.status_code in (415, 422) and response.headers["content-type"].startswith(
        "application/problem"
    )


async def test_oversized_bodies_are_413_problems(api) -> None:
    body = {"name": "A" * 20_000, "endpoint": "client:a"}
    assert_problem(await api.request("POST", "/agents", json=body), 413, "payload-too-large")

    async def chunks():  # no Content-Length: counted while read
        for _ in range(20):
            yield b" " * 1024

    response = await api.request(
        "POST", "/agents", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 413, "payload-too-large")


async def test_unknown_and_malformed_agent_ids(api) -> None:
    assert_problem(await api.request("GET", "/agents/nobody"), 404, "not-found")
    assert_problem(await api.request("PATCH", "/agents/nobody", json={"available": True}), 404, "not-found")
    assert_problem(await api.request("DELETE", "/agents/nobody"), 404, "not-found")
    assert_problem(await api.request("GET", "/agents/bad%20id"), 422, "invalid")


async def test_the_admin_changes_name_and_endpoint(api) -> None:
    await api.agent("alice")
    response = await api.request(
        "PATCH", "/agents/alice", json={"name": "Alice B", "endpoint": "+15559870002"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "id": "alice",
        "name": "Alice B",
        "endpoint": "+15559870002",
        "available": True,
        "away": False,
        "placing_to": None,
    }
    assert_problem(await api.request("PATCH", "/agents/alice", json={"endpoint": "nope"}), 422, "invalid")
    assert_problem(await api.request("PATCH", "/agents/alice", json={"id": "bob"}), 422, "invalid")


async def test_a_changed_agent_keeps_its_token(api) -> None:
    token = await api.agent("alice")
    await api.request("PATCH", "/agents/alice", json={"name": "Renamed"})
    assert (await api.request("GET", "/agents/alice", token)).json()["name"] == "Renamed"


async def test_becoming_available_takes_the_longest_waiting_customer(api) -> None:
    alice = await api.agent("alice", available=False)
    sid = await api.customer_calls(wait=10)
    waiting = (await api.request("GET", f"/calls/{sid}")).json()
    assert waiting["agent_id"] is None and [leg["role"] for leg in waiting["legs"]] == ["customer"]

    response = await api.request("PATCH", "/agents/alice", alice, json={"available": True})
    assert response.status_code == 200
    assert response.json()["available"] is False  # claimed by the waiting customer
    await api.clock.advance(10)
    call = (await api.request("GET", f"/calls/{sid}", alice)).json()
    assert call["agent_id"] == "alice"
    assert [(leg["role"], leg["status"]) for leg in call["legs"]] == [
        ("customer", "in-progress"),
        ("agent", "in-progress"),
    ]
    held = await api.request("POST", f"/calls/{sid}/hold", alice)
    assert held.status_code == 200 and held.json()["state"] == "held"


async def test_becoming_available_with_nobody_waiting_just_sets_the_flag(api) -> None:
    await api.agent("alice", available=False)
    response = await api.request("PATCH", "/agents/alice", json={"available": True})
    assert response.json()["available"] is True


async def test_an_agent_on_an_active_call_is_not_made_available_until_it_ends(api) -> None:
    first, alice = await api.live_call("alice")
    for token in (alice, api.admin["Authorization"].removeprefix("Bearer ")):
        kept = await api.request("PATCH", "/agents/alice", token, json={"available": True})
        assert kept.status_code == 200
        assert (kept.json()["available"], kept.json()["away"]) == (False, False)
    renamed = await api.request("PATCH", "/agents/alice", json={"name": "Renamed", "available": True})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"

    second = await api.customer_calls()  # waits: alice is busy with the first customer
    calls = {c["id"]: (c["status"], c["agent_id"]) for c in (await api.request("GET", "/calls")).json()}
    assert calls == {first: ("active", "alice"), second: ("active", None)}

    unavailable = await api.request("PATCH", "/agents/alice", alice, json={"available": False})
    assert unavailable.status_code == 200 and unavailable.json()["available"] is False
    assert unavailable.json()["away"] is True


async def test_an_agent_away_during_its_call_is_not_handed_the_next_customer(api) -> None:
    """Saying "not available" mid-call means "no customer after this one": when the call ends the
    agent stays unavailable, and the customer waiting in line waits for it to come back."""
    first, alice = await api.live_call("alice")
    second = await api.customer_calls()  # waits: alice is busy with the first customer
    away = await api.request("PATCH", "/agents/alice", alice, json={"available": False})
    assert away.json()["available"] is False and away.json()["away"] is True

    api.emu.hang_up(first)
    await api.clock.advance(30)
    assert (await api.request("GET", f"/calls/{first}")).json()["status"] == "ended"
    agent = (await api.request("GET", "/agents/alice")).json()
    assert (agent["available"], agent["away"]) == (False, True)
    assert (await api.request("GET", f"/calls/{second}")).json()["agent_id"] is None
    assert api.emu.calls.get(second).status == "in-progress"  # still waiting in line

    back = await api.request("PATCH", "/agents/alice", alice, json={"available": True})
    assert back.status_code == 200 and back.json()["away"] is False
    await api.clock.advance(10)
    assert (await api.request("GET", f"/calls/{second}")).json()["agent_id"] == "alice"


async def test_an_agent_back_before_its_call_ends_takes_the_next_customer(api) -> None:
    """Away mid-call, then back mid-call: the end of the call makes it available again, and the
    customer waiting in line is handed to it."""
    first, alice = await api.live_call("alice")
    second = await api.customer_calls()
    await api.request("PATCH", "/agents/alice", alice, json={"available": False})
    back = await api.request("PATCH", "/agents/alice", alice, json={"available": True})
    assert (back.json()["available"], back.json()["away"]) == (False, False)
    assert (await api.request("GET", f"/calls/{second}")).json()["agent_id"] is None  # one at a time

    api.emu.hang_up(first)
    await api.clock.advance(30)
    assert (await api.request("GET", f"/calls/{second}")).json()["agent_id"] == "alice"


async def test_an_agent_not_away_takes_the_next_customer_when_its_call_ends(api) -> None:
    first, _ = await api.live_call("alice")
    second = await api.customer_calls()
    api.emu.hang_up(first)
    await api.clock.advance(30)
    assert (await api.request("GET", f"/calls/{second}")).json()["agent_id"] == "alice"


async def test_an_agent_whose_call_ended_can_make_itself_available(api) -> None:
    sid, alice = await api.live_call("alice")
    api.emu.hang_up(sid)
    await api.clock.advance(5)
    assert (await api.request("GET", f"/calls/{sid}")).json()["status"] == "ended"
    await api.request("PATCH", "/agents/alice", alice, json={"available": False})
    response = await api.request("PATCH", "/agents/alice", alice, json={"available": True})
    assert response.status_code == 200 and response.json()["available"] is True


async def test_delete_refuses_an_agent_on_a_call_and_keeps_records(api) -> None:
    sid, _ = await api.live_call("alice")
    assert_problem(await api.request("DELETE", "/agents/alice"), 409, "conflict")
    await api.agent("bob")
    assert (await api.request("DELETE", "/agents/bob")).status_code == 204
    assert_problem(await api.request("GET", "/agents/bob"), 404, "not-found")
    assert (await api.request("GET", f"/calls/{sid}")).status_code == 200


@pytest.mark.parametrize("available", [0, 1, "false", "true", "no", "yes", "off", 0.0, None])
async def test_availability_must_be_a_json_boolean(api, available) -> None:
    """A state change is no place to guess: ``0`` or ``"no"`` is refused, and nothing changes."""
    await api.agent("alice", available=False)
    body = {"id": "bob", "name": "Bob", "endpoint": "client:bob", "available": available}
    if available is not None:  # null in a create is not "leave as is": there is nothing to leave
        problem = assert_problem(await api.request("POST", "/agents", json=body), 422, "invalid")
        assert [e["loc"] for e in problem["errors"]] == [["body", "available"]]
        assert (await api.request("GET", "/agents/bob")).status_code == 404
    patched = await api.request("PATCH", "/agents/alice", json={"available": available})
    if available is None:  # null: unchanged, as documented
        assert patched.status_code == 200
    else:
        problem = assert_problem(patched, 422, "invalid")
        assert [e["loc"] for e in problem["errors"]] == [["body", "available"]]
    alice = (await api.request("GET", "/agents/alice")).json()
    assert (alice["available"], alice["away"]) == (False, True)


async def test_two_agents_cannot_share_an_endpoint(api) -> None:
    """One phone ringing for two agents: whoever answered would take the other's customers."""
    await api.agent("carol")
    dave = {"id": "dave", "name": "Dave", "endpoint": "client:carol"}
    problem = assert_problem(await api.request("POST", "/agents", json=dave), 409, "conflict")
    assert "client:carol" in problem["detail"] and "carol" in problem["detail"]
    assert (await api.request("GET", "/agents/dave")).status_code == 404

    assert (await api.request("POST", "/agents", json={**dave, "endpoint": "client:dave"})).status_code == 201
    taken = await api.request("PATCH", "/agents/dave", json={"endpoint": "client:carol", "name": "D"})
    assert_problem(taken, 409, "conflict")
    assert (await api.request("GET", "/agents/dave")).json()["name"] == "Dave"  # nothing changed
    # its own endpoint again, or a free one, is fine
    for endpoint in ("client:dave", "+15559870009"):
        same = await api.request("PATCH", "/agents/dave", json={"endpoint": endpoint})
        assert same.status_code == 200 and same.json()["endpoint"] == endpoint
