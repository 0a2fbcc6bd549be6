"""What happens to a call: the inputs of :func:`callhold.domain.machine.decide`.

Requests come from the API, Twilio facts from webhooks and callbacks, command outcomes from the service
that executed the commands, timer expiries from the service's scheduler. Every event carries its time
(``at``; ``timestamp`` for status callbacks) so that deciding stays a pure function.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from callhold.domain.commands import Command
from callhold.domain.errors import TelephonyError
from callhold.domain.model import LegRole, LegStatus

__all__ = [
    "AddPartyRequested",
    "AgentReminderDue",
    "CommandFailed",
    "CommandSucceeded",
    "ConferenceEnded",
    "ConferenceFound",
    "ConferenceStarted",
    "DialActionReceived",
    "EnqueueActionReceived",
    "Event",
    "HoldRecoveryDue",
    "HoldRequested",
    "LegJoined",
    "LegStatusChanged",
    "LegsBridged",
    "LegsFollowDue",
    "MaxHoldReached",
    "MuteRequested",
    "ParticipantHoldChanged",
    "ParticipantJoined",
    "ParticipantMuteChanged",
    "RemovePartyRequested",
    "ResumeRequested",
]


@dataclass(frozen=True, kw_only=True)
class HoldRequested:
    """Put the customer on hold. ``hold_id`` is chosen by the caller (a new unique id)."""

    hold_id: str
    by: str
    at: datetime
    reason: str | None = None
    music_url: str | None = None


@dataclass(frozen=True, kw_only=True)
class ResumeRequested:
    """Take the customer off hold."""

    by: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class MuteRequested:
    """Mute or unmute a conference participant."""

    call_sid: str
    muted: bool
    at: datetime


@dataclass(frozen=True, kw_only=True)
class AddPartyRequested:
    """Dial a third party into the conference."""

    to: str
    from_: str
    at: datetime
    label: str | None = None


@dataclass(frozen=True, kw_only=True)
class RemovePartyRequested:
    """Remove a participant from the conference."""

    call_sid: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class LegJoined:
    """A Twilio call became part of this call (the agent's dial, a third party, ...)."""

    call_sid: str
    role: LegRole
    status: LegStatus
    at: datetime
    parent_call_sid: str | None = None


@dataclass(frozen=True, kw_only=True)
class LegStatusChanged:
    """A call status callback (``CallStatus``, ``SequenceNumber``, ``Timestamp``).

    ``sequence_number`` is ``None`` when the status was learnt without one (then it must rank higher).
    """

    call_sid: str
    status: LegStatus
    sequence_number: int | None
    timestamp: datetime


@dataclass(frozen=True, kw_only=True)
class ParticipantHoldChanged:
    """Conference event ``participant-hold``/``participant-unhold`` (``SequenceNumber`` of the conference),
    or the participant JSON returned by a Participant update. ``conference_sid``: the conference it
    happened in (``None``: not known), so a late event of a call's earlier conference is told apart."""

    call_sid: str
    hold: bool
    sequence_number: int
    at: datetime
    conference_sid: str | None = None


@dataclass(frozen=True, kw_only=True)
class ParticipantMuteChanged:
    """Conference event ``participant-mute``/``participant-unmute`` (``conference_sid``: see
    :class:`ParticipantHoldChanged`)."""

    call_sid: str
    muted: bool
    sequence_number: int
    at: datetime
    conference_sid: str | None = None


@dataclass(frozen=True, kw_only=True)
class ConferenceStarted:
    """Conference event ``conference-start``."""

    conference_sid: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class ParticipantJoined:
    """Conference event ``participant-join`` of ``call_sid`` in the conference ``conference_sid``."""

    call_sid: str
    conference_sid: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class ConferenceFound:
    """Twilio's Conferences list shows the call's conference ``in-progress`` (started, not ended);
    ``at``: when callhold asked, so the conference had started by then."""

    conference_sid: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class ConferenceEnded:
    """Conference event ``conference-end``: ``reason`` is its ``ReasonConferenceEnded`` and
    ``ending_call_sid`` its ``CallSidEndingConference``, when Twilio sent them."""

    conference_sid: str
    at: datetime
    reason: str | None = None
    ending_call_sid: str | None = None


@dataclass(frozen=True, kw_only=True)
class DialActionReceived:
    """A ``<Dial>`` action request (or the ``<Redirect>`` after a ``<Dial>``) on ``call_sid``.

    The answer is in the decision's :class:`~callhold.domain.machine.ActionReply` effect. An interrupted
    ``<Dial>`` reports ``completed`` just like a hang-up (pitfalls 7 and 8): never a state change.
    ``call_status`` is the request's own ``CallStatus`` (the status of ``call_sid``, sent with every
    TwiML request), if it gave a known one.
    """

    call_sid: str
    dial_call_status: str
    at: datetime
    call_status: LegStatus | None = None


@dataclass(frozen=True, kw_only=True)
class EnqueueActionReceived:
    """An ``<Enqueue>`` action request (``QueueResult``) on ``call_sid``; answered like a dial action."""

    call_sid: str
    queue_result: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class LegsBridged:
    """The ``<Queue url>`` of a legs resume was requested: the customer is being bridged back."""

    hold_id: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class CommandSucceeded:
    """The service executed ``command`` and Twilio accepted it."""

    command: Command
    at: datetime


@dataclass(frozen=True, kw_only=True)
class CommandFailed:
    """Twilio refused ``command``. The service executes a decision's commands in order and stops at the
    first failure, so the commands after it were not executed."""

    command: Command
    error: TelephonyError
    at: datetime


@dataclass(frozen=True, kw_only=True)
class AgentReminderDue:
    """Timer: the agent's reminder time for this hold has come. Every instance may send it: the
    reminder is given once per hold (``Hold.agent_reminded_at``)."""

    hold_id: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class MaxHoldReached:
    """Timer: this hold has reached the maximum hold time (or a refused auto-resume is due for a
    retry). Every instance may send it: a duplicate is ignored (``Hold.max_hold_acted_at``)."""

    hold_id: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class HoldRecoveryDue:
    """Start-up (or periodic) sweep: this ``holding``/``resuming`` hold may have been left in flight by
    an instance that stopped between saving the hold and sending its commands. Acts only once the hold
    has been in that state longer than ``HoldPolicy.recovery_grace``."""

    hold_id: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class LegsFollowDue:
    """A legs hold moved its lead leg ``HoldTimings.follow_after`` seconds ago: if the customer's
    action has not put it in the hold's queue by now, redirect it there (``strategies.follow_step``)."""

    hold_id: str
    at: datetime


Event = (
    HoldRequested
    | ResumeRequested
    | MuteRequested
    | AddPartyRequested
    | RemovePartyRequested
    | LegJoined
    | LegStatusChanged
    | ParticipantHoldChanged
    | ParticipantMuteChanged
    | ConferenceStarted
    | ParticipantJoined
    | ConferenceFound
    | ConferenceEnded
    | DialActionReceived
    | EnqueueActionReceived
    | LegsBridged
    | CommandSucceeded
    | CommandFailed
    | AgentReminderDue
    | MaxHoldReached
    | HoldRecoveryDue
    | LegsFollowDue
)
"""Any event."""
