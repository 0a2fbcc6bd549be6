"""An outbound call being placed keeps its agent busy, and a placement whose answer Twilio never gave
is settled: the call adopted if Twilio has it, the agent freed if not (``callhold.placements``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from twilio.http.response import Response

from callhold.domain.errors import TelephonyError
from callhold.domain.model import CallState, LegRole, LegStatus
from callhold.placements import PLACEMENT_GRACE
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.twilio_refusals import InterceptingTransport, Sent, telephony_over
from voicesim import Emulator, VirtualClock

TO = "+15557770000"
ADMIN = {"Authorization": "Bearer change-me-admin"}
EVERY = 15


def creates_call(method: str, url: str, _data: object) -> bool:
    return method == "POST" and url.endswith("/Calls.json")


class Placing(InterceptingTransport):
    """voicesim's transport; Calls create runs ``meanwhile`` first, then is sent (with its status
    callbacks dropped if ``callbacks`` is false: all lost to callhold) or not (``create``), and its
    answer lost if ``answer`` is false."""

    def __init__(
        self,
        h: Harness,
        *,
        create: bool = True,
        callbacks: bool = True,
        answer: bool = True,
        meanwhile: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(h.emu, creates_call, "tests.placing")
        self.create, self.callbacks, self.answer, self.meanwhile = create, callbacks, answer, meanwhile

    async def intercept(self, sent: Sent, selected: bool) -> Response:
        if not selected:
            return await self.inner.request(*sent)
        if self.meanwhile is not None:
            await self.meanwhile()
        if self.create:
            method, url, params, data, *rest = sent
            if not self.callbacks:
                data = {k: v for k, v in dict(data).items() if not k.startswith("StatusCallback")}
            answer = await self.inner.request(method, url, params, data, *rest)
            if self.answer:
                return answer
        raise TimeoutError  # what aiohttp raises when callhold's timeout expires


def placing(h: Harness, **kwargs: object) -> Placing:
    transport = Placing(h, **kwargs)  # type: ignore[arg-type]
    h.services.service.telephony = telephony_over(h.emu, transport, BASE)
    return transport


def alice(h: Harness) -> tuple[bool, bool, str | None]:
    agent = h.services.store.get_agent("alice")
    assert agent is not None
    return agent.available, agent.away, agent.placing_to


async def agent_api(h: Harness, agent_id: str) -> dict[str, object]:
    """``GET /api/v1/agents/{agent_id}`` as the admin."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=h.app), base_url=BASE) as client:
        response = await client.get(f"/api/v1/agents/{agent_id}", headers=ADMIN)
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
    placing(h, meanwhile=agent_says_available)
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
    placing(h, create=False)
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
    placing(h, create=False)
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
    placing(h, callbacks=False, answer=False)
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
    placing(h, callbacks=False, answer=False)
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
