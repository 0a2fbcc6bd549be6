"""Records of callhold: agents, calls, legs and holds, with their states.

Every record is a frozen dataclass; a change is a new record (``dataclasses.replace``). Datetimes are
timezone-aware UTC. The SID value types are in :mod:`callhold.domain.sids`, the hold policies in
:mod:`callhold.domain.policies`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from callhold.domain.errors import Invalid

__all__ = [
    "HOLD_QUEUE_PREFIX",
    "NO_SEQUENCE",
    "NUMBER_MAX",
    "QUEUE_NAME_MAX",
    "TERMINAL_RANK",
    "Agent",
    "Call",
    "CallState",
    "CallView",
    "Hold",
    "HoldEndReason",
    "HoldState",
    "HoldStats",
    "Leg",
    "LegRole",
    "LegStatus",
    "Strategy",
    "hold_of_queue",
    "leg_status_advances",
    "queue_name_for",
    "utc",
]

NO_SEQUENCE = -1
"""``Leg.sequence_number`` (and ``participant_sequence_number``) before any callback was applied."""

QUEUE_NAME_MAX = 64
"""Twilio's limit on a queue's friendly name (errors 14204/14205)."""

NUMBER_MAX = 200
"""The longest customer number recorded: a phone number, ``client:name`` or SIP URI, as Twilio
gives it (a longer one is not recorded rather than cut)."""


class Strategy(StrEnum):
    """How a call is held: conference participant hold, or redirecting independent ``<Dial>`` legs."""

    CONFERENCE = "conference"
    LEGS = "legs"


class LegRole(StrEnum):
    """Who is on a leg."""

    CUSTOMER = "customer"
    AGENT = "agent"
    THIRD_PARTY = "third_party"


TERMINAL_RANK = 4
"""The rank every terminal :class:`LegStatus` shares; a leg at this rank never changes again."""


class LegStatus(StrEnum):
    """Twilio's ``CallStatus`` values, ranked so that a leg's status never moves backwards."""

    QUEUED = "queued"
    INITIATED = "initiated"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    BUSY = "busy"
    FAILED = "failed"
    NO_ANSWER = "no-answer"
    CANCELED = "canceled"

    @property
    def rank(self) -> int:
        """0 queued, 1 initiated, 2 ringing, 3 in-progress, 4 any terminal status."""
        return _RANKS.get(self, TERMINAL_RANK)

    @property
    def is_terminal(self) -> bool:
        """True for completed, busy, failed, no-answer and canceled: final statuses."""
        return self.rank == TERMINAL_RANK


_RANKS = {LegStatus.QUEUED: 0, LegStatus.INITIATED: 1, LegStatus.RINGING: 2, LegStatus.IN_PROGRESS: 3}


class CallState(StrEnum):
    """The state of callhold's call record (not Twilio's CallStatus, see :class:`LegStatus`)."""

    ACTIVE = "active"
    ENDED = "ended"


class HoldState(StrEnum):
    """``holding``: hold commands issued, not confirmed; ``held``; ``resuming``: resume (or compensation)
    commands issued, reconnection not confirmed; ``ended``."""

    HOLDING = "holding"
    HELD = "held"
    RESUMING = "resuming"
    ENDED = "ended"


class HoldEndReason(StrEnum):
    """Why a hold ended."""

    RESUMED = "resumed"
    CUSTOMER_HUNG_UP = "customer_hung_up"
    AGENT_HUNG_UP = "agent_hung_up"
    """The agent's side left, the customer still on the line (told, then requeued or said goodbye)."""
    MAX_HOLD_AUTO_RESUMED = "max_hold_auto_resumed"
    FAILED_COMPENSATED = "failed_compensated"
    CALL_ENDED = "call_ended"
    """The conference ended under the hold and nobody's hang-up is known (told as if the agent left)."""


_ENDPOINT = re.compile(r"client:[A-Za-z0-9_.@-]{1,121}|\+[1-9][0-9]{6,14}|sips?:\S+")


@dataclass(frozen=True, kw_only=True)
class Agent:
    """A person who takes calls. ``endpoint`` is ``client:<identity>``, an E.164 number or a SIP URI.

    ``available``: free to be handed a call now (callhold clears it while the agent has one).
    ``away``: the agent set itself unavailable (also in the middle of a call): callhold then never
    makes it available on its own -- not when its call ends, nor when a hand-over is undone -- until
    the agent sets itself available again.
    ``placing_to`` / ``placing_since``: callhold is placing an outbound call to that number for the
    agent (``POST /api/v1/calls``) and has not recorded it yet. The agent counts as busy until the call
    is recorded, Twilio refuses it, or -- its answer lost -- Twilio is asked (``callhold.placements``).
    """

    id: str
    name: str
    endpoint: str
    available: bool = True
    away: bool = False
    placing_to: str | None = None
    placing_since: datetime | None = None

    def __post_init__(self) -> None:
        _require_utc(self.placing_since)
        if not _ENDPOINT.fullmatch(self.endpoint):
            raise Invalid(
                f"agent endpoint must be client:<identity>, +E.164 or sip:..., not {self.endpoint!r}"
            )


