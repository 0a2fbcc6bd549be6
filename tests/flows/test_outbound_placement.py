"""An outbound call being placed keeps its agent busy, and a placement whose answer Twilio never gave
is settled: the call adopted if Twilio has it, the agent freed if not (``callhold.placements``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from twilio.http.response import Response

from callhold.domain.errors import TelephonyError
from callhold.domain.model import CallState, LegRole, LegStatus
from callhold.placements import PLACEMENT_GRACE
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.twilio_refusals import InterceptingTransport, Sent, telephony_over
from voicesim import Emulator, VirtualClock

TO = "+15557770000"
EVERY = 15


def creates_call(method: str, url: str, _data: object) -> bool:
    return method == "POST" and url.endswith("/Calls.json")


@dataclass
class Plan:
    """What becomes of one Calls create: ``before`` runs first; then it is sent (``create``), with its
    status callbacks (or with them dropped: all lost to callhold); then ``after`` runs; then its
    answer is returned, or lost (``answer`` false: callhold's request times out)."""

    create: bool = True
    callbacks: bool = True
    answer: bool = True
    before: Callable[[], Awaitable[None]] | None = None
    after: Callable[[], Awaitable[None]] | None = None


class Placing(InterceptingTransport):
    """voicesim's transport; each Calls create follows the next :class:`Plan`."""

    def __init__(self, h: Harness, plans: list[Plan]) -> None:
        super().__init__(h.emu, creates_call, "tests.placing")
        self.plans = plans

    async def intercept(self, sent: Sent, selected: bool) -> Response:
        if not selected:
            return await self.inner.request(*sent)
        plan = self.plans.pop(0)
        if plan.before is not None:
            await plan.before()
        if not plan.create:
            raise TimeoutError  # what aiohttp raises when callhold's timeout expires
        method, url, params, data, *rest = sent
        if not plan.callbacks:
            data = {k: v for k, v in dict(data).items() if not k.startswith("StatusCallback")}
        answer = await self.inner.request(method, url, params, data, *rest)
        if plan.after is not None:
            await plan.after()
        if not plan.answer:
            raise TimeoutError
        return answer


def placing(h: Harness, *plans: Plan) -> Placing:
    transport = Placing(h, list(plans))
    h.services.service.telephony = telephony_over(h.emu, transport, BASE)
    return transport


def alice(h: Harness) -> tuple[bool, bool, str | None]:
    agent = h.services.store.get_agent("alice")
    assert agent is not None
    return agent.available, agent.away, agent.placing_to


async def agent_api(h: Harness, agent_id: str) -> dict[str, object]:
    """``GET /api/v1/agents/{agent_id}`` as the admin."""
    response = await h.api("GET", f"/agents/{agent_id}")
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


@pytest.fixture
def h(voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path) -> Harness:
    return make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")


async def test_an_agent_saying_available_while_its_outbound_call_is_placed_gets_one_call(h: Harness) -> None:
    """The agent sets itself available while Twilio places its outbound call, with a customer waiting:
    the customer is not handed to it (it would have two calls); it waits for the agent's next turn."""
    service = h.services.service
    waiting = (await h.call_in(seconds=30)).sid  # nobody free: in line
    h.add_agent("alice")
    handed: list[object] = []

    async def agent_says_available() -> None:
        handed.append(await service.agent_available("alice"))

    h.emu.phones.script(TO, hang_up_after=60)
    placing(h, Plan(before=agent_says_available))
    call = await service.place_outbound("alice", TO)
    assert handed == [None]  # not handed the waiting customer
    assert h.view(waiting).call.agent_id is None
    assert alice(h) == (False, False, None)  # busy with the outbound call, which is recorded

    await h.clock.advance(30)
    h.clock.raise_errors()
    h.assert_talking_to(call.id, "alice")
    assert h.view(waiting).call.agent_id is None
    await h.clock.advance(60)  # the outbound customer hangs up: alice takes the one waiting
    h.clock.raise_errors()
    assert h.view(call.id).call.status is CallState.ENDED
    h.assert_talking_to(waiting, "alice")


async def test_a_placement_twilio_never_carried_out_frees_the_agent_after_asking_twilio(h: Harness) -> None:
    service = h.services.service
    h.add_agent("alice")
    placing(h, Plan(create=False))
    with pytest.raises(TelephonyError) as raised:
        await service.place_outbound("alice", TO)
    assert raised.value.uncertain
    shown = await agent_api(h, "alice")
    assert (shown["available"], shown["placing_to"]) == (False, TO)  # the admin sees why
    sweeping = service.keep_dispatching(timedelta(seconds=EVERY))
    try:
        await h.clock.advance(PLACEMENT_GRACE.total_seconds() - EVERY)
        assert alice(h) == (False, False, TO)  # Twilio may yet report the call: still claimed
        await h.clock.advance(2 * EVERY)
    finally:
        sweeping.cancel()
    h.clock.raise_errors()
    assert alice(h) == (True, False, None)
    assert h.services.store.list_calls() == []


async def test_a_lost_placement_of_an_agent_who_went_away_leaves_it_away(h: Harness) -> None:
    service = h.services.service
    h.add_agent("alice")
    placing(h, Plan(create=False))
    with pytest.raises(TelephonyError):
        await service.place_outbound("alice", TO)
    h.services.store.set_agent_available("alice", False)  # "no customer after this one"
    await h.clock.advance(PLACEMENT_GRACE.total_seconds())
    assert await service.recover_placements() == 1
    assert alice(h) == (False, True, None)


async def test_an_unanswered_call_whose_answer_and_callbacks_were_lost_is_recorded_and_frees_the_agent(
    h: Harness,
) -> None:
    service = h.services.service
    h.add_agent("alice")
    h.emu.phones.script(TO, outcome="no-answer")
    placing(h, Plan(callbacks=False, answer=False))
    with pytest.raises(TelephonyError):
        await service.place_outbound("alice", TO)
    await h.clock.advance(PLACEMENT_GRACE.total_seconds())
    h.clock.raise_errors()
    assert h.services.store.list_calls() == []  # nothing told callhold of it
    [placed] = h.emu.calls.all()
    assert placed.status == "no-answer"

    assert await service.recover_placements() == 1
    view = h.view(placed.sid)
    assert (view.call.agent_id, view.call.status) == ("alice", CallState.ENDED)
    assert view.customer_leg is not None and view.customer_leg.status is LegStatus.NO_ANSWER
    assert alice(h) == (True, False, None)
    assert await service.recover_placements() == 0  # settled once


async def test_an_answered_call_whose_answer_and_callbacks_were_lost_reaches_its_agent(h: Harness) -> None:
    """The answer TwiML's URL names the agent: the call is adopted there and connected."""
    service = h.services.service
    h.add_agent("alice")
    placing(h, Plan(callbacks=False, answer=False))
    with pytest.raises(TelephonyError):
        await service.place_outbound("alice", TO)
    await h.clock.advance(30)
    h.clock.raise_errors()
    [call] = h.services.store.list_calls()
    h.assert_talking_to(call.id, "alice")
    assert call.customer_number == TO
    assert alice(h) == (False, False, None)
    assert any(leg.role is LegRole.AGENT for leg in h.view(call.id).legs)
    assert h.view(call.id).call.given_at is not None  # the hand-over, stamped at the answer


def active_of(h: Harness, agent_id: str) -> list[str]:
    return [c.id for c in h.services.store.list_calls(status=CallState.ACTIVE, agent_id=agent_id)]


async def test_a_call_twilio_creates_after_its_placement_was_settled_never_gives_a_busy_agent_two_calls(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    """Calls create takes longer than the grace (CALLHOLD_TWILIO_TIMEOUT allows it): the sweep finds
    no call and frees alice, who is handed a waiting customer; then the outbound call comes in. It is
    recorded with no agent, for the next one -- not as alice's second call."""
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference", twilio_timeout=240)
    service = h.services.service
    waiting = (await h.call_in(seconds=5)).sid  # nobody free: in line
    h.add_agent("alice")

    async def slow_twilio() -> None:
        await h.clock.advance(PLACEMENT_GRACE.total_seconds() + 1)
        assert await service.recover_placements() == 1  # no call yet: alice is free, and taken
        assert h.view(waiting).call.agent_id == "alice"

    placing(h, Plan(before=slow_twilio))
    call = await service.place_outbound("alice", TO)
    assert call.agent_id is None
    assert active_of(h, "alice") == [waiting]
    assert alice(h) == (False, False, None)


async def test_settling_a_lost_placement_does_not_take_a_later_call_to_the_same_number(h: Harness) -> None:
    """alice's placement to TO was lost (never created); 3 minutes later bob dials TO, and the sweep runs
    after Twilio created bob's call but before callhold recorded it: the call stays bob's."""
    service = h.services.service
    h.add_agent("alice")
    h.add_agent("bob", "client:bob")

    async def sweep_meanwhile() -> None:
        await h.clock.advance(2)
        assert await service.recover_placements() == 1  # alice's: no call of hers

    placing(h, Plan(create=False), Plan(after=sweep_meanwhile, callbacks=False))
    with pytest.raises(TelephonyError):
        await service.place_outbound("alice", TO)
    await h.clock.advance(PLACEMENT_GRACE.total_seconds() - 1)
    bobs = await service.place_outbound("bob", TO)
    assert bobs.agent_id == "bob"
    assert alice(h) == (True, False, None)
    await h.clock.advance(20)
    h.clock.raise_errors()
    h.assert_talking_to(bobs.id, "bob")


async def test_an_agent_cannot_be_deleted_while_a_call_is_placed_for_it(h: Harness) -> None:
    h.add_agent("alice")
    placing(h, Plan(create=False))
    with pytest.raises(TelephonyError):
        await h.services.service.place_outbound("alice", TO)
    refused = await h.api("DELETE", "/agents/alice")
    assert refused.status_code == 409
    assert refused.json()["detail"] == f"agent alice: a call to {TO} is being placed for it"
    assert h.services.store.get_agent("alice") is not None


async def test_two_lost_placements_to_one_number_each_take_their_own_call(h: Harness) -> None:
    """alice's placement to TO was never created; bob's, 30 s later, was, but its answer and callbacks
    were lost (and the customer never answers). alice's settlement must not take bob's call."""
    service = h.services.service
    h.add_agent("alice")
    h.add_agent("bob", "client:bob")
    h.emu.phones.script(TO, outcome="no-answer")
    placing(h, Plan(create=False), Plan(callbacks=False, answer=False))
    with pytest.raises(TelephonyError):
        await service.place_outbound("alice", TO)
    await h.clock.advance(30)
    with pytest.raises(TelephonyError):
        await service.place_outbound("bob", TO)
    await h.clock.advance(PLACEMENT_GRACE.total_seconds() - 30 + 1)
    assert await service.recover_placements() == 1  # alice's only: bob's is within its grace
    assert alice(h) == (True, False, None)
    assert h.services.store.list_calls() == []
    await h.clock.advance(30)
    assert await service.recover_placements() == 1
    [call] = h.services.store.list_calls()
    assert (call.agent_id, call.status) == ("bob", CallState.ENDED)
    bob = h.services.store.get_agent("bob")
    assert bob is not None and (bob.available, bob.placing_to) == (True, None)
