"""Conference and Participant records, and the error the conference API raises for bad input.

The records hold what the Conferences and Participants resources show (reference §1.5, §2.1) plus
what runs them: the participant's ``left`` signal (its ``<Dial>`` waits on it) and the audio
channels that decide what the participant hears (:mod:`voicesim.conference_audio`).

Error codes used by the Python API and the REST layer (status 400 unless noted):

* 20404 (404) -- no such conference or participant (participants of a completed conference,
  and participants whose call has left, are not found: reference §1.4).
* 21201 / 21213 -- ``To`` / ``From`` missing. 21205 -- invalid URL. 21208 -- invalid Timeout.
  21209 -- invalid method (Twilio's Calls codes, reused for the same fields here).
* 21220 -- the participant is not connected yet (Q14: chosen, sources silent; it is Twilio's
  "Invalid call state" code).
* 16001 -- the conference is not active (Twilio: "Conference is not bridged").
* 16020 -- the conference is full. 16023 -- invalid label. 16025 -- duplicate label.
* 16027 / 16028 -- the call to coach is on hold / is not in the conference.
* 20001 -- any other invalid parameter (chosen, sources silent: no documented code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from voicesim.process import Signal

if TYPE_CHECKING:
    from voicesim.conference_audio import Channel
    from voicesim.media import Audio

__all__ = [
    "BEEP_VALUES",
    "CONFERENCE_EVENTS",
    "MAX_NAME_LENGTH",
    "MAX_PARTICIPANTS",
    "Conference",
    "ConferenceError",
    "Participant",
    "check_label",
    "check_method",
    "check_url",
]

#: Twilio's limit on a conference's size (reference §1.6, §7).
MAX_PARTICIPANTS = 250
#: Conference friendly names and participant labels are at most this long (reference §7).
MAX_NAME_LENGTH = 128
#: The events a conference statusCallback can subscribe to (reference §2.2).
CONFERENCE_EVENTS = frozenset(
    {"start", "end", "join", "leave", "mute", "hold", "modify", "speaker", "announcement"}
)
#: The values of ``beep`` / ``Beep``.
BEEP_VALUES = ("true", "false", "onEnter", "onExit")

_CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")


class ConferenceError(Exception):
    """A request the conference API refuses; nothing was changed.

    ``code`` is Twilio's error code and ``status`` the HTTP status the REST layer answers with.
    """

    def __init__(self, code: int, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status

    @property
    def more_info(self) -> str:
        """Twilio's documentation page for the code."""
        return f"https://www.twilio.com/docs/errors/{self.code}"


def check_url(name: str, value: str | None, *, allow_empty: bool = False) -> None:
    """Raise 21205 unless ``value`` is an absolute http(s) URL (or None; or "" when allowed)."""
    if value is None or (allow_empty and value == ""):
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConferenceError(21205, f"{name} is not a valid URL: {value!r}")


def check_method(name: str, value: str | None) -> str | None:
    """``GET``/``POST`` (any case) upper-cased, None as None; anything else raises 21209."""
    if value is None:
        return None
    method = value.strip().upper()
    if method not in ("GET", "POST"):
        raise ConferenceError(21209, f"{name} must be GET or POST, not {value!r}")
    return method


def check_label(label: str | None) -> None:
    """A label: at most 128 characters, not a Call SID, no ``/`` (Twilio error 16023)."""
    if label is None:
        return
    if not label or len(label) > MAX_NAME_LENGTH or "/" in label or _CALL_SID.match(label):
        raise ConferenceError(16023, "Invalid participant label: 1 to 128 characters, not a CallSid, no '/'")


@dataclass(eq=False)
class Participant:
    """One call in one conference, as the Participant resource shows it."""

    call_sid: str
    conference: Conference
    left: Signal[str]
    date_created: float
    date_updated: float
    label: str | None = None
    muted: bool = False
    hold: bool = False
    coaching: bool = False
    call_sid_to_coach: str | None = None
    start_conference_on_enter: bool = True
    end_conference_on_exit: bool = False
    beep: str = "true"
    beep_on_exit: bool = True
    wait_url: str | None = None
    wait_method: str = "POST"
    status: str = "connected"
    #: Set only for participants created through the API (it is shown in the create response).
    queue_time: str | None = None
    #: Created through ``POST /Participants`` (Q4: such a call hangs up when it leaves).
    from_api: bool = False
    #: ReasonParticipantLeft, once the participant has left.
    reason_left: str | None = None
    wait: Channel | None = None
    held: Channel | None = None
    announcement: Channel | None = None

    @property
    def conference_sid(self) -> str:
        """The SID of the participant's conference."""
        return self.conference.sid

    @property
    def account_sid(self) -> str:
        """The account of the participant's conference."""
        return self.conference.account_sid

    @property
    def is_active(self) -> bool:
        """Connecting or connected (what the Participants resource still returns)."""
        return self.status in ("queued", "connecting", "ringing", "connected")


@dataclass(eq=False)
class Conference:
    """One conference room, as the Conference resource shows it, with its current participants."""

    sid: str
    account_sid: str
    friendly_name: str
    date_created: float
    date_updated: float
    status: str = "init"
    region: str = "us1"
    reason_conference_ended: str | None = None
    call_sid_ending_conference: str | None = None
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_events: frozenset[str] = frozenset({"start", "end"})
    max_participants: int = MAX_PARTICIPANTS
    #: Set once the first participant fixed statusCallback and maxParticipants (reference §2.2).
    configured: bool = False
    #: Current participants (connecting or connected), by Call SID, in the order they came.
    participants: dict[str, Participant] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    sequence_number: int = 0
    announcement: Channel | None = None
    #: The entry/exit beep everyone in the mix hears right now, if any.
    beeping: Audio | None = None

    @property
    def is_active(self) -> bool:
        """Not completed."""
        return self.status != "completed"

    def connected(self) -> list[Participant]:
        """Participants whose call is in the conference now."""
        return [p for p in self.participants.values() if p.status == "connected"]

    def find(self, key: str) -> Participant | None:
        """The current participant with Call SID or label ``key``."""
        participant = self.participants.get(key)
        if participant is None and key in self.labels:
            participant = self.participants.get(self.labels[key])
        return participant
