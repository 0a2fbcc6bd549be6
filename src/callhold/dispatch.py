"""The safety net under hand-overs: no customer waits while an agent is free, and no agent stays
busy with no call.

A mixin of :class:`~callhold.service.CallService` (kept apart to keep modules small): it uses the
service's store, clock, timers and the hand-over to a free agent (:mod:`callhold.availability`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from callhold.domain import paths
from callhold.domain.errors import TelephonyError
from callhold.domain.model import Call, CallView, LegRole, LegStatus
from callhold.domain.ports import Clock, Handover, HoldStore
from callhold.timers import TimerHandle, Timers

__all__ = ["WaitingDispatch", "unattended"]

_log = logging.getLogger("callhold.dispatch")


class WaitingDispatch:
    """Periodic sweeps handing waiting customers to free agents (see the module's docstring)."""

    store: HoldStore
    clock: Clock
    timers: Timers
    _waiting_seen: dict[str, tuple[object, ...]]
    _stranded_seen: set[str]

    if TYPE_CHECKING:

        def waiting_calls(self) -> list[Call]:
            """See ``AgentAvailability.waiting_calls``."""

        async def _hand_over(self, call: Call, agent_id: str, connect: Callable[[str], str]) -> Handover:
            """See ``AgentAvailability._hand_over``."""

        async def recover_handovers(self) -> int:
            """See ``HandoverRecovery.recover_handovers``."""

        async def recover_placements(self) -> int:
            """See ``PlacementRecovery.recover_placements``."""

        async def free_for_next_customer(self, agent_id: str) -> bool:
            """See ``AgentAvailability.free_for_next_customer``."""

        def rearm_timers(self) -> int:
            """See ``HoldTimers.rearm_timers``."""

        async def release_hold_queues_due(self) -> int:
            """See ``HoldQueues.release_hold_queues_due``."""

    async def dispatch_waiting(self) -> int:
        """Hand customers who wait while agents are free to those agents, longest-waiting first; how
        many were handed.

        The safety net under the paths that move a waiting customer: Twilio refusing (or an instance
        dying before it sent) the redirect of a customer whose agent never answered, or Twilio
        refusing the redirect of the longest-waiting customer to an agent who became free. Such a
        customer keeps hearing waiting music, in line or alone in the conference, however many
        agents are free.

        A call is handed over only if this process's previous sweep saw it waiting exactly as it
        is now (same legs, same statuses, no hold, its customer in progress, no agent leg still
        ringing or up): a call whose state just changed is being moved by whoever changed it, and a
        second redirect would pull its customer out of the conference the first one connected.
        Callhold's own observations, not Twilio's timestamps, say how long it has been settled.
        Safe with several instances: each hand-over is one transaction (``give_call``).
        """
        previous: dict[str, tuple[object, ...]] = self._waiting_seen
        seen: dict[str, tuple[object, ...]] = {}
        self._waiting_seen = seen
        free = [agent.id for agent in self.store.list_agents(available=True)]
        if not free:
            return 0
        handed = 0
        for call in self.waiting_calls():
            if not free:
                break
            try:
                view = self.store.load_view(call.id)
                mark = _waiting_mark(view)
                if mark is None:
                    continue
                seen[call.id] = mark
                if previous.get(call.id) == mark and await self._dispatch(call, free):
                    handed += 1
            except Exception:  # one call's trouble (the database, an agent deleted) is not the rest's
                _log.exception("dispatching waiting call %s failed", call.id)
        return handed

    async def _dispatch(self, call: Call, free: list[str]) -> bool:
        """Give ``call`` to the first agent of ``free`` still free (each taken off the list once given a
        call or found taken); ``True`` if handed over."""
        while free:
            agent_id = free[0]
            try:
                handover = await self._hand_over(call, agent_id, paths.connect)
            except TelephonyError:
                return False  # the customer waits on (the agent is free again): the next sweep retries
            if handover is Handover.CALL_TAKEN:
                return False
            free.pop(0)
            if handover is Handover.GIVEN:
                _log.info("call %s waited while agent %s was free: handed over", call.id, agent_id)
                return True
        return False

    async def free_stranded_agents(self) -> int:
        """Make available the agents left unavailable with no call (not away, placing nothing) by two
        sweeps of this process in a row; how many. An instance that stopped between committing the
        end of a call and freeing its agent (``AgentAvailability.call_ended``) leaves one so, and nothing
        else would free it: the call's end is on record, so no retried callback runs that again. Two
        sweeps, because an agent is so for a moment whenever its call ends, until it is freed."""
        previous = self._stranded_seen
        self._stranded_seen = seen = set(self.store.stranded_agents())
        freed = 0
        for agent_id in sorted(seen & previous):
            _log.warning("agent %s was left unavailable with no call: available again", agent_id)
            freed += await self.free_for_next_customer(agent_id)
        return freed

    def keep_dispatching(self, every: timedelta) -> TimerHandle:
        """Run :meth:`dispatch_waiting` every ``every`` from now on, until the handle is cancelled."""
        sweeping = _Sweeping()

        async def sweep() -> None:
            try:
                try:
                    self.rearm_timers()  # holds whose instance stopped for good (callhold.hold_timers)
                except Exception:  # the database away, or one bad hold: the rest of the sweep goes on
                    _log.exception("re-arming hold timers failed")
                # Waiting customers first: the recoveries ask Twilio, and a slow Twilio delays them.
                await self.dispatch_waiting()
                await self.free_stranded_agents()  # an instance stopped before freeing an agent
                await self.recover_handovers()  # a hand-over never carried out (callhold.handovers)
                # an outbound call Twilio never answered (callhold.placements)
                await self.recover_placements()
                await self.release_hold_queues_due()  # legs holds' queues, once over (callhold.hold_queues)
            except Exception:  # the database away for a moment: the next sweep tries again
                _log.exception("dispatching waiting calls failed")
            finally:
                if not sweeping.cancelled:
                    sweeping.handle = self.timers.call_at(self.clock.now() + every, sweep)

        sweeping.handle = self.timers.call_at(self.clock.now() + every, sweep)
        return sweeping


def unattended(view: CallView) -> bool:
    """Whether, by the record, ``view``'s customer is in progress, not on hold, and has no agent leg
    that is not over (being dialled, or talking): nobody is connecting them to an agent."""
    customer = view.customer_leg
    if customer is None or customer.status is not LegStatus.IN_PROGRESS or view.open_hold is not None:
        return False
    return not any(leg.role is LegRole.AGENT and not leg.status.is_terminal for leg in view.legs)


def _waiting_mark(view: CallView) -> tuple[object, ...] | None:
    """What a waiting call looks like, to tell whether it changed between two sweeps; ``None`` if it
    is not one to hand over: its customer not in progress (an outbound call not answered yet cannot
    be moved), on hold, or an agent leg not finished (someone is connecting it)."""
    if not unattended(view):
        return None
    return (view.call.conference_sid, *((leg.call_sid, leg.status) for leg in view.legs))


class _Sweeping:
    """The handle of :meth:`WaitingDispatch.keep_dispatching`: cancelling it stops the sweeps."""

    def __init__(self) -> None:
        self.cancelled = False
        self.handle: TimerHandle | None = None

    def cancel(self) -> None:
        """No sweep after this one."""
        self.cancelled = True
        if self.handle is not None:
            self.handle.cancel()
