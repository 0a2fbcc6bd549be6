"""callhold's edge cases on the conference strategy, end to end on voicesim (issue 4, Deliver 4).

Each test drives real calls through voicesim on a virtual clock and asserts on what each party heard
(the audio timeline) and on callhold's records.
"""

from __future__ import annotations

import email.utils
import itertools
from pathlib import Path

import httpx
import pytest

from callhold.domain import events as ev
from callhold.domain.errors import ConferenceNotStarted
from callhold.domain.model import CallState, HoldEndReason, HoldState, LegStatus
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.flows.callhold_signed import Courier, send
from voicesim import Emulator, VirtualClock
from voicesim.sdk import client

AGENT_LEFT = "We are sorry, your agent was disconnected."


def conference(policy: str = "requeue") -> dict[str, object]:
    return {"strategy": "conference", "agent_hangup_policy": policy}


@pytest.fixture
def h(voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path) -> Harness:
    return make_harness(voicesim, voicesim_clock, tmp_path, **conference())


async def connected_and_held(h: Harness) -> tuple[str, str, str]:
    """A customer talking to alice, then held for 15 s: (customer SID, agent SID, conference SID)."""
    h.add_agent()
    call = await h.call_in()
    view = h.view(call.sid)
    assert view.agent_leg is not None and view.call.conference_sid is not None
    await h.services.service.hold(call.sid, by="alice", agent_id="alice")
    await h.clock.advance(15)
    held = h.view(call.sid).hold
    assert held is not None and held.state is HoldState.HELD
    assert h.heard(call.sid)[-1][1] == "hold"
    return call.sid, view.agent_leg.call_sid, view.call.conference_sid


def said(h: Harness, call_sid: str) -> list[str]:
    return [detail for kind, _, detail in h.heard(call_sid) if kind == "speech"]


def contiguous(h: Harness, call_sid: str) -> bool:
    """No gap anywhere in the call's timeline (every moment has something: speech, music, a voice)."""
    return all(a.end == b.start for a, b in itertools.pairwise(h.emu.media.segments(call_sid)))


# -- 1. the customer hangs up while held ------------------------------------------------------------
async def test_customer_hangs_up_while_held_closes_the_hold_and_ends_the_agent_call(h: Harness) -> None:
    customer, agent, conference_sid = await connected_and_held(h)
    hung_up_at = h.clock.now()
    assert h.emu.hang_up(customer)
    await h.clock.advance(10)
    h.clock.raise_errors()

    holds = h.services.store.list_holds()
    assert [(x.state, x.end_reason) for x in holds] == [(HoldState.ENDED, HoldEndReason.CUSTOMER_HUNG_UP)]
    assert holds[0].ended_at is not None and holds[0].ended_at.timestamp() == hung_up_at
    view = h.view(customer)
    assert view.call.status is CallState.ENDED
    assert {leg.status for leg in view.legs} == {LegStatus.COMPLETED}
    # The agent was never put on music, and its call ended with the conference.
    assert all(context != "hold" and kind != "play" for kind, context, _ in h.heard(agent))
    assert h.emu.calls.get(agent).status == "completed"  # type: ignore[union-attr]
    assert h.emu.media.segments(agent)[-1].end == hung_up_at
    assert client(h.emu).conferences(conference_sid).fetch().status == "completed"
    agent_record = h.services.store.get_agent("alice")
    assert agent_record is not None and agent_record.available  # free for the next call
    assert h.emu.alerts == []


