"""A hold's timers outlive the instance that armed them (callhold.hold_timers).

Timers live in the memory of the process that armed them. A restart re-arms them from the records,
and so does every dispatch sweep of every instance, so a hold whose instance stopped for good is
still resumed at its maximum by the instances left; and a refused auto-resume is retried on time,
even by a process that started after it was refused.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from callhold.config import Settings
from callhold.domain import events as ev
from callhold.domain.machine import decide
from callhold.domain.model import HoldEndReason, HoldState
from callhold.web.app import Services, create_app
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.flows.test_callhold_restart import MortalTimers
from tests.twilio_refusals import REFUSED, RefusingTransport, telephony_over
from voicesim import Emulator, VirtualClock

PARTICIPANT = re.compile(r"/Participants/CA\w{32}\.json$")
MAX_HOLD = 60
SWEEP_EVERY = timedelta(seconds=5)
AUTO_RESUME: dict[str, object] = {
    "max_hold": MAX_HOLD,
    "agent_reminder_after": 600,
    "max_hold_action": "resume",
}


def instance(h: Harness, tmp_path: Path, seed: int, **settings: object) -> Services:
    """Another callhold process on the same database and voicesim (started now), with ``settings``."""
    config = Settings(
        database_url=f"sqlite:///{tmp_path}/callhold.db",
        public_base_url=BASE,
        **settings,  # type: ignore[arg-type]
    )
    services: Services = create_app(config, emulator=h.emu, seed=seed).state.services
    return services


async def test_a_refused_auto_resume_is_retried_by_a_process_started_within_the_retry_window(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    settings: dict[str, object] = {"strategy": "conference", **AUTO_RESUME}
    h = make_harness(voicesim, voicesim_clock, tmp_path, **settings)
    service = h.services.service
    mortal = MortalTimers(service.timers)
    service.timers = mortal
    customer, _agent = await h.connected()
    await service.hold(customer, by="alice", agent_id="alice")
    await voicesim_clock.advance(5)
    unhold = RefusingTransport(
        voicesim,
        lambda method, url, data: (
            method == "POST" and bool(PARTICIPANT.search(url)) and data.get("Hold") == "false"
        ),
        limit=1,
        **REFUSED,
    )
    service.telephony = telephony_over(voicesim, unhold, BASE)
    await voicesim_clock.advance(MAX_HOLD)  # the maximum is reached: Twilio refuses the auto-resume
    voicesim_clock.raise_errors()
    hold = h.view(customer).hold
    assert len(unhold.refused) == 1
    assert hold is not None and hold.state is HoldState.HELD and hold.max_hold_acted_at is not None

    await voicesim_clock.advance(5)  # the process dies inside the 30 s before its retry
    mortal.die()
    h.services.store.engine.dispose()
    reborn = instance(h, tmp_path, 1, **settings)  # Twilio answers it
    assert reborn.service.rearm_timers() == 1
    await voicesim_clock.advance(15)  # its catch-up waits for the retry time: no earlier (a duplicate)
    assert reborn.service.view(customer).hold.state is HoldState.HELD  # type: ignore[union-attr]
    await voicesim_clock.advance(10)  # 30 s after the refusal
    voicesim_clock.raise_errors()
    hold = reborn.service.view(customer).hold
    assert hold is not None
    assert (hold.state, hold.end_reason) == (HoldState.ENDED, HoldEndReason.MAX_HOLD_AUTO_RESUMED)
    assert hold.ended_at is not None
    assert (hold.ended_at - hold.max_hold_acted_at).total_seconds() == pytest.approx(0, abs=1)
    assert (hold.max_hold_acted_at - hold.started_at).total_seconds() == pytest.approx(MAX_HOLD + 30, abs=1)


@pytest.mark.parametrize("strategy", ["conference", "legs"])
async def test_the_instances_left_resume_a_hold_whose_instance_stopped_for_good(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, strategy: str
) -> None:
    settings: dict[str, object] = {"strategy": strategy, **AUTO_RESUME}
    h = make_harness(voicesim, voicesim_clock, tmp_path, **settings)
    a = h.services.service
    mortal = MortalTimers(a.timers)
    a.timers = mortal
    b = instance(h, tmp_path, 7, **settings)  # started before the hold: nothing to arm at its start
    assert b.service.rearm_timers() == 0
    sweeping = b.service.keep_dispatching(SWEEP_EVERY)
    try:
        customer, _agent = await h.connected()
        await a.hold(customer, by="alice", agent_id="alice")  # the agent's request reached A
        await voicesim_clock.advance(5)
        mortal.die()  # A stops for good; B runs on
        await voicesim_clock.advance(MAX_HOLD)
        voicesim_clock.raise_errors()
    finally:
        sweeping.cancel()
    hold = b.service.view(customer).hold
    assert hold is not None
    assert (hold.state, hold.end_reason) == (HoldState.ENDED, HoldEndReason.MAX_HOLD_AUTO_RESUMED)
    assert hold.ended_at is not None
    assert (hold.ended_at - hold.started_at).total_seconds() == pytest.approx(MAX_HOLD, abs=1)
    h.assert_talking_to(customer, "alice")


REMINDER = "Reminder: your customer has been on hold for 25 seconds."
NOTICE = "The maximum hold time has been reached. Please take your customer off hold."


async def test_sweeps_rearming_timers_remind_and_announce_once(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    """Every sweep of two instances arms what it has not armed: the agent still hears the reminder
    once and the maximum-hold notice once, and after both no timer is armed again."""
    settings: dict[str, object] = {
        "max_hold": MAX_HOLD,
        "agent_reminder_after": 25,
        "max_hold_action": "announce",
    }
    h = make_harness(voicesim, voicesim_clock, tmp_path, **settings)
    b = instance(h, tmp_path, 7, **settings)
    sweeps = [service.keep_dispatching(SWEEP_EVERY) for service in (h.services.service, b.service)]
    counting = MortalTimers(b.service.timers)
    b.service.timers = counting
    try:
        customer, agent = await h.held()
        await voicesim_clock.advance(600)
        voicesim_clock.raise_errors()
        armed = len(counting.handles)
        await voicesim_clock.advance(60)
    finally:
        for sweep in sweeps:
            sweep.cancel()
    spoken = [s.detail for s in voicesim.media.segments(agent) if s.kind == "speech"]
    assert (spoken.count(REMINDER), spoken.count(NOTICE)) == (1, 1)
    hold = h.view(customer).hold
    assert hold is not None and hold.state is HoldState.HELD  # announced, not resumed
    assert len(counting.handles) == armed + 12  # only B's sweeps themselves: no timer armed again


@pytest.mark.parametrize("strategy", ["conference", "legs"])
async def test_a_running_instance_completes_a_hold_another_committed_and_never_sent(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, strategy: str
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy=strategy, **AUTO_RESUME)
    b = instance(h, tmp_path, 7, strategy=strategy, **AUTO_RESUME)  # running before the hold
    sweeping = b.service.keep_dispatching(SWEEP_EVERY)
    try:
        customer, _agent = await h.connected()
        service = h.services.service
        # Instance A commits the hold as "holding" ... and stops for good before sending a command.
        request = ev.HoldRequested(hold_id="h" * 32, by="alice", at=service.clock.now())
        assert h.services.store.transact(
            customer, lambda view: decide(view, request, service.policy)
        ).commands
        await voicesim_clock.advance(25)  # within the recovery grace: left alone (it may be in flight)
        assert b.service.view(customer).hold.state is HoldState.HOLDING  # type: ignore[union-attr]
        await voicesim_clock.advance(15)
        voicesim_clock.raise_errors()
    finally:
        sweeping.cancel()
    hold = b.service.view(customer).hold
    assert hold is not None and hold.state is HoldState.HELD and hold.recovered_at is not None
    assert h.heard(customer)[-1][1] == ("hold" if strategy == "conference" else "queue-wait")
