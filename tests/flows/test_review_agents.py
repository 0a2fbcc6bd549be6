"""Handing customers to agents under races, end to end on voicesim.

An agent becoming available gets the longest-waiting customer itself; a customer Twilio cannot move
waits again (the agent is not left claimed); an agent is released once per call, not again when the
second report of the same hang-up arrives after it took the next call; an agent claimed for a call
that ended meanwhile is released.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event
from sqlalchemy.exc import OperationalError

from callhold.adapters.db import SqlHoldStore
from callhold.domain.machine import Decision
from callhold.domain.model import Agent, CallState, CallView
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.flows.callhold_signed import Courier
from tests.twilio_refusals import REFUSED, RefusingTransport, telephony_over
from voicesim import Emulator, VirtualClock

CALL_UPDATE = re.compile(r"/Calls/CA\w{32}\.json$")


@pytest.fixture
def h(voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path) -> Harness:
    return make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")


def unavailable(h: Harness) -> RefusingTransport:
    """voicesim's SDK transport, with Twilio refusing every Calls update (nothing done)."""
    return RefusingTransport(
        h.emu, lambda method, url, _: method == "POST" and CALL_UPDATE.search(url) is not None, **REFUSED
    )


def available(h: Harness, agent_id: str) -> bool:
    agent = h.services.store.get_agent(agent_id)
    assert agent is not None
    return agent.available


async def waiting_customer(h: Harness) -> str:
    """A customer waiting in line (no agent was free when it called)."""
    h.services.store.save_agent(Agent(id="bob", name="Bob", endpoint="client:bob", available=False))
    call = await h.call_in()
    assert h.heard(call.sid)[-1][1] == "queue-wait"
    assert [c.id for c in h.services.service.waiting_calls()] == [call.sid]
    return call.sid


async def test_the_agent_who_becomes_available_gets_the_waiting_customer_itself(h: Harness) -> None:
    customer = await waiting_customer(h)
    h.services.store.save_agent(Agent(id="aaron", name="Aaron", endpoint="client:aaron", available=False))
    # bob says he is available: bob gets the customer, not aaron (who is not available).
    assert (await h.api("PATCH", "/agents/bob", {"available": True})).status_code == 200
    await assert_connected_to(h, customer, "bob")
    assert not available(h, "bob") and not available(h, "aaron")


async def assert_connected_to(h: Harness, customer: str, agent_id: str) -> None:
    """Within 10 s the waiting customer is in the conference with a leg dialled to ``agent_id``."""
    await h.clock.advance(10)
    h.clock.raise_errors()
    view = h.view(customer)
    assert view.call.agent_id == agent_id
    assert view.agent_leg is not None
    assert h.emu.calls.get(view.agent_leg.call_sid).to == f"client:{agent_id}"  # type: ignore[union-attr]
    assert h.heard(customer)[-1] == ("conference", "", view.agent_leg.call_sid)


async def test_an_agent_created_available_takes_the_waiting_customer(h: Harness) -> None:
    customer = await waiting_customer(h)
    body = {"id": "aaron", "name": "Aaron", "endpoint": "client:aaron"}
    created = await h.api("POST", "/agents", body)
    assert created.status_code == 201
    assert created.json()["available"] is False  # already busy with the customer
    await assert_connected_to(h, customer, "aaron")
    assert h.services.service.waiting_calls() == []
    # A second agent created available finds nobody waiting, and stays available.
    body = {"id": "carol", "name": "Carol", "endpoint": "client:carol"}
    assert (await h.api("POST", "/agents", body)).json()["available"] is True
    # Creating an existing id again is refused and changes nothing.
    again = await h.api("POST", "/agents", {"id": "aaron", "name": "Other", "endpoint": "client:x"})
    assert again.status_code == 409
    assert h.services.store.get_agent("aaron") == Agent(
        id="aaron", name="Aaron", endpoint="client:aaron", available=False
    )


async def test_an_agent_freed_by_a_hang_up_takes_the_waiting_customer(h: Harness) -> None:
    first, _ = await h.connected()
    second = (await h.call_in(customer="+15551230002")).sid
    assert h.heard(second)[-1][1] == "queue-wait"  # alice is busy: the second customer waits
    assert h.emu.hang_up(first)  # the first customer hangs up: alice is free ...
    await assert_connected_to(h, second, "alice")  # ... and takes the waiting customer at once
    assert not available(h, "alice") and h.services.service.waiting_calls() == []


async def test_renaming_a_busy_agent_does_not_make_it_available(h: Harness) -> None:
    h.add_agent()
    call = await h.call_in()
    assert h.view(call.sid).call.agent_id == "alice" and not available(h, "alice")
    changed = await h.api("PATCH", "/agents/alice", {"name": "Alice B", "endpoint": "client:alice2"})
    assert changed.status_code == 200
    assert changed.json()["name"] == "Alice B" and changed.json()["available"] is False
    assert h.services.store.get_agent("alice") == Agent(
        id="alice", name="Alice B", endpoint="client:alice2", available=False
    )


