"""A restart loses nothing (issue 4, Deliver 3): a call held before it is resumed after it.

The first callhold process holds a call, then dies (its in-memory timers die with it). A new app is
built with ``create_app`` on the same SQLite file and the same (still running) voicesim, which from then
on sends its webhooks to the new app. The new service re-arms the open hold's timers from the database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from callhold.config import Settings
from callhold.domain.model import HoldEndReason, HoldState
from callhold.timers import TimerHandle, Timers
from callhold.web.app import Services, create_app
from tests.flows.callhold_harness import BASE, Harness, make_harness
from voicesim import Emulator, VirtualClock

MAX_HOLD = 60


class MortalTimers:
    """The timers of a process that can die: :meth:`die` cancels every one it scheduled."""

    def __init__(self, timers: Timers) -> None:
        self.timers = timers
        self.handles: list[TimerHandle] = []
        self.fired = 0

    def call_at(self, when: datetime, work: Callable[[], Awaitable[None]]) -> TimerHandle:
        async def counted() -> None:
            self.fired += 1
            await work()

        handle = self.timers.call_at(when, counted)
        self.handles.append(handle)
        return handle

    def die(self) -> None:
        for handle in self.handles:
            handle.cancel()


@dataclass
class Restarted:
    """The first process's harness (its emulator and clock live on), the new process, the parties."""

    h: Harness
    services: Services
    customer: str
    agent: str
    old_timers: MortalTimers
    new_timers: MortalTimers


async def held_then_restarted(
    voicesim: Emulator, clock: VirtualClock, tmp_path: Path, strategy: str, *, restart_after: float = 0
) -> Restarted:
    """Hold a call, kill callhold's timers, start a new callhold ``restart_after`` seconds later."""
    settings = {"strategy": strategy, "max_hold": MAX_HOLD, "agent_reminder_after": 600}
    h = make_harness(voicesim, clock, tmp_path, **settings)
    mortal = MortalTimers(h.services.service.timers)
    h.services.service.timers = mortal
    h.add_agent()
    call = await h.call_in()
    agent = h.view(call.sid).agent_leg
    assert agent is not None
    await h.services.service.hold(call.sid, by="alice", agent_id="alice")
    await clock.advance(10)
    clock.raise_errors()
    before = h.view(call.sid)
    assert before.hold is not None and before.hold.state is HoldState.HELD

    mortal.die()  # the process is gone, and its timers with it
    await clock.advance(restart_after)
    h.services.store.engine.dispose()
    db = f"sqlite:///{tmp_path}/callhold.db"
    app = create_app(Settings(database_url=db, public_base_url=BASE, **settings), emulator=voicesim, seed=1)  # type: ignore[arg-type]
    services: Services = app.state.services
    reborn = MortalTimers(services.service.timers)
    services.service.timers = reborn
    assert services.service.rearm_timers() == 1  # the open hold
    # its agent reminder and its maximum hold (legs: and the check that the customer followed the agent
    # into the hold's queue, which finds it there)
    assert len(reborn.handles) == (3 if strategy == "legs" else 2)
    assert services.service.view(call.sid) == before  # nothing lost
    return Restarted(h, services, call.sid, agent.call_sid, mortal, reborn)


@pytest.mark.parametrize("strategy", ["conference", "legs"])
async def test_a_call_held_before_a_restart_is_resumed_after_it(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, strategy: str
) -> None:
    r = await held_then_restarted(voicesim, voicesim_clock, tmp_path, strategy)
    h, services, customer, agent = r.h, r.services, r.customer, r.agent
    await voicesim_clock.advance(10)
    assert h.heard(customer)[-1][1] in ("hold", "queue-wait")  # still on hold audio across the restart

    view = await services.service.resume(customer, by="alice", agent_id="alice")
    await voicesim_clock.advance(10)
    voicesim_clock.raise_errors()
    hold = services.service.view(customer).hold
    assert hold is not None and hold.id == view.hold.id  # type: ignore[union-attr]
    assert (hold.state, hold.end_reason) == (HoldState.ENDED, HoldEndReason.RESUMED)
    assert h.emu.media.segments(customer)[-1].voices == (agent,)
    assert h.emu.media.segments(agent)[-1].voices == (customer,)
    assert voicesim.alerts == []

    # The new process holds and resumes this call like any other.
    await services.service.hold(customer, by="alice", agent_id="alice")
    await voicesim_clock.advance(5)
    await services.service.resume(customer, by="alice", agent_id="alice")
    await voicesim_clock.advance(10)
    assert [(x.state, x.end_reason) for x in services.store.list_holds()] == [
        (HoldState.ENDED, HoldEndReason.RESUMED),
        (HoldState.ENDED, HoldEndReason.RESUMED),
    ]
    assert h.emu.media.segments(customer)[-1].voices == (agent,)


@pytest.mark.parametrize("strategy", ["conference", "legs"])
async def test_the_timers_of_a_hold_fire_from_the_new_process(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, strategy: str
) -> None:
    r = await held_then_restarted(voicesim, voicesim_clock, tmp_path, strategy)
    h, services, customer, agent = r.h, r.services, r.customer, r.agent
    await voicesim_clock.advance(MAX_HOLD)
    voicesim_clock.raise_errors()
    hold = services.service.view(customer).hold
    assert hold is not None and hold.ended_at is not None
    assert (hold.state, hold.end_reason) == (HoldState.ENDED, HoldEndReason.MAX_HOLD_AUTO_RESUMED)
    assert (hold.ended_at - hold.started_at).total_seconds() <= MAX_HOLD + 5
    assert h.emu.media.segments(customer)[-1].voices == (agent,)
    assert h.emu.media.segments(agent)[-1].voices == (customer,)
    # the new process's max-hold timer (legs: also the follow check, 5 s into the hold in the old
    # process and caught up at once by the new one)
    assert (r.old_timers.fired, r.new_timers.fired) == ((1, 2) if strategy == "legs" else (0, 1))


@pytest.mark.parametrize("strategy", ["conference", "legs"])
async def test_a_max_hold_that_passed_during_the_restart_fires_as_soon_as_callhold_is_back(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, strategy: str
) -> None:
    r = await held_then_restarted(voicesim, voicesim_clock, tmp_path, strategy, restart_after=MAX_HOLD)
    back = voicesim_clock.now()
    await voicesim_clock.advance(10)
    voicesim_clock.raise_errors()
    hold = r.services.service.view(r.customer).hold
    assert hold is not None and hold.ended_at is not None
    assert (hold.state, hold.end_reason) == (HoldState.ENDED, HoldEndReason.MAX_HOLD_AUTO_RESUMED)
    assert hold.ended_at.timestamp() - back <= 5
    assert r.h.emu.media.segments(r.customer)[-1].voices == (r.agent,)
    assert (r.old_timers.fired, r.new_timers.fired) == ((1, 2) if strategy == "legs" else (0, 1))
