"""Use cases: load the call under a lock, let the domain decide, save, then act.

Every change goes through :meth:`CallService.handle`: the store locks the call, ``decide`` returns
the new state with the commands for Twilio, the state is committed, then the commands run one by
one. Each command's outcome goes back through ``decide`` (``CommandSucceeded`` /
``CommandFailed``), so a failure in the middle of a two-step legs hold (the customer's fallback
redirect, ``domain.strategies``) is compensated by the domain's own rules, and a record is never
half-applied.

Twilio refusing a command never raises out of :meth:`CallService.handle` (webhooks and timers rely
on that). The API use cases (mute, parties; hold and resume with ``raise_on_failure``) raise the
first refusal as a :class:`TelephonyError` -- after the domain has processed it -- so the caller
learns that Twilio said no, and why (Twilio's code).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from callhold.availability import AgentAvailability
from callhold.desk import AgentDesk
from callhold.dispatch import WaitingDispatch
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
from callhold.domain.effects import AgentDroppedLate, AgentLeft, AgentMissed, ArmHoldTimers, DisarmHoldTimers
from callhold.domain.errors import ConferenceNotStarted, Forbidden, NotFound, TelephonyError
from callhold.domain.machine import Decision, decide
from callhold.domain.model import CallView, Hold, HoldEndReason, HoldState, LegRole, LegStatus, Strategy
from callhold.domain.policies import HoldPolicy
from callhold.domain.ports import Clock, HoldStore, Telephony
from callhold.handovers import HandoverRecovery
from callhold.hold_queues import HoldQueues
from callhold.hold_timers import HoldTimers, HoldTimings
from callhold.outbound import OUTBOUND_TWIML_PATH, OutboundCalls
from callhold.placements import PlacementRecovery
from callhold.timers import TimerHandle, Timers

__all__ = ["OUTBOUND_TWIML_PATH", "WAITING_QUEUE", "CallService", "HoldTimings"]

_log = logging.getLogger("callhold.service")

#: The queue customers wait in when no agent is free (and, with the requeue policy, go back to).
WAITING_QUEUE = "callhold-waiting"


CALLBACK_RETENTION = timedelta(days=1)
"""How long a callback's key is kept to recognise a retried delivery (Twilio retries within
minutes; the domain's own ordering rules make a later duplicate harmless anyway)."""

RECENT_CALLBACKS = 4096
"""How many callback keys this process remembers as committed, to answer a duplicate without the
database (Twilio retries a callback that timed out, so duplicates come in bursts when callhold is
slow -- when the database can least spare a transaction per duplicate)."""