async def test_a_held_customer_hanging_up_does_not_make_the_agent_away_whatever_comes_first(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    """The customer's ``<Dial>`` action (its hang-up) may be handled before its status callback --
    another instance, or Twilio's order: the hold then ends as the call's end, not the agent's drop,
    and the agent, who did nothing wrong, takes the next customer."""
    h = make_harness(voicesim, voicesim_clock, tmp_path, **conference("hangup"))
    customer, _, _ = await connected_and_held(h)
    service = h.services.service
    at = service.clock.now()
    await service.handle(
        customer, ev.DialActionReceived(call_sid=customer, dial_call_status="answered", at=at)
    )
    assert h.emu.hang_up(customer)
    await h.clock.advance(10)
    h.clock.raise_errors()
    assert [x.end_reason for x in h.services.store.list_holds()] == [HoldEndReason.CALL_ENDED]
    alice = h.services.store.get_agent("alice")
    assert alice is not None and (alice.available, alice.away) == (True, False)


# -- 2. the agent hangs up while the customer is held -------------------------------------------------
async def test_agent_hangs_up_requeue_the_customer_is_told_waits_and_reaches_the_next_agent(
    h: Harness,
) -> None:
    customer, alice_leg, first_conference = await connected_and_held(h)
    service = h.services.service
    assert h.emu.hang_up(alice_leg)
    await h.clock.advance(20)
    h.clock.raise_errors()

    hold = h.services.store.list_holds()[0]
    assert (hold.state, hold.end_reason) == (HoldState.ENDED, HoldEndReason.AGENT_HUNG_UP)
    view = h.view(customer)
    assert view.call.status is CallState.ACTIVE and view.call.agent_id is None
    assert view.customer_leg is not None and view.customer_leg.status is LegStatus.IN_PROGRESS
    assert said(h, customer)[-2:] == [AGENT_LEFT, "Please hold for the next available agent."]
    assert h.heard(customer)[-1][1] == "queue-wait"  # waiting in callhold-waiting, with music
    assert [c.id for c in service.waiting_calls()] == [customer]
    assert contiguous(h, customer)  # not a moment of silence: hold music, message, waiting music

    h.add_agent("bob", "client:bob")
    taken = await service.agent_available("bob")
    assert taken is not None and taken.id == customer
    await h.clock.advance(10)
    h.clock.raise_errors()
    view = h.view(customer)
    bob_leg = view.agent_leg
    assert view.call.agent_id == "bob" and bob_leg is not None and bob_leg.call_sid != alice_leg
    assert h.heard(customer)[-1] == ("conference", "", bob_leg.call_sid)
    assert h.heard(bob_leg.call_sid)[-1] == ("conference", "", customer)
    # A new conference: callhold follows it, so bob can hold and resume too.
    assert view.call.conference_sid not in (None, first_conference)
    await service.hold(customer, by="bob", agent_id="bob")
    await h.clock.advance(10)
    assert h.heard(customer)[-1][1] == "hold"
    await service.resume(customer, by="bob", agent_id="bob")
    await h.clock.advance(5)
    h.clock.raise_errors()
    assert h.heard(customer)[-1] == ("conference", "", bob_leg.call_sid)
    second = h.view(customer).hold
    assert second is not None and (second.state, second.end_reason) == (
        HoldState.ENDED,
        HoldEndReason.RESUMED,
    )
    assert second.agent_id == "bob"
    assert h.emu.alerts == []


async def test_agent_hangs_up_requeue_a_free_agent_takes_the_customer_at_once(h: Harness) -> None:
    customer, alice_leg, _conference = await connected_and_held(h)
    h.add_agent("bob", "client:bob")  # free all along: the customer must not wait for a sweep
    left_at = h.clock.now()
    assert h.emu.hang_up(alice_leg)
    await h.clock.advance(12)  # less than a dispatch sweep (15 s)
    h.clock.raise_errors()
    view = h.view(customer)
    bob_leg = view.agent_leg
    assert view.call.agent_id == "bob" and bob_leg is not None and bob_leg.call_sid != alice_leg
    assert said(h, customer)[-2:] == [AGENT_LEFT, "Connecting you to another agent."]
    assert h.heard(customer)[-1] == ("conference", "", bob_leg.call_sid)
    assert all(ctx != "queue-wait" for _, ctx, _ in h.heard(customer))  # never back in line
    started = [
        s.start for s in h.emu.media.segments(customer) if s.kind == "conference" and s.start > left_at
    ]
    assert started and started[0] - left_at < 10
    assert h.services.service.waiting_calls() == []
    alice = h.services.store.get_agent("alice")
    assert alice is not None and not alice.available  # the agent who dropped is not offered it back
    assert h.emu.alerts == []


async def test_agent_hangs_up_hangup_policy_the_customer_is_told_then_the_call_ends(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, **conference("hangup"))
    customer, alice_leg, _ = await connected_and_held(h)
    assert h.emu.hang_up(alice_leg)
    await h.clock.advance(20)
    h.clock.raise_errors()

    hold = h.services.store.list_holds()[0]
    assert (hold.state, hold.end_reason) == (HoldState.ENDED, HoldEndReason.AGENT_HUNG_UP)
    assert said(h, customer)[-2:] == [AGENT_LEFT, "Please call us again later. Goodbye."]
    assert h.heard(customer)[-1][0] == "speech"  # the goodbye was the last thing heard
    assert h.emu.calls.get(customer).status == "completed"  # type: ignore[union-attr]
    assert h.view(customer).call.status is CallState.ENDED
    assert contiguous(h, customer)
    agent = h.services.store.get_agent("alice")
    assert agent is not None and not agent.available and agent.away  # dropped: no next customer


# -- 3. hold requested before the conference has started ----------------------------------------------
async def test_hold_before_the_conference_starts_is_a_409_that_changes_nothing_then_works(h: Harness) -> None:
    h.add_agent()
    h.emu.phones.script("client:alice", answer_after=15)
    call = h.emu.inbound_call("+15551230001", "+15550001000")
    await h.clock.advance(5)  # the agent is still ringing
    service = h.services.service
    before = h.view(call.sid)
    assert before.call.conference_sid is None
    with pytest.raises(ConferenceNotStarted):
        await service.hold(call.sid, by="alice", agent_id="alice")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=h.app), base_url=BASE) as api:
        response = await api.post(
            f"/api/v1/calls/{call.sid}/hold", headers={"Authorization": "Bearer change-me-admin"}
        )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/conference-not-started")
    assert h.view(call.sid) == before  # nothing changed
    assert h.services.store.list_holds() == []
    await h.clock.advance(15)  # the agent answers at t=18 s: the conference starts
    h.clock.raise_errors()
    assert h.emu.alerts == []  # no error leaked to Twilio
    # While waiting the customer heard the waiting music, never the hold audio.
    assert [c for _, c, _ in h.heard(call.sid)] == ["", "conference-wait", ""]

    await service.hold(call.sid, by="alice", agent_id="alice")
    await h.clock.advance(5)
    held = h.view(call.sid).hold
    assert held is not None and held.state is HoldState.HELD
    assert h.heard(call.sid)[-1][1] == "hold"


