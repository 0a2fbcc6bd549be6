"""Conference status-callback events (reference §2.2), signed like every voicesim request (Q15).

The conference's ``statusCallback``, its method and the subscribed events are fixed by the first
participant. Every event is written to the emulator's log (``conference.event``); it is *sent*
only when subscribed. ``SequenceNumber`` counts the events sent for the conference, from 1
(chosen, sources silent).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from voicesim.webhooks import WebhookRequest

if TYPE_CHECKING:
    from voicesim.conference_model import Conference, Participant
    from voicesim.emulator import Emulator

__all__ = ["SUBSCRIPTION", "participant_params", "send_event"]

#: Which subscription (statusCallbackEvent value) each StatusCallbackEvent belongs to.
SUBSCRIPTION = {
    "conference-start": "start",
    "conference-end": "end",
    "participant-join": "join",
    "participant-leave": "leave",
    "participant-mute": "mute",
    "participant-unmute": "mute",
    "participant-hold": "hold",
    "participant-unhold": "hold",
    "participant-modify": "modify",
    "participant-speech-start": "speaker",
    "participant-speech-stop": "speaker",
    "announcement-end": "announcement",
    "announcement-fail": "announcement",
}


def _flag(value: bool) -> str:
    return "true" if value else "false"


def participant_params(participant: Participant) -> list[tuple[str, str]]:
    """The parameters every participant event carries."""
    params = [
        ("CallSid", participant.call_sid),
        ("Coaching", _flag(participant.coaching)),
        ("EndConferenceOnExit", _flag(participant.end_conference_on_exit)),
        ("Hold", _flag(participant.hold)),
        ("Muted", _flag(participant.muted)),
        ("StartConferenceOnEnter", _flag(participant.start_conference_on_enter)),
    ]
    if participant.label is not None:
        params.append(("ParticipantLabel", participant.label))
    if participant.call_sid_to_coach is not None:
        params.append(("CallSidToCoach", participant.call_sid_to_coach))
    return params


def send_event(
    emu: Emulator,
    conference: Conference,
    event: str,
    participant: Participant | None = None,
    extra: Sequence[tuple[str, str]] = (),
) -> None:
    """Log ``event`` and send it to the conference's statusCallback if subscribed."""
    call_sid = participant.call_sid if participant is not None else None
    emu.log("conference.event", conference_sid=conference.sid, event=event, call_sid=call_sid)
    url = conference.status_callback
    if not url or SUBSCRIPTION[event] not in conference.status_callback_events:
        return
    conference.sequence_number += 1
    params = [
        ("AccountSid", conference.account_sid),
        ("ConferenceSid", conference.sid),
        ("FriendlyName", conference.friendly_name),
        ("SequenceNumber", str(conference.sequence_number)),
        ("StatusCallbackEvent", event),
        ("Timestamp", emu.rfc2822(emu.clock.now())),
    ]
    if participant is not None:
        params += participant_params(participant)
    params += extra
    emu.send_detached(
        WebhookRequest(
            url=url,
            method=conference.status_callback_method,
            params=params,
            purpose="conference-event",
            call_sid=call_sid,
        )
    )
