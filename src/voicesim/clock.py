"""The scheduler that runs every call flow, and the two clocks that drive it.

A :class:`Scheduler` is a heap of timed callbacks (ties resolve in FIFO order) plus the
webhook requests in flight. Call flows are :class:`~voicesim.process.Process` coroutines that
the scheduler steps; they never run anywhere else (DESIGN boundary 3).

* :class:`VirtualClock` -- time moves only when a test says so (:meth:`VirtualClock.advance`,
  :meth:`VirtualClock.run_until_idle`). Before time moves, every webhook in flight is awaited, so
  a run is reproducible whatever the webhook server does.
* :class:`RealtimeClock` -- time follows the wall clock, optionally sped up
  (``speed=10`` runs ten virtual seconds per real second); used by ``python -m voicesim``.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

__all__ = ["DEFAULT_EPOCH", "RealtimeClock", "Scheduler", "StillBusy", "Timer", "VirtualClock"]

#: Where a virtual clock starts: a fixed instant, so timestamps in tests are reproducible.
DEFAULT_EPOCH = datetime(2026, 1, 1, tzinfo=UTC).timestamp()


class StillBusy(RuntimeError):
    """``run_until_idle`` reached its limit while calls still had work scheduled."""


class Timer:
    """A scheduled callback; :meth:`cancel` stops it from running."""

    __slots__ = ("args", "callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[..., None], args: tuple[Any, ...]) -> None:
        self.when = when
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        """Do not run this callback."""
        self.cancelled = True


class Scheduler:
    """A heap of timed callbacks and the set of outbound requests in flight."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()
        self._inflight: set[asyncio.Task[None]] = set()
        self._wakeup: asyncio.Event | None = None
        self.errors: list[BaseException] = []
        #: The flow being stepped right now (a flow never interrupts itself).
        self.current: Any = None

    # -- time ------------------------------------------------------------------------------
    def now(self) -> float:
        """Seconds since the Unix epoch, on this clock."""
        raise NotImplementedError

    def now_datetime(self) -> datetime:
        """:meth:`now` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now(), UTC)

    # -- scheduling --------------------------------------------------------------------------
    def call_at(self, when: float, callback: Callable[..., None], *args: Any) -> Timer:
        """Run ``callback(*args)`` at ``when`` (never earlier than now)."""
        timer = Timer(max(when, self.now()), callback, args)
        heapq.heappush(self._heap, (timer.when, next(self._seq), timer))
        self._poke()
        return timer

    def call_later(self, delay: float, callback: Callable[..., None], *args: Any) -> Timer:
        """Run ``callback(*args)`` after ``delay`` seconds."""
        return self.call_at(self.now() + max(delay, 0.0), callback, *args)

    def call_soon(self, callback: Callable[..., None], *args: Any) -> Timer:
        """Run ``callback(*args)`` at the current instant, after what is already due."""
        return self.call_at(self.now(), callback, *args)

    def start_io(self, work: Awaitable[None]) -> None:
        """Run an outbound request concurrently; time will not move until it is done."""
        task = asyncio.ensure_future(work)
        self._inflight.add(task)
        task.add_done_callback(self._io_done)

    def _io_done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.errors.append(task.exception())  # type: ignore[arg-type]
        self._poke()

    def _poke(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()

    @property
    def pending(self) -> int:
        """How many live callbacks are scheduled."""
        return sum(1 for _, _, t in self._heap if not t.cancelled)

    @property
    def next_due(self) -> float | None:
        """When the next live callback is due, or None."""
        self._drop_cancelled()
        return self._heap[0][0] if self._heap else None

    def _drop_cancelled(self) -> None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)

    def _run_due(self, until: float) -> int:
        """Run every callback due at or before ``until``; returns how many ran."""
        ran = 0
        while True:
            self._drop_cancelled()
            if not self._heap or self._heap[0][0] > until:
                return ran
            _, _, timer = heapq.heappop(self._heap)
            self._set_now(timer.when)
            ran += 1
            try:
                timer.callback(*timer.args)
            except Exception as exc:  # a flow bug must not stop every other call
                self.errors.append(exc)

    def _set_now(self, when: float) -> None:
        """Virtual clocks jump here; real clocks ignore it."""

    async def _drain_io(self) -> None:
        while self._inflight:
            await asyncio.wait(set(self._inflight))

    def raise_errors(self) -> None:
        """Re-raise the first error a flow or webhook task hit (tests call this)."""
        if self.errors:
            err = self.errors[0]
            self.errors.clear()
            raise err


class VirtualClock(Scheduler):
    """A clock that moves only when told to: deterministic tests of minutes of calls in milliseconds."""

    def __init__(self, epoch: float = DEFAULT_EPOCH) -> None:
        super().__init__()
        self._now = epoch

    def now(self) -> float:
        """The current virtual instant."""
        return self._now

    def _set_now(self, when: float) -> None:
        self._now = max(self._now, when)

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, running everything due on the way, in order."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        target = self._now + seconds
        await self._run_until(target)
        self._now = max(self._now, target)

    async def settle(self) -> None:
        """Run everything due now, and every webhook it triggers, without moving time."""
        await self._run_until(self._now)

    async def _run_until(self, target: float) -> None:
        while True:
            self._run_due(self._now)
            if self._inflight:
                await self._drain_io()
                continue
            nxt = self.next_due
            if nxt is None or nxt > target:
                return
            self._now = nxt

    async def run_until_idle(self, limit: float = 4 * 3600.0) -> float:
        """Run until nothing is scheduled; returns the virtual seconds that passed.

        A call still in progress has its end scheduled at its ``TimeLimit`` (four hours by default,
        :mod:`voicesim.calls`), so this runs until every call has ended. Raises :class:`StillBusy`
        when work remains after ``limit`` virtual seconds (a hold loop that never ends, for instance).
        """
        start = self._now
        await self._run_until(start + limit)
        if self.next_due is not None:
            raise StillBusy(f"still busy after {limit:g} virtual seconds")
        return self._now - start


class RealtimeClock(Scheduler):
    """Wall-clock time, optionally sped up; :meth:`run` drives the scheduler until cancelled."""

    def __init__(self, speed: float = 1.0, epoch: float | None = None) -> None:
        super().__init__()
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._origin = time.monotonic()
        self._epoch = time.time() if epoch is None else epoch

    def now(self) -> float:
        """Wall-clock seconds since the epoch, scaled by ``speed`` since the clock was made."""
        return self._epoch + (time.monotonic() - self._origin) * self.speed

    async def run(self) -> None:
        """Run callbacks as they fall due, forever (cancel the task to stop)."""
        self._wakeup = asyncio.Event()
        while True:
            self._wakeup.clear()
            self._run_due(self.now())
            nxt = self.next_due
            timeout = None if nxt is None else max(0.0, (nxt - self.now()) / self.speed)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout)
