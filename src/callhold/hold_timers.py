"""A hold's timers: the agent reminder and the maximum hold, and the recovery check of a hold caught
between states. A mixin of :class:`~callhold.service.CallService` (kept apart to keep modules small):
it uses the service's store, clock, timers and ``handle``.

Timers live in each process; what they do is decided by the domain under the call's lock, once per
hold however many instances run (the hold is stamped). A restart re-arms them, and so does every
dispatch sweep, for holds another instance armed and took with it (:meth:`rearm_timers`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from callhold.domain import events as ev
from callhold.domain.errors import CallholdError
from callhold.domain.machine import Decision
from callhold.domain.model import Hold, HoldState, Strategy
from callhold.domain.policies import HoldPolicy, MaxHoldPolicy
from callhold.domain.ports import Clock, HoldStore
from callhold.timers import TimerHandle, Timers

__all__ = ["HoldTimers", "HoldTimings"]

_log = logging.getLogger("callhold.timers")


@dataclass(frozen=True, slots=True)
class HoldTimings:
    """When the agent is reminded and when the maximum hold is reached (seconds after the hold), how
    long after a maximum-hold action that could not be done (Twilio refused) it is tried again, and
    when a legs customer that has not followed the lead leg into the hold's queue is redirected there
    (``follow_after``: far beyond the fraction of a second Twilio takes to request the action).
    """

    agent_reminder_after: int = 60
    max_hold: int = 300
    retry_after: int = 30
    follow_after: int = 5


class HoldTimers:
    """Arming, firing and recovering a hold's timers (see the module's docstring)."""

    store: HoldStore
    clock: Clock
    timers: Timers
    timings: HoldTimings
    policy: HoldPolicy
    _timers: dict[str, list[TimerHandle]]
    _recovery_checks: dict[str, tuple[datetime, TimerHandle]]
    _follow_checked: set[str]
    _follow_timers: dict[str, list[TimerHandle]]

    if TYPE_CHECKING:

        async def handle(self, call_id: str, event: ev.Event) -> Decision:
            """See ``CallService.handle``."""

    def _arm(
        self,
        call_id: str,
        hold_id: str,
        started_at: datetime,
        *,
        catch_up: bool = False,
        record: Hold | None = None,
        follow_check: bool = False,
    ) -> None:
        """Arm the hold's agent reminder and maximum-hold timers, and with ``follow_check`` the check
        that a legs customer followed into the hold's queue (``LegsFollowDue``, ``follow_after`` seconds
        after the hold became held: now, or as ``record`` says; :meth:`_arm_follow`). When catching
        up, every legs hold gets it until a check of this process finds nothing to send (the
        domain ignores it once the customer is there; the hold's record does not say whether it
        is, and a sweep every few seconds must not cost a transaction per held call), so a
        redirect of the customer that got no answer is checked again at the next sweep.

        Timers already due fire at once only when ``catch_up`` (a restart: they came due while
        callhold was down). Otherwise the hold is being armed again because a resume failed: the
        reminder was already due, and a maximum hold already reached is retried ``retry_after``
        seconds from now -- not at once, which would retry a refused auto-resume in a tight loop.

        ``record``: the hold as on record, when catching up; what it says was done is not armed again
        (a reminder given, a maximum hold announced), and a refused auto-resume is retried
        ``retry_after`` after it was tried: a catch-up sooner would be ignored as a duplicate of it
        (``domain.scheduled.max_hold``), and nothing would retry it.
        """
        now = self.clock.now()
        catch_up_follow = record is not None and record.strategy is Strategy.LEGS
        if follow_check or (catch_up_follow and hold_id not in self._follow_checked):
            # ``follow_after`` after the hold became held (the lead leg moved), never sooner: a
            # redirect of the customer sooner races the lead's (``domain.strategies``), and one armed
            # again after a refused undo would be retried in a tight loop.
            held_since = record.in_state_since if record is not None else now
            follow_at = max(now, held_since + timedelta(seconds=self.timings.follow_after))
            self._arm_follow(call_id, hold_id, follow_at)
        if hold_id in self._timers:
            return
        remind_at = started_at + timedelta(seconds=self.timings.agent_reminder_after)
        max_hold_at = started_at + timedelta(seconds=self.timings.max_hold)
        if not catch_up and max_hold_at <= now:
            max_hold_at = now + timedelta(seconds=self.timings.retry_after)
        remind, act = catch_up or remind_at > now, True
        if record is not None:
            remind = remind and record.agent_reminded_at is None
            acted = record.max_hold_acted_at
            if acted is not None and self.policy.max_hold is MaxHoldPolicy.ANNOUNCE:
                act = False
            elif acted is not None:
                max_hold_at = max(max_hold_at, acted + timedelta(seconds=self.timings.retry_after))
        if not (remind or act):
            return

        self._timers[hold_id] = []
        if remind:
            self._schedule(
                call_id, hold_id, remind_at, lambda: ev.AgentReminderDue(hold_id=hold_id, at=self.clock.now())
            )
        if act:
            self._schedule(
                call_id, hold_id, max_hold_at, lambda: ev.MaxHoldReached(hold_id=hold_id, at=self.clock.now())
            )

    def _arm_follow(self, call_id: str, hold_id: str, when: datetime) -> None:
        """Arm the hold's follow check at ``when`` unless one is pending. Kept apart from the hold's
        other timers: a resume does not cancel it (a customer resumed before it followed must still
        reach the queue the agent dials), and an ended hold ignores it."""
        if hold_id in self._follow_timers:
            return

        def followed(decision: Decision) -> None:  # nothing to send: not caught up again here
            if not decision.commands:
                self._follow_checked.add(hold_id)

        due = lambda: ev.LegsFollowDue(hold_id=hold_id, at=self.clock.now())  # noqa: E731
        self._schedule(call_id, hold_id, when, due, followed, into=self._follow_timers)

    def _schedule(
        self,
        call_id: str,
        hold_id: str,
        when: datetime,
        due: Callable[[], ev.Event],
        done: Callable[[Decision], None] | None = None,
        *,
        into: dict[str, list[TimerHandle]] | None = None,
    ) -> None:
        """Handle ``due()`` at ``when``, one of the hold's timers, then give ``done`` the decision. A
        timer that fired is forgotten (so the hold can be armed again); one whose handling failed on
        callhold's side (the database away, say) is tried again ``retry_after`` seconds later --
        never lost, or a customer could stay held past the maximum until a restart. A domain error
        (the call gone) is final. ``into``: where the handle is kept (the hold's timers by default).
        """
        timers = self._timers if into is None else into
        handle: TimerHandle | None = None

        async def fire() -> None:
            handles = timers.get(hold_id)
            if handles is not None and handle in handles:
                handles.remove(handle)
                if not handles:
                    del timers[hold_id]
            try:
                decision = await self.handle(call_id, due())
                if done is not None:
                    done(decision)
            except CallholdError:
                _log.exception("timer of hold %s refused; not retried", hold_id)
            except Exception:
                _log.exception("timer of hold %s failed; trying again later", hold_id)
                again = self.clock.now() + timedelta(seconds=self.timings.retry_after)
                self._schedule(call_id, hold_id, again, due, done, into=into)

        handle = self.timers.call_at(when, fire)
        timers.setdefault(hold_id, []).append(handle)

    def rearm_timers(self) -> int:
        """Arm the timers of every held hold, and watch every hold caught between states
        (``holding``/``resuming``: its commands may never have been sent); returns how many holds.

        At start-up (a restart: their timers died with the process), and on every dispatch sweep:
        a hold another instance armed is this one's too, should that instance stop for good (a
        scale-down, a crash with no replacement). What this process armed already is left as it
        is. A hold still ``holding`` gets its timers when it is confirmed (``ArmHoldTimers``).
        Every instance does this; the domain acts once per hold (reminder and maximum hold are
        stamped on the hold, recovery too), and what the hold's record says was done is not armed.
        """
        count = 0
        held = self.store.list_holds(state=HoldState.HELD, limit=None)
        self._follow_checked &= {hold.id for hold in held}
        for hold in held:
            self._arm(hold.call_id, hold.id, hold.started_at, catch_up=True, record=hold)
            count += 1
        for state in (HoldState.HOLDING, HoldState.RESUMING):
            for hold in self.store.list_holds(state=state, limit=None):
                self._watch_progress(hold.call_id, hold)
                count += 1
        return count

    def _watch_progress(self, call_id: str, hold: Hold | None) -> None:
        """If ``hold`` is between states, check on it once the recovery grace has passed: if it has
        not moved by then (this or another instance crashed between committing it and sending its
        commands, or Twilio refused them), the domain re-sends them (``HoldRecoveryDue``). A hold
        that moves on in this process cancels its check (the usual case: it costs nothing)."""
        if hold is None:
            return
        between = hold.state in (HoldState.HOLDING, HoldState.RESUMING)
        watched = self._recovery_checks.get(hold.id)
        if watched is not None:
            if between and watched[0] == hold.last_progress_at:
                return
            watched[1].cancel()
            del self._recovery_checks[hold.id]
        if not between:
            return
        hold_id = hold.id

        async def check() -> None:
            self._recovery_checks.pop(hold_id, None)
            try:
                await self.handle(call_id, ev.HoldRecoveryDue(hold_id=hold_id, at=self.clock.now()))
            except Exception:  # the database away, say: look again later rather than never
                _log.exception("recovery check of hold %s failed; checking again later", hold_id)
                again = self.clock.now() + self.policy.recovery_grace
                self._recovery_checks[hold_id] = (hold.last_progress_at, self.timers.call_at(again, check))

        due = max(self.clock.now(), self.policy.recovery_due(hold))
        self._recovery_checks[hold_id] = (hold.last_progress_at, self.timers.call_at(due, check))
