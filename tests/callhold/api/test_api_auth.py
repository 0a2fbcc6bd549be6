"""Bearer tokens: the admin sees all, an agent only its own; forged or missing tokens are 401 problems."""

from __future__ import annotations

import hashlib

import pytest
from api_checks import assert_problem
from sqlalchemy import select

from callhold.adapters.db.tables import AgentRow


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic YWRtaW46eA=="},
        {"Authorization": "Bearer"},
    ],
)
async def test_a_missing_or_forged_token_is_a_401_problem_with_www_authenticate(api, headers) -> None:
    for method, path in [("GET", "/calls"), ("GET", "/agents"), ("GET", "/stats"), ("POST", "/agents")]:
        response = await api.client.request(method, f"/api/v1{path}", headers=headers, json={})
        assert_problem(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"


async def test_tokens_are_stored_hashed_and_rotation_revokes_the_old_one(api) -> None:
    token = await api.agent("alice")
    with api.services.store.engine.connect() as connection:
        stored = connection.scalar(select(AgentRow.token_hash).where(AgentRow.id == "alice"))
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    assert (await api.request("GET", "/agents/alice", token)).status_code == 200

    rotated = await api.request("POST", "/agents/alice/token")
    assert rotated.status_code == 200
    new = rotated.json()["token"]
    assert rotated.json()["agent_id"] == "alice" and new != token
    assert_problem(await api.request("GET", "/agents/alice", token), 401, "unauthorized")
    assert (await api.request("GET", "/agents/alice", new)).status_code == 200


async def test_only_the_admin_rotates_tokens(api) -> None:
    alice = await api.agent("alice")
    assert_problem(await api.request("POST", "/agents/alice/token", alice), 403, "forbidden")
    assert_problem(await api.request("POST", "/agents/nobody/token"), 404, "not-found")


async def test_an_agent_reads_only_itself(api) -> None:
    alice = await api.agent("alice")
    await api.agent("bob")
    listed = await api.request("GET", "/agents", alice)
    assert [a["id"] for a in listed.json()] == ["alice"]
    assert [a["id"] for a in (await api.request("GET", "/agents")).json()] == ["alice", "bob"]
    assert_problem(await api.request("GET", "/agents/bob", alice), 403, "forbidden")
    assert_problem(
        await api.request("PATCH", "/agents/bob", alice, json={"available": False}), 403, "forbidden"
    )
    assert_problem(await api.request("DELETE", "/agents/bob", alice), 403, "forbidden")
    create = {"name": "Eve", "endpoint": "client:eve"}
    assert_problem(await api.request("POST", "/agents", alice, json=create), 403, "forbidden")


async def test_an_agent_sets_its_own_availability_but_nothing_else(api) -> None:
    alice = await api.agent("alice")
    response = await api.request("PATCH", "/agents/alice", alice, json={"available": False})
    assert response.status_code == 200 and response.json()["available"] is False
    assert_problem(await api.request("PATCH", "/agents/alice", alice, json={"name": "Al"}), 403, "forbidden")
    endpoint = {"endpoint": "client:other"}
    assert_problem(await api.request("PATCH", "/agents/alice", alice, json=endpoint), 403, "forbidden")


async def test_an_agent_acts_only_on_its_own_calls(api) -> None:
    sid, alice = await api.live_call("alice")
    bob = await api.agent("bob")
    detail = (await api.request("GET", f"/calls/{sid}", alice)).json()
    customer = detail["customer_call_sid"]
    forbidden = [
        ("GET", f"/calls/{sid}", None),
        ("POST", f"/calls/{sid}/hold", {}),
        ("POST", f"/calls/{sid}/resume", None),
        ("POST", f"/calls/{sid}/mute", {"call_sid": customer}),
        ("POST", f"/calls/{sid}/unmute", {"call_sid": customer}),
        ("POST", f"/calls/{sid}/participants", {"to": "+15554440003"}),
        ("DELETE", f"/calls/{sid}/participants/{customer}", None),
    ]
    for method, path, body in forbidden:
        assert_problem(await api.request(method, path, bob, json=body), 403, "forbidden")
    assert (await api.request("GET", "/calls", bob)).json() == []
    assert [c["id"] for c in (await api.request("GET", "/calls", alice)).json()] == [sid]
    assert (await api.request("POST", f"/calls/{sid}/hold", alice)).json()["state"] == "held"
    assert (await api.request("POST", f"/calls/{sid}/resume")).json()["state"] == "ended"  # the admin


async def test_a_deleted_agents_token_stops_working(api) -> None:
    alice = await api.agent("alice")
    assert (await api.request("DELETE", "/agents/alice")).status_code == 204
    assert_problem(await api.request("GET", "/calls", alice), 401, "unauthorized")
