"""Legs holds' own queues are deleted once their hold and call are over (callhold.hold_queues).

Twilio keeps a queue until it is deleted ("Queues persist. To optimize fetch operations, inactive
Queues should be deleted"), and every legs hold has a queue of its own: without this, an account
would collect one queue per hold for ever.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from twilio.http.response import Response

from callhold.domain.model import HOLD_QUEUE_PREFIX, CallState, HoldEndReason, queue_name_for
from callhold.hold_queues import ORPHANED_AFTER, PAGES_PER_RELEASE, RELEASE_EVERY
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.twilio_refusals import InterceptingTransport, RefusingTransport, Selector, Sent, telephony_over
from voicesim import Emulator, VirtualClock

SWEEP_EVERY = 15


@pytest.fixture
def h(voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path) -> Harness:
    return make_harness(voicesim, voicesim_clock, tmp_path, strategy="legs")


def queues(h: Harness) -> list[str]:
    """The names of voicesim's queues (not deleted), in the order they were created."""
    return [queue.friendly_name for queue in h.emu.queues.all()]


def hold_queue_names(h: Harness, call_id: str) -> list[str]:
    holds = sorted(h.services.store.list_holds(call_id=call_id), key=lambda hold: hold.started_at)
    return [queue_name_for(hold.id) for hold in holds]


async def hold_and_resume(h: Harness, customer: str) -> None:
    service = h.services.service
    await service.hold(customer, by="alice", agent_id="alice")
    await h.clock.advance(30)
    await service.resume(customer, by="alice", agent_id="alice")
    await h.clock.advance(10)
    h.assert_talking_to(customer, "alice")


async def hang_up(h: Harness, call_sid: str) -> None:
    assert h.emu.hang_up(call_sid)
    await h.clock.advance(5)
    assert h.view(call_sid).call.status is CallState.ENDED


async def test_a_calls_hold_queues_go_once_the_call_is_over_not_before(h: Harness) -> None:
    h.add_agent()
    customer = (await h.call_in()).sid
    await hold_and_resume(h, customer)
    await hold_and_resume(h, customer)
    names = hold_queue_names(h, customer)
    assert len(names) == 2 and queues(h) == names  # Twilio made one queue per hold
    service = h.services.service

    # The customer is bridged from the second queue, and the first hold's call goes on: both stay.
    assert await service.release_hold_queues() == 0
    assert queues(h) == names

    await hang_up(h, customer)
    assert await service.release_hold_queues() == 2
    assert queues(h) == []
    deleted = [e for e in h.emu.events if e.type == "queue.deleted"]
    assert len(deleted) == 2
    assert await service.release_hold_queues() == 0  # nothing left to do
    assert h.emu.alerts == []


async def test_the_queue_of_a_customer_who_hung_up_on_hold_goes(h: Harness) -> None:
    customer, _agent = await h.held()
    await h.clock.advance(20)
    assert queues(h) == hold_queue_names(h, customer)
    await hang_up(h, customer)
    hold = h.view(customer).hold
    assert hold is not None and hold.end_reason is HoldEndReason.CUSTOMER_HUNG_UP
    assert await h.services.service.release_hold_queues() == 1
    assert queues(h) == []


async def test_queues_that_are_not_an_ended_calls_hold_queue_stay(
    h: Harness, voicesim: Emulator, voicesim_clock: VirtualClock
) -> None:
    # A held call: its customer is in its hold's queue.
    held, _agent = await h.held()
    await h.clock.advance(20)
    # A customer waiting for an agent (alice is busy): the shared waiting queue.
    waiting = voicesim.inbound_call("+15551230002", "+15550001000")
    await voicesim_clock.advance(20)
    # Queues callhold has no record of: named like a hold's (another deployment, say), and not.
    voicesim.queues.create(f"{HOLD_QUEUE_PREFIX}0123456789abcdef0123456789abcdef")
    voicesim.queues.create("support")
    before = queues(h)
    assert len(before) == 4 and hold_queue_names(h, held)[0] in before

    assert await h.services.service.release_hold_queues() == 0
    assert queues(h) == before
    assert h.view(waiting.sid).call.status is CallState.ACTIVE


class CountingTransport(InterceptingTransport):
    """voicesim's SDK transport, counting the requests ``selects`` picks."""

    def __init__(self, emu: Emulator, selects: Selector) -> None:
        super().__init__(emu, selects, "tests.counting_twilio")
        self.count = 0

    async def intercept(self, sent: Sent, selected: bool) -> Response:
        self.count += selected
        return await self.inner.request(*sent)


