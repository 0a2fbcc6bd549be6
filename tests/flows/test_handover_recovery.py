"""A hand-over committed but never carried out is finished by the dispatch sweep -- after Twilio is
asked, so that a conversation whose record was lost is recorded, never cut (``callhold.handovers``)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, update
from twilio.http.response import Response

from callhold.domain.model import LegRole
from callhold.handovers import HANDOVER_GRACE
from callhold.web.app import Services
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.twilio_refusals import InterceptingTransport, Sent, telephony_over
from voicesim import Emulator, VirtualClock

EVERY = 15


def moves_to_connect(h: Harness) -> int:
    """How many times voicesim fetched ``/twiml/connect`` (a customer moved to its agent)."""
    return sum(1 for e in h.emu.events if e.type == "webhook" and "/twiml/connect/" in str(e.data["url"]))


async def given_but_never_moved(h: Harness) -> str:
    """A customer waits in line; alice becomes free, and an instance gives her the call -- then dies
    before moving the customer to her. Returns the customer's Call SID."""
    customer = (await h.call_in(seconds=30)).sid  # nobody free: the customer waits in line
    h.add_agent("alice")
    h.services.store.give_call(
        customer, "alice", h.services.service.clock.now()
    )  # the dead instance's commit
    return customer


def forget_agent_legs(services: Services) -> None:
    """The agent leg's status callbacks lost (a database blip; Twilio does not retry them)."""
    legs = services.store.sql.legs
    with services.store.engine.begin() as conn:
        conn.execute(delete(legs).where(legs.c.role == LegRole.AGENT.value))


@pytest.mark.parametrize("strategy", ["conference", "legs"])
async def test_a_customer_given_to_an_agent_but_never_moved_reaches_the_agent(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, strategy: str
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy=strategy)
    customer = await given_but_never_moved(h)
    sweeping = h.services.service.keep_dispatching(timedelta(seconds=EVERY))
    try:
        # Within the grace a hand-over may still be under way: it is left alone.
        await h.clock.advance(HANDOVER_GRACE.total_seconds() - EVERY)
        assert moves_to_connect(h) == 0 and h.view(customer).agent_leg is None
        await h.clock.advance(2 * EVERY + 30)
    finally:
        sweeping.cancel()
    h.clock.raise_errors()
    h.assert_talking_to(customer, "alice")
    assert moves_to_connect(h) == 1
    assert h.emu.alerts == []


async def test_two_sweeps_at_once_move_the_customer_once(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    """Two instances' sweeps find the same stranded call: the one that renews its stamp under the
    call's lock moves it; the other sees the stamp changed and does nothing."""
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")
    customer = await given_but_never_moved(h)
    await h.clock.advance(HANDOVER_GRACE.total_seconds() + 1)
    service = h.services.service
    assert sorted(await asyncio.gather(service.recover_handovers(), service.recover_handovers())) == [0, 1]
    await h.clock.advance(30)
    h.clock.raise_errors()
    h.assert_talking_to(customer, "alice")
    assert moves_to_connect(h) == 1
    assert await service.recover_handovers() == 0  # connected: nothing more to do


@pytest.mark.parametrize("strategy", ["conference", "legs"])
async def test_a_conversation_whose_agent_leg_was_never_recorded_is_recorded_not_cut(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, strategy: str
) -> None:
    """By the record alone the call looks stranded; Twilio says the agent is there: its leg is
    recorded, and the customer is not moved (a redirect would cut the conversation)."""
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy=strategy)
    customer, agent_leg = await h.connected()
    forget_agent_legs(h.services)
    assert h.view(customer).agent_leg is None
    heard = h.heard(customer)
    await h.clock.advance(HANDOVER_GRACE.total_seconds() + 1)
    assert await h.services.service.recover_handovers() == 0
    await h.clock.advance(1)
    h.clock.raise_errors()
    recorded = h.view(customer).agent_leg
    assert recorded is not None and recorded.call_sid == agent_leg
    assert h.heard(customer) == heard  # still talking to alice, never interrupted
    assert moves_to_connect(h) == 0
    assert h.emu.calls.get(agent_leg).status == "in-progress"  # type: ignore[union-attr]


async def sweep_for(h: Harness, seconds: float) -> None:
    sweeping = h.services.service.keep_dispatching(timedelta(seconds=EVERY))
    try:
        await h.clock.advance(seconds)
    finally:
        sweeping.cancel()
    h.clock.raise_errors()