async def test_a_customer_twilio_cannot_move_waits_again_and_the_agent_is_not_left_claimed(
    h: Harness,
) -> None:
    customer = await waiting_customer(h)
    service = h.services.service
    working = service.telephony
    service.telephony = telephony_over(h.emu, unavailable(h), BASE)
    response = await h.api("PATCH", "/agents/bob", {"available": True})
    assert response.status_code == 502 and response.json()["twilio_code"] == REFUSED["code"]
    assert h.view(customer).call.agent_id is None
    assert [c.id for c in service.waiting_calls()] == [customer]
    assert available(h, "bob")
    await h.clock.advance(10)
    assert h.heard(customer)[-1][1] == "queue-wait"  # never left the line
    # Twilio works again: the next availability connects them.
    service.telephony = working
    assert (await h.api("PATCH", "/agents/bob", {"available": True})).status_code == 200
    await h.clock.advance(10)
    h.clock.raise_errors()
    assert h.view(customer).call.agent_id == "bob" and h.heard(customer)[-1][0] == "conference"


async def test_the_agent_is_released_once_per_call_not_again_after_taking_the_next(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")
    courier = Courier(h.app)
    voicesim.webhooks.mount(BASE, courier)
    h.add_agent()
    first = await h.call_in()
    # The first customer's "completed" status callback arrives late; the conference's
    # participant-leave already reports the hang-up.
    courier.keep_back(
        lambda path, form: (
            path == "/webhooks/call-status"
            and form.get("CallSid") == first.sid
            and form.get("CallStatus") == "completed"
        )
    )
    assert h.emu.hang_up(first.sid)
    await h.clock.advance(5)
    assert h.view(first.sid).call.status is CallState.ENDED and available(h, "alice")
    second = await h.call_in(customer="+15551230002")
    assert h.view(second.sid).call.agent_id == "alice" and not available(h, "alice")

    [late] = courier.kept
    assert (await courier.deliver(late, BASE)).status_code == 204
    assert not available(h, "alice")  # still on the second call
    courier.stop_keeping()
    assert h.emu.hang_up(second.sid)
    await h.clock.advance(5)
    assert available(h, "alice")


def between_listing_and_giving(
    store: SqlHoldStore, monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], object]
) -> None:
    """``meanwhile()`` is committed after ``assign_agent`` listed the free agents, before it gives
    one the call (another request or instance, at the worst moment)."""
    list_agents = store.list_agents

    def listed_then(*, available: bool | None = None) -> list[Agent]:
        free = list_agents(available=available)
        meanwhile()
        return free

    monkeypatch.setattr(store, "list_agents", listed_then)


async def test_an_agent_is_not_claimed_for_a_call_that_ended_meanwhile(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    service, store = h.services.service, h.services.store
    h.add_agent()
    call = service.adopt("CA" + "1" * 32)

    def end(view: CallView) -> Decision:
        ended = replace(view.call, status=CallState.ENDED, ended_at=service.clock.now())
        return Decision(new_state=replace(view, call=ended))

    between_listing_and_giving(store, monkeypatch, lambda: store.transact(call.id, end))  # hung up
    assert service.assign_agent(call) is None
    ended = h.view(call.id).call
    assert (ended.status, ended.agent_id) == (CallState.ENDED, None)
    assert available(h, "alice")


async def test_an_agent_deleted_before_it_was_given_the_call_is_not_given_it(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    service, store = h.services.service, h.services.store
    h.add_agent()
    call = service.adopt("CA" + "1" * 32)

    def delete_alice() -> None:  # DELETE /api/v1/agents/alice
        with store.engine.begin() as conn:
            conn.execute(delete(store.sql.agents).where(store.sql.agents.c.id == "alice"))

    between_listing_and_giving(store, monkeypatch, delete_alice)
    assert service.assign_agent(call) is None  # not an IntegrityError (a 500 on /twiml/voice)
    waiting = h.view(call.id).call
    assert (waiting.status, waiting.agent_id) == (CallState.ACTIVE, None)


async def test_a_failure_while_giving_a_call_leaves_the_agent_available(h: Harness) -> None:
    # The database fails as the call is given: the claim is undone with it, so the agent is not
    # left busy with no call (and a retried webhook finds it free).
    service, store = h.services.service, h.services.store
    h.add_agent()
    call = service.adopt("CA" + "1" * 32)

    def locked(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE CALLS"):
            raise sqlite3.OperationalError("database is locked")

    event.listen(store.engine, "before_cursor_execute", locked)
    try:
        with pytest.raises(OperationalError):
            service.assign_agent(call)
    finally:
        event.remove(store.engine, "before_cursor_execute", locked)
    assert available(h, "alice")
    assert h.view(call.id).call.agent_id is None
    assert service.assign_agent(call) is not None  # the retry gets alice


async def test_dialling_the_agent_again_finds_the_participant_an_earlier_attempt_dialled(
    h: Harness,
) -> None:
    # A retried /twiml/voice whose first attempt dialled alice but failed before recording her leg
    # dials her again: Twilio refuses the second 'agent' participant (16025); callhold takes the one
    # already in the conference -- not "no agent", with alice alone in the conference.
    customer, agent_leg = await h.connected()
    call = h.view(customer).call
    alice = h.services.store.get_agent("alice")
    assert alice is not None
    calls_before = len(h.emu.calls.all())
    await h.services.service.add_agent_participant(call, alice)
    await h.clock.advance(5)
    h.clock.raise_errors()
    view = h.view(customer)
    assert view.call.agent_id == "alice"
    assert view.agent_leg is not None and view.agent_leg.call_sid == agent_leg
    assert len(h.emu.calls.all()) == calls_before  # nobody dialled twice
    assert h.heard(customer)[-1][2] == agent_leg