# -- 6. duplicated and out-of-order conference events --------------------------------------------------
async def test_late_and_repeated_conference_events_cannot_move_the_records_backwards(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, **conference())
    courier = Courier(h.app)
    voicesim.webhooks.mount(BASE, courier)  # voicesim now reaches callhold through the courier
    # The participant-hold event is delayed until after the unhold (a late delivery).
    courier.keep_back(lambda path, form: form.get("StatusCallbackEvent") == "participant-hold")
    h.add_agent()
    call = await h.call_in()
    service = h.services.service
    await service.hold(call.sid, by="alice", agent_id="alice")
    await h.clock.advance(10)
    await service.resume(call.sid, by="alice", agent_id="alice")
    await h.clock.advance(5)
    h.clock.raise_errors()
    assert [k.form["SequenceNumber"] for k in courier.kept] == ["4"]
    customer = h.view(call.sid).customer_leg
    assert customer is not None and customer.on_hold is False
    resumed = h.view(call.sid)

    late = await courier.deliver(courier.kept[0], BASE)  # seq 4 after seq 5
    assert late.status_code == 204
    assert h.view(call.sid) == resumed  # not back on hold, the hold not reopened
    # The same events again, re-signed by "Twilio" (a retry): conference-start and the unhold.
    events = [
        e.data
        for e in h.emu.events
        if e.type == "webhook"
        and e.data["purpose"] == "conference-event"
        and e.data["params"]["StatusCallbackEvent"] in ("conference-start", "participant-unhold")
    ]
    assert len(events) == 2
    for data in events * 2:
        reply = await send(h.app, data["url"], data["params"], auth_token=h.emu.auth_token)
        assert reply.status_code == 204
    assert h.view(call.sid) == resumed
    assert [(x.state, x.end_reason) for x in h.services.store.list_holds()] == [
        (HoldState.ENDED, HoldEndReason.RESUMED)
    ]
    # And the call still works: hold again, the customer hears hold audio.
    courier.stop_keeping()
    await service.hold(call.sid, by="alice", agent_id="alice")
    await h.clock.advance(5)
    assert h.heard(call.sid)[-1][1] == "hold"
    customer = h.view(call.sid).customer_leg
    assert customer is not None and customer.on_hold is True


