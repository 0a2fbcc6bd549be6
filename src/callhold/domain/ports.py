"""The ports the domain needs from the world: telephony, storage and time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from callhold.domain.commands import (
    AddParticipant,
    Announce,
    RedirectLeg,
    RemoveParticipant,
    SetParticipantHold,
    SetParticipantMuted,
)
from callhold.domain.machine import Decision
from callhold.domain.model import Agent, Call, CallState, CallView, Hold, HoldState, HoldStats, Leg, LegStatus

__all__ = ["CallTransaction", "Clock", "Handover", "HoldStore", "PlacedCall", "Queue", "Telephony"]


@dataclass(frozen=True, kw_only=True)
class PlacedCall:
    """A call as Twilio lists it (:meth:`Telephony.placed_calls`)."""

    call_sid: str
    status: str
    """Twilio's ``Status``: ``queued`` ... ``completed``."""
    date_created: datetime | None
    """When Twilio created it (``DateCreated``: when the Calls create was handled)."""


@dataclass(frozen=True, kw_only=True)
class Queue:
    """A call queue as Twilio lists it (:meth:`Telephony.queues`)."""

    sid: str
    friendly_name: str
    current_size: int
    """How many calls wait in it."""
    date_created: datetime | None = None
    """When Twilio created it (with the first ``<Enqueue>`` into it)."""


class Telephony(Protocol):
    """Executes commands against Twilio. Every method raises ``TelephonyError`` when Twilio refuses."""

    async def set_participant_hold(self, command: SetParticipantHold) -> None:
        """Participant update ``Hold`` (+ ``HoldUrl``)."""

    async def set_participant_muted(self, command: SetParticipantMuted) -> None:
        """Participant update ``Muted``."""

    async def add_participant(self, command: AddParticipant) -> str:
        """Participant create; returns the new participant's Call SID."""

    async def labelled_participant(self, conference: str, label: str) -> str | None:
        """The Call SID of the participant labelled ``label`` in the live conference named
        ``conference`` (friendly name), or ``None``."""

    async def started_conference(self, conference: str) -> str | None:
        """The SID of the conference named ``conference`` (friendly name) that is in progress:
        started and not ended; ``None`` if there is none (not started yet, or over)."""

    async def call_status(self, call_sid: str) -> str:
        """Calls fetch: Twilio's ``Status`` of the call (``queued`` ... ``completed``)."""

    async def live_child_call(self, parent_call_sid: str) -> str | None:
        """The Call SID of a call that ``parent_call_sid``'s ``<Dial>`` placed and that is not over
        (queued, ringing or in progress), or ``None``."""

    async def remove_participant(self, command: RemoveParticipant) -> None:
        """Participant delete."""

    async def redirect_leg(self, command: RedirectLeg) -> None:
        """Calls update ``Url`` (the absolute URL of ``command.twiml_path``)."""

    async def announce(self, command: Announce) -> None:
        """Participant update ``AnnounceUrl``."""

    async def placed_calls(self, to: str, from_: str) -> list[PlacedCall]:
        """Calls list by ``To`` and ``From``, newest first (the latest page): calls that may be one
        callhold placed and never heard of."""

    async def queues_page(self, page_url: str | None) -> tuple[list[Queue], str | None]:
        """Queues list, one page: the first (``page_url`` ``None``) or the one at ``page_url`` (a
        next-page URL this returned); the page's queues and the next page's URL (``None``: the last)."""

    async def delete_queue(self, queue_sid: str) -> None:
        """Queue delete (Twilio deletes only an empty queue)."""

    async def place_call(self, to: str, from_: str, url: str, status_callback: str) -> str:
        """Calls create: dial ``to`` from ``from_``; the answered call runs the TwiML at ``url`` (a callhold
        path or an absolute URL) and reports its status to ``status_callback``. Returns its Call SID."""


