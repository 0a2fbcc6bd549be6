"""Calls coming in: adopting a call, and connecting its customer to an agent.

A mixin of :class:`~callhold.service.CallService` (kept apart to keep modules small): it uses the
service's store, telephony, clock and ``handle``. An agent becoming free takes the longest-waiting
customer (:mod:`callhold.availability`); calls going out are :mod:`callhold.outbound`'s.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from callhold import budget
from callhold.domain import events as ev
from callhold.domain.commands import AddParticipant
from callhold.domain.effects import ActionReply
from callhold.domain.errors import NotConnected, NotFound, TelephonyError
from callhold.domain.machine import Decision, decide
from callhold.domain.model import Agent, Call, CallState, CallView, LegRole, LegStatus, Strategy
from callhold.domain.policies import HoldPolicy
from callhold.domain.ports import Clock, Handover, HoldStore, Telephony
from callhold.domain.strategies import conference_to_find

__all__ = ["AgentDesk"]

_log = logging.getLogger("callhold.desk")


class AgentDesk:
    """Adoption, agent assignment and hand-over (see the module's docstring)."""

    store: HoldStore
    telephony: Telephony
    clock: Clock
    policy: HoldPolicy
    strategy: Strategy
    caller_id: str

    if TYPE_CHECKING:

        async def handle(self, call_id: str, event: ev.Event) -> Decision:
            """See ``CallService.handle``."""

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
        """Record a new call whose customer leg is ``call_sid``, in ``status`` (an inbound call
        reaches its voice webhook in progress; one callhold placed starts queued), from
        ``customer_number`` if known. Idempotent for webhook retries. With ``agent_id``: an outbound
        call placed for that agent (at ``placed_since``), which it gets only if that placement is
        still open or the agent is free (``HoldStore.insert_call``): the call returned says."""
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
            customer_number=customer_number,
        )
        # The call and its customer leg are written in one transaction, as the domain decides them:
        # a status callback handled meanwhile elsewhere finds both or neither (then it is retried).
        joined = ev.LegJoined(call_sid=call_sid, role=role, status=status, at=self.clock.now())
        first = decide(CallView(call=call, legs=(), hold=None), joined, self.policy).new_state
        inserted = self.store.insert_call(call, first.legs, placed_since=placed_since)
        if inserted and agent_id is None:
            return call
        # adopted meanwhile (a racing webhook or instance), or an outbound call: as recorded
        recorded = self.store.find_call(call_sid=call_sid)
        assert recorded is not None
        return recorded

    def assign_agent(self, call: Call, *, skip: Collection[str] = ()) -> Agent | None:
        """Claim the first available agent for ``call`` (atomic across service instances), not one
        of ``skip`` (agents already tried for this call).

        ``None`` if no agent is free, or if the call ended (or got an agent) meanwhile. The claim and
        the assignment are one transaction (``HoldStore.give_call``): no agent is ever left claimed
        for no call.
        """
        for agent in self.store.list_agents(available=True):
            if agent.id in skip:
                continue
            handover = self.store.give_call(call.id, agent.id, self.clock.now())
            if handover is Handover.GIVEN:
                return agent
            if handover is Handover.CALL_TAKEN:
                return None
        return None

    def release_agent(self, call_id: str, agent_id: str, *, available: bool = True) -> None:
        """Undo ``HoldStore.give_call`` (the agent or the customer could not be reached): the call waits
        for an agent again, and ``agent_id`` is made ``available`` (unless it is away) or left busy."""

        def take(view: CallView) -> Decision:
            if view.call.agent_id != agent_id:
                return Decision(new_state=view)
            return Decision(new_state=replace(view, call=replace(view.call, agent_id=None)))

        self.store.transact(call_id, take)
        if available:
            self.store.free_agent(agent_id)

    async def join_agent_leg(
        self, call_id: str, call_sid: str, parent_call_sid: str | None, *, role: LegRole = LegRole.AGENT
    ) -> None:
        """A leg appeared: an agent (a participant we added, or a ``<Dial>`` child) or, with
        ``role``, a third party we dialled. Idempotent (the domain ignores a known leg)."""
        await self.handle(
            call_id,
            ev.LegJoined(
                call_sid=call_sid,
                role=role,
                status=LegStatus.QUEUED,
                at=self.clock.now(),
                parent_call_sid=parent_call_sid,
            ),
        )

    async def add_agent_participant(self, call: Call, agent: Agent) -> None:
        """Conference strategy: dial the agent into the customer's conference.

        If Twilio refuses because the conference already has the agent participant (an earlier
        attempt of a retried webhook dialled it), that participant is recorded as the agent leg.
        ``NotConnected`` if Twilio refuses otherwise: the call is released, and the agent is
        available again if the failure was Twilio's or the network's (5xx, 429, unreachable), but made
        away if Twilio refused the agent's endpoint itself (4xx: an invalid number or client name,
        say): otherwise every new caller would be offered that agent first, and fail. It sets
        ``available`` again once fixed.
        """
        assert call.conference_name is not None
        command = AddParticipant(
            conference=call.conference_name, to=agent.endpoint, from_=self.caller_id, label="agent"
        )
        try:
            call_sid = await self.telephony.add_participant(command)
        except TelephonyError as exc:
            dialled = await self._already_dialled(call, exc)
            if dialled is not None:  # an earlier attempt (a retried webhook) dialled the agent
                await self.join_agent_leg(call.id, dialled, None)
                return
            # Twilio's or the network's failure, or its rate limit (429 once the retries are spent):
            # not the agent's endpoint.
            transient = exc.status is None or exc.status >= 500 or exc.status == 429
            _log.warning(
                "could not dial agent %s (%s): %r",
                agent.id,
                "retry later" if transient else "made away",
                exc,
            )
            # The call first (it waits for an agent again), then the agent: free again only once it
            # has no active call -- or away until it sets itself available (its endpoint fixed).
            self.release_agent(call.id, agent.id, available=transient)
            if not transient:
                self.store.set_agent_available(agent.id, False)
            raise NotConnected(f"could not reach agent {agent.id}: {exc.message}") from exc
        await self.join_agent_leg(call.id, call_sid, None)

    async def _already_dialled(self, call: Call, refusal: TelephonyError) -> str | None:
        """The Call SID of the agent participant already in the call's conference, if Twilio refused
        a second one (16025, label in use: an earlier attempt of a retried webhook dialled it, and
        failed before recording its leg) or never answered this one (it may have dialled it), else
        ``None``."""
        if not (refusal.label_in_use or refusal.uncertain) or call.conference_name is None:
            return None
        try:
            return await self.telephony.labelled_participant(call.conference_name, "agent")
        except TelephonyError as exc:
            _log.warning("could not look up the agent already in call %s: %r", call.id, exc)
            return None

    async def find_conference(self, ref: str) -> bool:
        """Ask Twilio whether the conference of the call ``ref`` (call id or leg SID) has started,
        before a request is refused as ``ConferenceNotStarted``; record it if so. ``True`` if a live
        conference is on record now.

        Twilio does not send a ``conference-start`` callhold failed to take again (Q9): without this,
        no hold could be placed in a conference whose start was missed, and no party muted or added.
        Nothing is looked up when the customer is in no conference (:func:`conference_to_find`);
        nothing is recorded if the conference is not in progress (the refusal stands: it has not
        started) or Twilio cannot be asked (logged).
        """
        try:
            view = self.store.load_view(ref)  # a call id or the SID of one of its legs
        except NotFound:
            return False
        call_id, name = view.call.id, conference_to_find(view)
        if name is None:
            return False
        asked = self.clock.now()
        try:
            found = await self.telephony.started_conference(name)
        except TelephonyError as exc:
            _log.warning("could not look up the conference of call %s: %r", call_id, exc)
            return False
        if found is None:
            return False
        decision = await self.handle(call_id, ev.ConferenceFound(conference_sid=found, at=asked))
        return decision.new_state.call.conference_sid is not None

    async def connect_agent(self, call: Call, agent: Agent | None, *, attempts: int = 3) -> Agent | None:
        """Conference strategy: dial ``agent`` (already claimed for ``call``) into the conference; if
        Twilio refuses, release the call and try the next available agent, up to ``attempts`` agents.

        Returns the agent connected, or ``None``: the call then has no agent and waits in line, for
        the next agent to become available. Inside a TwiML webhook, no agent is tried once too little
        of its time is left (:mod:`callhold.budget`): Twilio would drop the caller.
        """
        tried: set[str] = set()
        while agent is not None and len(tried) < attempts and not budget.spent():
            tried.add(agent.id)
            try:
                await self.add_agent_participant(call, agent)
                return agent
            except NotConnected:
                pass  # released (see add_agent_participant): the next agent
            agent = self.assign_agent(call, skip=tried)
        if agent is not None:  # claimed, but too many tried already: the call waits
            self.release_agent(call.id, agent.id)
        return None

    async def agent_for_waiting(
        self, call_id: str, *, after_agent_left: bool = False
    ) -> tuple[Call, Agent | None]:
        """The call, and the agent its waiting customer is to be connected to now: the agent already
        assigned, else the next free one (claimed), else ``None`` (the customer waits in line).

        For the TwiML webhooks that connect a waiting customer (answering with the connecting
        TwiML, no redirect needed). Conference strategy: a newly claimed agent is always dialled into
        the conference -- the agent leg on record is an earlier agent's, which may not look over yet
        (its callbacks can come after the customer's ``<Dial>`` action) -- and an agent already
        assigned only if its leg is over or missing (a retried webhook finds it dialled). If Twilio
        refuses, the next agent is tried (:meth:`connect_agent`), within the webhook's time budget.

        ``after_agent_left``: for the agent-left TwiML. An agent still assigned whose leg is over is
        the one who failed the customer (a ``<Dial>`` that failed): it is not connected again, but
        made away (as an agent that dropped during a hold is), and the next free agent is claimed.
        """
        view = self.store.load_view(call_id)
        call = view.call
        leg_live = view.agent_leg is not None and not view.agent_leg.status.is_terminal
        if call.agent_id is not None and after_agent_left and not leg_live:
            self.release_agent(call.id, call.agent_id, available=False)
            self.store.set_agent_available(call.agent_id, False)
            call = replace(call, agent_id=None)
        dial = not leg_live
        if call.agent_id is not None:
            agent = self.store.get_agent(call.agent_id)
        else:
            agent = self.assign_agent(call) if call.status is CallState.ACTIVE else None
            dial = True
        if agent is not None and call.conference_name is not None and dial:
            with budget.spending(budget.TWIML_BUDGET):  # Twilio waits 15 s for this answer
                agent = await self.connect_agent(call, agent)
        return call, agent

    def action_reply(self, decision: Decision) -> str | None:
        """The TwiML path a ``<Dial>``/``<Enqueue>`` action should continue with (None: hang up)."""
        for effect in decision.effects:
            if isinstance(effect, ActionReply):
                return effect.twiml_path
        return None