async def requeue_to_bob(h: Harness, alice_leg: str) -> None:
    """alice hangs up during the hold (requeue): bob, made available, takes the customer in a new
    conference under the same name."""
    h.emu.hang_up(alice_leg)
    await h.clock.advance(20)
    h.add_agent("bob", "client:bob")
    await h.services.service.agent_available("bob")
    await h.clock.advance(10)
    h.clock.raise_errors()


async def requeued_to_bob(h: Harness) -> tuple[str, str, str, str]:
    """:func:`connected_and_held`, then :func:`requeue_to_bob`: (customer, first conference SID,
    second conference SID, the conference's friendly name)."""
    customer, alice_leg, first_conference = await connected_and_held(h)
    await requeue_to_bob(h, alice_leg)
    view = h.view(customer)
    second_conference, name = view.call.conference_sid, view.call.conference_name
    assert second_conference not in (None, first_conference) and name is not None
    return customer, first_conference, second_conference, name


async def test_a_late_participant_event_of_the_earlier_conference_changes_nothing(h: Harness) -> None:
    # The agent hangs up during the hold (requeue): bob takes the customer in a new conference under
    # the same name. A mute event of the first conference, delivered late, must not be applied to
    # the customer in the second -- nor hide the second conference's own, lower, SequenceNumbers.
    customer, first_conference, second_conference, name = await requeued_to_bob(h)

    async def mute_event(conference_sid: str, kind: str, sequence: int) -> None:
        form = {
            "StatusCallbackEvent": kind,
            "ConferenceSid": conference_sid,
            "FriendlyName": name,
            "CallSid": customer,
            "SequenceNumber": str(sequence),
        }
        reply = await send(h.app, BASE + "/webhooks/conference", form, auth_token=h.emu.auth_token)
        assert reply.status_code == 204

    await mute_event(first_conference, "participant-mute", 40)
    leg = h.view(customer).customer_leg
    assert leg is not None and not leg.muted
    await mute_event(second_conference, "participant-mute", 7)
    await mute_event(second_conference, "participant-unmute", 8)
    leg = h.view(customer).customer_leg
    assert leg is not None and not leg.muted and leg.participant_sequence_number == 8


async def test_a_late_start_of_the_earlier_conference_does_not_replace_the_live_one(h: Harness) -> None:
    # Twilio does not promise callbacks in order: the first conference's conference-start, delivered
    # after the customer was requeued into a second one, must not make the first "live" again --
    # else every event of the second would be ignored as another conference's, and a hold would be
    # sent to a conference that has ended.
    customer, alice_leg, first_conference = await connected_and_held(h)
    first_started = h.view(customer).call.conference_started_at
    assert first_started is not None
    await requeue_to_bob(h, alice_leg)
    second_conference, name = h.view(customer).call.conference_sid, h.view(customer).call.conference_name
    assert second_conference not in (None, first_conference) and name is not None
    late = {
        "StatusCallbackEvent": "conference-start",
        "ConferenceSid": first_conference,
        "FriendlyName": name,
        "SequenceNumber": "1",
        "Timestamp": email.utils.format_datetime(first_started),
    }
    reply = await send(h.app, BASE + "/webhooks/conference", late, auth_token=h.emu.auth_token)
    assert reply.status_code == 204
    assert h.view(customer).call.conference_sid == second_conference
    # The second conference is the one holds go to: the customer hears hold music again.
    await h.services.service.hold(customer, by="bob", agent_id="bob")
    await h.clock.advance(5)
    h.clock.raise_errors()
    assert h.heard(customer)[-1][1] == "hold"
    leg = h.view(customer).customer_leg
    assert leg is not None and leg.on_hold
    assert h.emu.alerts == []


