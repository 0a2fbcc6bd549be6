"""The scheduler: FIFO ties, virtual time only moves when told, webhooks finish before time moves."""

from __future__ import annotations

import pytest

from voicesim.clock import DEFAULT_EPOCH, RealtimeClock, StillBusy, VirtualClock


async def test_callbacks_run_in_time_order_and_fifo_on_ties() -> None:
    clock = VirtualClock()
    ran: list[str] = []
    clock.call_later(2, ran.append, "b")
    clock.call_later(1, ran.append, "a")
    clock.call_later(2, ran.append, "c")
    clock.call_soon(ran.append, "now")
    await clock.advance(1.5)
    assert ran == ["now", "a"]
    assert clock.now() == DEFAULT_EPOCH + 1.5
    await clock.advance(1)
    assert ran == ["now", "a", "b", "c"]


async def test_cancelled_timer_never_runs() -> None:
    clock = VirtualClock()
    ran: list[int] = []
    timer = clock.call_later(1, ran.append, 1)
    timer.cancel()
    await clock.advance(5)
    assert ran == []
    assert clock.pending == 0


async def test_run_until_idle_reports_elapsed_and_refuses_endless_work() -> None:
    clock = VirtualClock()
    clock.call_later(30, lambda: None)
    assert await clock.run_until_idle() == 30

    def again() -> None:
        clock.call_later(10, again)

    again()
    with pytest.raises(StillBusy):
        await clock.run_until_idle(limit=100)


async def test_clock_never_goes_backwards() -> None:
    clock = VirtualClock()
    with pytest.raises(ValueError):
        await clock.advance(-1)
    clock.call_at(clock.now() - 100, lambda: None)  # in the past: runs now, time stays put
    await clock.settle()
    assert clock.now() == DEFAULT_EPOCH


async def test_time_waits_for_io_in_flight() -> None:
    clock = VirtualClock()
    seen: list[float] = []

    async def slow_request() -> None:
        for _ in range(5):
            import asyncio

            await asyncio.sleep(0)
        seen.append(clock.now())

    clock.call_later(1, lambda: clock.start_io(slow_request()))
    await clock.advance(10)
    assert seen == [DEFAULT_EPOCH + 1]  # the request finished at the instant it started


def test_realtime_clock_speed() -> None:
    clock = RealtimeClock(speed=1000, epoch=0.0)
    assert clock.now() >= 0
    with pytest.raises(ValueError):
        RealtimeClock(speed=0)
