"""Outbound calls whose placement Twilio never answered: found, checked with Twilio, and settled.

``POST /api/v1/calls`` claims an agent and puts the placement on record (``Agent.placing_to``,
``Agent.placing_since``) before it asks Twilio to create the call, so that no customer is handed to
the agent meanwhile. Recording the call (with its agent) ends the placement. That happens when Calls
create returns the SID; or, if that answer is lost (``uncertain``), when the call's first status
callback or its answer TwiML arrives, both of which name the agent in their URL.

If none of these ever comes -- Twilio never created the call, or the call and its callbacks were all
lost to callhold -- the agent would stay claimed for ever. The dispatch sweep (:mod:`callhold.dispatch`)
calls :meth:`PlacementRecovery.recover_placements` for placements older than
:data:`PLACEMENT_GRACE`, and asks Twilio (Calls list by ``To``, ``From`` and start day) for calls
to that number from callhold's caller ID, created within :data:`CLOCK_SKEW` of the placement, that
callhold has not recorded:

* one is found: it is the call (the one created closest to the placement, and not closer to another
  agent's open placement to the same number). It is adopted with the agent and its status as Twilio
  has it; a call that is over ends at once, which frees the agent;
* none: no call came of it. The placement is forgotten and the agent is available again (unless it
  went away meanwhile), and takes the longest-waiting customer.

A call that turns up after its placement was settled (Twilio's answer very late) is recorded for the
agent only if the agent is free by then; otherwise with no agent, for the next one: never a second call
for a busy agent (``HoldStore.insert_call``).

Twilio not answering the list leaves the placement for the next sweep. Each step is conditional on
the placement still being the same one (``HoldStore.end_placement``; adoption is idempotent), so
several instances sweeping at once settle it once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from callhold.domain import events as ev
from callhold.domain.errors import TelephonyError
from callhold.domain.machine import Decision
from callhold.domain.model import Agent, Call, LegStatus
from callhold.domain.ports import Clock, HoldStore, PlacedCall, Telephony

__all__ = ["PLACEMENT_GRACE", "PlacementRecovery"]

_log = logging.getLogger("callhold.placements")

PLACEMENT_GRACE = timedelta(minutes=3)
"""How old a placement must be before Twilio is asked about it: well past Calls create's answer
(``CALLHOLD_TWILIO_TIMEOUT``), the call's first status callback (``initiated``, at once) and its ringing
(Twilio's ``Timeout``, 60 s by default), and time for the Calls list, which is only eventually
consistent, to show the call."""

_STATUSES = frozenset(status.value for status in LegStatus)

CLOCK_SKEW = timedelta(minutes=1)
"""How far Twilio's ``DateCreated`` of the call may be from callhold's clock at the placement."""


class PlacementRecovery:
    """Settling lost outbound placements (a mixin of :class:`~callhold.service.CallService`)."""

    store: HoldStore
    telephony: Telephony
    clock: Clock
    caller_id: str

    if TYPE_CHECKING:

        async def adopt_outbound(
            self,
            call_sid: str,
            agent_id: str,
            to: str | None,
            *,
            status: LegStatus,
            placed_since: datetime | None,
        ) -> Call:
            """See ``OutboundCalls.adopt_outbound``."""

        async def placement_over(self, agent_id: str, since: datetime) -> bool:
            """See ``OutboundCalls.placement_over``."""

        async def handle(self, call_id: str, event: ev.Event) -> Decision:
            """See ``CallService.handle``."""

        async def call_ended(self, call_id: str) -> None:
            """See ``AgentAvailability.call_ended``."""

    async def recover_placements(self) -> int:
        """Settle the placements older than :data:`PLACEMENT_GRACE` (module docstring); how many."""
        now = self.clock.now()
        settled = 0
        for agent in self.store.placements(now - PLACEMENT_GRACE):
            try:
                if await self._settle(agent, now):
                    settled += 1
            except Exception:  # one agent's trouble (the database, Twilio) is not the rest's
                _log.exception("settling the outbound call placed for agent %s failed", agent.id)
        return settled

    async def _settle(self, agent: Agent, now: datetime) -> bool:
        to, since = agent.placing_to, agent.placing_since
        assert to is not None and since is not None
        try:
            listed = await self.telephony.placed_calls(to, self.caller_id)
        except TelephonyError as exc:
            _log.warning("could not ask Twilio about agent %s's outbound call; next sweep: %r", agent.id, exc)
            return False
        others = [  # the other agents' open placements to that number
            other_since
            for other in self.store.placements(now)
            if other.placing_to == to and other.id != agent.id and (other_since := other.placing_since)
        ]
        found = _closest_unrecorded(self.store, listed, since, others)
        if found is None:
            _log.warning("no call to %s was placed for agent %s: its placement is over", to, agent.id)
            return await self.placement_over(agent.id, since)
        _log.warning("call %s to %s, placed for agent %s, was not on record; recorded", found, to, agent.id)
        call = await self.adopt_outbound(
            found.call_sid, agent.id, to, status=LegStatus.QUEUED, placed_since=since
        )
        status = LegStatus(found.status)
        if status is not LegStatus.QUEUED:  # no SequenceNumber: ranks above the record's, as a callback
            sid = found.call_sid
            event = ev.LegStatusChanged(call_sid=sid, status=status, sequence_number=None, timestamp=now)
            await self.handle(call.id, event)
        if status.is_terminal:
            await self.call_ended(call.id)
        return True


def _closest_unrecorded(
    store: HoldStore, listed: list[PlacedCall], since: datetime, others: list[datetime]
) -> PlacedCall | None:
    """Of ``listed``, the call Twilio created closest to ``since`` and within :data:`CLOCK_SKEW` of it
    -- not closer to one of ``others`` (open placements to the same number for other agents: a call
    is taken by the placement it is nearest) -- that callhold has no record of."""
    near = []
    for placed in listed:
        created = placed.date_created
        if created is None or placed.status not in _STATUSES:
            continue
        gap = abs(created - since)
        if gap > CLOCK_SKEW or any(abs(created - other) < gap for other in others):
            continue
        near.append((gap, placed))
    for _, placed in sorted(near, key=lambda found: found[0]):
        if store.find_call(call_sid=placed.call_sid) is None:
            return placed
    return None
