"""The hold policies: what callhold does when an agent hangs up during a hold, at the maximum hold
time, and how long it waits before recovering a hold left in flight (:class:`HoldPolicy`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from callhold.domain.errors import Invalid
from callhold.domain.model import Hold

__all__ = ["AgentHangupPolicy", "HoldPolicy", "MaxHoldPolicy"]


class AgentHangupPolicy(StrEnum):
    """What happens to a held customer whose agent hangs up: back to the waiting queue, or a goodbye."""

    REQUEUE = "requeue"
    HANGUP = "hangup"


class MaxHoldPolicy(StrEnum):
    """What the maximum hold time triggers: resume on its own, or announce it to the agent."""

    AUTO_RESUME = "auto_resume"
    ANNOUNCE = "announce"


@dataclass(frozen=True, kw_only=True)
class HoldPolicy:
    """The configurable parts of the hold rules.

    ``max_hold_retry_after``: a ``MaxHoldReached`` sooner than this after the maximum-hold action is a
    duplicate (another instance's timer, a restart catching up); a refused auto-resume is retried by a
    later one (the service's ``HoldTimings.retry_after`` must not be shorter). ``recovery_grace``: how
    long a hold stays ``holding``/``resuming`` before ``HoldRecoveryDue`` re-sends its commands:
    longer than any Twilio call, so a hold in flight elsewhere is left alone. A recovery that does not
    move the hold on is followed by the next after a wait that doubles, up to
    ``recovery_backoff_max`` (:meth:`recovery_due`).
    """

    agent_hangup: AgentHangupPolicy = AgentHangupPolicy.REQUEUE
    max_hold: MaxHoldPolicy = MaxHoldPolicy.AUTO_RESUME
    max_hold_retry_after: timedelta = timedelta(seconds=30)
    recovery_grace: timedelta = timedelta(seconds=30)
    recovery_backoff_max: timedelta = timedelta(minutes=2)

    def recovery_due(self, hold: Hold) -> datetime:
        """When ``HoldRecoveryDue`` may re-send the commands of ``hold`` (``holding``/``resuming``).

        The grace after callhold last issued them; after a recovery, as long again as the hold has
        been in its state (30 s, 30 s, 60 s, then every ``recovery_backoff_max``: 2 minutes), so a
        Twilio outage or a step Twilio keeps refusing is not met with a request per held call every
        30 s, while a party waiting on it waits at most that long once Twilio answers again.
        Computed from the hold alone, so every instance agrees on it.
        """
        waited = hold.last_progress_at - hold.in_state_since
        return hold.last_progress_at + min(max(self.recovery_grace, waited), self.recovery_backoff_max)

    def __post_init__(self) -> None:
        if self.max_hold_retry_after <= timedelta(0) or self.recovery_grace <= timedelta(0):
            raise Invalid("max_hold_retry_after and recovery_grace must be positive")
        if self.recovery_backoff_max < self.recovery_grace:
            raise Invalid("recovery_backoff_max must be at least recovery_grace")
