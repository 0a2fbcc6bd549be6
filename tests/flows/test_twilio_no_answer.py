"""Twilio carried the request out, but its answer never came back (callhold's request timed out, or
the connection dropped): the outcome is unknown, so callhold must not act as if nothing moved -- a
customer left on hold music with no hold on record, or hung up on by a hold that "failed"."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import pytest
from twilio.http import AsyncHttpClient
from twilio.http.response import Response

from callhold.domain.errors import TelephonyError
from callhold.domain.model import CallState, HoldEndReason, HoldState, LegRole
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.twilio_refusals import Selector, telephony_over
from voicesim import Emulator, VirtualClock
from voicesim.sdk import AsyncInProcessHttpClient


class AnswerLost(AsyncHttpClient):  # type: ignore[misc]
    """voicesim's transport, except that the first request ``selects`` picks is carried out and its
    answer lost: callhold's SDK sees what aiohttp raises when the timeout expires."""

    def __init__(self, emu: Emulator, selects: Selector) -> None:
        super().__init__(logging.getLogger("tests.answer_lost"), is_async=True)
        self.inner, self.selects = AsyncInProcessHttpClient(emu), selects
        self.lost: list[str] = []

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """Send to voicesim; lose the answer of the first selected request."""
        sent = (method, url, params, data, headers, auth, timeout, allow_redirects)
        answer = await self.inner.request(*sent)
        if not self.lost and self.selects(method, url, data or {}):
            self.lost.append(url)
            raise TimeoutError
        return answer


def lose_first(h: Harness, selects: Selector) -> AnswerLost:
    transport = AnswerLost(h.emu, selects)
    h.services.service.telephony = telephony_over(h.emu, transport, BASE)
    return transport


def form(data: Mapping[str, object], key: str) -> str:
    return str(data.get(key, ""))


async def test_a_conference_hold_twilio_did_but_never_confirmed_is_undone(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")
    customer, _ = await h.connected()
    service = h.services.service
    lost = lose_first(h, lambda _m, url, data: "/Participants/" in url and form(data, "Hold") == "true")
    with pytest.raises(TelephonyError) as raised:
        await service.hold(customer, by="alice", agent_id="alice", raise_on_failure=True)
    assert len(lost.lost) == 1 and raised.value.uncertain and raised.value.status == 504
    assert "no answer from Twilio" in raised.value.message
    await h.clock.advance(10)
    h.clock.raise_errors()
    # The participant was put on hold, so the hold is undone: the customer is back, and on record so.
    view = h.view(customer)
    assert view.hold is not None
    assert (view.hold.state, view.hold.end_reason) == (HoldState.ENDED, HoldEndReason.FAILED_COMPENSATED)
    assert view.customer_leg is not None and not view.customer_leg.on_hold
    h.assert_talking_to(customer, "alice")
    await h.clock.advance(120)
    assert h.heard(customer)[-1][1] != "hold"
    # and the call works on: a hold now is a hold
    await service.hold(customer, by="alice", agent_id="alice")
    await h.clock.advance(5)
    assert h.heard(customer)[-1][1] == "hold"


async def test_a_legs_hold_whose_first_step_twilio_did_but_never_confirmed_completes(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="legs")
    customer, agent = await h.connected()
    service = h.services.service
    lost = lose_first(
        h, lambda _m, url, data: url.endswith(f"/Calls/{agent}.json") and "hold-music" in form(data, "Url")
    )
    with pytest.raises(TelephonyError) as raised:
        await service.hold(customer, by="alice", agent_id="alice", raise_on_failure=True)
    assert len(lost.lost) == 1 and raised.value.uncertain
    await h.clock.advance(10)
    h.clock.raise_errors()
    # The agent did go to hold music, which broke the bridge: the customer is not hung up on.
    view = h.view(customer)
    assert view.call.status is CallState.ACTIVE
    assert view.hold is not None and view.hold.state is not HoldState.ENDED
    # The recovery finishes the hold (the steps are safe to send again): the customer waits on hold
    # music, and resume brings them back to alice.
    await h.clock.advance(60)
    h.clock.raise_errors()
    view = h.view(customer)
    assert view.hold is not None and view.hold.state is HoldState.HELD
    assert h.heard(customer)[-1][:2] == ("play", "queue-wait")  # in the hold's queue, on its music
    assert h.heard(agent)[-1][0] == "play"
    await service.resume(customer, by="alice", agent_id="alice")
    await h.clock.advance(10)
    h.clock.raise_errors()
    h.assert_talking_to(customer, "alice")
    assert h.emu.alerts == []


async def test_an_outbound_call_twilio_placed_but_never_confirmed_still_reaches_its_agent(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    """The call exists: the agent stays claimed for it (freed, it could be given a second customer),
    and the call's first status callback, which names the agent, adopts it."""
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")
    h.add_agent("alice")
    service = h.services.service
    lost = lose_first(h, lambda method, url, _data: method == "POST" and url.endswith("/Calls.json"))
    with pytest.raises(TelephonyError) as raised:
        await service.place_outbound("alice", "+15557770000")
    assert len(lost.lost) == 1 and raised.value.uncertain
    agent = h.services.store.get_agent("alice")
    assert agent is not None and not agent.available
    await h.clock.advance(30)
    h.clock.raise_errors()
    [call] = h.services.store.list_calls()
    assert call.agent_id == "alice"
    h.assert_talking_to(call.id, "alice")
    assert any(leg.role is LegRole.AGENT for leg in h.view(call.id).legs)


async def test_a_refused_outbound_call_frees_its_agent(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    """A refusal (nothing was placed), unlike a lost answer, frees the agent at once."""
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")
    h.add_agent("alice")
    with pytest.raises(TelephonyError):
        await h.services.service.place_outbound("alice", "not a number")
    agent = h.services.store.get_agent("alice")
    assert agent is not None and agent.available