class CallService(
    AgentDesk,
    AgentAvailability,
    OutboundCalls,
    HoldTimers,
    WaitingDispatch,
    HandoverRecovery,
    PlacementRecovery,
    HoldQueues,
):
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
        self._recovery_checks: dict[str, tuple[datetime, TimerHandle]] = {}
        self._follow_checked: set[str] = set()
        self._follow_timers: dict[str, list[TimerHandle]] = {}
        self._recent_callbacks: dict[str, None] = {}  # insertion-ordered: the oldest goes first
        self._waiting_seen: dict[str, tuple[object, ...]] = {}  # the last sweep's waiting calls
        self._stranded_seen: set[str] = set()  # the last sweep's agents left busy with no call
        self._queues_released_at: datetime | None = None  # this instance's last hold-queue release
        self._queues_page: str | None = None  # the Queues list page its next release reads
        if self.policy.max_hold_retry_after > timedelta(seconds=self.timings.retry_after):
            # the domain would take the retry for a duplicate, and nothing would re-arm it
            raise ValueError(
                "HoldTimings.retry_after must not be shorter than HoldPolicy.max_hold_retry_after"
            )

    # -- the one way state changes ------------------------------------------------------------
    async def handle(self, call_id: str, event: ev.Event) -> Decision:
        """Decide ``event`` for the call, commit, apply effects, run the commands.

        A command Twilio refuses is fed back to the domain (``CommandFailed``), never raised.
        """
        decision, _, _ = await self._handle(call_id, event)
        return decision

    async def handle_once(
        self, key: str, ref: str, event: ev.Event, *, conference: bool = False
    ) -> Decision | None:
        """:meth:`handle` for a callback Twilio may deliver more than once: its ``key`` is recorded
        in the decision's own transaction, and a duplicate is ``None`` with nothing done. ``ref``: a
        call id or leg SID, or with ``conference`` a Conference SID or friendly name (``NotFound``,
        with nothing recorded, if no call matches).

        A key this process saw committed is a duplicate without asking the database (the last
        :data:`RECENT_CALLBACKS` keys); any other goes to the store, which is the authority (another
        instance may have recorded it).
        """
        recent = self._recent_callbacks
        if key in recent:
            return None
        decision = self.store.transact_once(
            key, self.clock.now(), ref, lambda view: decide(view, event, self.policy), conference=conference
        )
        recent[key] = None  # committed: recorded now, or found recorded before
        if len(recent) > RECENT_CALLBACKS:
            del recent[next(iter(recent))]
        if decision is None:
            return None
        await self._follow(decision)
        return decision

    async def _follow(self, decision: Decision) -> tuple[TelephonyError | None, CallView]:
        """After a decision is committed: its effects, its commands (each outcome decided in turn);
        the first refusal, and the call as the last transaction left it."""
        call_id = decision.new_state.call.id
        self._apply_effects(call_id, decision)
        self._watch_progress(call_id, decision.new_state.hold)
        failure, last = await self._execute(call_id, decision.commands)
        return failure, last or decision.new_state

    async def _handle(
        self, call_id: str, event: ev.Event, *, check: Callable[[CallView], None] | None = None
    ) -> tuple[Decision, TelephonyError | None, CallView]:
        """:meth:`handle`, also returning the first refusal of the decision's commands (if any) and
        the call as the last transaction of the chain left it (no read-back needed).

        ``call_id`` may be the SID of one of the call's legs (resolved under the lock); ``check``
        runs on the locked view before deciding (authorization: raising writes nothing).
        """

        def run(view: CallView) -> Decision:
            if check is not None:
                check(view)
            return decide(view, event, self.policy)

        decision = self.store.transact(call_id, run)
        failure, last = await self._follow(decision)
        return decision, failure, last

    async def _execute(
        self, call_id: str, commands: tuple[Command, ...]
    ) -> tuple[TelephonyError | None, CallView | None]:
        """Run ``commands`` in order; at the first refusal, let the domain handle it and return it.
        Also returns the call as the last transaction left it (``None``: no commands)."""
        last: CallView | None = None
        for command in commands:
            try:
                created = await self._run(command)
            except TelephonyError as exc:
                _log.warning("command %s failed: %r", type(command).__name__, exc)
                failed = ev.CommandFailed(command=command, error=exc, at=self.clock.now())
                _, _, last = await self._handle(call_id, failed)
                return exc, last
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
            succeeded = ev.CommandSucceeded(command=command, at=self.clock.now())
            _, _, last = await self._handle(call_id, succeeded)
        return None, last

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
                self._arm(call_id, effect.hold_id, effect.started_at, follow_check=effect.follow_check)
            elif isinstance(effect, DisarmHoldTimers):
                for handle in self._timers.pop(effect.hold_id, []):
                    handle.cancel()
            elif isinstance(effect, AgentMissed):
                _log.info(
                    "agent %s never answered call %s (%s)", effect.agent_id, effect.call_id, effect.outcome
                )
            elif isinstance(effect, AgentDroppedLate):
                _log.info("agent %s had dropped out of a hold of call %s", effect.agent_id, effect.call_id)
            elif isinstance(effect, AgentLeft):
                _log.info("agent %s left call %s (%s)", effect.agent_id, effect.call_id, effect.policy.value)

    def prune_callbacks(self) -> int:
        """Forget callback keys older than :data:`CALLBACK_RETENTION`; returns how many."""
        return self.store.prune_callbacks(self.clock.now() - CALLBACK_RETENTION)

    # -- reading -----------------------------------------------------------------------------
    def view(self, ref: str) -> CallView:
        """The call with id ``ref`` or with a leg whose SID is ``ref``."""
        call_id = self.store.resolve(ref)
        if call_id is None:
            raise NotFound("call", ref)
        return self.store.load_view(call_id)

    def authorize(self, view: CallView, agent_id: str | None) -> None:
        """An agent may act only on its own calls (``agent_id`` None: the admin)."""
        if agent_id is not None and view.call.agent_id != agent_id:
            raise Forbidden(f"call {view.call.id} is not handled by agent {agent_id}")

    # -- API use cases -----------------------------------------------------------------------
    async def _request(
        self, ref: str, agent_id: str | None, event: Callable[[], ev.Event]
    ) -> tuple[CallView, TelephonyError | None]:
        """Handle ``event()`` for the call ``ref`` (call id or leg SID) on behalf of ``agent_id``: the
        call afterwards, and the first command Twilio refused (already processed by the domain), if
        any. The reference is resolved and the agent authorized under the call's lock, in the same
        transaction as the decision. A request refused as ``ConferenceNotStarted`` is decided again
        if Twilio shows the conference started after all (:meth:`find_conference`)."""

        def check(view: CallView) -> None:
            self.authorize(view, agent_id)

        try:
            _, failure, view = await self._handle(ref, event(), check=check)
        except ConferenceNotStarted:
            if not await self.find_conference(ref):  # its start may have been missed: ask Twilio
                raise
            _, failure, view = await self._handle(ref, event(), check=check)
        return view, failure

    async def hold(
        self,
        ref: str,
        *,
        by: str,
        agent_id: str | None,
        reason: str | None = None,
        music_url: str | None = None,
        raise_on_failure: bool = False,
    ) -> CallView:
        """Put the customer on hold (idempotent: a second hold reports the current one).

        If Twilio refuses a step, the domain undoes what was done (the hold ends
        ``failed_compensated``); with ``raise_on_failure`` the refusal is then raised as a
        ``TelephonyError`` saying what became of the hold, instead of returning the call.
        """
        view, failure = await self._request(
            ref,
            agent_id,
            lambda: ev.HoldRequested(
                hold_id=self._new_id(), by=by, at=self.clock.now(), reason=reason, music_url=music_url
            ),
        )
        if failure is not None and raise_on_failure and not _reached(failure, view.hold, holding=True):
            raise _refused(failure, f"the hold of call {view.call.id} {_outcome(view.hold, holding=True)}")
        return view

    async def resume(
        self, ref: str, *, by: str, agent_id: str | None, raise_on_failure: bool = False
    ) -> CallView:
        """Bring the customer back (409 ``NotHeld`` when not on hold). If Twilio refuses, the customer
        stays on hold (resume can be retried); ``raise_on_failure`` raises the refusal."""
        view, failure = await self._request(
            ref, agent_id, lambda: ev.ResumeRequested(by=by, at=self.clock.now())
        )
        if failure is not None and raise_on_failure and not _reached(failure, view.hold, holding=False):
            raise _refused(failure, f"the resume of call {view.call.id} {_outcome(view.hold, holding=False)}")
        return view

    async def mute(self, ref: str, call_sid: str, muted: bool, *, agent_id: str | None) -> CallView:
        """Mute or unmute one participant (conference strategy); ``TelephonyError`` if Twilio refuses."""
        view, failure = await self._request(
            ref, agent_id, lambda: ev.MuteRequested(call_sid=call_sid, muted=muted, at=self.clock.now())
        )
        if failure is not None:
            verb = "mute" if muted else "unmute"
            raise _refused(failure, _attempt(failure, f"{verb} {call_sid} in call {view.call.id}"))
        return view

    async def add_party(self, ref: str, to: str, *, label: str | None, agent_id: str | None) -> CallView:
        """Dial a third party into the conference; ``TelephonyError`` if Twilio refuses."""
        view, failure = await self._request(
            ref,
            agent_id,
            lambda: ev.AddPartyRequested(to=to, from_=self.caller_id, at=self.clock.now(), label=label),
        )
        if failure is not None:
            raise _refused(failure, _attempt(failure, f"dial {to} into call {view.call.id}"))
        return view

    async def remove_party(self, ref: str, call_sid: str, *, agent_id: str | None) -> CallView:
        """Remove (kick) a participant; ``TelephonyError`` if Twilio refuses."""
        view, failure = await self._request(
            ref, agent_id, lambda: ev.RemovePartyRequested(call_sid=call_sid, at=self.clock.now())
        )
        if failure is not None:
            raise _refused(failure, _attempt(failure, f"remove {call_sid} from call {view.call.id}"))
        return view


