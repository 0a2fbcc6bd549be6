"""``/api/v1/holds`` and ``/api/v1/stats``: the records and totals of holds of known virtual length."""

from __future__ import annotations

import pytest
from api_checks import assert_problem


async def hold_for(api, sid: str, seconds: float, token: str | None = None) -> None:
    """Hold ``sid`` for ``seconds`` of virtual time, then resume."""
    kwargs = {} if token is None else {"token": token}
    assert (await api.request("POST", f"/calls/{sid}/hold", **kwargs)).status_code == 200
    await api.clock.advance(seconds)
    assert (await api.request("POST", f"/calls/{sid}/resume", **kwargs)).status_code == 200
    await api.clock.advance(1)


async def test_stats_total_and_longest_per_call_and_per_agent(api) -> None:
    sid, alice = await api.live_call("alice")
    await hold_for(api, sid, 30, alice)
    await hold_for(api, sid, 10, alice)
    stats = (await api.request("GET", "/stats")).json()
    assert stats["calls"] == [{"call_id": sid, "holds": 2, "total_seconds": 40.0, "longest_seconds": 30.0}]
    assert stats["agents"] == [
        {"agent_id": "alice", "holds": 2, "total_seconds": 40.0, "longest_seconds": 30.0}
    ]
    assert stats["as_of"].startswith("2026-01-01T00:01:02")  # 20 s to connect + 30 + 1 + 10 + 1


async def test_an_open_hold_counts_up_to_now(api) -> None:
    sid, _ = await api.live_call("alice")
    await hold_for(api, sid, 30)
    assert (await api.request("POST", f"/calls/{sid}/hold")).status_code == 200
    await api.clock.advance(45)
    stats = (await api.request("GET", "/stats", params={"call_id": sid})).json()
    assert stats["calls"] == [{"call_id": sid, "holds": 2, "total_seconds": 75.0, "longest_seconds": 45.0}]
    holds = (await api.request("GET", "/holds", params={"state": "held"})).json()
    assert [(h["call_id"], h["duration_seconds"]) for h in holds] == [(sid, 45.0)]


async def test_agents_see_only_their_own_holds_and_stats(api) -> None:
    first, alice = await api.live_call("alice")
    second, bob = await api.live_call("bob")
    await hold_for(api, first, 30, alice)
    await hold_for(api, second, 12, bob)

    mine = (await api.request("GET", "/holds", alice)).json()
    assert [(h["call_id"], h["agent_id"]) for h in mine] == [(first, "alice")]
    assert [h["call_id"] for h in (await api.request("GET", "/holds")).json()] == [first, second]
    assert [
        h["agent_id"] for h in (await api.request("GET", "/holds", params={"agent_id": "bob"})).json()
    ] == ["bob"]
    assert_problem(await api.request("GET", "/holds", alice, params={"agent_id": "bob"}), 403, "forbidden")
    assert (await api.request("GET", "/holds", alice, params={"call_id": second})).json() == []

    stats = (await api.request("GET", "/stats", alice)).json()
    assert [s["call_id"] for s in stats["calls"]] == [first]
    assert stats["agents"] == [
        {"agent_id": "alice", "holds": 1, "total_seconds": 30.0, "longest_seconds": 30.0}
    ]
    assert_problem(await api.request("GET", "/stats", alice, params={"agent_id": "bob"}), 403, "forbidden")
    everyone = (await api.request("GET", "/stats")).json()
    assert {s["agent_id"]: s["total_seconds"] for s in everyone["agents"]} == {"alice": 30.0, "bob": 12.0}


async def test_an_agents_call_totals_count_only_its_own_holds_after_a_hand_over(api) -> None:
    sid, alice = await api.live_call("alice")
    assert (await api.request("POST", f"/calls/{sid}/hold", alice)).status_code == 200
    await api.clock.advance(10)
    agent_leg = api.services.service.view(sid).agent_leg
    api.emu.hang_up(agent_leg.call_sid)  # alice drops during the hold: the customer goes back in line
    await api.clock.advance(5)
    bob = await api.agent("bob")  # and is handed to bob, who holds it for 100 s
    await api.clock.advance(20)
    assert api.services.service.view(sid).call.agent_id == "bob"
    await hold_for(api, sid, 100, bob)

    alices = (await api.request("GET", "/holds", alice)).json()
    assert [(h["agent_id"], h["duration_seconds"]) for h in alices] == [("alice", 10.0)]
    stats = (await api.request("GET", "/stats", alice)).json()
    # the call's totals as alice sees them: her hold only, as /holds shows her -- not bob's
    assert stats["calls"] == [{"call_id": sid, "holds": 1, "total_seconds": 10.0, "longest_seconds": 10.0}]
    everything = (await api.request("GET", "/stats")).json()
    assert everything["calls"] == [
        {"call_id": sid, "holds": 2, "total_seconds": 110.0, "longest_seconds": 100.0}
    ]
    bobs = (await api.request("GET", "/stats", params={"agent_id": "bob"})).json()
    assert bobs["calls"] == [{"call_id": sid, "holds": 1, "total_seconds": 100.0, "longest_seconds": 100.0}]


async def test_hold_filters(api) -> None:
    sid, _ = await api.live_call("alice")
    await hold_for(api, sid, 30)  # started at 00:00:20
    await hold_for(api, sid, 5)  # started at 00:00:51
    ended = (await api.request("GET", "/holds", params={"call_id": sid, "state": "ended"})).json()
    assert [(h["duration_seconds"], h["end_reason"]) for h in ended] == [(30.0, "resumed"), (5.0, "resumed")]
    for since in ["2026-01-01T00:00:30Z", "2026-01-01T00:00:30", "2026-01-01T01:00:30+01:00"]:
        later = (await api.request("GET", "/holds", params={"since": since})).json()
        assert [h["duration_seconds"] for h in later] == [5.0], since
    assert (await api.request("GET", "/holds", params={"state": "held"})).json() == []
    assert len((await api.request("GET", "/holds", params={"limit": 1})).json()) == 1