async def test_no_leg_is_shown_on_hold_or_muted_once_it_is_out_of_the_conference(h: Harness) -> None:
    # The participant flags belong to the conference: a hung-up customer, or one put back in line
    # after the agent dropped, is not "on hold" (the API and the console showed both so for ever).
    customer, alice_leg, _conference = await connected_and_held(h)
    await h.services.service.mute(customer, alice_leg, True, agent_id="alice")
    await h.clock.advance(2)
    view = h.view(customer)
    assert view.customer_leg is not None and view.customer_leg.on_hold
    assert view.agent_leg is not None and view.agent_leg.muted
    assert h.emu.hang_up(alice_leg)  # nobody free: the customer goes back in line
    await h.clock.advance(20)
    h.clock.raise_errors()
    view = h.view(customer)
    assert view.customer_leg is not None and view.customer_leg.status is LegStatus.IN_PROGRESS
    assert h.heard(customer)[-1][1] == "queue-wait"
    assert [(leg.on_hold, leg.muted) for leg in view.legs] == [(False, False)] * len(view.legs)
    assert h.emu.hang_up(customer)
    await h.clock.advance(5)
    view = h.view(customer)
    assert view.customer_leg is not None and view.customer_leg.status.is_terminal
    assert not view.customer_leg.on_hold


async def test_a_customer_hanging_up_while_held_is_no_longer_shown_on_hold(h: Harness) -> None:
    customer, _alice_leg, _conference = await connected_and_held(h)
    assert h.emu.hang_up(customer)
    await h.clock.advance(10)
    h.clock.raise_errors()
    view = h.view(customer)
    assert view.customer_leg is not None and view.customer_leg.status is LegStatus.COMPLETED
    assert [(leg.on_hold, leg.muted) for leg in view.legs] == [(False, False)] * len(view.legs)


async def test_requeue_connects_the_next_agent_even_when_the_dropped_agents_callbacks_come_late(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    # The customer's <Dial> action arrives before the dropped agent's "completed" callback and the
    # conference's leave/end events (callbacks are separate requests, in any order): on record the
    # dropped agent's leg still looks up. The newly claimed agent must be dialled all the same.
    h = make_harness(voicesim, voicesim_clock, tmp_path, **conference())
    courier = Courier(h.app)
    voicesim.webhooks.mount(BASE, courier)
    customer, alice_leg, _conference = await connected_and_held(h)
    h.add_agent("bob", "client:bob")

    def late(path: str, form: dict[str, str]) -> bool:
        alice_done = form.get("CallSid") == alice_leg and form.get("CallStatus") == "completed"
        conference_over = form.get("StatusCallbackEvent") in ("participant-leave", "conference-end")
        return alice_done or ("conference" in path and conference_over)

    courier.keep_back(late)
    assert h.emu.hang_up(alice_leg)
    await h.clock.advance(12)
    h.clock.raise_errors()
    assert courier.kept  # the callbacks were indeed held back
    view = h.view(customer)
    bob_leg = view.agent_leg
    assert view.call.agent_id == "bob" and bob_leg is not None and bob_leg.call_sid != alice_leg
    assert h.heard(customer)[-1] == ("conference", "", bob_leg.call_sid)
    courier.stop_keeping()
    for request in courier.kept:
        assert (await courier.deliver(request, BASE)).status_code < 300
    await h.clock.advance(5)
    h.clock.raise_errors()
    assert h.heard(customer)[-1] == ("conference", "", bob_leg.call_sid)  # the late callbacks changed nothing
    assert h.view(customer).call.agent_id == "bob"
    assert h.emu.alerts == []


async def test_the_agent_left_document_is_requested_once_when_the_agent_drops(h: Harness) -> None:
    # Only the customer's <Dial> action leads there (no redirect besides): a redirect arriving after
    # the action had connected the next agent would pull the customer out of that conference.
    customer, alice_leg, _conference = await connected_and_held(h)
    h.add_agent("bob", "client:bob")
    assert h.emu.hang_up(alice_leg)
    await h.clock.advance(20)
    h.clock.raise_errors()
    fetched = [
        e.data for e in h.emu.events if e.type == "webhook" and "/twiml/customer/agent-left/" in e.data["url"]
    ]
    assert len(fetched) == 1
    redirected = [
        e.data for e in h.emu.events if e.type == "call.redirected" and e.data["call_sid"] == customer
    ]
    assert not [r for r in redirected if "/agent-left/" in r["url"]]  # callhold sent no redirect there
    view = h.view(customer)
    assert view.call.agent_id == "bob" and view.agent_leg is not None
    assert h.heard(customer)[-1] == ("conference", "", view.agent_leg.call_sid)
