"""The Participants resource: add (dial out and join), fetch, list, update (hold, mute...), kick.

Every method validates everything first and raises :class:`~voicesim.conference_model.ConferenceError`
before changing anything (codes in :mod:`voicesim.conference_model`). Participants are found by Call
SID or label; only participants connecting or connected to a conference that has not completed
are returned (reference §1.4).

* Create (reference §1.2): the ``{ConferenceSid}`` may be a FriendlyName -- the active conference
  of that name, made if there is none; a SID must name an active conference. The call is placed
  with :func:`~voicesim.ringing.ring` honouring the phone scripts; when answered it joins with the
  given settings; when not, it leaves with ``participant_add_failed``. When it leaves the
  conference (end, kick) it hangs up (Q4); redirected through the Calls API it leaves
  (``participant_updated_via_api``) and runs the new TwiML. ``TimeLimit`` is the call's maximum
  duration, counted from its answer (:mod:`voicesim.calls`); reaching it hangs the call up, so the
  participant leaves with ``participant_hung_up``. Leniency, as for ``POST /Calls``
  (:mod:`voicesim.rest.calls`): ``From`` need not be one of the account's numbers (Twilio: 21210).
* Update (reference §1.1): hold is behaviour (:mod:`voicesim.conference_audio`); HoldMethod
  defaults to GET (Q6). Updating a participant that is not connected yet is 21220 (Q14).
* Delete: a kick (Q4); a dial-out still ringing is cancelled.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from voicesim.calls import DEFAULT_TIME_LIMIT, Call, HungUp, Redirected
from voicesim.conference_announcements import announce
from voicesim.conference_audio import HOLD, refresh, start_channel
from voicesim.conference_events import send_event
from voicesim.conference_model import (
    BEEP_VALUES,
    CONFERENCE_EVENTS,
    MAX_NAME_LENGTH,
    MAX_PARTICIPANTS,
    Conference,
    ConferenceError,
    Participant,
    check_label,
    check_method,
    check_url,
)
from voicesim.process import Wait
from voicesim.ringing import ring

if TYPE_CHECKING:
    from voicesim.conferences import Conferences
    from voicesim.emulator import Emulator

__all__ = ["CALL_EVENTS", "Participants"]

#: The call progress events a participant's own StatusCallback can subscribe to.
CALL_EVENTS = frozenset({"initiated", "ringing", "answered", "completed"})
_CONFERENCE_SID = re.compile(r"^CF[0-9a-fA-F]{32}$")
_PENDING_STATUS = {"queued": "queued", "ringing": "ringing", "in-progress": "connecting"}


def _not_found(what: str) -> ConferenceError:
    return ConferenceError(20404, f"The requested resource {what} was not found", 404)


class Participants:
    """The Participants of every conference (``emu.conferences.participants``)."""

    def __init__(self, conferences: Conferences, emu: Emulator) -> None:
        self._conferences = conferences
        self._emu = emu

    # -- lookups -----------------------------------------------------------------------------
    def _active_conference(self, conference_sid: str) -> Conference:
        conference = self._conferences.by_sid.get(conference_sid)
        if conference is None or not conference.is_active:
            raise _not_found(f"Conference {conference_sid}")
        return conference

    def _sync(self, participant: Participant) -> Participant:
        """A dial-out's status follows its call until it joins."""
        if participant.status in ("queued", "connecting", "ringing"):
            call = self._emu.calls.by_sid[participant.call_sid]
            participant.status = _PENDING_STATUS.get(call.status, participant.status)
        return participant

    def get(self, conference_sid: str, key: str) -> Participant:
        """The current participant with Call SID or label ``key``; 20404 if there is none."""
        participant = self._active_conference(conference_sid).find(key)
        if participant is None:
            raise _not_found(f"Participant {key}")
        return self._sync(participant)

    def list(
        self,
        conference_sid: str,
        *,
        muted: bool | None = None,
        hold: bool | None = None,
        coaching: bool | None = None,
    ) -> list[Participant]:
        """Current participants, in the order they came; none once the conference completed."""
        conference = self._conferences.by_sid.get(conference_sid)
        if conference is None:
            raise _not_found(f"Conference {conference_sid}")
        return [
            self._sync(p)
            for p in conference.participants.values()
            if (muted is None or p.muted == muted)
            and (hold is None or p.hold == hold)
            and (coaching is None or p.coaching == coaching)
        ]

    # -- create ------------------------------------------------------------------------------
    def create(
        self,
        conference: str,
        *,
        from_: str | None,
        to: str | None,
        label: str | None = None,
        timeout: int = 60,
        muted: bool = False,
        beep: str = "true",
        start_conference_on_enter: bool = True,
        end_conference_on_exit: bool = False,
        wait_url: str | None = None,
        wait_method: str | None = None,
        early_media: bool = True,
        max_participants: int = MAX_PARTICIPANTS,
        status_callback: str | None = None,
        status_callback_method: str | None = None,
        status_callback_event: Sequence[str] = ("completed",),
        conference_status_callback: str | None = None,
        conference_status_callback_method: str | None = None,
        conference_status_callback_event: Sequence[str] = ("start", "end"),
        coaching: bool | None = None,
        call_sid_to_coach: str | None = None,
        caller_id: str | None = None,
        time_limit: int | None = None,
    ) -> Participant:
        """Dial ``to`` and add it to ``conference`` (a CF SID or a FriendlyName); status ``queued``."""
        if not to:
            raise ConferenceError(21201, "No 'To' number is specified")
        if not from_:
            raise ConferenceError(21213, "No 'From' number is specified")
        if not 5 <= timeout <= 600:
            raise ConferenceError(21208, f"Timeout must be between 5 and 600, not {timeout}")
        if beep not in BEEP_VALUES:
            raise ConferenceError(20001, f"Beep must be one of {', '.join(BEEP_VALUES)}, not {beep!r}")
        if not 2 <= max_participants <= MAX_PARTICIPANTS:
            raise ConferenceError(20001, f"MaxParticipants must be between 2 and 250, not {max_participants}")
        if time_limit is not None and time_limit < 1:
            raise ConferenceError(13216, f"TimeLimit must be positive, not {time_limit}")
        check_url("StatusCallback", status_callback)
        check_url("WaitUrl", wait_url, allow_empty=True)
        check_url("ConferenceStatusCallback", conference_status_callback)
        call_method = check_method("StatusCallbackMethod", status_callback_method) or "POST"
        wait = check_method("WaitMethod", wait_method) or "POST"
        conference_method = check_method("ConferenceStatusCallbackMethod", conference_status_callback_method)
        check_label(label)
        if coaching and call_sid_to_coach is None:
            raise ConferenceError(20001, "CallSidToCoach is required when Coaching is true")
        existing = self._resolve(conference)
        if existing is not None:
            if label is not None and label in existing.labels:
                raise ConferenceError(16025, f"Participant label {label!r} is already in use")
            if len(existing.participants) >= existing.max_participants:
                raise ConferenceError(16020, f"Conference {existing.sid} is full")
        if call_sid_to_coach is not None:
            self._check_coach(existing, call_sid_to_coach)
        # Everything is valid: from here on, change things.
        emu = self._emu
        target = existing if existing is not None else self._conferences.open(conference)
        call = emu.calls.create(
            to=to,
            from_=caller_id or from_,
            direction="outbound-api",
            timeout=timeout,
            time_limit=time_limit or DEFAULT_TIME_LIMIT,
            status_callback=status_callback,
            status_callback_method=call_method,
            # A malformed event list is accepted and subscribes to nothing (reference §8.11).
            status_callback_events=frozenset(e for e in status_callback_event if e in CALL_EVENTS),
        )
        participant = self._conferences.admit(
            target,
            call,
            status_callback=conference_status_callback,
            status_callback_method=conference_method or "POST",
            status_callback_events=frozenset(
                e for e in conference_status_callback_event if e in CONFERENCE_EVENTS
            ),
            max_participants=max_participants,
            label=label,
            muted=muted,
            beep=beep,
            start_conference_on_enter=start_conference_on_enter,
            end_conference_on_exit=end_conference_on_exit,
            wait_url=wait_url,
            wait_method=wait,
            coaching=bool(coaching) or (coaching is None and call_sid_to_coach is not None),
            call_sid_to_coach=call_sid_to_coach,
            status="queued",
            queue_time="0",
            from_api=True,
        )
        emu.log("conference.participant-created", conference_sid=target.sid, call_sid=call.sid, to=to)
        emu.spawn(call, self._dial_out(participant, call), f"participant:{call.sid}")
        return participant

    def _resolve(self, conference: str) -> Conference | None:
        """The conference a create request names: an active SID, or a name (None: make it)."""
        if _CONFERENCE_SID.match(conference):
            return self._active_conference(conference)
        if not conference or len(conference) > MAX_NAME_LENGTH:
            raise ConferenceError(20001, "A conference FriendlyName is 1 to 128 characters")
        return self._conferences.active(conference)

    def _check_coach(self, conference: Conference | None, call_sid: str, itself: str | None = None) -> None:
        coached = conference.participants.get(call_sid) if conference is not None else None
        if coached is None or coached.status != "connected" or call_sid == itself:
            raise ConferenceError(16028, f"Participant to be coached ({call_sid}) is not in the conference")
        if coached.hold:
            raise ConferenceError(16027, f"Participant to be coached ({call_sid}) is on hold")

    async def _dial_out(self, participant: Participant, call: Call) -> None:
        """The participant's call: ring, join, stay until the conference or the kick ends it."""
        from voicesim.twiml.interpreter import run_call

        emu, conferences = self._emu, self._conferences
        try:
            outcome = await ring(emu, call, call.timeout)
        except HungUp:
            outcome = call.status
        except Redirected as redirect:
            conferences.leave(participant, "participant_updated_via_api")
            await run_call(emu, call, redirect.source)
            return
        if outcome != "answered":
            conferences.leave(participant, "participant_add_failed")
            return
        if not participant.is_active:  # the conference ended while it rang
            emu.calls.complete(call, "completed", by="conference")
            return
        conferences.connect(participant)
        try:
            await Wait(participant.left)
        except HungUp:
            conferences.leave(participant, "participant_hung_up")
            return
        except Redirected as redirect:
            conferences.leave(participant, "participant_updated_via_api")
            await run_call(emu, call, redirect.source)
            return
        emu.calls.complete(call, "completed", by="conference")  # no TwiML after the conference (Q4)

    # -- update ------------------------------------------------------------------------------
    def update(
        self,
        conference_sid: str,
        key: str,
        *,
        muted: bool | None = None,
        hold: bool | None = None,
        hold_url: str | None = None,
        hold_method: str | None = None,
        announce_url: str | None = None,
        announce_method: str | None = None,
        wait_url: str | None = None,
        wait_method: str | None = None,
        beep_on_exit: bool | None = None,
        end_conference_on_exit: bool | None = None,
        coaching: bool | None = None,
        call_sid_to_coach: str | None = None,
    ) -> Participant:
        """Hold/unhold, mute/unmute, announce to, or modify a connected participant."""
        conference = self._active_conference(conference_sid)
        participant = self.get(conference_sid, key)
        check_url("HoldUrl", hold_url)
        check_url("AnnounceUrl", announce_url)
        check_url("WaitUrl", wait_url, allow_empty=True)
        hold_with = check_method("HoldMethod", hold_method) or "GET"  # Q6: the current spec says GET
        announce_with = check_method("AnnounceMethod", announce_method) or "POST"
        wait_with = check_method("WaitMethod", wait_method)
        if participant.status != "connected":  # Q14: chosen, sources silent
            raise ConferenceError(
                21220, f"Participant {participant.call_sid} is {participant.status}, not connected"
            )
        if coaching and call_sid_to_coach is None and participant.call_sid_to_coach is None:
            raise ConferenceError(20001, "CallSidToCoach is required when Coaching is true")
        if call_sid_to_coach is not None:
            self._check_coach(conference, call_sid_to_coach, itself=participant.call_sid)
        # Everything is valid: from here on, change things.
        emu, now = self._emu, self._emu.clock.now()
        events: list[str] = []
        if muted is not None and muted != participant.muted:
            participant.muted = muted
            events.append("participant-mute" if muted else "participant-unmute")
        if hold and (not participant.hold or hold_url is not None):
            was_held = participant.hold
            self._hold(participant, hold_url, hold_with)
            participant.hold = True
            if not was_held:
                events.append("participant-hold")
        elif hold is False and participant.hold:
            if participant.held is not None:
                participant.held.stop()
            participant.held, participant.hold = None, False
            events.append("participant-unhold")
        modified = False
        if wait_url is not None or wait_with is not None:
            participant.wait_url = participant.wait_url if wait_url is None else wait_url
            participant.wait_method = wait_with or participant.wait_method
            self._conferences.restart_wait(participant)
            modified = True
        if beep_on_exit is not None:
            participant.beep_on_exit, modified = beep_on_exit, True
        if end_conference_on_exit is not None:
            participant.end_conference_on_exit, modified = end_conference_on_exit, True
        if call_sid_to_coach is not None:
            participant.call_sid_to_coach, participant.coaching, modified = call_sid_to_coach, True, True
        if coaching is not None:
            participant.coaching, modified = coaching, True
            if not coaching:
                participant.call_sid_to_coach = None
        participant.date_updated = now
        refresh(emu, conference, participant)
        emu.log(
            "conference.participant-updated", conference_sid=conference.sid, call_sid=participant.call_sid
        )
        for event in events:
            send_event(emu, conference, event, participant)
        if modified:
            send_event(emu, conference, "participant-modify", participant)
        if announce_url is not None:
            announce(emu, conference, participant, announce_url, announce_with)
        return participant

    def _hold(self, participant: Participant, hold_url: str | None, method: str) -> None:
        """Start (or restart, with a new HoldUrl) the participant's hold audio."""
        emu, conference = self._emu, participant.conference
        if participant.held is not None:
            participant.held.stop()
        participant.held = start_channel(
            emu,
            emu.calls.by_sid[participant.call_sid],
            url=hold_url,
            method=method,
            context="hold",
            label=HOLD,
            on_change=lambda: refresh(emu, conference, participant),
            purpose="hold",
        )

    # -- delete ------------------------------------------------------------------------------
    def delete(self, conference_sid: str, key: str) -> None:
        """Kick the participant (Q4); a dial-out still ringing is cancelled."""
        participant = self.get(conference_sid, key)
        if participant.status != "connected":
            call = self._emu.calls.by_sid[participant.call_sid]
            self._emu.calls.complete(call, "canceled", by="api")
        self._emu.log(
            "conference.participant-kicked", conference_sid=conference_sid, call_sid=participant.call_sid
        )
        self._conferences.leave(participant, "participant_updated_via_api", kicked=True)
