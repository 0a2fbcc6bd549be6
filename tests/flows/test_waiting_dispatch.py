"""No customer waits while an agent is free: when Twilio refuses the redirect that moves a waiting
customer to a free agent, the periodic dispatch (``keep_dispatching``, started with the app) hands
the customer over on its next sweep."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from callhold.domain.errors import TelephonyError
from callhold.domain.model import Leg, LegRole, LegStatus
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.twilio_refusals import REFUSED, RefusingTransport, telephony_over
from voicesim import Emulator, VirtualClock

EVERY = 15


def refuse_first_move(h: Harness) -> RefusingTransport:
    """From now on Twilio refuses (nothing done) the first redirect of a customer to ``/twiml/connect``."""
    moves = itertools.count()

    def selects(method: str, url: str, data: dict[str, Any]) -> bool:
        return "/twiml/connect/" in str(data.get("Url", "")) and next(moves) == 0

    refusing = RefusingTransport(h.emu, selects, **REFUSED)
    h.services.service.telephony = telephony_over(h.emu, refusing, BASE)
    return refusing


async def test_a_customer_whose_agent_never_answered_is_not_left_alone_in_the_conference(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")
    h.add_agent("alice")
    h.add_agent("bob", endpoint="client:bob")
    voicesim.phones.script("client:alice", outcome="no-answer")
    refused = refuse_first_move(h)
    customer = (await h.call_in(seconds=120)).sid
    # alice never answered, and Twilio refused to move the customer on: alone in the conference,
    # with bob free -- and so it stays, however long, without the dispatch.
    assert len(refused.refused) == 1
    view = h.view(customer)
    assert view.call.agent_id is None
    missed = next(leg for leg in view.legs if leg.role is LegRole.AGENT)
    assert missed.status is LegStatus.NO_ANSWER
    assert [c.id for c in h.services.service.waiting_calls()] == [customer]
    await h.clock.advance(300)
    assert h.view(customer).call.agent_id is None
    assert h.heard(customer)[-1][:2] == ("play", "conference-wait")  # alone, on waiting music
    # The app, started, runs the dispatch: its first sweep sees the customer waiting, and the next,
    # finding nothing changed, hands the customer to the free agent, bob.
    assert h.services.settings.dispatch_every == EVERY
    async with h.app.router.lifespan_context(h.app):
        await h.clock.advance(2 * EVERY + 20)
    h.clock.raise_errors()
    h.assert_talking_to(customer, "bob")
    assert h.emu.alerts == []


@pytest.mark.parametrize("strategy", ["conference", "legs"])
async def test_an_agent_who_became_free_gets_the_waiting_customer_even_if_twilio_refused_once(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, strategy: str
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy=strategy)
    sweeping = h.services.service.keep_dispatching(timedelta(seconds=EVERY))
    customer = (await h.call_in(seconds=30)).sid  # nobody to take it: the customer waits in line
    assert [c.id for c in h.services.service.waiting_calls()] == [customer]
    h.add_agent("alice")
    h.services.store.set_agent_available("alice", False)
    refuse_first_move(h)
    with pytest.raises(TelephonyError):
        await h.services.service.agent_available("alice")
    agent = h.services.store.get_agent("alice")
    assert agent is not None and agent.available  # free, and the customer still waiting
    assert h.view(customer).call.agent_id is None
    await h.clock.advance(3 * EVERY + 10)
    h.clock.raise_errors()
    h.assert_talking_to(customer, "alice")
    assert h.services.service.waiting_calls() == []
    sweeping.cancel()


async def test_a_call_is_handed_over_only_once_two_sweeps_saw_it_waiting_unchanged(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    """A call whose state just changed is being moved by whoever changed it (a redirect may be in
    flight from another instance), and a second redirect would pull the customer out of the
    conference the first one connects: the sweep waits until it has seen the call settled."""
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")
    h.add_agent("alice")
    voicesim.phones.script("client:alice", outcome="no-answer")
    refuse_first_move(h)
    customer = (await h.call_in(seconds=120)).sid
    assert h.view(customer).call.agent_id is None
    h.add_agent("bob", endpoint="client:bob")
    service = h.services.service
    assert await service.dispatch_waiting() == 0  # first seen waiting
    # Meanwhile the call changes (here: a leg recorded by another instance).
    service.store.save_leg(
        Leg(call_sid="CA" + "e" * 32, call_id=customer, role=LegRole.THIRD_PARTY, status=LegStatus.COMPLETED)
    )
    assert await service.dispatch_waiting() == 0  # changed since: seen again, not moved
    assert h.view(customer).call.agent_id is None
    assert await service.dispatch_waiting() == 1  # unchanged since the last sweep: handed to bob
    await h.clock.advance(20)
    h.clock.raise_errors()
    h.assert_talking_to(customer, "bob")
    assert await service.dispatch_waiting() == 0


async def test_a_customer_not_yet_answering_is_not_moved(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    """An outbound call whose customer has not answered waits for no agent yet: Twilio cannot
    redirect it, and a free agent claimed for it would only look busy."""
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")
    voicesim.phones.script("+15557770000", outcome="no-answer")
    h.add_agent("alice")
    service = h.services.service
    call = await service.place_outbound("alice", "+15557770000")
    service.release_agent(call.id, "alice")  # as if alice had been deleted while it was placed
    asked = RefusingTransport(h.emu, lambda _m, _u, data: "/twiml/connect/" in str(data.get("Url", "")))
    service.telephony = telephony_over(h.emu, asked, BASE)
    for _ in range(3):
        assert await service.dispatch_waiting() == 0
    assert asked.refused == []  # Twilio was never asked to move it
    agent = h.services.store.get_agent("alice")
    assert agent is not None and agent.available
