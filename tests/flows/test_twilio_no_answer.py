"""Twilio carried the request out, but its answer never came back (callhold's request timed out, or
the connection dropped): the outcome is unknown, so callhold must not act as if nothing moved -- a
customer left on hold music with no hold on record, or hung up on by a hold that "failed"."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from twilio.http.response import Response

from callhold.domain.errors import TelephonyError
from callhold.domain.model import CallState, HoldEndReason, HoldState, LegRole
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.twilio_refusals import InterceptingTransport, Selector, Sent, telephony_over
from voicesim import Emulator, VirtualClock


class AnswerLost(InterceptingTransport):
    """voicesim's transport, except that the first request ``selects`` picks is carried out and its
    answer lost: callhold's SDK sees what aiohttp raises when the timeout expires. ``wait``: virtual
    seconds that pass first (Twilio's webhooks about the request arrive, as they would within
    callhold's timeout)."""

    def __init__(self, h: Harness, selects: Selector, wait: float = 0.0) -> None:
        super().__init__(h.emu, selects, "tests.answer_lost")
        self.h, self.wait = h, wait
        self.lost: list[str] = []

    async def intercept(self, sent: Sent, selected: bool) -> Response:
        """Send to voicesim; lose the answer of the first selected request."""
        answer = await self.inner.request(*sent)
        if selected and not self.lost:
            self.lost.append(sent[1])
            if self.wait:
                await self.h.clock.advance(self.wait)
            raise TimeoutError
        return answer


def lose_first(h: Harness, selects: Selector, wait: float = 0.0) -> AnswerLost:
    transport = AnswerLost(h, selects, wait)
    h.services.service.telephony = telephony_over(h.emu, transport, BASE)
    return transport


def form(data: Mapping[str, object], key: str) -> str:
    return str(data.get(key, ""))


async def assert_legs_hold_recovered(h: Harness, customer: str, agent: str) -> None:
    """The legs hold's first step (the agent to hold music) was done although Twilio's answer said
    nothing sure: the customer is not hung up on, the recovery finishes the hold, resume works."""
    await h.clock.advance(10)
    h.clock.raise_errors()
    # The agent did go to hold music, which broke the bridge: the customer is not hung up on, and
    # its <Dial> action, Twilio's word that the agent moved, puts it in the hold's queue and the hold
    # is held at once (not 30 s later, when the recovery would send the agent's step again).
    view = h.view(customer)
    assert view.call.status is CallState.ACTIVE
    assert view.hold is not None and view.hold.state is HoldState.HELD
    assert h.heard(customer)[-1][:2] == ("play", "queue-wait")
    await h.clock.advance(60)
    h.clock.raise_errors()
    view = h.view(customer)
    assert view.hold is not None and view.hold.state is HoldState.HELD
    assert h.heard(customer)[-1][:2] == ("play", "queue-wait")  # in the hold's queue, on its music
    assert h.heard(agent)[-1][0] == "play"
    await h.services.service.resume(customer, by="alice", agent_id="alice")
    await h.clock.advance(10)
    h.clock.raise_errors()
    h.assert_talking_to(customer, "alice")
    assert h.emu.alerts == []


async def assert_conference_hold_undone(h: Harness, customer: str) -> None:
    """The participant was put on hold although Twilio's answer said nothing sure, so the hold is
    undone: the customer is back with alice, and on record so, and hears no hold music later."""
    await h.clock.advance(10)
    h.clock.raise_errors()
    view = h.view(customer)
    assert view.hold is not None
    assert (view.hold.state, view.hold.end_reason) == (HoldState.ENDED, HoldEndReason.FAILED_COMPENSATED)
    assert view.customer_leg is not None and not view.customer_leg.on_hold
    h.assert_talking_to(customer, "alice")
    await h.clock.advance(120)
    assert h.heard(customer)[-1][1] != "hold"


async def test_a_conference_hold_twilio_did_but_never_confirmed_is_undone(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")
    customer, _ = await h.connected()
    service = h.services.service
    lost = lose_first(h, lambda _m, url, data: "/Participants/" in url and form(data, "Hold") == "true")
    with pytest.raises(TelephonyError) as raised:
        await service.hold(customer, by="alice", agent_id="alice", raise_on_failure=True)
    assert len(lost.lost) == 1 and raised.value.uncertain
    assert "no answer from Twilio" in raised.value.message
    await assert_conference_hold_undone(h, customer)
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
    await assert_legs_hold_recovered(h, customer, agent)


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


@pytest.fixture
def conf(voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path) -> Harness:
    return make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")


async def test_a_hold_confirmed_by_twilios_events_is_a_success_though_its_answer_was_lost(
    conf: Harness,
) -> None:
    customer, _ = await conf.connected()
    lose_first(conf, lambda _m, url, data: "/Participants/" in url and form(data, "Hold") == "true", wait=3)
    held = await conf.api("POST", f"/calls/{customer}/hold", {})
    assert held.status_code == 200, held.text  # not a 502 "failed" for a hold in effect
    assert held.json()["state"] == "held"
    resumed_lost = lose_first(
        conf, lambda _m, url, data: "/Participants/" in url and form(data, "Hold") == "false", wait=3
    )
    resumed = await conf.api("POST", f"/calls/{customer}/resume")
    assert resumed_lost.lost and resumed.status_code == 200, resumed.text
    assert (resumed.json()["state"], resumed.json()["end_reason"]) == ("ended", "resumed")
    conf.assert_talking_to(customer, "alice")


async def test_a_hand_over_whose_answer_was_lost_stands(conf: Harness) -> None:
    """The customer's move to the agent was carried out and the agent dialled in: freeing the agent
    would hand them the next caller mid-call, and leave this call with no agent to hold it."""
    waiting = await conf.call_in()  # nobody to take it: the customer waits in line
    conf.add_agent("bob", endpoint="client:bob")
    conf.services.store.set_agent_available("bob", False)
    lost = lose_first(
        conf,
        lambda method, url, data: (
            method == "POST"
            and url.endswith(f"/Calls/{waiting.sid}.json")
            and "/twiml/connect/" in form(data, "Url")
        ),
        wait=8,
    )
    call = await conf.services.service.agent_available("bob")
    assert lost.lost and call is not None and call.id == waiting.sid
    await conf.clock.advance(10)
    conf.clock.raise_errors()
    conf.assert_talking_to(waiting.sid, "bob")
    bob = conf.services.store.get_agent("bob")
    assert bob is not None and not bob.available
    second = await conf.call_in(customer="+15551230002")
    assert conf.view(second.sid).call.agent_id is None  # the next caller waits: bob is busy


async def test_a_party_dialled_with_no_answer_is_reported_as_unknown_not_refused(conf: Harness) -> None:
    """504 ``telephony-uncertain``: the party may have been dialled, so a client must look before
    dialling again -- a 502 "refused" would invite a retry that dials them twice."""
    customer, _ = await conf.connected()
    lose_first(conf, lambda method, url, _data: method == "POST" and url.endswith("/Participants.json"))
    added = await conf.api("POST", f"/calls/{customer}/participants", {"to": "+15559990000"})
    assert added.status_code == 504, added.text
    problem = added.json()
    assert problem["type"].endswith("/telephony-uncertain") and problem["title"] == "Gateway Timeout"
    assert problem["twilio_status"] is None and problem["twilio_code"] is None  # Twilio sent nothing
    assert "no answer from Twilio" in problem["detail"] and "refused" not in problem["detail"]
