"""Clocks and timers for the service: wall-clock in production, voicesim's scheduler when embedded.

Hold timers (agent reminder, maximum hold) are scheduled through :class:`Timers`. Embedded in
voicesim, they run on its scheduler, so a virtual clock drives them and a test is reproducible;
against Twilio, they run on the event loop. Timers live in memory: on start-up the service re-arms
them from the open holds in the database, so a restart loses none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

__all__ = ["AsyncioTimers", "SchedulerClock", "SchedulerTimers", "SystemClock", "TimerHandle", "Timers"]


class TimerHandle(Protocol):
    """Something that can be cancelled."""

    def cancel(self) -> Any:
        """Stop the timer."""


class Timers(Protocol):
    """Runs ``work()`` at ``when``."""

    def call_at(self, when: datetime, work: Callable[[], Awaitable[None]]) -> TimerHandle:
        """Schedule ``work``."""


class SystemClock:
    """The wall clock, UTC."""

    def now(self) -> datetime:
        """Now."""
        return datetime.now(UTC)


class AsyncioTimers:
    """Timers on the running event loop (wall-clock time)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def call_at(self, when: datetime, work: Callable[[], Awaitable[None]]) -> TimerHandle:
        """Run ``work`` at ``when`` (at once if already past)."""
        delay = max(0.0, (when - datetime.now(UTC)).total_seconds())
        loop = asyncio.get_running_loop()
        return loop.call_later(delay, self._start, work)

    def _start(self, work: Callable[[], Awaitable[None]]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work())  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class _Scheduler(Protocol):
    def now(self) -> float: ...
    def call_at(self, when: float, callback: Callable[..., None], *args: Any) -> TimerHandle: ...
    def start_io(self, work: Awaitable[None]) -> None: ...


class SchedulerClock:
    """The time of an embedded voicesim (virtual in tests and demos)."""

    def __init__(self, scheduler: _Scheduler) -> None:
        self._scheduler = scheduler

    def now(self) -> datetime:
        """voicesim's now."""
        return datetime.fromtimestamp(self._scheduler.now(), UTC)


class SchedulerTimers:
    """Timers on an embedded voicesim's scheduler: the clock waits for the work they start."""

    def __init__(self, scheduler: _Scheduler) -> None:
        self._scheduler = scheduler

    def call_at(self, when: datetime, work: Callable[[], Awaitable[None]]) -> TimerHandle:
        """Run ``work`` at ``when`` on voicesim's clock."""
        return self._scheduler.call_at(when.timestamp(), lambda: self._scheduler.start_io(work()))