async def test_the_sweep_releases_at_most_every_few_minutes(h: Harness) -> None:
    service = h.services.service
    lists = CountingTransport(h.emu, lambda method, url, _data: url.endswith("/Queues.json"))
    service.telephony = telephony_over(h.emu, lists, BASE)
    origin = h.clock.now()
    sweeping = service.keep_dispatching(timedelta(seconds=SWEEP_EVERY))
    try:
        h.add_agent()
        customer = (await h.call_in()).sid  # the first sweep (at 15 s) released, while the call went on
        assert lists.count == 1
        await hold_and_resume(h, customer)
        await hang_up(h, customer)
        names = hold_queue_names(h, customer)
        assert queues(h) == names
        # Until 5 minutes after the first release, the sweeps leave the queues be.
        first_release = origin + SWEEP_EVERY
        await h.clock.advance(first_release + RELEASE_EVERY.total_seconds() - 1 - h.clock.now())
        assert queues(h) == names and lists.count == 1
        await h.clock.advance(SWEEP_EVERY + 1)
        assert queues(h) == [] and lists.count == 2
    finally:
        sweeping.cancel()


async def test_a_refused_delete_is_tried_again_by_the_next_release(h: Harness) -> None:
    h.add_agent()
    customer = (await h.call_in()).sid
    await hold_and_resume(h, customer)
    await hang_up(h, customer)
    refusing = RefusingTransport(h.emu, lambda method, _url, _data: method == "DELETE", limit=1)
    h.services.service.telephony = telephony_over(h.emu, refusing, BASE)
    assert await h.services.service.release_hold_queues() == 0
    assert len(refusing.refused) == 1 and queues(h) == hold_queue_names(h, customer)

    refusing.selects = lambda *_: False
    assert await h.services.service.release_hold_queues() == 1
    assert queues(h) == []


async def test_a_queue_another_instance_deleted_first_counts_as_released(h: Harness) -> None:
    h.add_agent()
    customer = (await h.call_in()).sid
    await hold_and_resume(h, customer)
    await hang_up(h, customer)
    # Between this instance's list and its delete, another instance deleted the queue: 404.
    refusing = RefusingTransport(h.emu, lambda method, *_: method == "DELETE", status=404, code=20404)
    h.services.service.telephony = telephony_over(h.emu, refusing, BASE)
    assert await h.services.service.release_hold_queues() == 1
    assert len(refusing.refused) == 1


async def test_twilio_not_answering_the_list_releases_nothing_and_raises_nothing(h: Harness) -> None:
    h.add_agent()
    customer = (await h.call_in()).sid
    await hold_and_resume(h, customer)
    await hang_up(h, customer)
    refusing = RefusingTransport(h.emu, lambda method, url, _data: url.endswith("/Queues.json"))
    h.services.service.telephony = telephony_over(h.emu, refusing, BASE)
    assert await h.services.service.release_hold_queues() == 0
    assert queues(h) == hold_queue_names(h, customer)


async def test_a_hold_queue_behind_more_queues_than_a_release_reads_goes_by_the_next(h: Harness) -> None:
    """Each release reads on from where the previous one stopped: queues callhold leaves alone (here
    another deployment's, as many as a release reads) cannot hide this deployment's for ever."""
    for n in range(PAGES_PER_RELEASE * 100):
        h.emu.queues.create(f"{HOLD_QUEUE_PREFIX}{n:032x}")
    h.add_agent()
    customer = (await h.call_in()).sid
    await hold_and_resume(h, customer)
    await hang_up(h, customer)
    (mine,) = hold_queue_names(h, customer)
    service = h.services.service
    assert await service.release_hold_queues() == 0  # the first 1,000: none of them ours
    assert mine in queues(h)
    assert await service.release_hold_queues() == 1  # read on from there
    assert mine not in queues(h)
    assert await service.release_hold_queues() == 0  # and round again from the first page
    assert len(queues(h)) == PAGES_PER_RELEASE * 100


async def test_the_queue_of_a_call_pruned_before_its_queue_went_goes_once_a_day_old(h: Harness) -> None:
    # `callhold db prune` deleted the call (and its holds) before any release deleted the hold's
    # queue (Twilio down, say): with no record of it the queue would stay in the account for ever.
    customer, _agent = await h.held()
    await h.clock.advance(20)
    names = hold_queue_names(h, customer)
    await hang_up(h, customer)
    assert h.services.store.delete_ended_calls(h.services.service.clock.now() + timedelta(seconds=1)) == 1
    assert queues(h) == names
    assert await h.services.service.release_hold_queues() == 0  # too young: maybe another's live hold
    await h.clock.advance(ORPHANED_AFTER.total_seconds())
    assert await h.services.service.release_hold_queues() == 1
    assert queues(h) == []