@pytest.mark.parametrize("strategy", ["conference", "legs"])
async def test_an_earlier_agents_leg_ended_just_before_does_not_hide_a_stranded_hand_over(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, strategy: str
) -> None:
    """alice drops during a hold (the customer is requeued); bob, free 3 s later, is given the call
    and the move is lost. alice's leg, over, is not bob's: the hand-over is finished."""
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy=strategy)
    customer, alice_leg = await h.held()
    assert h.emu.hang_up(alice_leg)
    await h.clock.advance(3)
    h.clock.raise_errors()
    assert h.view(customer).call.agent_id is None
    h.add_agent("bob", "client:bob")
    h.services.store.give_call(customer, "bob", h.services.service.clock.now())  # then the instance dies
    await sweep_for(h, HANDOVER_GRACE.total_seconds() + 2 * EVERY + 30)
    h.assert_talking_to(customer, "bob")
    assert moves_to_connect(h) == 1


async def test_a_customer_gone_whose_end_was_lost_is_ended_not_moved_for_ever(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    """The customer hung up, and its last status callback never reached the record: Twilio is
    asked, the end is recorded, the agent freed -- no move of a customer who is gone, every grace."""
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")
    customer = await given_but_never_moved(h)
    store = h.services.store
    assert h.emu.hang_up(customer)
    await h.clock.advance(2)
    calls, legs = store.sql.calls, store.sql.legs
    with store.engine.begin() as conn:  # as if the completed callback had been lost
        conn.execute(update(calls).where(calls.c.id == customer).values(status="active", ended_at=None))
        conn.execute(
            update(legs).where(legs.c.call_sid == customer).values(status="in-progress", status_rank=3)
        )
    with store.engine.begin() as conn:  # alice claimed for the call, as before its end
        conn.execute(update(store.sql.agents).values(available=False, away=False))
        conn.execute(delete(store.sql.receipts))  # nothing of the end was ever received
    await sweep_for(h, 10 * HANDOVER_GRACE.total_seconds())
    assert moves_to_connect(h) == 0 and h.view(customer).call.status.value == "ended"
    alice = store.get_agent("alice")
    assert alice is not None and (alice.available, alice.away) == (True, False)


@pytest.mark.parametrize("strategy", ["conference", "legs"])
async def test_an_agent_leg_found_at_twilio_is_recorded_with_its_status_and_the_agent_can_hold(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, strategy: str
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy=strategy)
    customer, agent_leg = await h.connected()
    forget_agent_legs(h.services)
    await h.clock.advance(HANDOVER_GRACE.total_seconds() + 1)
    assert await h.services.service.recover_handovers() == 0
    recorded = h.view(customer).agent_leg
    assert recorded is not None and recorded.call_sid == agent_leg
    assert recorded.status.value == "in-progress"
    await h.services.service.hold(customer, by="alice", agent_id="alice")  # NotConnected if still queued
    await h.clock.advance(5)
    h.clock.raise_errors()
    hold = h.view(customer).hold
    assert hold is not None and hold.state.value == "held"


class SlowFetches(InterceptingTransport):
    """voicesim's transport, where each Calls fetch yields to the event loop before it is answered
    (as a real request would): ``most`` counts how many were in flight at once. A fetch of
    ``failing`` raises, as a bug or an unexpected answer would."""

    def __init__(self, h: Harness, failing: str) -> None:
        super().__init__(h.emu, lambda method, url, _d: method == "GET" and "/Calls/CA" in url, "tests.slow")
        self.failing, self.in_flight, self.most = failing, 0, 0

    async def intercept(self, sent: Sent, selected: bool) -> Response:
        if not selected:
            return await self.inner.request(*sent)
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            for _ in range(3):
                await asyncio.sleep(0)
            if self.failing in sent[1]:
                raise RuntimeError("unexpected answer")
            return await self.inner.request(*sent)
        finally:
            self.in_flight -= 1


async def test_stranded_calls_are_recovered_together_and_one_failing_spares_the_others(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")
    first = (await h.call_in(seconds=30)).sid
    second = (await h.call_in(seconds=30, customer="+15551230002")).sid
    h.add_agent("alice")
    h.add_agent("bob", "client:bob")
    store, service = h.services.store, h.services.service
    store.give_call(first, "alice", service.clock.now())  # both hand-overs' moves lost
    store.give_call(second, "bob", service.clock.now())
    transport = SlowFetches(h, failing=first)
    service.telephony = telephony_over(h.emu, transport, BASE)
    await h.clock.advance(HANDOVER_GRACE.total_seconds() + 1)
    assert await service.recover_handovers() == 1
    assert transport.most == 2  # both asked Twilio at the same time
    await h.clock.advance(30)
    h.clock.raise_errors()
    h.assert_talking_to(second, "bob")
    assert h.view(first).agent_leg is None  # left for the next sweep
