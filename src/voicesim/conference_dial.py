"""``<Dial><Conference>``: join a conference and stay until it, or this participant, is done.

The call's flow runs :func:`run_dial_conference`; the conference's own life (start, end, who hears
whom) is :class:`~voicesim.conferences.Conferences`. The ``<Dial>`` ends when the participant leaves,
and how it leaves decides what comes next:

* the conference ends, or the participant is kicked (Q4): the action with
  ``DialCallStatus=answered`` and no DialCallSid/DialCallDuration (reference §2.2), else the next
  verb, else hang-up. A waitUrl that cannot be fetched (11xxx) means the participant was not added
  (reference §8.10): it leaves with ``participant_add_failed`` and the Dial ends with ``failed``.
* ``hangupOnStar``: the caller presses ``*`` and leaves the conference; the call goes on to the action
  with ``DialCallStatus=answered``, else the next verb. Twilio's ``<Dial>`` doc, "hangupOnStar": "When
  calling a conference, the DialCallStatus will be answered"; its ``<Conference>`` doc, example
  "Combining with Dial attributes": hangupOnStar "lets you leave a conference by pressing the * key"
  and after you leave "Twilio will submit to the action"
  (https://www.twilio.com/docs/voice/twiml/dial, https://www.twilio.com/docs/voice/twiml/conference).
* ``timeLimit``: after that many seconds "you'll be removed from the conference" (the same
  ``<Conference>`` doc example); the call then goes on as for ``hangupOnStar``. The same example
  says ``callerId`` and ``timeout`` have no effect on a conference; voicesim ignores them.
* the call is redirected or hangs up while in the conference: it leaves (``participant_updated_via_api``
  / ``participant_hung_up``); its action is requested with ``DialCallStatus=answered`` and the reply
  discarded (Q2b), or, with no action, a redirected call whose next verb is a ``<Redirect>`` requests
  that URL and discards the reply (Q2a) -- the requests of any interrupted ``<Dial>``
  (:func:`voicesim.twiml.dial.request_discarded`).

voicesim's choices where the sources are silent:

* ``timeLimit`` counts from when the participant joins (the start of the ``<Dial>``), wait music
  included; the default (14400 s) applies as for any ``<Dial>``.
* Leaving by ``*`` or by the time limit is reported as ``ReasonParticipantLeft=participant_hung_up``
  (the participant's leg into the conference is hung up: for ``*`` the ``<Dial>`` doc says "Twilio
  will hang up on the called party"), with ``ParticipantCallStatus=in-progress``: the call itself
  goes on. A participant with ``endConferenceOnExit`` that leaves this way ends the conference like
  any other leaving.
* ``DialCallStatus`` after the time limit is ``answered``, as after ``hangupOnStar``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voicesim.calls import HungUp, Redirected, Source
from voicesim.conferences import ADD_FAILED
from voicesim.process import Signal, Wait
from voicesim.twiml.dial import request_discarded

if TYPE_CHECKING:
    from voicesim.conference_model import Participant
    from voicesim.conferences import Conferences
    from voicesim.twiml.interpreter import Session
    from voicesim.twiml.verbs import Conference as ConferenceNoun
    from voicesim.twiml.verbs import Dial, Verb

__all__ = ["run_dial_conference"]

#: ReasonParticipantLeft when the call hangs up, presses ``*`` (hangupOnStar) or reaches the timeLimit.
HUNG_UP = "participant_hung_up"


async def run_dial_conference(
    conferences: Conferences,
    session: Session,
    verb: Dial,
    noun: ConferenceNoun,
    following: Verb | None = None,
) -> Source | None:
    """Execute ``<Dial><Conference>`` on the session's call."""
    emu, call = session.emu, session.call
    conference = conferences.active(noun.name)
    label = noun.participant_label
    if conference is not None and label is not None and label in conference.labels:
        emu.alert(16025, f"Participant label {label!r} is already in use", call_sid=call.sid)
        return None  # the call goes on to the next verb (reference §1.6)
    if conference is not None and len(conference.participants) >= conference.max_participants:
        emu.alert(16020, f"Conference {noun.name!r} is full", call_sid=call.sid)
        return _action(session, verb, "failed")
    coached = conference.participants.get(noun.coach) if conference and noun.coach else None
    if noun.coach is not None and (
        coached is None
        or coached.status != "connected"
        or conference is None
        or conference.status != "in-progress"
    ):
        emu.alert(13240, f"coach: {noun.coach} is not in the in-progress conference", call_sid=call.sid)
        return _action(session, verb, "failed")
    if coached is not None and coached.hold:
        emu.alert(16027, f"coach: {noun.coach} is on hold", call_sid=call.sid)
        return _action(session, verb, "failed")
    conference = conferences.open(noun.name)
    participant = conferences.admit(
        conference,
        call,
        status_callback=session.resolve(noun.status_callback) if noun.status_callback else None,
        status_callback_method=noun.status_callback_method,
        status_callback_events=frozenset(noun.status_callback_event or ("start", "end")),
        max_participants=noun.max_participants,
        label=label,
        muted=noun.muted,
        beep=noun.beep,
        start_conference_on_enter=noun.start_conference_on_enter,
        end_conference_on_exit=noun.end_conference_on_exit,
        wait_url=session.resolve(noun.wait_url) if noun.wait_url else noun.wait_url,
        wait_method=noun.wait_method,
        coaching=noun.coach is not None,
        call_sid_to_coach=noun.coach,
    )
    conferences.connect(participant)
    try:
        reason = await _stay(conferences, session, verb, participant)
    except (HungUp, Redirected) as interrupt:
        hung_up = isinstance(interrupt, HungUp)
        conferences.leave(participant, HUNG_UP if hung_up else "participant_updated_via_api")
        await request_discarded(session, verb, interrupt, following, (("DialCallStatus", "answered"),))
        raise
    if not call.is_terminal:
        session.hear("silence")
    return _action(session, verb, "failed" if reason == ADD_FAILED else "answered")


async def _stay(conferences: Conferences, session: Session, verb: Dial, participant: Participant) -> str:
    """Wait until the participant leaves, or leave at ``*`` (hangupOnStar) or at the timeLimit."""
    keypad = session.call.keypad if verb.hangup_on_star else None

    def star_pressed(_: str) -> None:
        conferences.leave(participant, HUNG_UP)

    if keypad is not None:
        keypad.on_star = Signal(session.emu.clock)
        keypad.on_star.subscribe(star_pressed)
    try:
        reason = await Wait(participant.left, verb.time_limit)
    finally:
        if keypad is not None:
            keypad.on_star = None
    if reason is None:  # the time limit passed
        conferences.leave(participant, HUNG_UP)
        return participant.reason_left or HUNG_UP
    return reason


def _action(session: Session, verb: Dial, status: str) -> Source | None:
    """Where the call goes after its ``<Dial><Conference>``: the action, else the next verb."""
    if not verb.action:
        return None
    return Source(url=session.resolve(verb.action), method=verb.method, params=(("DialCallStatus", status),))