@pytest.mark.parametrize(
    "params",
    [{"state": "paused"}, {"since": "yesterday"}, {"call_id": "CA1"}, {"agent_id": "a b"}, {"limit": 5000}],
)
async def test_bad_hold_filters_are_422(api, params) -> None:
    assert_problem(await api.request("GET", "/holds", params=params), 422, "invalid")


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
async def test_a_since_outside_utcs_range_is_a_422_not_a_500(api, since) -> None:
    """In range as written, out of it once converted to UTC (before year 1, after year 9999)."""
    problem = assert_problem(await api.request("GET", "/holds", params={"since": since}), 422, "invalid")
    assert [error["loc"] for error in problem["errors"]] == [["query", "since"]]
    assert "out of range" in problem["errors"][0]["msg"]


async def test_a_since_at_the_ends_of_utcs_range_is_accepted(api) -> None:
    sid, _ = await api.live_call("alice")
    await hold_for(api, sid, 5)
    earliest = await api.request("GET", "/holds", params={"since": "0001-01-01T00:00:00Z"})
    assert [h["duration_seconds"] for h in earliest.json()] == [5.0]
    assert (await api.request("GET", "/holds", params={"since": "9999-12-31T23:59:59Z"})).json() == []


async def test_stats_are_empty_before_any_hold(api) -> None:
    await api.live_call("alice")
    stats = (await api.request("GET", "/stats")).json()
    assert (stats["calls"], stats["agents"]) == ([], [])
    assert_problem(await api.request("GET", "/stats", params={"call_id": "nope"}), 422, "invalid")


async def test_order_desc_gives_the_newest_holds_first_however_many_there_are(api) -> None:
    """A client showing the latest few holds asks for just those: ``limit`` counts from the newest."""
    sid, _ = await api.live_call("alice")
    for seconds in (1, 2, 3, 4):
        await hold_for(api, sid, seconds)
    newest = (await api.request("GET", "/holds", params={"order": "desc", "limit": 2})).json()
    assert [h["duration_seconds"] for h in newest] == [4.0, 3.0]
    oldest = (await api.request("GET", "/holds", params={"limit": 2})).json()  # the default: oldest first
    assert [h["duration_seconds"] for h in oldest] == [1.0, 2.0]
    assert_problem(await api.request("GET", "/holds", params={"order": "newest"}), 422, "invalid")


async def test_stats_lists_the_most_recently_held_calls_first_up_to_limit(api) -> None:
    first, _ = await api.live_call("alice")
    second, _ = await api.live_call("bob")
    await hold_for(api, second, 7)
    await hold_for(api, first, 5)  # held last: first in the list
    stats = (await api.request("GET", "/stats")).json()
    assert [s["call_id"] for s in stats["calls"]] == [first, second]
    one = (await api.request("GET", "/stats", params={"limit": 1})).json()
    assert [s["call_id"] for s in one["calls"]] == [first]
    assert {a["agent_id"] for a in one["agents"]} == {"alice", "bob"}  # agents' totals are not cut
    none = (await api.request("GET", "/stats", params={"limit": 0})).json()
    assert none["calls"] == [] and len(none["agents"]) == 2
    assert_problem(await api.request("GET", "/stats", params={"limit": 1001}), 422, "invalid")


async def test_stats_since_counts_only_the_holds_started_then_or_later(api) -> None:
    sid, _ = await api.live_call("alice")
    await hold_for(api, sid, 30)  # started at 00:00:20
    await hold_for(api, sid, 5)  # started at 00:00:51
    later = (await api.request("GET", "/stats", params={"since": "2026-01-01T00:00:30Z"})).json()
    assert later["calls"] == [{"call_id": sid, "holds": 1, "total_seconds": 5.0, "longest_seconds": 5.0}]
    assert later["agents"] == [
        {"agent_id": "alice", "holds": 1, "total_seconds": 5.0, "longest_seconds": 5.0}
    ]


async def test_stats_of_one_call_count_only_that_calls_holds_per_agent_too(api) -> None:
    first, _ = await api.live_call("alice")
    second, _ = await api.live_call("bob")
    third = await api.customer_calls()  # waits: nobody is free
    await hold_for(api, first, 30)
    await hold_for(api, second, 12)
    stats = (await api.request("GET", "/stats", params={"call_id": first})).json()
    assert [s["call_id"] for s in stats["calls"]] == [first]
    assert stats["agents"] == [
        {"agent_id": "alice", "holds": 1, "total_seconds": 30.0, "longest_seconds": 30.0}
    ]
    # A call with no holds, or unknown: no totals at all (as /holds lists none), never everyone's.
    for call_id in (third, "CA" + "f" * 32):
        empty = (await api.request("GET", "/stats", params={"call_id": call_id})).json()
        assert (empty["calls"], empty["agents"]) == ([], []), call_id


@pytest.mark.parametrize("since", ["0.5", "0", "1767225600", "-1", "1e9"])
async def test_a_number_is_not_a_date_and_time(api, since) -> None:
    """pydantic would take it for seconds since 1970 -- everything, for a typo."""
    for path in ("/holds", "/stats"):
        problem = assert_problem(await api.request("GET", path, params={"since": since}), 422, "invalid")
        assert [error["loc"] for error in problem["errors"]] == [["query", "since"]]
        assert "ISO 8601" in problem["errors"][0]["msg"]
