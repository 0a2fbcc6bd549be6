"""Twilio carried the request out, but answered it with a server error (500, 20500): "an error in the
server handling logic or a timeout in the API", after which a POST may well have been done
(https://www.twilio.com/docs/api/errors/20500). As for an answer that never came, callhold must not act
as if nothing moved -- a customer left on hold with no hold on record, an agent freed while its
customer is ringing or already talking to it -- and the API says the outcome is unknown (504).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from callhold.domain.errors import TelephonyError
from callhold.domain.model import HoldEndReason, LegRole
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.flows.test_twilio_no_answer import assert_conference_hold_undone, assert_legs_hold_recovered
from tests.twilio_refusals import Selector, ServerError, telephony_over
from voicesim import Emulator, VirtualClock

OUTBOUND = "+15557770000"


def answer_500(h: Harness, selects: Selector) -> ServerError:
    """From now on the first request ``selects`` picks is carried out, and Twilio answers it 500 (20500)."""
    transport = ServerError(h.emu, selects)
    h.services.service.telephony = telephony_over(h.emu, transport, BASE)
    return transport


def form(data: Mapping[str, object], key: str) -> str:
    return str(data.get(key, ""))


def assert_500(error: TelephonyError) -> None:
    """``error`` is Twilio's 500, taken as unknown, and says so (not "no answer")."""
    assert error.uncertain and (error.status, error.code) == (500, 20500)
    assert "HTTP 500" in error.message and "no answer" not in error.message


@pytest.fixture
def conf(voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path) -> Harness:
    return make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")


@pytest.fixture
def legs(voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path) -> Harness:
    return make_harness(voicesim, voicesim_clock, tmp_path, strategy="legs")


async def test_a_conference_hold_twilio_did_but_answered_500_is_undone_not_left_unrecorded(
    conf: Harness,
) -> None:
    """Taken for a refusal, the hold would end "nothing moved", the customer on hold in the conference
    (hearing silence: its hold music's document says the hold is over) for as long as the call lasts."""
    customer, _ = await conf.connected()
    failing = answer_500(conf, lambda _m, url, data: "/Participants/" in url and form(data, "Hold") == "true")
    held = await conf.api("POST", f"/calls/{customer}/hold", {})
    assert held.status_code == 504, held.text
    problem = held.json()
    assert problem["type"].endswith("/telephony-uncertain")
    assert (problem["twilio_status"], problem["twilio_code"]) == (500, 20500)
    assert "HTTP 500" in problem["detail"] and "no answer" not in problem["detail"]
    assert len(failing.failed) == 1
    await assert_conference_hold_undone(conf, customer)


async def test_a_legs_hold_whose_first_step_twilio_did_but_answered_500_completes(legs: Harness) -> None:
    """Taken for a refusal, the hold would end at once: the customer's ``<Dial>``, broken by the step
    Twilio did, would be taken for a hang-up (the call ends) and the agent left on hold music."""
    customer, agent = await legs.connected()
    service = legs.services.service
    failing = answer_500(
        legs,
        lambda _m, url, data: url.endswith(f"/Calls/{agent}.json") and "hold-music" in form(data, "Url"),
    )
    with pytest.raises(TelephonyError) as raised:
        await service.hold(customer, by="alice", agent_id="alice", raise_on_failure=True)
    assert len(failing.failed) == 1
    assert_500(raised.value)
    await assert_legs_hold_recovered(legs, customer, agent)


async def test_an_outbound_call_twilio_placed_but_answered_500_for_stays_its_agents(conf: Harness) -> None:
    """The call exists: its agent stays busy placing it -- freed, it would be handed the customer
    waiting in line, and the one it dialled would answer to nobody -- and the call's first status
    callback adopts it."""
    waiting = (await conf.call_in(seconds=30)).sid  # nobody free: in line
    conf.add_agent("alice")
    service = conf.services.service
    failing = answer_500(conf, lambda method, url, _data: method == "POST" and url.endswith("/Calls.json"))
    with pytest.raises(TelephonyError) as raised:
        await service.place_outbound("alice", OUTBOUND)
    assert len(failing.failed) == 1
    assert_500(raised.value)
    shown = (await conf.api("GET", "/agents/alice")).json()
    assert (shown["available"], shown["placing_to"]) == (False, OUTBOUND)  # the admin sees why
    assert conf.view(waiting).call.agent_id is None
    await conf.clock.advance(30)
    conf.clock.raise_errors()
    [outbound] = [c for c in conf.services.store.list_calls() if c.id != waiting]
    assert (outbound.agent_id, outbound.customer_number) == ("alice", OUTBOUND)
    conf.assert_talking_to(outbound.id, "alice")
    assert conf.view(waiting).call.agent_id is None  # still in line, for alice's next turn
    assert conf.heard(waiting)[-1][1] == "queue-wait"


