"""callhold's edge cases on the legs strategy, end to end on voicesim (issue 4, Deliver 4).

The customer calls in; its ``<Dial>`` makes the agent's leg (the child). A hold redirects the agent
to music, and the customer follows by its ``<Dial>`` action into a queue of its own (or, if it has
not, a redirect moves it there); a resume dials that queue from the agent's leg.
Each test asserts on what each party heard and on callhold's records.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from callhold.domain.model import CallState, HoldEndReason, HoldState, LegStatus
from callhold.hold_timers import HoldTimings
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.flows.callhold_signed import Courier, send
from tests.flows.legs_follow import action_not_followed
from tests.twilio_refusals import REFUSED, RefusingTransport, telephony_over
from voicesim import Emulator, VirtualClock

AGENT_LEFT = "We are sorry, your agent was disconnected."
FOLLOW_AFTER = HoldTimings().follow_after  # when a customer that did not follow the agent is moved
CALL_UPDATE = re.compile(r"^POST https://api\.twilio\.com/2010-04-01/Accounts/AC\w+/Calls/CA\w{32}\.json$")


def legs(policy: str = "requeue") -> dict[str, object]:
    return {"strategy": "legs", "agent_hangup_policy": policy}


@pytest.fixture
def h(voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path) -> Harness:
    return make_harness(voicesim, voicesim_clock, tmp_path, **legs())


async def connected(h: Harness) -> tuple[str, str]:
    """A customer talking to alice over a ``<Dial>`` bridge: (customer SID, agent SID)."""
    h.add_agent()
    call = await h.call_in()
    agent = h.view(call.sid).agent_leg
    assert agent is not None and agent.parent_call_sid == call.sid
    assert h.heard(call.sid)[-1] == ("call", "", agent.call_sid)
    return call.sid, agent.call_sid


async def connected_and_held(h: Harness) -> tuple[str, str]:
    customer, agent = await connected(h)
    await h.services.service.hold(customer, by="alice", agent_id="alice")
    await h.clock.advance(15)
    hold = h.view(customer).hold
    assert hold is not None and hold.state is HoldState.HELD
    assert h.heard(customer)[-1][1] == "queue-wait" and h.heard(agent)[-1][0] == "play"
    return customer, agent


def said(h: Harness, call_sid: str) -> list[str]:
    return [detail for kind, _, detail in h.heard(call_sid) if kind == "speech"]


def status(h: Harness, call_sid: str) -> str:
    call = h.emu.calls.get(call_sid)
    assert call is not None
    return call.status


def longest_quiet(h: Harness, call_sid: str, since: float) -> float:
    """The longest stretch after ``since`` in which ``call_sid`` heard nothing (silence or a gap)."""
    segments = [s for s in h.emu.media.segments(call_sid) if (s.end or h.clock.now()) > since]
    quiet = [(s.end or h.clock.now()) - max(s.start, since) for s in segments if s.kind == "silence"]
    quiet += [b.start - (a.end or b.start) for a, b in itertools.pairwise(segments)]
    return max(quiet, default=0.0)


# -- 1. the customer hangs up while held ------------------------------------------------------------
async def test_customer_hangs_up_while_held_the_agent_is_told_and_its_call_ends(h: Harness) -> None:
    customer, agent = await connected_and_held(h)
    hung_up_at = h.clock.now()
    assert h.emu.hang_up(customer)
    await h.clock.advance(10)
    h.clock.raise_errors()

    holds = h.services.store.list_holds()
    assert [(x.state, x.end_reason) for x in holds] == [(HoldState.ENDED, HoldEndReason.CUSTOMER_HUNG_UP)]
    assert holds[0].ended_at is not None and holds[0].ended_at.timestamp() == hung_up_at
    # The agent's music stops at once; it hears the message, then its call ends.
    after = [s for s in h.emu.media.segments(agent) if s.start >= hung_up_at]
    assert [(s.kind, s.detail) for s in after] == [("speech", "Your customer has hung up.")]
    music = [s for s in h.emu.media.segments(agent) if s.kind == "play"]
    assert music[-1].end == hung_up_at
    assert status(h, agent) == "completed" and status(h, customer) == "completed"
    view = h.view(customer)
    assert view.call.status is CallState.ENDED
    assert {leg.status for leg in view.legs} == {LegStatus.COMPLETED}
    agent_record = h.services.store.get_agent("alice")
    assert agent_record is not None and agent_record.available
    assert h.emu.alerts == []


# -- 2. the agent hangs up while the customer is held -------------------------------------------------
async def test_agent_hangs_up_requeue_the_customer_is_told_waits_and_reaches_the_next_agent(
    h: Harness,
) -> None:
    customer, alice_leg = await connected_and_held(h)
    left_at = h.clock.now()
    service = h.services.service
    assert h.emu.hang_up(alice_leg)
    await h.clock.advance(20)
    h.clock.raise_errors()

    hold = h.services.store.list_holds()[0]
    assert (hold.state, hold.end_reason) == (HoldState.ENDED, HoldEndReason.AGENT_HUNG_UP)
    view = h.view(customer)
    assert view.call.status is CallState.ACTIVE and view.call.agent_id is None
    assert said(h, customer)[-2:] == [AGENT_LEFT, "Please hold for the next available agent."]
    assert h.heard(customer)[-1][1] == "queue-wait"
    assert [c.id for c in service.waiting_calls()] == [customer]
    assert longest_quiet(h, customer, left_at) == 0
    assert status(h, customer) == "in-progress"

    h.add_agent("bob", "client:bob")
    taken = await service.agent_available("bob")
    assert taken is not None and taken.id == customer
    await h.clock.advance(10)
    h.clock.raise_errors()
    view = h.view(customer)
    bob_leg = view.agent_leg
    assert view.call.agent_id == "bob" and bob_leg is not None and bob_leg.call_sid != alice_leg
    assert h.heard(customer)[-1] == ("call", "", bob_leg.call_sid)
    # bob can hold and resume this customer too.
    await service.hold(customer, by="bob", agent_id="bob")
    await h.clock.advance(10)
    assert h.heard(customer)[-1][1] == "queue-wait"
    await service.resume(customer, by="bob", agent_id="bob")
    await h.clock.advance(5)
    h.clock.raise_errors()
    assert h.heard(customer)[-1] == ("call", "", bob_leg.call_sid)
    assert h.heard(bob_leg.call_sid)[-1] == ("call", "", customer)
    assert h.emu.alerts == []


async def test_agent_hangs_up_requeue_a_free_agent_takes_the_customer_at_once(h: Harness) -> None:
    customer, alice_leg = await connected_and_held(h)
    h.add_agent("bob", "client:bob")  # free all along: the customer must not wait for a sweep
    left_at = h.clock.now()
    assert h.emu.hang_up(alice_leg)
    await h.clock.advance(12)  # less than a dispatch sweep (15 s)
    h.clock.raise_errors()
    view = h.view(customer)
    bob_leg = view.agent_leg
    assert view.call.agent_id == "bob" and bob_leg is not None and bob_leg.call_sid != alice_leg
    assert said(h, customer)[-2:] == [AGENT_LEFT, "Connecting you to another agent."]
    assert h.heard(customer)[-1] == ("call", "", bob_leg.call_sid)
    assert h.heard(bob_leg.call_sid)[-1] == ("call", "", customer)
    assert longest_quiet(h, customer, left_at) == 0
    assert h.services.service.waiting_calls() == []
    alice = h.services.store.get_agent("alice")
    assert alice is not None and not alice.available  # the agent who dropped is not offered it back
    # bob can hold and resume this customer too.
    await h.services.service.hold(customer, by="bob", agent_id="bob")
    await h.clock.advance(10)
    await h.services.service.resume(customer, by="bob", agent_id="bob")
    await h.clock.advance(5)
    h.clock.raise_errors()
    assert h.heard(customer)[-1] == ("call", "", bob_leg.call_sid)
    assert h.emu.alerts == []


async def test_agent_hangs_up_hangup_policy_the_customer_is_told_then_the_call_ends(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, **legs("hangup"))
    customer, alice_leg = await connected_and_held(h)
    left_at = h.clock.now()
    assert h.emu.hang_up(alice_leg)
    await h.clock.advance(20)
    h.clock.raise_errors()

    hold = h.services.store.list_holds()[0]
    assert (hold.state, hold.end_reason) == (HoldState.ENDED, HoldEndReason.AGENT_HUNG_UP)
    assert said(h, customer)[-2:] == [AGENT_LEFT, "Please call us again later. Goodbye."]
    assert h.heard(customer)[-1][0] == "speech"
    assert status(h, customer) == "completed"
    assert h.view(customer).call.status is CallState.ENDED
    assert longest_quiet(h, customer, left_at) == 0
    agent = h.services.store.get_agent("alice")
    assert agent is not None and not agent.available and agent.away  # dropped: no next customer


# -- 4. the interrupted <Dial>'s action (DialCallStatus=completed) is not a hang-up ------------------
async def test_the_interrupted_dial_action_with_completed_is_not_taken_for_a_hang_up(h: Harness) -> None:
    customer, agent = await connected(h)
    mark = len(h.emu.events)
    await h.services.service.hold(customer, by="alice", agent_id="alice")
    await h.clock.advance(15)
    h.clock.raise_errors()

    actions = [
        e.data
        for e in h.emu.events[mark:]
        if e.type == "webhook" and e.data["url"] == f"{BASE}/twiml/action/{customer}"
    ]
    assert len(actions) == 1 and actions[0]["status"] == 200
    assert actions[0]["params"]["DialCallStatus"] == "completed"  # exactly what a hang-up reports
    view = h.view(customer)
    assert view.hold is not None and view.hold.state is HoldState.HELD
    assert view.call.status is CallState.ACTIVE
    assert {leg.status for leg in view.legs} == {LegStatus.IN_PROGRESS}
    assert status(h, customer) == status(h, agent) == "in-progress"

    # The same action once more (Twilio may send it again): answered with the hold, never a hang-up.
    reply = await send(h.app, actions[0]["url"], actions[0]["params"], auth_token=h.emu.auth_token)
    assert reply.status_code == 200
    assert "<Hangup" not in reply.text
    assert f"/twiml/legs/enqueue/{view.hold.id}" in reply.text
    assert h.view(customer) == view

    await h.services.service.resume(customer, by="alice", agent_id="alice")
    await h.clock.advance(10)
    assert h.heard(customer)[-1] == ("call", "", agent)
    assert h.heard(agent)[-1] == ("call", "", customer)


# -- 5. a Twilio API error in the middle of the two-step hold -----------------------------------------
def failing_nth(h: Harness, pattern: re.Pattern[str], nth: int) -> RefusingTransport:
    """From now on Twilio refuses callhold's ``nth`` SDK request matching ``pattern`` (``"METHOD
    url"``): :data:`~tests.twilio_refusals.REFUSED`, nothing done."""
    matching = itertools.count(1)
    failing = RefusingTransport(
        h.emu,
        lambda method, url, _: pattern.match(f"{method} {url}") is not None and next(matching) == nth,
        **REFUSED,
    )
    h.services.service.telephony = telephony_over(h.emu, failing, BASE)
    return failing


