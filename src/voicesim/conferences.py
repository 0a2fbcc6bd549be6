"""Conferences: ``<Dial><Conference>``, the Conference resource, and each conference's life.

A conference is made by its first participant (a ``<Dial><Conference>`` or ``POST
/Participants`` with a FriendlyName) and is ``init`` until at least two participants are
connected and one of them has ``startConferenceOnEnter``; then ``in-progress``. It ends
(``completed``) when the last participant leaves, when one with ``endConferenceOnExit`` leaves, or
through the API (reference §2.2). Each remaining participant's ``<Dial>`` then ends and its call
continues: the action with ``DialCallStatus=answered`` (no DialCallSid/DialCallDuration), else the
next verb, else hang-up. What participants hear lives in :mod:`voicesim.conference_audio`; the
Participants resource in :mod:`voicesim.conference_participants`; ``<Dial><Conference>`` (how a
call joins and leaves, ``hangupOnStar``, ``timeLimit``, an interrupted Dial) in
:mod:`voicesim.conference_dial`.

Choices where the sources are silent:

* Q4 -- a kicked participant's ``<Dial>`` ends like a conference end; an API-created participant
  hangs up. ReasonParticipantLeft for a kick is ``participant_updated_via_api``.
* A waitUrl that cannot be fetched (11xxx) means the participant is not added (reference §8.10):
  it leaves with ``participant_add_failed`` and its ``<Dial>`` ends with ``DialCallStatus=failed``.
  Bad waitUrl TwiML (13238, 12100, ...) is recorded and plays silence.
* The first participant fixes statusCallback, its method and events (default ``start end``, as
  for the API), and maxParticipants. A conference ends when no participant is left, counting
  dial-outs still ringing; ringing dial-outs are cancelled when it ends.
* ``beep``: everyone in the mix (not a held participant) hears a 0.5 s "beep" segment when a
  participant with ``true``/``onEnter`` enters and one with ``true``/``onExit`` (and BeepOnExit)
  leaves; the duration is voicesim's choice.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from voicesim.calls import Call, Source
from voicesim.conference_announcements import announce
from voicesim.conference_audio import WAIT, Channel, refresh, start_channel, stop_channels
from voicesim.conference_events import send_event
from voicesim.conference_model import Conference, ConferenceError, Participant, check_method, check_url
from voicesim.media import Audio
from voicesim.process import Signal

if TYPE_CHECKING:
    from voicesim.emulator import Emulator
    from voicesim.twiml.interpreter import Session
    from voicesim.twiml.verbs import Conference as ConferenceNoun
    from voicesim.twiml.verbs import Dial, Verb

__all__ = ["Conferences"]

#: How long the entry/exit beep lasts (chosen; Twilio does not document it).
BEEP_SECONDS = 0.5

#: ReasonParticipantLeft for a participant that was never added (its waitUrl failed, say).
ADD_FAILED = "participant_add_failed"
#: Webhook failures (not TwiML errors) that stop a participant from being added (reference §8.10).
_FETCH_FAILURES = frozenset({11100, 11200, 11205, 11206, 11210, 11215})
_END_TEXT = {
    "conference-ended-via-api": "Conference ended via API",
    "participant-with-end-conference-on-exit-left": "Participant with endConferenceOnExit left",
    "participant-with-end-conference-on-exit-kicked": "Participant with endConferenceOnExit was kicked",
    "last-participant-left": "Last participant left the conference",
    "last-participant-kicked": "Last participant was kicked from the conference",
}


class Conferences:
    """Every conference of the emulator; ``participants`` is the Participants resource."""

    def __init__(self, emu: Emulator) -> None:
        from voicesim.conference_participants import Participants

        self._emu = emu
        self.by_sid: dict[str, Conference] = {}
        self._active: dict[str, Conference] = {}
        self.participants = Participants(self, emu)

    # -- the Conference resource -------------------------------------------------------------
    def get(self, sid: str) -> Conference:
        """The conference ``sid``; 20404 if unknown."""
        conference = self.by_sid.get(sid)
        if conference is None:
            raise ConferenceError(20404, f"The requested resource Conference {sid} was not found", 404)
        return conference

    def active(self, friendly_name: str) -> Conference | None:
        """The conference named ``friendly_name`` that has not completed, if any."""
        return self._active.get(friendly_name)

    def list(
        self,
        *,
        friendly_name: str | None = None,
        status: str | None = None,
        date_created: date | None = None,
        date_created_before: date | None = None,
        date_created_after: date | None = None,
        date_updated: date | None = None,
        date_updated_before: date | None = None,
        date_updated_after: date | None = None,
    ) -> list[Conference]:
        """Conferences matching every filter given, newest first.

        ``date_created`` is that whole UTC day; ``_before`` is "on or before midnight of this date"
        and ``_after`` "on or after midnight of this date" (the OAI spec's words for
        ``DateCreated<=``/``DateCreated>=``): nothing created later on the ``_before`` day matches.
        """

        def midnight(d: date) -> float:
            return datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()

        def within(when: float, on: date | None, before: date | None, after: date | None) -> bool:
            return (
                (on is None or datetime.fromtimestamp(when, UTC).date() == on)
                and (before is None or when <= midnight(before))
                and (after is None or when >= midnight(after))
            )

        return [
            c
            for c in reversed(self.by_sid.values())
            if (friendly_name is None or c.friendly_name == friendly_name)
            and (status is None or c.status == status)
            and within(c.date_created, date_created, date_created_before, date_created_after)
            and within(c.date_updated, date_updated, date_updated_before, date_updated_after)
        ]

    def update(
        self,
        sid: str,
        *,
        status: str | None = None,
        announce_url: str | None = None,
        announce_method: str | None = None,
    ) -> Conference:
        """End the conference (``status="completed"``) or play ``announce_url`` to everyone."""
        conference = self.get(sid)
        if status is not None and status != "completed":
            raise ConferenceError(20001, f"Status must be 'completed', not {status!r}")
        check_url("AnnounceUrl", announce_url)
        method = check_method("AnnounceMethod", announce_method) or "POST"
        if status == "completed":
            if conference.is_active:
                self.end(conference, "conference-ended-via-api", None, "conference_ended_via_api")
            return conference
        if announce_url is not None:
            if not conference.is_active:
                raise ConferenceError(16001, f"Conference {sid} is not active")
            announce(self._emu, conference, None, announce_url, method)
        return conference

    # -- life of a conference ----------------------------------------------------------------
    def open(self, friendly_name: str) -> Conference:
        """The active conference named ``friendly_name``, made (``init``) if there is none."""
        conference = self._active.get(friendly_name)
        if conference is None:
            now = self._emu.clock.now()
            conference = Conference(
                sid=self._emu.sids.new("CF"),
                account_sid=self._emu.account_sid,
                friendly_name=friendly_name,
                date_created=now,
                date_updated=now,
            )
            self.by_sid[conference.sid] = conference
            self._active[friendly_name] = conference
            self._emu.log("conference.created", conference_sid=conference.sid, friendly_name=friendly_name)
        return conference

    def admit(
        self,
        conference: Conference,
        call: Call,
        *,
        status_callback: str | None,
        status_callback_method: str,
        status_callback_events: frozenset[str],
        max_participants: int,
        **fields: Any,
    ) -> Participant:
        """Add a participant record for ``call``; the first one fixes the conference's settings."""
        now = self._emu.clock.now()
        if not conference.configured:
            conference.configured = True
            conference.status_callback = status_callback
            conference.status_callback_method = status_callback_method
            conference.status_callback_events = status_callback_events
            conference.max_participants = max_participants
        participant = Participant(
            call_sid=call.sid,
            conference=conference,
            left=Signal(self._emu.clock),
            date_created=now,
            date_updated=now,
            **fields,
        )
        conference.participants[call.sid] = participant
        if participant.label is not None:
            conference.labels[participant.label] = call.sid
        return participant

    def connect(self, participant: Participant) -> None:
        """The participant's call is now in the conference; start the conference if it can."""
        emu, conference = self._emu, participant.conference
        now = emu.clock.now()
        participant.status = "connected"
        participant.date_updated = conference.date_updated = now
        emu.log("conference.joined", conference_sid=conference.sid, call_sid=participant.call_sid)
        send_event(emu, conference, "participant-join", participant)
        if conference.status == "init":
            connected = conference.connected()
            if len(connected) >= 2 and any(p.start_conference_on_enter for p in connected):
                self._start(conference)
                if participant.beep in ("true", "onEnter"):
                    self._beep(conference, "enter")
                return
            participant.wait = self._wait_channel(participant)
        refresh(emu, conference, participant)
        if conference.status == "in-progress" and participant.beep in ("true", "onEnter"):
            self._beep(conference, "enter")

    def _beep(self, conference: Conference, kind: str) -> None:
        """Everyone in the mix hears the entry/exit beep for :data:`BEEP_SECONDS` (``beep``)."""
        emu = self._emu
        beep = Audio("beep", kind)
        conference.beeping = beep
        for member in conference.connected():
            refresh(emu, conference, member)

        def done() -> None:
            if conference.beeping is beep:
                conference.beeping = None
                for member in conference.connected():
                    refresh(emu, conference, member)

        emu.clock.call_later(BEEP_SECONDS, done)

    def _wait_channel(self, participant: Participant) -> Channel:
        emu, conference = self._emu, participant.conference
        call = emu.calls.by_sid[participant.call_sid]

        def done(error: int | None) -> None:
            if error in _FETCH_FAILURES and participant.status == "connected":
                self.leave(participant, ADD_FAILED)

        return start_channel(
            emu,
            call,
            url=participant.wait_url,
            method=participant.wait_method,
            context="conference_wait",
            label=WAIT,
            on_change=lambda: refresh(emu, conference, participant),
            purpose="conference-wait",
            on_done=done,
        )

    def _start(self, conference: Conference) -> None:
        emu = self._emu
        conference.status = "in-progress"
        conference.date_updated = emu.clock.now()
        emu.log("conference.started", conference_sid=conference.sid)
        send_event(emu, conference, "conference-start")
        for participant in conference.connected():
            if participant.wait is not None:
                participant.wait.stop()
                participant.wait = None
            refresh(emu, conference, participant)

    def restart_wait(self, participant: Participant) -> None:
        """The participant's waitUrl changed: play the new one if the conference has not started."""
        if participant.conference.status != "init" or participant.status != "connected":
            return
        if participant.wait is not None:
            participant.wait.stop()
        participant.wait = self._wait_channel(participant)
        refresh(self._emu, participant.conference, participant)

    def leave(self, participant: Participant, reason: str, *, kicked: bool = False) -> bool:
        """The participant leaves (``reason`` is ReasonParticipantLeft); then the end rules apply."""
        if not participant.is_active:
            return False
        conference = participant.conference
        was_connected = participant.status == "connected"
        self._remove(participant, reason)
        if not conference.is_active:
            return True
        how = "kicked" if kicked else "left"
        beeps = participant.beep in ("true", "onExit") and participant.beep_on_exit
        if (
            was_connected
            and beeps
            and conference.status == "in-progress"
            and not participant.end_conference_on_exit
        ):
            self._beep(conference, "exit")
        if was_connected and participant.end_conference_on_exit:
            self.end(
                conference,
                f"participant-with-end-conference-on-exit-{how}",
                participant,
                "moderator_ended_conference",
            )
        elif not conference.participants:
            self.end(conference, f"last-participant-{how}", participant, reason)
        return True

    def _remove(self, participant: Participant, reason: str) -> None:
        emu, conference = self._emu, participant.conference
        now = emu.clock.now()
        conference.participants.pop(participant.call_sid, None)
        if participant.label is not None and conference.labels.get(participant.label) == participant.call_sid:
            del conference.labels[participant.label]
        participant.status = (
            "failed" if reason == ADD_FAILED and participant.status != "connected" else "complete"
        )
        participant.reason_left = reason
        participant.date_updated = conference.date_updated = now
        stop_channels(participant)
        emu.media.mix(conference.sid).update(now, participant.call_sid, speaks=False, listens=False)
        call = emu.calls.get(participant.call_sid)
        if call is not None and not call.is_terminal and call.answered_at is not None:
            emu.media.timeline(call.sid).hear(now, Audio("silence"))
        call_status = call.status if call is not None else "completed"
        emu.log(
            "conference.left", conference_sid=conference.sid, call_sid=participant.call_sid, reason=reason
        )
        send_event(
            emu,
            conference,
            "participant-leave",
            participant,
            [("ParticipantCallStatus", call_status), ("ReasonParticipantLeft", reason)],
        )
        participant.left.fire(reason)

    def end(
        self, conference: Conference, reason: str, ending: Participant | None, participant_reason: str
    ) -> None:
        """End the conference: every participant still in it leaves; ringing dial-outs are cancelled."""
        emu = self._emu
        conference.status = "completed"
        conference.reason_conference_ended = reason
        conference.call_sid_ending_conference = ending.call_sid if ending is not None else None
        conference.date_updated = emu.clock.now()
        if self._active.get(conference.friendly_name) is conference:
            del self._active[conference.friendly_name]
        if conference.announcement is not None:
            conference.announcement.stop()
            conference.announcement = None
        for participant in list(conference.participants.values()):
            if participant.status == "connected":
                self._remove(participant, participant_reason)
                continue
            call = emu.calls.get(participant.call_sid)
            if call is not None:
                emu.calls.complete(call, "canceled", by="conference")
            self._remove(participant, ADD_FAILED)
        extra = [("ReasonConferenceEnded", reason), ("Reason", _END_TEXT.get(reason, reason))]
        if ending is not None:
            extra.append(("CallSidEndingConference", ending.call_sid))
            if ending.label is not None:
                extra.append(("ParticipantLabelEndingConference", ending.label))
        emu.log("conference.ended", conference_sid=conference.sid, reason=reason)
        send_event(emu, conference, "conference-end", extra=extra)

    # -- <Dial><Conference> ------------------------------------------------------------------
    async def dial(
        self, session: Session, verb: Dial, noun: ConferenceNoun, following: Verb | None = None
    ) -> Source | None:
        """``<Dial><Conference>`` (see :func:`voicesim.conference_dial.run_dial_conference`)."""
        from voicesim.conference_dial import run_dial_conference

        return await run_dial_conference(self, session, verb, noun, following)
