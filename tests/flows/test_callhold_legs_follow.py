"""The legs strategy moves one leg of a ``<Dial>`` bridge and lets the other follow by its action.

Two redirects back to back would race on real Twilio, which applies a redirect asynchronously
(reference §3.3, Q3): the customer's redirect could reach its ``<Dial>`` while the agent, its child
just redirected to music, is still bridged, and Twilio would hang the agent up. So a hold redirects
the agent only; the customer's ``<Dial>`` (or ``<Enqueue>``) ends with the bridge, and callhold
answers its action with the hold's queue. A customer that is not in the queue ``follow_after``
seconds later (its action's answer not run) is redirected there: by then the bridge is long gone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from callhold.config import Settings
from callhold.domain.model import HoldEndReason, HoldState
from callhold.hold_timers import HoldTimings
from callhold.web.app import Services, create_app
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.flows.legs_follow import action_not_followed, record_redirects
from tests.flows.test_callhold_restart import MortalTimers
from voicesim import Emulator, VirtualClock

FOLLOW_AFTER = HoldTimings().follow_after


@pytest.fixture
def h(voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path) -> Harness:
    return make_harness(voicesim, voicesim_clock, tmp_path, strategy="legs")


def actions(h: Harness, call_sid: str) -> list[str]:
    """The paths of the action requests voicesim made for ``call_sid``."""
    return [
        e.data["url"].removeprefix(BASE).split("?")[0]
        for e in h.emu.events
        if e.type == "webhook" and "action/" in e.data["url"] and e.data["params"].get("CallSid") == call_sid
    ]


async def hold_and_resume(h: Harness, customer: str, agent: str, sent: list[tuple[str, str]]) -> str:
    """Hold (one redirect: the agent's), check the customer followed into the queue, resume (one
    redirect: the agent's); returns the hold's id."""
    before = len(sent)
    view = await h.services.service.hold(customer, by="alice", agent_id="alice")
    assert view.hold is not None and view.hold.state is HoldState.HELD
    hold_id = view.hold.id
    await h.clock.advance(15)
    h.clock.raise_errors()
    assert sent[before:] == [(agent, f"{BASE}/twiml/legs/hold-music/{hold_id}")]
    assert h.heard(customer)[-1][1] == "queue-wait" and h.heard(agent)[-1][0] == "play"
    customer_leg = h.view(customer).customer_leg
    assert customer_leg is not None and customer_leg.on_hold
    await h.services.service.resume(customer, by="alice", agent_id="alice")
    await h.clock.advance(10)
    h.clock.raise_errors()
    assert sent[before + 1 :] == [(agent, f"{BASE}/twiml/legs/dequeue/{hold_id}")]
    assert h.heard(customer)[-1] == ("call", "", agent) and h.heard(agent)[-1] == ("call", "", customer)
    hold = h.view(customer).hold
    assert hold is not None and (hold.state, hold.end_reason) == (HoldState.ENDED, HoldEndReason.RESUMED)
    return hold_id


async def test_a_hold_redirects_only_the_agent_and_the_customer_follows_by_its_dial_action(
    h: Harness,
) -> None:
    customer, agent = await h.connected()
    sent = record_redirects(h)
    await hold_and_resume(h, customer, agent, sent)
    assert actions(h, customer) == [f"/twiml/action/{h.view(customer).call.id}"]  # the interrupted <Dial>
    agent_call = h.emu.calls.get(agent)
    assert agent_call is not None and agent_call.status == "in-progress"  # never hung up
    assert h.emu.alerts == []


async def test_after_a_resume_the_customer_follows_by_its_enqueue_action(h: Harness) -> None:
    """After a resume the two calls are bridged by the agent's ``<Dial><Queue>``: the customer's
    ``<Enqueue>`` of the first hold's queue ends with that bridge, and its action follows the agent."""
    customer, agent = await h.connected()
    sent = record_redirects(h)
    first = await hold_and_resume(h, customer, agent, sent)
    second = await hold_and_resume(h, customer, agent, sent)
    call_id = h.view(customer).call.id
    assert actions(h, customer) == [f"/twiml/action/{call_id}", f"/twiml/enqueue-action/{call_id}"]
    assert first != second
    assert h.emu.alerts == []


async def test_a_customer_its_action_did_not_move_is_redirected_into_the_queue(h: Harness) -> None:
    customer, agent = await h.connected()
    swallowed = action_not_followed(h, customer)
    sent = record_redirects(h)
    started = h.clock.now()
    view = await h.services.service.hold(customer, by="alice", agent_id="alice")
    assert view.hold is not None
    await h.clock.advance(FOLLOW_AFTER - 1)
    assert swallowed and h.heard(customer)[-1][0] == "silence"  # Twilio did not run callhold's answer
    await h.clock.advance(10)
    h.clock.raise_errors()
    assert sent == [
        (agent, f"{BASE}/twiml/legs/hold-music/{view.hold.id}"),
        (customer, f"{BASE}/twiml/legs/enqueue/{view.hold.id}"),
    ]
    wait = next(s for s in h.emu.media.segments(customer) if s.start >= started and s.context == "queue-wait")
    assert wait.start - started == pytest.approx(FOLLOW_AFTER, abs=1)
    assert h.view(customer).customer_leg.on_hold  # type: ignore[union-attr]
    await h.services.service.resume(customer, by="alice", agent_id="alice")
    await h.clock.advance(10)
    assert h.heard(customer)[-1] == ("call", "", agent)
    assert h.emu.alerts == []


async def test_a_follow_check_lost_in_a_restart_is_made_by_the_new_process(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    """callhold stops 2 s into a hold whose customer did not follow: the new process's catch-up of
    the hold's timers moves the customer into the queue when the follow check is due."""
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="legs")
    mortal = MortalTimers(h.services.service.timers)
    h.services.service.timers = mortal
    customer, _ = await h.connected()
    action_not_followed(h, customer)
    started = voicesim_clock.now()
    await h.services.service.hold(customer, by="alice", agent_id="alice")
    await voicesim_clock.advance(2)
    mortal.die()  # the process is gone, and its follow check with it
    h.services.store.engine.dispose()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/callhold.db", public_base_url=BASE, strategy="legs"
    )
    services: Services = create_app(settings, emulator=voicesim, seed=1).state.services
    assert services.service.rearm_timers() == 1
    await voicesim_clock.advance(10)
    voicesim_clock.raise_errors()
    assert h.heard(customer)[-1][1] == "queue-wait"
    wait = next(s for s in h.emu.media.segments(customer) if s.start >= started and s.context == "queue-wait")
    assert wait.start - started == pytest.approx(FOLLOW_AFTER, abs=1)
    assert services.service.view(customer).customer_leg.on_hold  # type: ignore[union-attr]