def _require_utc(*values: datetime | None) -> None:
    for value in values:
        if value is not None and value.utcoffset() is None:
            raise Invalid(f"naive datetime {value!r}: callhold records use timezone-aware UTC")


@dataclass(frozen=True, kw_only=True)
class Call:
    """One customer call as callhold sees it. ``conference_sid`` is the call's *live* conference: set when
    it starts (or its start is otherwise proven, if that event was lost: the agent's join, Twilio's
    Conferences list), cleared when it ends (a requeued customer joins a new conference under the same
    name). ``conference_started_at`` is when the call's latest conference started (its
    ``conference-start`` Timestamp, or that of the proof), kept after it ends: a start event older
    than that is a late one of an earlier conference. ``customer_number`` is the customer's number
    as Twilio gave it (``From`` of an inbound call, the ``To`` callhold dialled for an outbound one),
    when known. ``given_at`` is when the call was last handed to its agent (callhold's clock), to
    find a hand-over never carried out."""

    id: str
    strategy: Strategy
    customer_call_sid: str
    agent_id: str | None
    created_at: datetime
    conference_name: str | None = None
    conference_sid: str | None = None
    status: CallState = CallState.ACTIVE
    ended_at: datetime | None = None
    conference_started_at: datetime | None = None
    customer_number: str | None = None
    given_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_utc(self.created_at, self.ended_at, self.conference_started_at, self.given_at)


@dataclass(frozen=True, kw_only=True)
class Leg:
    """One Twilio call taking part in a :class:`Call`.

    ``sequence_number`` is the SequenceNumber of the last applied call status callback
    (:data:`NO_SEQUENCE` before any). ``muted``/``on_hold`` are conference participant flags, guarded by
    ``participant_sequence_number`` (the conference event SequenceNumber last applied); with the legs
    strategy ``on_hold`` is the customer's, from when it is moved into the hold's queue until the hold
    ends (the agent, on music, is held by no one). ``parent_call_sid`` is Twilio's ParentCallSid: set
    when this leg was created by another leg's ``<Dial>``.
    """

    call_sid: str
    call_id: str
    role: LegRole
    status: LegStatus
    sequence_number: int = NO_SEQUENCE
    status_at: datetime | None = None
    muted: bool = False
    on_hold: bool = False
    participant_sequence_number: int = NO_SEQUENCE
    parent_call_sid: str | None = None

    def __post_init__(self) -> None:
        _require_utc(self.status_at)


def leg_status_advances(
    leg: Leg, status: LegStatus, sequence_number: int | None, timestamp: datetime | None
) -> bool:
    """Whether a status callback may overwrite ``leg``'s status: the monotonic rule.

    A terminal status is final. Otherwise the new status must not rank lower, its timestamp must not be
    older, and its SequenceNumber must be newer (an equal one is a duplicate). Without a SequenceNumber
    (a status learnt some other way) the status must rank strictly higher. The store's conditional
    UPDATE implements the same rule in SQL.
    """
    if leg.status.is_terminal or status.rank < leg.status.rank:
        return False
    if timestamp is not None and leg.status_at is not None and timestamp < leg.status_at:
        return False
    if sequence_number is None:
        return status.rank > leg.status.rank
    return sequence_number > leg.sequence_number


HOLD_QUEUE_PREFIX = "hold-"
"""How the name of a legs-strategy hold's own queue starts (:func:`queue_name_for`)."""


def queue_name_for(hold_id: str) -> str:
    """The queue that a legs-strategy hold puts its customer in: unique to the hold, at most 64 chars."""
    name = f"{HOLD_QUEUE_PREFIX}{hold_id}"
    if len(name) > QUEUE_NAME_MAX:
        raise Invalid(f"hold id too long for a queue name: {hold_id!r}")
    return name


def hold_of_queue(queue_name: str) -> str | None:
    """The hold id a queue named by :func:`queue_name_for` belongs to; ``None`` for any other name."""
    hold_id = queue_name.removeprefix(HOLD_QUEUE_PREFIX)
    return hold_id if hold_id and hold_id != queue_name else None