def fail_call_update(h: Harness, nth: int) -> RefusingTransport:
    """From now on Twilio refuses callhold's ``nth`` Calls update."""
    return failing_nth(h, CALL_UPDATE, nth)


async def test_second_hold_step_fails_the_first_is_undone_and_both_are_talking_again(h: Harness) -> None:
    """Step 1 redirects the agent to music; step 2 moves the customer into the hold's queue: its
    ``<Dial>`` action does it, and when that did not (here Twilio does not run callhold's answer), the
    follow check's redirect. Twilio refuses that redirect: the hold is undone, both talk again."""
    customer, agent = await connected(h)
    swallowed = action_not_followed(h, customer)
    failing = fail_call_update(h, 2)  # step 1 (agent to music) works, step 2 (customer to queue) fails
    started = h.clock.now()
    view = await h.services.service.hold(customer, by="alice", agent_id="alice")
    assert view.hold is not None and view.hold.state is HoldState.HELD  # the agent is on music
    await h.clock.advance(20)
    h.clock.raise_errors()

    assert swallowed == [f"/twiml/action/{view.call.id}"]
    assert [f["Url"] for f in failing.refused] == [f"{BASE}/twiml/legs/enqueue/{view.hold.id}"]
    hold = h.view(customer).hold
    assert hold is not None
    assert (hold.state, hold.end_reason) == (HoldState.ENDED, HoldEndReason.FAILED_COMPENSATED)
    assert h.heard(customer)[-1] == ("call", "", agent)
    assert h.heard(agent)[-1] == ("call", "", customer)
    assert status(h, customer) == status(h, agent) == "in-progress"
    assert longest_quiet(h, agent, started) <= 3
    assert longest_quiet(h, customer, started) <= FOLLOW_AFTER + 1  # the unfollowed action's <Pause>
    for party in (customer, agent):
        back = next(s for s in h.emu.media.segments(party) if s.start >= started and s.kind == "call")
        assert back.start - started <= FOLLOW_AFTER + 5  # talking again within seconds (the follow check's)
    # Nothing is stuck: a new hold (Twilio working again) and resume go through.
    await h.services.service.hold(customer, by="alice", agent_id="alice")
    await h.clock.advance(10)
    assert h.heard(customer)[-1][1] == "queue-wait"
    await h.services.service.resume(customer, by="alice", agent_id="alice")
    await h.clock.advance(10)
    assert h.heard(customer)[-1] == ("call", "", agent)
    assert h.emu.alerts == []


