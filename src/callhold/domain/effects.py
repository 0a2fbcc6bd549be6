"""Effects of a decision other than commands to Twilio: timers, webhook replies, notes for the service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from callhold.domain.commands import Command
from callhold.domain.errors import TelephonyError
from callhold.domain.policies import AgentHangupPolicy

__all__ = [
    "ActionReply",
    "AgentDroppedLate",
    "AgentLeft",
    "AgentMissed",
    "ArmHoldTimers",
    "Compensating",
    "DisarmHoldTimers",
    "Effect",
    "Ignored",
    "away_agent",
    "stranded_agent",
]


@dataclass(frozen=True, kw_only=True)
class ArmHoldTimers:
    """The hold is held: schedule the agent reminder and the maximum hold time, counted from
    ``started_at`` (re-arming after a failed resume keeps the original deadlines; a maximum hold
    already past is retried no sooner than ``HoldPolicy.max_hold_retry_after`` from now, earlier
    ``MaxHoldReached`` events being ignored as duplicates)."""

    hold_id: str
    started_at: datetime
    follow_check: bool = False
    """Also check, ``HoldTimings.follow_after`` seconds after ``started_at``, that a legs customer
    has followed its action into the hold's queue (``LegsFollowDue``)."""


@dataclass(frozen=True, kw_only=True)
class DisarmHoldTimers:
    """Cancel the hold's timers (it is resuming or has ended)."""

    hold_id: str


@dataclass(frozen=True, kw_only=True)
class ActionReply:
    """How to answer the ``<Dial>``/``<Enqueue>`` action webhook: the TwiML at ``twiml_path`` (render it,
    or ``<Redirect>`` to it), or ``<Hangup/>`` when ``twiml_path`` is ``None``."""

    twiml_path: str | None


@dataclass(frozen=True, kw_only=True)
class AgentLeft:
    """The agent went away during a hold; the customer is being told (then requeued or hung up).
    ``dropped``: the agent's own leg ended (not the whole call): the agent is made away."""

    call_id: str
    agent_id: str | None
    policy: AgentHangupPolicy
    dropped: bool = True


@dataclass(frozen=True, kw_only=True)
class AgentDroppedLate:
    """Twilio said the agent dropped out of a hold after the hold had ended for another reason (its
    word came after the customer's ``<Dial>`` action): the agent is made away only if it is still as
    that end left it -- unavailable, not away, placing no call and on no active call -- not if it set
    itself available, or was handed a call, since. Applied by the store (:func:`stranded_agent`)."""

    call_id: str
    agent_id: str


@dataclass(frozen=True, kw_only=True)
class AgentMissed:
    """The agent never answered (busy, no answer, failed): the call has no agent again and the
    customer is being connected to the next one (or waits in line). The agent stays unavailable."""

    call_id: str
    agent_id: str | None
    outcome: str


@dataclass(frozen=True, kw_only=True)
class Compensating:
    """A hold command failed; the hold is being undone (the hold request should report the error)."""

    hold_id: str
    command: Command
    error: TelephonyError


@dataclass(frozen=True, kw_only=True)
class Ignored:
    """The event changed nothing (duplicate, out of order, stale, unknown)."""

    reason: str


def away_agent(effect: object) -> str | None:
    """The agent ``effect`` makes away -- one that never answered, or dropped out of a hold: its phone,
    client or line is likely not there -- or ``None``. The store applies it in the decision's own
    transaction, so such an agent is never left unavailable, not away, with no call."""
    if isinstance(effect, AgentMissed) or (isinstance(effect, AgentLeft) and effect.dropped):
        return effect.agent_id
    return None


def stranded_agent(effect: object) -> str | None:
    """The agent ``effect`` makes away if it is still stranded (:class:`AgentDroppedLate`), or ``None``."""
    return effect.agent_id if isinstance(effect, AgentDroppedLate) else None


Effect = (
    ArmHoldTimers
    | DisarmHoldTimers
    | ActionReply
    | AgentLeft
    | AgentDroppedLate
    | AgentMissed
    | Compensating
    | Ignored
)
"""Any effect."""