@dataclass(frozen=True, kw_only=True)
class Hold:
    """One hold of one call. ``queue_name`` (legs strategy only) is unique to the hold.

    While ``resuming``, ``end_reason`` already says why the hold is ending (``resumed``,
    ``max_hold_auto_resumed`` or ``failed_compensated``). ``agent_id`` and ``agent_call_sid`` are the
    call's agent and agent leg when the hold was requested (per-agent statistics count ``agent_id``).

    What makes the scheduled events idempotent across service instances (see
    :mod:`callhold.domain.scheduled`): ``state_since`` is when the hold entered its current state
    (``None`` on a record written before it existed: see :attr:`in_state_since`);
    ``agent_reminded_at`` / ``max_hold_acted_at`` when the agent reminder was given / the maximum-hold
    action (auto-resume or announcement) was last taken; ``recovered_at`` when a recovery last re-sent
    the commands of a ``holding``/``resuming`` hold.
    """

    id: str
    call_id: str
    state: HoldState
    strategy: Strategy
    requested_by: str
    started_at: datetime
    reason: str | None = None
    music_url: str | None = None
    queue_name: str | None = None
    confirmed_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: HoldEndReason | None = None
    agent_id: str | None = None
    agent_call_sid: str | None = None
    state_since: datetime | None = None
    agent_reminded_at: datetime | None = None
    max_hold_acted_at: datetime | None = None
    recovered_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_utc(self.started_at, self.confirmed_at, self.ended_at, self.state_since)
        _require_utc(self.agent_reminded_at, self.max_hold_acted_at, self.recovered_at)
        if self.queue_name is not None and len(self.queue_name) > QUEUE_NAME_MAX:
            raise Invalid(f"queue name longer than {QUEUE_NAME_MAX}: {self.queue_name!r}")
        if (self.state is HoldState.ENDED) != (self.ended_at is not None):
            raise Invalid("a hold has ended_at exactly when its state is ended")

    @property
    def is_open(self) -> bool:
        """True until the hold has ended."""
        return self.state is not HoldState.ENDED

    @property
    def in_state_since(self) -> datetime:
        """When the hold entered its current state: ``state_since``, or for a record without it the
        latest transition time it does record (``ended_at``; ``confirmed_at`` once confirmed;
        ``started_at``)."""
        if self.state_since is not None:
            return self.state_since
        if self.ended_at is not None:
            return self.ended_at
        if self.state is not HoldState.HOLDING and self.confirmed_at is not None:
            return self.confirmed_at
        return self.started_at

    @property
    def last_progress_at(self) -> datetime:
        """The later of :attr:`in_state_since` and ``recovered_at``: when callhold last issued the
        commands of the hold's current state (the recovery grace is counted from it)."""
        since = self.in_state_since
        return since if self.recovered_at is None else max(since, self.recovered_at)

    def duration(self, now: datetime) -> timedelta:
        """How long the customer has been (or was) on hold, measured from the request."""
        end = self.ended_at if self.ended_at is not None else now
        return max(end - self.started_at, timedelta(0))


@dataclass(frozen=True, kw_only=True)
class HoldStats:
    """Hold totals for one call or one agent (open holds count up to ``now``)."""

    subject: str
    holds: int
    total_seconds: float
    longest_seconds: float


@dataclass(frozen=True, kw_only=True)
class CallView:
    """What the state machine decides on: the call, its legs (in the order they joined) and its latest
    hold (open or not; ``None`` if it never had one)."""

    call: Call
    legs: tuple[Leg, ...] = field(default=())
    hold: Hold | None = None

    @property
    def open_hold(self) -> Hold | None:
        """The latest hold if it is still open."""
        return self.hold if self.hold is not None and self.hold.is_open else None

    def leg(self, call_sid: str) -> Leg | None:
        """The leg with this Call SID, if it belongs to the call."""
        return next((leg for leg in self.legs if leg.call_sid == call_sid), None)

    @property
    def customer_leg(self) -> Leg | None:
        """The customer's leg."""
        return self.leg(self.call.customer_call_sid)

    @property
    def agent_leg(self) -> Leg | None:
        """The most recent agent leg."""
        return next((leg for leg in reversed(self.legs) if leg.role is LegRole.AGENT), None)

    def with_leg(self, leg: Leg) -> CallView:
        """This view with ``leg`` replaced (or appended if new)."""
        if self.leg(leg.call_sid) is None:
            return CallView(call=self.call, legs=(*self.legs, leg), hold=self.hold)
        legs = tuple(leg if old.call_sid == leg.call_sid else old for old in self.legs)
        return CallView(call=self.call, legs=legs, hold=self.hold)


def utc(value: datetime) -> datetime:
    """``value`` converted to UTC (a naive value is taken to be UTC already)."""
    if value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