async def test_first_hold_step_fails_nothing_moved_nobody_hears_a_thing_change(h: Harness) -> None:
    customer, agent = await connected(h)
    fail_call_update(h, 1)
    started = h.clock.now()
    view = await h.services.service.hold(customer, by="alice", agent_id="alice")
    await h.clock.advance(10)
    h.clock.raise_errors()
    assert view.hold is not None
    assert (view.hold.state, view.hold.end_reason) == (HoldState.ENDED, HoldEndReason.FAILED_COMPENSATED)
    for party, other in ((customer, agent), (agent, customer)):
        segment = h.emu.media.segments(party)[-1]
        assert (segment.kind, segment.voices) == ("call", (other,)) and segment.start < started


async def test_resume_fails_the_customer_stays_on_hold_audio_and_a_retry_resumes(h: Harness) -> None:
    customer, agent = await connected_and_held(h)
    fail_call_update(h, 1)  # the resume's redirect of the agent fails
    with_music_from = h.clock.now()
    view = await h.services.service.resume(customer, by="alice", agent_id="alice")
    assert view.hold is not None and view.hold.state is HoldState.HELD  # still held, resume can be retried
    await h.clock.advance(10)
    assert h.heard(customer)[-1][1] == "queue-wait" and h.heard(agent)[-1][0] == "play"
    assert longest_quiet(h, customer, with_music_from) == 0
    await h.services.service.resume(customer, by="alice", agent_id="alice")
    await h.clock.advance(10)
    h.clock.raise_errors()
    assert h.heard(customer)[-1] == ("call", "", agent)
    hold = h.view(customer).hold
    assert hold is not None and (hold.state, hold.end_reason) == (HoldState.ENDED, HoldEndReason.RESUMED)


