"""An agent left unavailable with no call is freed by the dispatch sweep (callhold.dispatch).

An instance that stops between committing the end of a call and freeing its agent leaves the agent
unavailable, not away, with no call. The call's end is on record, so a retried status callback is a
duplicate and frees nobody: only the sweep does, once two sweeps in a row have seen the agent so.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from callhold.domain.model import CallState
from tests.flows.callhold_harness import Harness, make_harness
from tests.flows.callhold_signed import send
from voicesim import Emulator, VirtualClock

EVERY = 5


async def end_call_and_die_before_freeing(h: Harness, customer: str) -> None:
    """The customer hangs up; the instance commits the call's end and stops before freeing the agent."""
    service = h.services.service
    call_ended = service.call_ended

    async def dies(call_id: str) -> None:
        raise RuntimeError("the instance stopped here")

    service.call_ended = dies  # type: ignore[method-assign]
    try:
        assert h.emu.hang_up(customer)
        await h.clock.advance(1)
        h.clock.errors.clear()
    finally:
        service.call_ended = call_ended  # type: ignore[method-assign]
    assert h.view(customer).call.status is CallState.ENDED


def available(h: Harness, agent_id: str) -> bool:
    agent = h.services.store.get_agent(agent_id)
    assert agent is not None
    return agent.available


@pytest.mark.parametrize("strategy", ["conference", "legs"])
async def test_an_agent_whose_release_was_lost_is_freed_and_takes_the_next_customer(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, strategy: str
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy=strategy)
    customer, _agent = await h.connected()
    waiting = (await h.call_in(customer="+15551230002")).sid  # alice is busy: waits in line
    assert h.view(waiting).call.agent_id is None
    sweeping = h.services.service.keep_dispatching(timedelta(seconds=EVERY))
    try:
        await end_call_and_die_before_freeing(h, customer)  # conference: participant-leave's too
        # Twilio's retried callback (or the same one reaching another instance) is a duplicate.
        for sent in h.status_callbacks(customer, "completed"):
            await send(h.app, sent["url"], sent["params"], auth_token=voicesim.auth_token)
        await voicesim_clock.advance(EVERY * 2 + 20)
        voicesim_clock.raise_errors()
    finally:
        sweeping.cancel()
    h.assert_talking_to(waiting, "alice")


async def test_an_away_agent_and_an_agent_on_a_call_are_not_freed(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="legs")
    await h.connected()  # alice on a call
    h.add_agent("bob", endpoint="client:bob")
    h.services.store.set_agent_available("bob", False)  # bob is away
    service = h.services.service
    for _ in range(3):
        assert await service.free_stranded_agents() == 0
    assert not available(h, "alice") and not available(h, "bob")
