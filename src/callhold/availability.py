"""Agents becoming free: each takes the customer who has waited longest.

A mixin of :class:`~callhold.service.CallService` (kept apart to keep modules small): it uses the
service's store, telephony and clock, and the desk's release of an agent (:mod:`callhold.desk`).
An agent becomes free when it says so (``by_agent``), or when callhold frees it: its call ended, or
a call placed for it came to nothing (:mod:`callhold.outbound`), or a sweep found it left busy with
no call (:mod:`callhold.dispatch`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from callhold.domain import paths
from callhold.domain.commands import RedirectLeg
from callhold.domain.errors import NotFound, TelephonyError
from callhold.domain.model import Call, HoldEndReason
from callhold.domain.ports import Clock, Handover, HoldStore, Telephony

__all__ = ["AgentAvailability"]

_log = logging.getLogger("callhold.desk")


class AgentAvailability:
    """Handing the longest-waiting customer to an agent that becomes free (see the module's docstring)."""

    store: HoldStore
    telephony: Telephony
    clock: Clock

    if TYPE_CHECKING:

        def release_agent(self, call_id: str, agent_id: str, *, available: bool = True) -> None:
            """See ``AgentDesk.release_agent``."""

    def waiting_calls(self) -> list[Call]:
        """Active calls with no agent, oldest first (they wait in :data:`WAITING_QUEUE`): the 1,000
        who have waited longest, however many calls are active."""
        return self.store.list_waiting(limit=1000)

    async def agent_available(
        self, agent_id: str, *, connect: Callable[[str], str] = paths.connect, by_agent: bool = True
    ) -> Call | None:
        """Mark the agent available and hand it the longest-waiting customer, if any (``connect``:
        the TwiML path that connects a call, by its id, to its newly assigned agent).

        ``by_agent``: the agent (or the admin) said so, which ends its being away. Otherwise callhold
        frees the agent (its call ended): an agent that is away stays unavailable.

        The customer goes to *this* agent (not to whichever agent is free), and to one agent only
        however many become available at once. If Twilio refuses to move the customer, the call
        waits again and the agent stays available; the refusal is raised unless the customer is gone.
        An agent on an active call is not made available (it would get a second customer mid-call):
        it no longer being away (``by_agent``), the end of that call makes it available.
        """
        if not self.store.make_available(agent_id, by_agent=by_agent):
            return None  # on a call (available when it ends, unless away), or away
        for call in self.waiting_calls():
            customer = self.store.get_leg(call.customer_call_sid)
            if customer is None or customer.status.is_terminal:
                continue
            try:
                handover = await self._hand_over(call, agent_id, connect)
            except TelephonyError as exc:
                if exc.call_gone:
                    continue
                raise
            if handover is Handover.AGENT_TAKEN:
                return None  # the agent was given a call meanwhile (or deleted)
            if handover is Handover.GIVEN:
                return self.store.get_call(call.id)
        return None

    async def _hand_over(self, call: Call, agent_id: str, connect: Callable[[str], str]) -> Handover:
        """Give ``call`` to the free ``agent_id`` and move its customer to ``connect(call.id)``; if
        Twilio refuses the move, the call waits again, the agent is free again, and the refusal is
        raised. If Twilio never answered (``uncertain``), the hand-over stands."""
        handover = self.store.give_call(call.id, agent_id, self.clock.now())
        if handover is not Handover.GIVEN:
            return handover
        try:
            await self.telephony.redirect_leg(
                RedirectLeg(call_sid=call.customer_call_sid, twiml_path=connect(call.id))
            )
        except TelephonyError as exc:
            if exc.uncertain:
                # The customer may be on the way to the agent (Twilio fetching /twiml/connect, the
                # agent being dialled): releasing would free an agent who may be talking to them,
                # for the next caller. The hand-over stands; if it never happened, the dispatch
                # sweep finishes it (callhold.handovers).
                _log.warning("no answer moving call %s to agent %s; kept: %r", call.id, agent_id, exc)
                return Handover.GIVEN
            _log.warning("could not connect call %s to agent %s: %r", call.id, agent_id, exc)
            self.release_agent(call.id, agent_id)
            raise
        return Handover.GIVEN

    async def call_ended(self, call_id: str) -> None:
        """The customer left: the agent is free again -- once per call, unless it set itself away
        during the call or had dropped out of a hold (hang-up policy: the call ended after it) --
        and takes the longest-waiting customer, if any. (Both the conference's participant-leave and the
        customer's status callback report the end; by the second the agent may already have taken
        another call.) If Twilio refuses to move that customer, it waits on and the agent stays
        available: this runs from a status callback, which must not fail for it."""
        view = self.store.load_view(call_id)
        call, hold = view.call, view.hold
        if call.agent_id is None:
            return
        if (
            hold is not None
            and hold.end_reason is HoldEndReason.AGENT_HUNG_UP
            and hold.agent_id == call.agent_id
        ):
            return  # the agent dropped during a hold: it stays unavailable until it says otherwise
        if not self.store.record_callback(f"agent-released:{call_id}", self.clock.now()):
            return
        try:
            await self.agent_available(call.agent_id, by_agent=False)
        except TelephonyError as exc:
            _log.warning("agent %s is free but a waiting customer could not be moved: %r", call.agent_id, exc)

    async def free_for_next_customer(self, agent_id: str) -> bool:
        """callhold frees the agent (unless away or on a call) and hands it the longest-waiting
        customer, if any; ``False`` if the agent was deleted meanwhile. A customer Twilio would not
        move waits on, the agent available: this runs from sweeps and callbacks, which must not fail
        for it."""
        try:
            await self.agent_available(agent_id, by_agent=False)
        except NotFound:
            return False
        except TelephonyError as exc:
            _log.warning("agent %s is free but a waiting customer could not be moved: %r", agent_id, exc)
        return True