# -- 6. duplicated and out-of-order status callbacks -----------------------------------------------------
async def test_late_and_repeated_status_callbacks_cannot_move_a_leg_backwards(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, **legs())
    courier = Courier(h.app)
    voicesim.webhooks.mount(BASE, courier)
    # The agent leg's "ringing" status callback is delivered late, after its "in-progress".
    courier.keep_back(lambda path, form: path == "/webhooks/call-status" and form["CallStatus"] == "ringing")
    customer, agent = await connected(h)
    leg = h.view(customer).leg(agent)
    assert leg is not None and leg.status is LegStatus.IN_PROGRESS and leg.sequence_number == 2
    [ringing] = courier.kept
    assert ringing.form["SequenceNumber"] == "1"
    assert (await courier.deliver(ringing, BASE)).status_code == 204  # seq 1 after seq 2
    assert h.view(customer).leg(agent) == leg

    # A held customer hangs up; then Twilio's completed callback is delivered twice more.
    courier.stop_keeping()
    await h.services.service.hold(customer, by="alice", agent_id="alice")
    await h.clock.advance(10)
    assert h.emu.hang_up(customer)
    await h.clock.advance(10)
    h.clock.raise_errors()
    ended = h.view(customer)
    assert ended.hold is not None and ended.hold.end_reason is HoldEndReason.CUSTOMER_HUNG_UP
    completed = h.status_callbacks(customer, "completed")
    assert len(completed) == 1
    redirects = [e for e in h.emu.events if e.type == "call.redirected" and e.data["call_sid"] == agent]
    for _ in range(2):
        reply = await send(h.app, completed[0]["url"], completed[0]["params"], auth_token=h.emu.auth_token)
        assert reply.status_code == 204
    # The old in-progress of the agent, re-sent with its SequenceNumber: still completed.
    in_progress = h.status_callbacks(agent, "in-progress")[0]
    assert (
        await send(h.app, in_progress["url"], in_progress["params"], auth_token=h.emu.auth_token)
    ).is_success
    await h.clock.advance(5)
    h.clock.raise_errors()
    assert h.view(customer) == ended  # no leg, call or hold moved
    assert [
        e for e in h.emu.events if e.type == "call.redirected" and e.data["call_sid"] == agent
    ] == redirects
    assert said(h, agent).count("Your customer has hung up.") == 1