async def test_a_hand_over_twilio_did_but_answered_500_stands(conf: Harness) -> None:
    """The customer was moved to the agent, who was dialled in: freeing the agent would hand them the
    next caller mid-call, and leave this call with no agent to hold it."""
    waiting = await conf.call_in()  # nobody to take it: the customer waits in line
    conf.add_agent("bob", endpoint="client:bob")
    conf.services.store.set_agent_available("bob", False)
    failing = answer_500(
        conf,
        lambda method, url, data: (
            method == "POST"
            and url.endswith(f"/Calls/{waiting.sid}.json")
            and "/twiml/connect/" in form(data, "Url")
        ),
    )
    call = await conf.services.service.agent_available("bob")
    assert len(failing.failed) == 1 and call is not None and call.id == waiting.sid
    await conf.clock.advance(10)
    conf.clock.raise_errors()
    conf.assert_talking_to(waiting.sid, "bob")
    bob = conf.services.store.get_agent("bob")
    assert bob is not None and not bob.available
    second = await conf.call_in(customer="+15551230002")
    assert conf.view(second.sid).call.agent_id is None  # the next caller waits: bob is busy


async def test_a_party_twilio_dialled_but_answered_500_for_is_a_504_and_joins_the_record(
    conf: Harness,
) -> None:
    """504 ``telephony-uncertain`` (a 502 "refused" would invite a retry that dials them twice); the
    party Twilio did dial is on record from its own callbacks."""
    customer, _ = await conf.connected()
    answer_500(conf, lambda method, url, _data: method == "POST" and url.endswith("/Participants.json"))
    added = await conf.api("POST", f"/calls/{customer}/participants", {"to": "+15559990000"})
    assert added.status_code == 504, added.text
    problem = added.json()
    assert problem["type"].endswith("/telephony-uncertain") and problem["title"] == "Gateway Timeout"
    assert (problem["twilio_status"], problem["twilio_code"]) == (500, 20500)
    assert problem["detail"].startswith("tried to dial +15559990000 into call")  # not "could not"
    assert "HTTP 500" in problem["detail"] and "no answer" not in problem["detail"]
    await conf.clock.advance(20)
    conf.clock.raise_errors()
    [third] = [leg for leg in conf.view(customer).legs if leg.role is LegRole.THIRD_PARTY]
    assert conf.emu.calls.get(third.call_sid).to == "+15559990000"  # type: ignore[union-attr]


async def test_a_mute_twilio_did_but_answered_500_for_is_a_504_and_the_record_follows_twilio(
    conf: Harness,
) -> None:
    """The participant's mute event tells what Twilio did."""
    customer, _ = await conf.connected()
    answer_500(conf, lambda _m, url, data: "/Participants/" in url and form(data, "Muted") == "true")
    muted = await conf.api("POST", f"/calls/{customer}/mute", {"call_sid": customer})
    assert muted.status_code == 504, muted.text
    assert muted.json()["twilio_status"] == 500 and muted.json()["detail"].startswith("tried to mute")
    await conf.clock.advance(5)
    conf.clock.raise_errors()
    leg = conf.view(customer).customer_leg
    assert leg is not None and leg.muted


async def test_a_legs_hold_twilio_answered_503_is_refused_and_a_hang_up_after_it_is_no_agent_drop(
    legs: Harness,
) -> None:
    """503 is Twilio shedding the request ("Try again a few times", docs/api/errors/20503): a refusal,
    undone at once. Were it uncertain, the hold would stay half placed, and the agent hanging up on
    a customer it was told it could not hold would read as a drop during a hold."""
    from tests.flows import test_callhold_edges_legs as flows
    from tests.twilio_refusals import RefusingTransport

    h = legs
    customer, agent = await flows.connected(h)

    def to_music(_method: str, url: str, data: Mapping[str, object]) -> bool:
        return url.endswith(f"/Calls/{agent}.json") and "hold-music" in str(data.get("Url"))

    h.services.service.telephony = telephony_over(h.emu, RefusingTransport(h.emu, to_music), BASE)
    refused = await h.api("POST", f"/calls/{customer}/hold", {})
    assert refused.status_code == 502, refused.text
    assert h.services.store.list_holds()[0].end_reason is HoldEndReason.FAILED_COMPENSATED
    await h.clock.advance(5)
    assert h.emu.hang_up(agent)
    await h.clock.advance(20)
    h.clock.raise_errors()
    assert "We are sorry, your agent was disconnected." not in flows.said(h, customer)
    alice = h.services.store.get_agent("alice")
    assert alice is not None and not alice.away