class Clock(Protocol):
    """Where the time comes from."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class CallTransaction(Protocol):
    """A call locked for a read-decide-write cycle (see :meth:`HoldStore.open_hold_for_update`)."""

    @property
    def view(self) -> CallView:
        """The call, its legs and its latest hold, as loaded under the lock."""

    def save(self, view: CallView) -> None:
        """Write what changed between :attr:`view` and ``view`` (committed when the block exits)."""


class Handover(StrEnum):
    """What became of handing a call to an agent (:meth:`HoldStore.give_call`)."""

    GIVEN = "given"
    AGENT_TAKEN = "agent_taken"
    """The agent is not available (any more), or no longer exists: nothing changed."""
    CALL_TAKEN = "call_taken"
    """The call ended or has an agent already: nothing changed."""


class HoldStore(Protocol):
    """Durable records of agents, calls, legs and holds."""

    def save_agent(self, agent: Agent) -> None:
        """Insert or update an agent."""

    def insert_agent(self, agent: Agent) -> None:
        """Insert a new agent; ``Conflict`` if the id is taken."""

    def update_agent(self, agent_id: str, *, name: str | None = None, endpoint: str | None = None) -> Agent:
        """Change an agent's name and/or endpoint, never its availability; ``NotFound``."""

    def get_agent(self, agent_id: str) -> Agent | None:
        """One agent, or ``None``."""

    def list_agents(self, *, available: bool | None = None) -> list[Agent]:
        """Agents by id, optionally only the (un)available ones."""

    def claim_for_outbound(self, agent_id: str, to: str, at: datetime) -> bool:
        """Atomically mark an available agent unavailable and placing a call to ``to`` since ``at``
        (busy until the call is recorded with it, or :meth:`end_placement`); ``False`` if it was not
        available."""

    def end_placement(self, agent_id: str, since: datetime, *, free: bool) -> bool:
        """Forget the agent's placement since ``since`` (no call came of it) and, with ``free``, make
        the agent available unless away or on a call; ``False`` if that placement was over already."""

    def placements(self, before: datetime) -> list[Agent]:
        """Agents with an outbound call being placed since ``before`` or earlier, oldest first."""

    def stranded_agents(self) -> list[str]:
        """Agents unavailable yet not away, placing no call and on no active call (ids)."""

    def give_call(self, call_id: str, agent_id: str, at: datetime) -> Handover:
        """Claim an available agent and make it the agent of an active call without one (given
        ``at``), in one transaction: never an agent claimed for no call, nor a call given a busy
        agent."""

    def make_available(self, agent_id: str, *, by_agent: bool = True) -> bool:
        """Mark an agent available unless it has an active call (``False``); ``NotFound``.
        ``by_agent``: the agent's choice (no longer away, even mid-call); otherwise callhold's, which
        leaves an agent that is away unavailable (``False``)."""

    def set_agent_available(self, agent_id: str, available: bool) -> None:
        """The agent's own choice: available, or away (left unavailable when its call ends)."""

    def free_agent(self, agent_id: str) -> bool:
        """Make an agent callhold claimed available again, unless it is away (``False``)."""

    def save_call(self, call: Call) -> None:
        """Insert or update a call."""

    def insert_call(
        self, call: Call, legs: Sequence[Leg] = (), *, placed_since: datetime | None = None
    ) -> bool:
        """Insert a new call with its first legs in one transaction; ``False`` (nothing written) if
        the call is already recorded. A call with an agent is an outbound call placed for it (at
        ``placed_since``, if known): the agent gets it only if that placement is still open (which
        ends) or the agent is free (claimed); else the call is recorded with no agent."""

    def get_call(self, call_id: str) -> Call | None:
        """One call by id, or ``None``."""

    def find_call(self, *, call_sid: str | None = None, conference: str | None = None) -> Call | None:
        """The call that has the leg ``call_sid`` (or customer SID), or the conference SID/name."""

    def list_calls(
        self, *, status: CallState | None = None, agent_id: str | None = None, limit: int = 100
    ) -> list[Call]:
        """Calls, newest first."""

    def list_waiting(self, *, limit: int = 1000) -> list[Call]:
        """Active calls with no agent, oldest first: the customers waiting in line."""

    def save_leg(self, leg: Leg) -> None:
        """Insert a leg, or update it (its status only by the monotonic rule)."""

    def get_leg(self, call_sid: str) -> Leg | None:
        """One leg, or ``None``."""

    def list_legs(self, call_id: str) -> list[Leg]:
        """A call's legs in the order they joined."""

    def apply_leg_status(
        self, call_sid: str, status: LegStatus, sequence_number: int | None, timestamp: datetime
    ) -> bool:
        """Monotonic, race-safe status update; ``True`` if it was applied."""

    def save_hold(self, hold: Hold) -> None:
        """Insert or update a hold (a second open hold of a call raises ``Conflict``)."""

    def get_hold(self, hold_id: str) -> Hold | None:
        """One hold, or ``None``."""

    def list_holds(
        self,
        *,
        call_id: str | None = None,
        agent_id: str | None = None,
        state: HoldState | None = None,
        since: datetime | None = None,
        limit: int | None = 1000,
        newest_first: bool = False,
    ) -> list[Hold]:
        """Holds by start time, oldest first (``newest_first``: newest first), filtered."""

    def resolve(self, ref: str) -> str | None:
        """The id of the call ``ref`` names (a call id, or the SID of one of its legs), or ``None``."""

    def load_view(self, call_id: str) -> CallView:
        """The call with its legs and latest hold (no lock); raises ``NotFound``."""

    def open_hold_for_update(self, call_id: str) -> AbstractContextManager[CallTransaction]:
        """A transaction holding the call locked (so its open hold too); raises ``NotFound``."""

    def transact(self, call_id: str, decide: Callable[[CallView], Decision]) -> Decision:
        """Lock, decide, save ``decision.new_state``, commit; return the decision. ``call_id`` may be
        the SID of one of the call's legs."""

    def transact_once(
        self,
        key: str,
        at: datetime,
        ref: str,
        decide: Callable[[CallView], Decision],
        *,
        conference: bool = False,
    ) -> Decision | None:
        """:meth:`transact` and :meth:`record_callback` in one transaction: ``None`` (nothing written)
        for a duplicate key; ``NotFound`` (nothing recorded) if no call matches ``ref`` (a call id, a
        leg SID, or with ``conference`` a Conference SID or friendly name)."""

    def stats_per_call(
        self,
        now: datetime,
        *,
        call_id: str | None = None,
        agent_id: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> Sequence[HoldStats]:
        """Holds count, total and longest seconds for each call with holds (``agent_id``'s only, those
        started at or after ``since`` only); with ``limit``, the most recently held calls first."""

    def stats_per_agent(
        self,
        now: datetime,
        *,
        agent_id: str | None = None,
        call_id: str | None = None,
        since: datetime | None = None,
    ) -> Sequence[HoldStats]:
        """Holds count, total and longest seconds for each agent with holds (of ``call_id`` only, those
        started at or after ``since`` only)."""

    def prune_callbacks(self, before: datetime) -> int:
        """Forget the callbacks recorded before ``before``; returns how many."""

    def record_callback(self, key: str, at: datetime) -> bool:
        """Remember a callback by a unique key; ``False`` if it was seen before (a duplicate)."""