# -- a command lost after the record changed: the hold documents steer by the record ---------------
def fail_redirects_of(h: Harness, call_sid: str) -> RefusingTransport:
    """From now on Twilio refuses callhold's first Calls update of ``call_sid``: a command lost after
    its decision was recorded, as if the instance died in between."""
    pattern = re.compile(rf"^POST https://api\.twilio\.com/2010-04-01/Accounts/AC\w+/Calls/{call_sid}\.json$")
    return failing_nth(h, pattern, 1)


async def test_agent_hangs_up_and_the_customers_redirect_is_lost_the_wait_music_takes_it_on(
    h: Harness,
) -> None:
    customer, alice_leg = await connected_and_held(h)
    failing = fail_redirects_of(h, customer)
    assert h.emu.hang_up(alice_leg)
    await h.clock.advance(40)  # the hold's wait music loops (12 s) and finds the hold over
    h.clock.raise_errors()
    assert len(failing.refused) == 1  # the redirect to the agent-left message never reached Twilio
    hold = h.services.store.list_holds()[0]
    assert (hold.state, hold.end_reason) == (HoldState.ENDED, HoldEndReason.AGENT_HUNG_UP)
    # Not left in a queue nobody will ever dequeue: told, and waiting for the next agent.
    assert said(h, customer)[-2:] == [AGENT_LEFT, "Please hold for the next available agent."]
    assert h.heard(customer)[-1][1] == "queue-wait"
    assert [c.id for c in h.services.service.waiting_calls()] == [customer]
    assert status(h, customer) == "in-progress"


async def test_customer_hangs_up_and_the_agents_redirect_is_lost_its_music_tells_it(h: Harness) -> None:
    customer, agent = await connected_and_held(h)
    failing = fail_redirects_of(h, agent)
    assert h.emu.hang_up(customer)
    await h.clock.advance(30)  # the agent's music loops and finds the hold over
    h.clock.raise_errors()
    assert len(failing.refused) == 1
    assert said(h, agent)[-1] == "Your customer has hung up."
    assert status(h, agent) == "completed"
