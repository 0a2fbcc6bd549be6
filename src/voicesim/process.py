"""Call flows as coroutines stepped by the scheduler (the SimPy model).

A flow is an ``async def`` that awaits only *effects*: :class:`Sleep`, :class:`Fetch` (an
outbound webhook) and :class:`Wait` (a :class:`Signal`). The scheduler resumes the coroutine when
the effect completes. An interrupt -- a REST redirect, a hang-up -- is an exception thrown into
the coroutine at the effect it is waiting on, so each verb cleans up in its own ``except`` or
``finally`` (a ``<Dial>`` hangs up its child, for instance).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Generator
from typing import Any, Generic, TypeVar

from voicesim.clock import Scheduler, Timer

__all__ = ["Effect", "Fetch", "Interrupt", "Process", "Signal", "Sleep", "Wait"]

T = TypeVar("T")


class Interrupt(Exception):
    """Thrown into a flow to stop what it is doing; subclasses say why.

    When two interrupts reach a flow in the same instant, the one with the higher ``priority``
    is delivered (a hang-up beats a REST redirect, which beats an internal hand-over); on a tie,
    the later one wins, as a later REST request would.
    """

    priority = 1


class Effect(Generic[T]):
    """Something a flow waits for; ``await effect`` yields it to the scheduler."""

    def __await__(self) -> Generator[Effect[T], Any, T]:
        result = yield self
        return result  # type: ignore[no-any-return]


class Sleep(Effect[None]):
    """Wait ``seconds`` of clock time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


class Fetch(Effect[T]):
    """Run an outbound request (any awaitable factory); the flow resumes with its result."""

    def __init__(self, start: Callable[[], Coroutine[Any, Any, T]]) -> None:
        self.start = start


class Signal(Generic[T]):
    """A one-shot event flows can wait on; :meth:`fire` wakes every waiter at the current instant."""

    def __init__(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler
        self._waiters: list[Callable[[T], None]] = []
        self.fired = False
        self.value: T | None = None

    def fire(self, value: T) -> None:
        """Fire once; later calls are ignored."""
        if self.fired:
            return
        self.fired = True
        self.value = value
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            self._scheduler.call_soon(waiter, value)

    def subscribe(self, waiter: Callable[[T], None]) -> None:
        """Call ``waiter(value)`` when fired (at once, scheduled, if already fired)."""
        if self.fired:
            self._scheduler.call_soon(waiter, self.value)
        else:
            self._waiters.append(waiter)


class Wait(Effect[T]):
    """Wait until ``signal`` fires, or ``timeout`` seconds pass (then the result is None)."""

    def __init__(self, signal: Signal[T], timeout: float | None = None) -> None:
        self.signal = signal
        self.timeout = timeout


class Process:
    """One running flow. The scheduler steps it; :meth:`interrupt` throws into it."""

    def __init__(self, scheduler: Scheduler, coro: Coroutine[Any, Any, None], name: str) -> None:
        self.scheduler = scheduler
        self.name = name
        self._coro = coro
        self._token = 0
        self._timer: Timer | None = None
        self._pending: Interrupt | None = None
        self.done = Signal[None](scheduler)
        self.finished = False
        self._started = False

    def start(self) -> Process:
        """Schedule the first step at the current instant."""
        if not self._started:
            self._started = True
            token = self._token
            self.scheduler.call_soon(self._resume, token, None, None)
        return self

    def interrupt(self, exc: Interrupt) -> None:
        """Throw ``exc`` into the flow at the current instant, abandoning what it waits for."""
        if self.finished:
            return
        if self._pending is not None and self._pending.priority > exc.priority:
            return  # a more important interrupt is already on its way in
        self._pending = exc
        self._token += 1
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._started:
            self._started = True
        self.scheduler.call_soon(self._resume, self._token, None, exc)

    def _resume(self, token: int, value: Any, exc: BaseException | None) -> None:
        if token != self._token or self.finished:
            return  # a stale wake-up: the flow was interrupted meanwhile
        self._pending = None
        self._token += 1
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        outer, self.scheduler.current = self.scheduler.current, self
        try:
            effect = self._coro.throw(exc) if exc is not None else self._coro.send(value)
        except StopIteration:
            self._finish()
            return
        except Interrupt:
            self._finish()  # an interrupt the flow chose not to handle ends it quietly
            return
        except BaseException:
            self._finish()
            raise
        finally:
            self.scheduler.current = outer
        self._wait_for(effect)

    def _finish(self) -> None:
        self.finished = True
        self.done.fire(None)

    def close(self) -> None:
        """Abandon the flow without running any more of it (the emulator is shutting down)."""
        if not self.finished:
            self.finished = True
            self._token += 1
            self._coro.close()

    def _wait_for(self, effect: Any) -> None:
        token = self._token
        if isinstance(effect, Sleep):
            self._timer = self.scheduler.call_later(effect.seconds, self._resume, token, None, None)
        elif isinstance(effect, Fetch):

            async def run() -> None:
                try:
                    result = await effect.start()
                except BaseException as exc:
                    self.scheduler.call_soon(self._resume, token, None, exc)
                else:
                    self.scheduler.call_soon(self._resume, token, result, None)

            self.scheduler.start_io(run())
        elif isinstance(effect, Wait):
            if effect.timeout is not None:
                self._timer = self.scheduler.call_later(effect.timeout, self._resume, token, None, None)
            effect.signal.subscribe(lambda value: self._resume(token, value, None))
        else:
            self._finish()
            raise TypeError(f"flow {self.name} awaited {effect!r}, which is not a voicesim effect")
