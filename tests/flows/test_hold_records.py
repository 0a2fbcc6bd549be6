"""What callhold's records say about a hold, end to end on voicesim, whatever order Twilio's callbacks
come in: a legs customer's leg reads on hold while held, and a hold the agent left ends
``agent_hung_up`` even when the agent's callbacks come after the customer's ``<Dial>`` action.

Callbacks are separate requests, delivered in any order (reference 6.1): a :class:`Courier` keeps
some back and delivers them later, unchanged (same body, same signature).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from callhold.domain.model import CallState, HoldEndReason, HoldState
from tests.flows import test_callhold_edges_conference as conference
from tests.flows import test_callhold_edges_legs as legs
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.flows.callhold_signed import Courier
from voicesim import Emulator, VirtualClock

AGENT_LEFT = "We are sorry, your agent was disconnected."


def courier_for(h: Harness) -> Courier:
    """A courier between voicesim and callhold (keeping nothing back yet)."""
    courier = Courier(h.app)
    h.emu.webhooks.mount(BASE, courier)
    return courier


async def deliver_late(h: Harness, courier: Courier) -> None:
    """Deliver what the courier kept back, in the order Twilio sent it; then let the calls go on."""
    courier.stop_keeping()
    for request in courier.kept:
        assert (await courier.deliver(request, BASE)).status_code < 300
    await h.clock.advance(5)
    h.clock.raise_errors()


async def legs_of(h: Harness, call_sid: str) -> dict[str, dict[str, Any]]:
    """The call's legs as ``GET /api/v1/calls/{sid}`` shows them, by role; the same in the list of
    calls with ``detail=true``."""
    detail = (await h.api("GET", f"/calls/{call_sid}")).json()
    listed = (await h.api("GET", "/calls?detail=true")).json()
    assert [c["legs"] for c in listed if c["id"] == detail["id"]] == [detail["legs"]]
    return {leg["role"]: leg for leg in detail["legs"]}


def on_hold(shown: dict[str, dict[str, Any]]) -> tuple[bool, bool]:
    """(customer, agent) ``on_hold`` flags."""
    return shown["customer"]["on_hold"], shown["agent"]["on_hold"]


# -- legs: the customer's leg reads on hold exactly while a hold keeps it in the hold's queue -------
async def test_a_legs_customer_reads_on_hold_while_held_and_not_after_the_resume(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, **legs.legs())
    customer, _agent = await legs.connected(h)
    assert on_hold(await legs_of(h, customer)) == (False, False)
    for _ in range(2):  # a second hold of the same call too
        await h.services.service.hold(customer, by="alice", agent_id="alice")
        await h.clock.advance(10)
        assert h.heard(customer)[-1][1] == "queue-wait"
        # The agent hears music, but nobody holds it: only the customer reads on hold.
        assert on_hold(await legs_of(h, customer)) == (True, False)
        await h.services.service.resume(customer, by="alice", agent_id="alice")
        await h.clock.advance(10)
        h.clock.raise_errors()
        hold = h.view(customer).hold
        assert hold is not None and hold.end_reason is HoldEndReason.RESUMED
        assert on_hold(await legs_of(h, customer)) == (False, False)


async def test_a_legs_customer_reads_on_hold_until_its_agents_late_hang_up_ends_the_hold(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    # Legs: nothing but the agent's own status callback tells callhold that the agent left (the
    # customer waits in the hold's queue, no <Dial> of its own to end): until it comes, the customer
    # is held, on hold music, and reads so; then the hold ends agent_hung_up and it reads off hold.
    h = make_harness(voicesim, voicesim_clock, tmp_path, **legs.legs())
    courier = courier_for(h)
    customer, alice_leg = await legs.connected_and_held(h)
    assert on_hold(await legs_of(h, customer)) == (True, False)
    courier.keep_back(lambda _path, form: form.get("CallSid") == alice_leg)
    assert h.emu.hang_up(alice_leg)
    await h.clock.advance(20)
    h.clock.raise_errors()
    assert courier.kept and h.heard(customer)[-1][1] == "queue-wait"
    assert on_hold(await legs_of(h, customer)) == (True, False)

    await deliver_late(h, courier)
    hold = h.services.store.list_holds()[0]
    assert (hold.state, hold.end_reason) == (HoldState.ENDED, HoldEndReason.AGENT_HUNG_UP)
    assert legs.said(h, customer)[-2:] == [AGENT_LEFT, "Please hold for the next available agent."]
    shown = await legs_of(h, customer)
    assert shown["customer"]["status"] == "in-progress" and not shown["customer"]["on_hold"]


# -- conference: the agent drops while its customer is held ----------------------------------------
@pytest.mark.parametrize("policy", ["requeue", "hangup"])
@pytest.mark.parametrize("agent_callbacks_late", [True, False], ids=["agent-late", "agent-first"])
async def test_a_hold_the_agent_left_ends_agent_hung_up_whatever_order_the_callbacks_come_in(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, policy: str, agent_callbacks_late: bool
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, **conference.conference(policy))
    courier = courier_for(h)
    customer, alice_leg, _conference = await conference.connected_and_held(h)
    if agent_callbacks_late:
        # Every callback about alice's leg (its completed, its leaving, the conference's end it
        # caused) comes after the customer's <Dial> action -- which requeues the customer or says
        # goodbye.
        courier.keep_back(
            lambda _path, form: alice_leg in (form.get("CallSid"), form.get("CallSidEndingConference"))
        )
    assert h.emu.hang_up(alice_leg)
    await h.clock.advance(20)
    h.clock.raise_errors()
    assert bool(courier.kept) is agent_callbacks_late

    def assert_agent_left() -> None:
        hold = h.services.store.list_holds()[0]
        assert (hold.state, hold.end_reason) == (HoldState.ENDED, HoldEndReason.AGENT_HUNG_UP)
        alice = h.services.store.get_agent("alice")
        assert alice is not None
        if not agent_callbacks_late or policy == "requeue":  # made away: no next customer
            assert (alice.available, alice.away) == (False, True)
        else:  # goodbye said, the call ended and freed her first: not made away so late
            assert (alice.available, alice.away) == (True, False)

    if agent_callbacks_late:
        # The action alone cannot tell the agent's hanging up from the customer's removal or the
        # conference ended through the API: the customer is told, the record says the call ended ...
        hold = h.services.store.list_holds()[0]
        assert (hold.state, hold.end_reason) == (HoldState.ENDED, HoldEndReason.CALL_ENDED)
    else:
        assert_agent_left()
    if policy == "requeue":
        assert conference.said(h, customer)[-2:] == [AGENT_LEFT, "Please hold for the next available agent."]
        assert [c.id for c in h.services.service.waiting_calls()] == [customer]
    else:
        assert conference.said(h, customer)[-2:] == [AGENT_LEFT, "Please call us again later. Goodbye."]
        assert h.view(customer).call.status is CallState.ENDED
    await deliver_late(h, courier)
    assert_agent_left()  # ... until the conference-end says the agent left (first: nothing changes)


async def test_a_held_customer_who_hangs_up_before_its_callbacks_come_ends_the_hold_customer_hung_up(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    # The other side of the same question: the customer's <Dial> action comes first, its call over
    # (CallStatus=completed). The hold ends because the customer hung up -- not the agent, who is
    # free for the next customer once the call is over.
    h = make_harness(voicesim, voicesim_clock, tmp_path, **conference.conference())
    courier = courier_for(h)
    customer, _alice_leg, _conference = await conference.connected_and_held(h)
    courier.keep_back(lambda path, _form: path != f"/twiml/action/{customer}")
    assert h.emu.hang_up(customer)
    await h.clock.advance(10)
    h.clock.raise_errors()
    assert [r.path for r in courier.delivered[-1:]] == [f"/twiml/action/{customer}"]
    hold = h.services.store.list_holds()[0]
    assert (hold.state, hold.end_reason) == (HoldState.ENDED, HoldEndReason.CUSTOMER_HUNG_UP)

    await deliver_late(h, courier)
    hold = h.services.store.list_holds()[0]
    assert (hold.state, hold.end_reason) == (HoldState.ENDED, HoldEndReason.CUSTOMER_HUNG_UP)
    assert h.view(customer).call.status is CallState.ENDED
    alice = h.services.store.get_agent("alice")
    assert alice is not None and (alice.available, alice.away) == (True, False)


async def test_removing_the_held_customer_does_not_make_its_agent_away(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    """The customer's <Dial> action says it is still on the line, as it does when the agent hangs up;
    the conference-end says it was kicked: the agent did nothing wrong and takes the next customer."""
    h = make_harness(voicesim, voicesim_clock, tmp_path, **conference.conference())
    customer, _alice_leg, _conference = await conference.connected_and_held(h)
    assert (await h.api("DELETE", f"/calls/{customer}/participants/{customer}")).status_code == 204
    await h.clock.advance(20)
    h.clock.raise_errors()
    assert h.services.store.list_holds()[0].end_reason is HoldEndReason.CALL_ENDED
    alice = h.services.store.get_agent("alice")
    assert alice is not None and not alice.away


async def test_a_late_conference_end_does_not_make_away_an_agent_back_on_a_call(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    """alice drops while her customer is held; her callbacks come after the customer's <Dial>
    action, and Twilio's conference-end naming her only after she set herself available again and
    took the waiting customer: she is talking to it, and is not made away (the record is put right)."""
    h = make_harness(voicesim, voicesim_clock, tmp_path, **conference.conference("requeue"))
    courier = courier_for(h)
    customer, alice_leg, first = await conference.connected_and_held(h)
    courier.keep_back(
        lambda _path, form: alice_leg in (form.get("CallSid"), form.get("CallSidEndingConference"))
    )
    assert h.emu.hang_up(alice_leg)
    await h.clock.advance(20)
    h.clock.raise_errors()
    courier.stop_keeping()  # alice's own callbacks come now; the conference-end stays late
    ends = [r for r in courier.kept if r.form.get("StatusCallbackEvent") == "conference-end"]
    assert len(ends) == 1
    for request in courier.kept:
        if request not in ends:
            assert (await courier.deliver(request, "http://callhold.test")).status_code < 300
    courier.kept[:] = ends
    assert h.services.store.list_holds()[0].end_reason is HoldEndReason.CALL_ENDED
    taken = await h.services.service.agent_available("alice")
    assert taken is not None and taken.id == customer
    await h.clock.advance(10)
    h.clock.raise_errors()
    view = h.view(customer)
    assert view.call.agent_id == "alice" and view.call.conference_sid not in (None, first)
    await deliver_late(h, courier)
    assert h.services.store.list_holds()[0].end_reason is HoldEndReason.AGENT_HUNG_UP
    alice = h.services.store.get_agent("alice")
    assert alice is not None and not alice.away
