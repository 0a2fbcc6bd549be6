"""Calls going out: dialling a customer for an agent, and recording the call with that agent.

A mixin of :class:`~callhold.service.CallService` (kept apart to keep modules small): it uses the
service's store, telephony, clock and caller ID, the desk's adoption of a call (:mod:`callhold.desk`)
and the freeing of an agent (:mod:`callhold.availability`). Placements Twilio never answered are
settled by the dispatch sweep (:mod:`callhold.placements`).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from callhold.domain import paths
from callhold.domain.errors import Conflict, NotFound, TelephonyError
from callhold.domain.machine import Decision
from callhold.domain.model import Call, CallState, CallView, LegRole, LegStatus, Strategy
from callhold.domain.ports import Clock, HoldStore, Telephony

__all__ = ["OUTBOUND_TWIML_PATH", "OutboundCalls"]

_log = logging.getLogger("callhold.desk")

#: The TwiML an outbound call runs when answered. Its Call SID (the call id) is unknown until Calls
#: create returns and Twilio redirects only in-progress calls, so the URL cannot carry the call id:
#: ``/twiml/voice`` finds the adopted call by the request's ``CallSid`` and connects its agent.
OUTBOUND_TWIML_PATH = "/twiml/outbound"


class OutboundCalls:
    """Outbound calls placed for agents (see the module's docstring)."""

    store: HoldStore
    telephony: Telephony
    clock: Clock
    caller_id: str

    if TYPE_CHECKING:

        def adopt(
            self,
            call_sid: str,
            *,
            strategy: Strategy | None = None,
            agent_id: str | None = None,
            role: LegRole = LegRole.CUSTOMER,
            status: LegStatus = LegStatus.IN_PROGRESS,
            customer_number: str | None = None,
            placed_since: datetime | None = None,
        ) -> Call:
            """See ``AgentDesk.adopt``."""

        async def free_for_next_customer(self, agent_id: str) -> bool:
            """See ``AgentAvailability.free_for_next_customer``."""

    async def place_outbound(self, agent_id: str, to: str) -> Call:
        """Dial the customer ``to`` for ``agent_id`` and adopt the call with that agent.

        ``NotFound`` for an unknown agent, ``Conflict`` if the agent is not available (busy or away),
        ``TelephonyError`` if Twilio refuses the call (the agent is free again, unless it went away).

        The agent is on record as placing the call before Twilio is asked (``Agent.placing_since``),
        so nothing hands it a customer meanwhile, whatever it says. If Twilio never answered
        (``uncertain``), the call may exist: the placement stays. Its first status callback, or its
        answer TwiML, names the agent and adopts it; if neither comes, the dispatch sweep asks
        Twilio (``callhold.placements``).
        """
        if self.store.get_agent(agent_id) is None:
            raise NotFound("agent", agent_id)
        since = self.clock.now()
        if not self.store.claim_for_outbound(agent_id, to, since):
            raise Conflict(f"agent {agent_id} is not available")
        try:
            # The callbacks and the answer TwiML name the agent and the placement: one Twilio delivers
            # before this create returns (or after its answer was lost) can then adopt the call itself.
            query = urlencode({"agent": agent_id, "placed": since.isoformat()})
            call_sid = await self.telephony.place_call(
                to, self.caller_id, f"{OUTBOUND_TWIML_PATH}?{query}", f"{paths.CALL_STATUS}?{query}"
            )
        except TelephonyError as exc:
            if not exc.uncertain:  # refused: no call, the agent is free again (unless away meanwhile)
                await self.placement_over(agent_id, since)
            raise
        return await self.adopt_outbound(call_sid, agent_id, to, status=LegStatus.QUEUED, placed_since=since)

    async def adopt_outbound(
        self,
        call_sid: str,
        agent_id: str,
        to: str | None,
        *,
        status: LegStatus,
        placed_since: datetime | None,
    ) -> Call:
        """Record the outbound call ``call_sid`` placed for ``agent_id`` at ``placed_since`` (if
        known); idempotent. The agent gets it if that placement is still open, which this ends, or if
        the agent is free. Otherwise (the placement was settled meanwhile and the agent has another
        call, or was deleted) the customer who answers goes to the next free agent."""
        call = self.adopt(
            call_sid, agent_id=agent_id, status=status, customer_number=to, placed_since=placed_since
        )
        if call.agent_id != agent_id:
            _log.warning(
                "call %s to %s, placed for agent %s, is recorded for %s", call.id, to, agent_id, call.agent_id
            )
            if placed_since is not None:  # recorded already, for no agent or another: no call is left for it
                await self.placement_over(agent_id, placed_since)
        return call

    async def placement_over(self, agent_id: str, since: datetime) -> bool:
        """The agent's placement since ``since`` came to no call of its own: it is free again (unless
        away or on a call) and takes the longest-waiting customer, if any. ``False`` (nothing done)
        if that placement is over already."""
        if not self.store.end_placement(agent_id, since, free=False):
            return False
        await self.free_for_next_customer(agent_id)
        return True

    def outbound_answered(self, call_id: str) -> None:
        """The customer of an outbound call answered: its agent is being connected now, a hand-over
        like any other, stamped (``Call.given_at``, once) so that the dispatch sweep finishes it if it
        never happens (``callhold.handovers``)."""
        now = self.clock.now()

        def stamp(view: CallView) -> Decision:
            call = view.call
            if call.agent_id is None or call.given_at is not None or call.status is not CallState.ACTIVE:
                return Decision(new_state=view)
            return Decision(new_state=replace(view, call=replace(call, given_at=now)))

        self.store.transact(call_id, stamp)
