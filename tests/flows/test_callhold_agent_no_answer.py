"""The agent a call was handed to never answers (no answer, busy), on both strategies.

The customer must not be left alone in a conference or in a line nobody serves: the call loses
its agent, the customer is connected to the next free agent at once or, with none free, waits in
line and is handed to the next agent who becomes available. The agent who did not answer stays
unavailable (it is probably away) until it sets itself available again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from callhold import budget
from callhold.domain.model import Agent, LegRole, LegStatus
from tests.flows.callhold_harness import Harness, make_harness
from voicesim import Emulator, VirtualClock

BUSY = "All of our agents are busy. Please hold for the next available agent."


def make(voicesim: Emulator, clock: VirtualClock, tmp_path: Path, strategy: str, outcome: str) -> Harness:
    h = make_harness(voicesim, clock, tmp_path, strategy=strategy)
    h.add_agent("alice")
    voicesim.phones.script("client:alice", outcome=outcome)
    return h


def available(h: Harness, agent_id: str) -> bool:
    agent = h.services.store.get_agent(agent_id)
    assert agent is not None
    return agent.available


def away(h: Harness, agent_id: str) -> bool:
    agent = h.services.store.get_agent(agent_id)
    assert agent is not None
    return agent.away


@pytest.mark.parametrize("strategy", ["conference", "legs"])
@pytest.mark.parametrize("outcome", ["no-answer", "busy"])
async def test_the_next_free_agent_takes_the_call(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, strategy: str, outcome: str
) -> None:
    h = make(voicesim, voicesim_clock, tmp_path, strategy, outcome)
    h.add_agent("bob", endpoint="client:bob")
    # alice (first by id) gets the call; bob is free, but only one agent is offered a call at once.
    customer = (await h.call_in(seconds=120)).sid
    missed = next(leg for leg in h.view(customer).legs if leg.role is LegRole.AGENT)
    assert h.emu.calls.get(missed.call_sid).to == "client:alice"  # type: ignore[union-attr]
    assert missed.status is LegStatus(outcome)
    h.assert_talking_to(customer, "bob")
    assert not available(h, "alice") and not available(h, "bob")
    assert away(h, "alice") and not away(h, "bob")  # alice shows as away, bob as on a call
    assert h.emu.alerts == []


@pytest.mark.parametrize("strategy", ["conference", "legs"])
async def test_with_nobody_free_the_customer_waits_for_the_next_agent(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, strategy: str
) -> None:
    h = make(voicesim, voicesim_clock, tmp_path, strategy, "no-answer")
    customer = (await h.call_in(seconds=120)).sid
    view = h.view(customer)
    assert view.call.agent_id is None  # not left assigned to alice, who never answered
    assert h.heard(customer)[-2:] == [("speech", "", BUSY), ("play", "queue-wait", h.heard(customer)[-1][2])]
    assert [c.id for c in h.services.service.waiting_calls()] == [customer]
    assert not available(h, "alice")

    h.services.store.save_agent(Agent(id="bob", name="Bob", endpoint="client:bob", available=False))
    await h.services.service.agent_available("bob")
    await h.clock.advance(15)
    h.clock.raise_errors()
    h.assert_talking_to(customer, "bob")
    assert h.emu.alerts == []


async def test_no_agent_is_dialled_once_the_webhook_time_is_spent(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    """Twilio drops a caller whose TwiML webhook takes over 15 s: with too little of that time left
    (earlier agents' requests were slow), no further agent is dialled; the claimed agent is free
    again and the customer waits in line for the dispatch."""
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")
    customer = (await h.call_in()).sid  # nobody free: the customer waits in line
    alice = h.add_agent("alice")
    call = h.view(customer).call
    assert h.services.service.assign_agent(call) == alice
    participants_before = len(h.emu.calls.all())
    with budget.spending(budget.MIN_REQUEST / 2):
        assert await h.services.service.connect_agent(h.view(customer).call, alice) is None
    assert len(h.emu.calls.all()) == participants_before  # alice was not dialled
    assert h.view(customer).call.agent_id is None and available(h, "alice") and not away(h, "alice")
    assert [c.id for c in h.services.service.waiting_calls()] == [customer]
