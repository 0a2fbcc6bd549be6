"""TwiML verbs and nouns as frozen dataclasses.

Each class mirrors one TwiML element; fields are Twilio's attribute names in snake_case and default to
Twilio's documented defaults. Nothing here validates: :mod:`voicesim.twiml.parse` builds these from XML and
raises Twilio's error codes, so a value held by one of these classes has already been checked.

A ``None`` URL means "the attribute was absent" (Twilio's default behaviour applies), which is different from
``""`` (the attribute was present and empty), e.g. ``Conference.wait_url``.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_HOLD_MUSIC_URL = "https://s3.amazonaws.com/com.twilio.sounds.music/index.xml"
"""Twilio's default classical playlist: conference wait music, default hold and queue music."""


@dataclass(frozen=True, slots=True)
class Say:
    """``<Say>``: speak ``text``; ``loop=0`` repeats forever."""

    text: str
    voice: str | None = None
    language: str | None = None
    loop: int = 1


@dataclass(frozen=True, slots=True)
class Play:
    """``<Play>``: play the audio at ``url``, or the DTMF ``digits`` (then ``url`` may be "")."""

    url: str
    loop: int = 1
    digits: str | None = None


@dataclass(frozen=True, slots=True)
class Pause:
    """``<Pause>``: silence for ``length`` seconds."""

    length: int = 1


@dataclass(frozen=True, slots=True)
class Gather:
    """``<Gather>``: collect input while playing its nested ``<Say>``/``<Play>``/``<Pause>``.

    ``action`` ``None`` means the current document URL.
    """

    action: str | None = None
    method: str = "POST"
    timeout: int = 5
    num_digits: int | None = None
    finish_on_key: str = "#"
    input: tuple[str, ...] = ("dtmf",)
    action_on_empty_result: bool = False
    children: tuple[Say | Play | Pause, ...] = ()


@dataclass(frozen=True, slots=True)
class Number:
    """``<Dial><Number>``: a phone number to ring; ``url`` runs TwiML on the callee before the bridge."""

    number: str
    url: str | None = None
    method: str = "POST"
    send_digits: str | None = None
    status_callback: str | None = None
    status_callback_event: tuple[str, ...] = ()
    status_callback_method: str = "POST"


@dataclass(frozen=True, slots=True)
class Client:
    """``<Dial><Client>``: a Voice SDK client identity to ring."""

    identity: str
    url: str | None = None
    method: str = "POST"
    status_callback: str | None = None
    status_callback_event: tuple[str, ...] = ()
    status_callback_method: str = "POST"


@dataclass(frozen=True, slots=True)
class Conference:
    """``<Dial><Conference>``: join the named conference.

    ``wait_url`` ``None`` means Twilio's default playlist (:data:`DEFAULT_HOLD_MUSIC_URL`); ``""`` means
    nothing plays while waiting. ``beep`` is one of ``true``, ``false``, ``onEnter``, ``onExit``.
    """

    name: str
    muted: bool = False
    beep: str = "true"
    start_conference_on_enter: bool = True
    end_conference_on_exit: bool = False
    wait_url: str | None = None
    wait_method: str = "POST"
    max_participants: int = 250
    participant_label: str | None = None
    status_callback: str | None = None
    status_callback_event: tuple[str, ...] = ()
    status_callback_method: str = "POST"
    coach: str | None = None
    record: str = "do-not-record"


@dataclass(frozen=True, slots=True)
class Queue:
    """``<Dial><Queue>``: bridge to the first caller waiting in the named queue.

    ``url`` runs TwiML on the dequeued caller before the bridge.
    """

    name: str
    url: str | None = None
    method: str = "POST"


DialNoun = Number | Client | Conference | Queue
"""Anything that can be nested in ``<Dial>``."""


@dataclass(frozen=True, slots=True)
class Dial:
    """``<Dial>``: connect the call to its nouns; plain number text becomes one :class:`Number`.

    ``timeout`` is already clamped into Twilio's 5..600 range. ``record`` is normalised
    (``true`` → ``record-from-answer``, ``false`` → ``do-not-record``).
    """

    nouns: tuple[DialNoun, ...]
    action: str | None = None
    method: str = "POST"
    timeout: int = 30
    time_limit: int = 14400
    hangup_on_star: bool = False
    caller_id: str | None = None
    record: str = "do-not-record"
    answer_on_bridge: bool = False
    ring_tone: str | None = None


@dataclass(frozen=True, slots=True)
class Redirect:
    """``<Redirect>``: fetch and run the TwiML at ``url``; ``""`` re-requests the current document."""

    url: str
    method: str = "POST"


@dataclass(frozen=True, slots=True)
class Hangup:
    """``<Hangup>``: end the call."""


@dataclass(frozen=True, slots=True)
class Reject:
    """``<Reject>``: refuse an incoming call unanswered; ``reason`` is ``rejected`` or ``busy``."""

    reason: str = "rejected"


@dataclass(frozen=True, slots=True)
class Enqueue:
    """``<Enqueue>``: put the call in the named queue.

    ``wait_url`` ``None`` means Twilio's default playlist; ``""`` means nothing plays.
    ``max_queue_size`` ``None`` leaves the queue's size as it is (1000 for a new queue).
    """

    name: str
    action: str | None = None
    method: str = "POST"
    wait_url: str | None = None
    wait_url_method: str = "POST"
    max_queue_size: int | None = None


@dataclass(frozen=True, slots=True)
class Leave:
    """``<Leave>``: (in Enqueue wait TwiML) leave the queue and continue after ``<Enqueue>``."""


Verb = Say | Play | Pause | Gather | Dial | Redirect | Hangup | Reject | Enqueue | Leave
"""Any verb that can appear directly inside ``<Response>``."""


@dataclass(frozen=True, slots=True)
class Response:
    """A parsed TwiML document: its verbs in document order."""

    verbs: tuple[Verb, ...]
