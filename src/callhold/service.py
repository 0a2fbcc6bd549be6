"""Use cases: load the call under a lock, let the domain decide, save, then act.

Every change goes through :meth:`CallService.handle`: the store locks the call, ``decide`` returns
the new state with the commands for Twilio, the state is committed, then the commands run one by
one. Each command's outcome goes back through ``decide`` (``CommandSucceeded`` /
``CommandFailed``), so a failure in the middle of a two-step legs hold is compensated by the
domain's own rules, and a record is never half-applied.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from callhold.domain import events as ev
from callhold.domain.commands import (
    AddParticipant,
    Announce,
    Command,
    RedirectLeg,
    RemoveParticipant,
    SetParticipantHold,
    SetParticipantMuted,
)
from callhold.domain.effects import ActionReply, AgentLeft, ArmHoldTimers, DisarmHoldTimers
from callhold.domain.errors import Conflict, Forbidden, NotConnected, NotFound, TelephonyError
from callhold.domain.machine import Decision, decide
from callhold.domain.model import (
    Agent,
    Call,
    CallState,
    CallView,
    HoldPolicy,
    HoldState,
    LegRole,
    LegStatus,
    Strategy,
)
from callhold.domain.ports import Clock, HoldStore, Telephony
from callhold.timers import TimerHandle, Timers

__all__ = ["OUTBOUND_TWIML_PATH", "WAITING_QUEUE", "CallService", "HoldTimings", "PlacesCalls"]

_log = logging.getLogger("callhold.service")

#: The queue customers wait in when no agent is free (and, with the requeue policy, go back to).
WAITING_QUEUE = "callhold-waiting"


#: The TwiML an outbound call runs when answered. Its Call SID (the call id) is unknown until Calls
#: create returns and Twilio redirects only in-progress calls, so the URL cannot carry the call id:
#: ``/twiml/voice`` finds the adopted call by the request's ``CallSid`` and connects its agent.
OUTBOUND_TWIML_PATH = "/twiml/outbound"
CALL_STATUS_PATH = "/webhooks/call-status"


@runtime_checkable
class PlacesCalls(Protocol):
    """A telephony adapter that can place outbound calls (``TwilioTelephony`` does)."""

    async def place_call(self, to: str, from_: str, url: str, status_callback: str) -> str:
        """Dial ``to``; the answered call runs ``url``; returns its Call SID."""
        ...


@dataclass(frozen=True, slots=True)
class HoldTimings:
    """When the agent is reminded and when the maximum hold is reached (seconds after the hold)."""

    agent_reminder_after: int = 60
    max_hold: int = 300


class CallService:
    """callhold's use cases, independent of HTTP."""

    def __init__(
        self,
        store: HoldStore,
        telephony: Telephony,
        clock: Clock,
        timers: Timers,
        *,
        policy: HoldPolicy | None = None,
        timings: HoldTimings | None = None,
        strategy: Strategy = Strategy.CONFERENCE,
        caller_id: str = "+15550001000",
        new_id: Callable[[], str] | None = None,
    ) -> None:
        self.store = store
        self.telephony = telephony
        self.clock = clock
        self.timers = timers
        self.policy = policy or HoldPolicy()
        self.timings = timings or HoldTimings()
        self.strategy = strategy
        self.caller_id = caller_id
        self._new_id = new_id or (lambda: uuid.uuid4().hex)
        self._timers: dict[str, list[TimerHandle]] = {}

    # -- the one way state changes ------------------------------------------------------------
    async def handle(self, call_id: str, event: ev.Event) -> Decision:
        """Decide ``event`` for the call, commit, apply effects, run the commands."""
        decision = self.store.transact(call_id, lambda view: decide(view, event, self.policy))
        self._apply_effects(call_id, decision)
        await self._execute(call_id, decision.commands)
        return decision

    async def _execute(self, call_id: str, commands: tuple[Command, ...]) -> None:
        for command in commands:
            try:
                created = await self._run(command)
            except TelephonyError as exc:
                _log.warning("command %s failed: %r", type(command).__name__, exc)
                await self.handle(call_id, ev.CommandFailed(command=command, error=exc, at=self.clock.now()))
                return
            if isinstance(command, AddParticipant) and created:
                await self.handle(
                    call_id,
                    ev.LegJoined(
                        call_sid=created,
                        role=LegRole.THIRD_PARTY,
                        status=LegStatus.QUEUED,
                        at=self.clock.now(),
                    ),
                )
            await self.handle(call_id, ev.CommandSucceeded(command=command, at=self.clock.now()))

    async def _run(self, command: Command) -> str | None:
        t = self.telephony
        if isinstance(command, SetParticipantHold):
            await t.set_participant_hold(command)
        elif isinstance(command, SetParticipantMuted):
            await t.set_participant_muted(command)
        elif isinstance(command, AddParticipant):
            return await t.add_participant(command)
        elif isinstance(command, RemoveParticipant):
            await t.remove_participant(command)
        elif isinstance(command, RedirectLeg):
            await t.redirect_leg(command)
        elif isinstance(command, Announce):
            await t.announce(command)
        return None

    def _apply_effects(self, call_id: str, decision: Decision) -> None:
        for effect in decision.effects:
            if isinstance(effect, ArmHoldTimers):
                self._arm(call_id, effect.hold_id, effect.started_at)
            elif isinstance(effect, DisarmHoldTimers):
                for handle in self._timers.pop(effect.hold_id, []):
                    handle.cancel()
            elif isinstance(effect, AgentLeft):
                _log.info("agent %s left call %s (%s)", effect.agent_id, effect.call_id, effect.policy.value)

    def _arm(self, call_id: str, hold_id: str, started_at: datetime) -> None:
        if hold_id in self._timers:
            return

        async def remind() -> None:
            await self.handle(call_id, ev.AgentReminderDue(hold_id=hold_id, at=self.clock.now()))

        async def max_hold() -> None:
            await self.handle(call_id, ev.MaxHoldReached(hold_id=hold_id, at=self.clock.now()))

        self._timers[hold_id] = [
            self.timers.call_at(started_at + timedelta(seconds=self.timings.agent_reminder_after), remind),
            self.timers.call_at(started_at + timedelta(seconds=self.timings.max_hold), max_hold),
        ]

    def rearm_timers(self) -> int:
        """After a restart: arm the timers of every open hold; returns how many."""
        count = 0
        for state in (HoldState.HOLDING, HoldState.HELD):
            for hold in self.store.list_holds(state=state):
                self._arm(hold.call_id, hold.id, hold.started_at)
                count += 1
        return count

    # -- reading -----------------------------------------------------------------------------
    def view(self, ref: str) -> CallView:
        """The call with id ``ref`` or with a leg whose SID is ``ref``."""
        call = self.store.get_call(ref) or self.store.find_call(call_sid=ref)
        if call is None:
            raise NotFound("call", ref)
        return self.store.load_view(call.id)

    def authorize(self, view: CallView, agent_id: str | None) -> None:
        """An agent may act only on its own calls (``agent_id`` None: the admin)."""
        if agent_id is not None and view.call.agent_id != agent_id:
            raise Forbidden(f"call {view.call.id} is not handled by agent {agent_id}")

    # -- API use cases -----------------------------------------------------------------------
    async def hold(
        self,
        ref: str,
        *,
        by: str,
        agent_id: str | None,
        reason: str | None = None,
        music_url: str | None = None,
    ) -> CallView:
        """Put the customer on hold (idempotent: a second hold reports the current one)."""
        view = self.view(ref)
        self.authorize(view, agent_id)
        event = ev.HoldRequested(
            hold_id=self._new_id(), by=by, at=self.clock.now(), reason=reason, music_url=music_url
        )
        await self.handle(view.call.id, event)
        return self.store.load_view(view.call.id)

    async def resume(self, ref: str, *, by: str, agent_id: str | None) -> CallView:
        """Bring the customer back (409 ``NotHeld`` when not on hold)."""
        view = self.view(ref)
        self.authorize(view, agent_id)
        await self.handle(view.call.id, ev.ResumeRequested(by=by, at=self.clock.now()))
        return self.store.load_view(view.call.id)

    async def mute(self, ref: str, call_sid: str, muted: bool, *, agent_id: str | None) -> CallView:
        """Mute or unmute one participant (conference strategy)."""
        view = self.view(ref)
        self.authorize(view, agent_id)
        await self.handle(view.call.id, ev.MuteRequested(call_sid=call_sid, muted=muted, at=self.clock.now()))
        return self.store.load_view(view.call.id)

    async def add_party(self, ref: str, to: str, *, label: str | None, agent_id: str | None) -> CallView:
        """Dial a third party into the conference."""
        view = self.view(ref)
        self.authorize(view, agent_id)
        event = ev.AddPartyRequested(to=to, from_=self.caller_id, at=self.clock.now(), label=label)
        await self.handle(view.call.id, event)
        return self.store.load_view(view.call.id)

    async def remove_party(self, ref: str, call_sid: str, *, agent_id: str | None) -> CallView:
        """Remove (kick) a participant."""
        view = self.view(ref)
        self.authorize(view, agent_id)
        await self.handle(view.call.id, ev.RemovePartyRequested(call_sid=call_sid, at=self.clock.now()))
        return self.store.load_view(view.call.id)

    # -- calls coming in ---------------------------------------------------------------------
    def adopt(
        self,
        call_sid: str,
        *,
        strategy: Strategy | None = None,
        agent_id: str | None = None,
        role: LegRole = LegRole.CUSTOMER,
    ) -> Call:
        """Record a new call whose customer leg is ``call_sid`` (idempotent for webhook retries)."""
        existing = self.store.find_call(call_sid=call_sid)
        if existing is not None:
            return existing
        strategy = strategy or self.strategy
        call = Call(
            id=call_sid,
            strategy=strategy,
            customer_call_sid=call_sid,
            agent_id=agent_id,
            created_at=self.clock.now(),
            conference_name=f"callhold-{call_sid}" if strategy is Strategy.CONFERENCE else None,
        )
        self.store.save_call(call)
        self.store.transact(
            call.id,
            lambda view: decide(
                view,
                ev.LegJoined(call_sid=call_sid, role=role, status=LegStatus.IN_PROGRESS, at=self.clock.now()),
                self.policy,
            ),
        )
        return call

    def assign_agent(self, call: Call) -> Agent | None:
        """Claim the first available agent for ``call`` (atomic across service instances)."""
        for agent in self.store.list_agents(available=True):
            if self.store.claim_agent(agent.id):
                self.store.save_call(replace(self.store.get_call(call.id) or call, agent_id=agent.id))
                return agent
        return None

    async def join_agent_leg(self, call_id: str, call_sid: str, parent_call_sid: str | None) -> None:
        """An agent leg appeared (a participant we added, or a ``<Dial>`` child)."""
        view = self.store.load_view(call_id)
        if view.leg(call_sid) is not None:
            return
        await self.handle(
            call_id,
            ev.LegJoined(
                call_sid=call_sid,
                role=LegRole.AGENT,
                status=LegStatus.QUEUED,
                at=self.clock.now(),
                parent_call_sid=parent_call_sid,
            ),
        )

    async def add_agent_participant(self, call: Call, agent: Agent) -> None:
        """Conference strategy: dial the agent into the customer's conference."""
        assert call.conference_name is not None
        command = AddParticipant(
            conference=call.conference_name, to=agent.endpoint, from_=self.caller_id, label="agent"
        )
        try:
            call_sid = await self.telephony.add_participant(command)
        except TelephonyError as exc:
            _log.warning("could not dial agent %s: %r", agent.id, exc)
            self.store.set_agent_available(agent.id, True)
            raise NotConnected(f"could not reach agent {agent.id}: {exc.message}") from exc
        await self.join_agent_leg(call.id, call_sid, None)

    def action_reply(self, decision: Decision) -> str | None:
        """The TwiML path a ``<Dial>``/``<Enqueue>`` action should continue with (None: hang up)."""
        for effect in decision.effects:
            if isinstance(effect, ActionReply):
                return effect.twiml_path
        return None

    def waiting_calls(self) -> list[Call]:
        """Active calls with no agent, oldest first (they wait in :data:`WAITING_QUEUE`)."""
        calls = [c for c in self.store.list_calls(status=CallState.ACTIVE, limit=1000) if c.agent_id is None]
        return sorted(calls, key=lambda c: c.created_at)

    async def agent_available(self, agent_id: str, *, connect: Callable[[Call], str]) -> Call | None:
        """Mark the agent available and hand it the longest-waiting customer, if any."""
        self.store.set_agent_available(agent_id, True)
        for call in self.waiting_calls():
            customer = self.store.get_leg(call.customer_call_sid)
            if customer is None or customer.status.is_terminal:
                continue
            agent = self.assign_agent(call)
            if agent is None:
                return None
            await self.telephony.redirect_leg(
                RedirectLeg(call_sid=call.customer_call_sid, twiml_path=connect(call))
            )
            return self.store.get_call(call.id)
        return None

    def call_ended(self, call_id: str) -> None:
        """The customer left: the agent is free again."""
        call = self.store.get_call(call_id)
        if call is not None and call.agent_id is not None:
            self.store.set_agent_available(call.agent_id, True)

    # -- calls going out ---------------------------------------------------------------------
    async def place_outbound(self, agent_id: str, to: str) -> Call:
        """Dial the customer ``to`` for ``agent_id`` and adopt the call with that agent claimed.

        ``NotFound`` for an unknown agent, ``Conflict`` if the agent is not available (busy or away),
        ``TelephonyError`` if Twilio refuses the call (the agent is released again).
        """
        if self.store.get_agent(agent_id) is None:
            raise NotFound("agent", agent_id)
        telephony = self.telephony
        if not isinstance(telephony, PlacesCalls):
            raise TelephonyError("the telephony adapter cannot place outbound calls")
        if not self.store.claim_agent(agent_id):
            raise Conflict(f"agent {agent_id} is not available")
        try:
            call_sid = await telephony.place_call(to, self.caller_id, OUTBOUND_TWIML_PATH, CALL_STATUS_PATH)
        except TelephonyError:
            self.store.set_agent_available(agent_id, True)
            raise
        return self.adopt(call_sid, agent_id=agent_id)