async def test_sweeps_check_a_customer_in_the_queue_once_per_process(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    """Every sweep catches up the timers of a held hold that has none left armed here (another
    instance may have stopped with them); the follow check among them, whose answer the hold's
    record does not carry, runs once per process, not once per sweep and held call."""
    settings = {"agent_reminder_after": 5, "max_hold": 10, "max_hold_action": "announce"}
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="legs", **settings)
    mortal = MortalTimers(h.services.service.timers)
    h.services.service.timers = mortal
    customer, _ = await h.connected()
    await h.services.service.hold(customer, by="alice", agent_id="alice")
    await voicesim_clock.advance(30)  # the reminder, the maximum hold announced: nothing left armed
    fired = mortal.fired
    for _ in range(4):
        assert h.services.service.rearm_timers() == 1
        await voicesim_clock.advance(15)
    voicesim_clock.raise_errors()
    assert mortal.fired - fired <= 1  # the follow check, unless this process made it already
    hold = h.view(customer).hold
    assert hold is not None and hold.state is HoldState.HELD


async def test_a_resume_before_the_customer_followed_waits_for_it_without_a_webhook_storm(h: Harness) -> None:
    """Resumed 1 s into a hold whose customer has not followed (its action's answer not run): the
    hold's queue does not exist yet, so the agent's ``<Dial><Queue>`` fails at once (reference §4.3).
    The agent tries again once a second, not in a loop of webhooks, and the follow check moves the
    customer into the queue, where the agent takes it."""
    customer, agent = await h.connected()
    action_not_followed(h, customer)
    view = await h.services.service.hold(customer, by="alice", agent_id="alice")
    assert view.hold is not None
    await h.clock.advance(1)
    resumed_at = h.clock.now()
    await h.services.service.resume(customer, by="alice", agent_id="alice")
    await h.clock.advance(15)
    h.clock.raise_errors()
    assert h.heard(customer)[-1] == ("call", "", agent) and h.heard(agent)[-1] == ("call", "", customer)
    back = next(s for s in h.emu.media.segments(customer) if s.start >= resumed_at and s.kind == "call")
    assert back.start - resumed_at <= FOLLOW_AFTER + 5
    dequeues = [
        e
        for e in h.emu.events
        if e.type == "webhook" and f"/twiml/legs/dequeue/{view.hold.id}" in e.data["url"]
    ]
    assert len(dequeues) <= FOLLOW_AFTER + 3  # about one a second until the customer is there
    hold = h.view(customer).hold
    assert hold is not None and (hold.state, hold.end_reason) == (HoldState.ENDED, HoldEndReason.RESUMED)
