"""Hand-overs committed but never carried out: found, checked with Twilio, and finished.

Handing a waiting customer to an agent is two steps: the call is given to the agent in the database
(``HoldStore.give_call``), then the customer is moved to the agent (Calls update to
``/twiml/connect/{id}``, which dials the agent). If the instance dies between the two, or Twilio never
answers the move (``uncertain``: the hand-over is kept, since it may have happened), the customer
may wait on for ever -- in line or alone in the conference -- with an agent who is never dialled,
and that agent is never free for anyone else.

The dispatch sweep (:mod:`callhold.dispatch`) calls :meth:`HandoverRecovery.recover_handovers`. A
call is *stranded* when, by the record: it is active, was given to its agent at least
:data:`HANDOVER_GRACE` ago (``Call.given_at``, by the clock of the instance that gave it: instances'
clocks must agree, NTP, to well within the grace), its customer is in progress and not on hold, and
it has no agent leg that is not over (earlier agents' legs, over, do not count whenever they ended).
The grace covers a hand-over still under way (the move, Twilio fetching the TwiML, the agent
ringing: each has a timeout well under it). Calls callhold placed (``POST /api/v1/calls``) are stamped
when their customer answers (``OutboundCalls.outbound_answered``): the answer TwiML connects the agent.

Twilio is asked before anything is done, because the record can lag behind (a status callback lost
to a database blip is not retried by Twilio):

* the customer's call: if Twilio says it is over, that is recorded (the call ends, its agent is
  freed) and nothing is moved -- never a move of a customer who is gone, every grace, for ever;
* the agent: conference strategy, the participant labelled ``agent`` in the call's live conference;
  legs, a live call placed by the customer's ``<Dial>`` (every agent leg callhold makes, resumes
  included, is one). If there is one, the agent *is* connected: it is recorded as the agent leg,
  with its status as Twilio has it, and nothing is moved.

Otherwise the hand-over is finished: under the call's lock, if the call is still stranded and still
given at the same instant (another instance, or a hand-over made meanwhile, would have changed the
stamp), ``given_at`` is renewed -- so one instance, once per grace, sends the move -- and the customer
is moved to ``/twiml/connect/{id}`` again, exactly as the hand-over would have. A refusal leaves it
for the next sweep (after another grace). The sweep recovers up to :data:`AT_ONCE` calls at a time,
each with a few REST requests, after the waiting customers are dispatched (:mod:`callhold.dispatch`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from callhold.dispatch import unattended
from callhold.domain import events as ev
from callhold.domain import paths
from callhold.domain.commands import RedirectLeg
from callhold.domain.errors import TelephonyError
from callhold.domain.machine import Decision
from callhold.domain.model import Call, CallState, CallView, LegRole, LegStatus, Strategy
from callhold.domain.ports import Clock, HoldStore, Telephony

__all__ = ["HANDOVER_GRACE", "HandoverRecovery", "stranded"]

_log = logging.getLogger("callhold.handovers")

AT_ONCE = 8
"""How many stranded calls one sweep recovers at the same time (each is a few REST requests)."""

HANDOVER_GRACE = timedelta(seconds=90)
"""How long after a call was given to its agent it may still have no agent leg: the move (at most
``CALLHOLD_TWILIO_TIMEOUT``), Twilio fetching ``/twiml/connect`` (15 s) and dialling the agent."""


def _given_long_ago(call: Call, now: datetime, grace: timedelta = HANDOVER_GRACE) -> bool:
    """``call`` is active and was given to its agent at least ``grace`` before ``now``."""
    if call.status is not CallState.ACTIVE or call.agent_id is None or call.given_at is None:
        return False
    return now - call.given_at >= grace


def stranded(view: CallView, now: datetime, grace: timedelta = HANDOVER_GRACE) -> bool:
    """Whether, by the record, ``view``'s call was handed to its agent at least ``grace`` before
    ``now`` and its customer never reached the agent (see the module's docstring)."""
    # An agent leg not over: the agent is being dialled, or talking. One over was an earlier agent's
    # (its own paths -- missed, dropped -- take the call from it), or this one's with the call about
    # to end: either way, Twilio is asked before the customer is moved.
    return _given_long_ago(view.call, now, grace) and unattended(view)


class HandoverRecovery:
    """Finishing stranded hand-overs (a mixin of :class:`~callhold.service.CallService`)."""

    store: HoldStore
    telephony: Telephony
    clock: Clock

    if TYPE_CHECKING:

        async def join_agent_leg(
            self, call_id: str, call_sid: str, parent_call_sid: str | None, *, role: LegRole = LegRole.AGENT
        ) -> None:
            """See ``AgentDesk.join_agent_leg``."""

        async def handle(self, call_id: str, event: ev.Event) -> Decision:
            """See ``CallService.handle``."""

        async def call_ended(self, call_id: str) -> None:
            """See ``AgentAvailability.call_ended``."""

    async def recover_handovers(self) -> int:
        """Finish the stranded hand-overs (module docstring) among the active calls; how many
        customers were moved. Up to :data:`AT_ONCE` calls at a time, so a slow Twilio delays a sweep
        by a few requests' time, not by every stranded call's in turn."""
        now = self.clock.now()
        active = self.store.list_calls(status=CallState.ACTIVE, limit=1000)
        gate = asyncio.Semaphore(AT_ONCE)

        async def recover(call_id: str) -> bool:
            async with gate:
                try:
                    return await self._recover(call_id, now)
                except Exception:  # one call's trouble (the database, Twilio) is not the rest's
                    _log.exception("recovering the hand-over of call %s failed", call_id)
                    return False

        # by the list: the view is loaded only for these
        given = [call.id for call in active if _given_long_ago(call, now)]
        return sum(await asyncio.gather(*(recover(call_id) for call_id in given)))

    async def _recover(self, call_id: str, now: datetime) -> bool:
        view = self.store.load_view(call_id)
        if not stranded(view, now):
            return False
        call = view.call
        try:
            customer = LegStatus(await self.telephony.call_status(call.customer_call_sid))
            if customer.is_terminal:  # gone: its last status callback never reached the record
                _log.warning("call %s: the customer's end was not on record; recorded", call.id)
                await self._learn(call.id, call.customer_call_sid, customer, now)
                await self.call_ended(call.id)
                return False
            live = await self._live_agent_leg(call)
            if live is not None:  # connected after all: the record had lost it
                _log.warning("call %s: agent leg %s was not on record; recorded", call.id, live)
                parent = call.customer_call_sid if call.strategy is Strategy.LEGS else None
                await self.join_agent_leg(call.id, live, parent)
                await self._learn(call.id, live, LegStatus(await self.telephony.call_status(live)), now)
                return False
        except TelephonyError as exc:
            _log.warning("could not ask Twilio about call %s; next sweep: %r", call.id, exc)
            return False
        if not self._renew(call, now):
            return False  # changed meanwhile: another instance, or a new hand-over
        _log.warning(
            "call %s was given to agent %s but never moved to it: moving it now", call.id, call.agent_id
        )
        try:
            await self.telephony.redirect_leg(
                RedirectLeg(call_sid=call.customer_call_sid, twiml_path=paths.connect(call.id))
            )
        except TelephonyError as exc:
            _log.warning("could not move call %s to its agent; next sweep: %r", call.id, exc)
            return False
        return True

    async def _learn(self, call_id: str, call_sid: str, status: LegStatus, now: datetime) -> None:
        """Record a leg's status as Twilio reported it now (no SequenceNumber: it ranks above the
        record's, and a later callback still applies)."""
        event = ev.LegStatusChanged(call_sid=call_sid, status=status, sequence_number=None, timestamp=now)
        await self.handle(call_id, event)

    async def _live_agent_leg(self, call: Call) -> str | None:
        """What Twilio says of the call's agent: the Call SID of its live leg, or ``None``."""
        if call.strategy is Strategy.CONFERENCE:
            assert call.conference_name is not None
            return await self.telephony.labelled_participant(call.conference_name, "agent")
        return await self.telephony.live_child_call(call.customer_call_sid)

    def _renew(self, seen: Call, now: datetime) -> bool:
        """Under the call's lock: if it is still stranded and given at the same instant as ``seen``,
        stamp it given ``now`` (``True``: this instance moves the customer)."""
        renewed: list[bool] = []

        def renew(view: CallView) -> Decision:
            call = view.call
            if call.agent_id != seen.agent_id or call.given_at != seen.given_at or not stranded(view, now):
                return Decision(new_state=view)
            renewed.append(True)
            return Decision(new_state=replace(view, call=replace(call, given_at=now)))

        self.store.transact(seen.id, renew)
        return bool(renewed)