def _refused(failure: TelephonyError, what: str) -> TelephonyError:
    """``failure`` (Twilio's code and status kept) told as what it did to the request."""
    error = TelephonyError(
        f"{what}: {failure.message}", code=failure.code, status=failure.status, uncertain=failure.uncertain
    )
    error.__cause__ = failure
    return error


def _attempt(failure: TelephonyError, action: str) -> str:
    """What became of ``action`` ("dial ... into call ..."): "could not" after a refusal, "tried to"
    when Twilio may have carried it out (``uncertain``: no answer, or a 5xx)."""
    return f"tried to {action}" if failure.uncertain else f"could not {action}"


def _reached(failure: TelephonyError, hold: Hold | None, *, holding: bool) -> bool:
    """Whether a hold (``holding``) or resume got where it was going despite ``failure``: Twilio's
    answer was lost (``uncertain``), but its events (the participant's hold or unhold, the legs'
    bridge) arrived first and confirmed it."""
    if not failure.uncertain or hold is None:
        return False
    if holding:
        return hold.state is HoldState.HELD
    return hold.state is HoldState.ENDED and hold.end_reason is HoldEndReason.RESUMED


def _outcome(hold: Hold | None, *, holding: bool) -> str:
    """What became of a hold (``holding``) or resume Twilio refused, for the error's message."""
    if hold is None:
        return "failed"
    if hold.state is HoldState.ENDED:
        if hold.end_reason is HoldEndReason.FAILED_COMPENSATED:
            return "failed and was undone"
        return f"failed; the hold ended ({hold.end_reason})"
    if holding and hold.state is HoldState.RESUMING:
        return "failed and is being undone"
    if hold.state is HoldState.HOLDING:
        return "is not confirmed: it stays holding, and is sent again after the recovery grace"
    if not holding and hold.state is HoldState.RESUMING:
        return "is not confirmed: it stays resuming, and is sent again after the recovery grace"
    if not holding and hold.state is HoldState.HELD:
        return "failed; the customer is still on hold (resume can be retried)"
    return f"failed; the hold is {hold.state}"
