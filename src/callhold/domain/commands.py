"""What the domain asks the world (Twilio) to do.

Paths (``hold_path``, ``twiml_path``) are paths on callhold's own webhook base, such as
``/twiml/legs/hold-music/<hold id>`` (see :mod:`callhold.domain.paths`). The telephony adapter turns them
into absolute URLs under the configured public base URL, where the signed-webhook routes answer them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AddParticipant",
    "Announce",
    "Command",
    "RedirectLeg",
    "RemoveParticipant",
    "SetParticipantHold",
    "SetParticipantMuted",
]


@dataclass(frozen=True, kw_only=True)
class SetParticipantHold:
    """Conference Participant update: ``Hold`` and, when holding, ``HoldUrl`` = the TwiML at ``hold_path``
    (``None``: Twilio's default music)."""

    conference_sid: str
    call_sid: str
    hold: bool
    hold_path: str | None = None


@dataclass(frozen=True, kw_only=True)
class SetParticipantMuted:
    """Conference Participant update: ``Muted``."""

    conference_sid: str
    call_sid: str
    muted: bool


@dataclass(frozen=True, kw_only=True)
class AddParticipant:
    """Conference Participant create: dial ``to`` from ``from_`` into the conference.

    ``conference`` is the Conference SID, or its friendly name (Twilio then creates the conference if no
    active one has that name). The new call's SID comes back from the adapter.
    """

    conference: str
    to: str
    from_: str
    label: str | None = None


@dataclass(frozen=True, kw_only=True)
class RemoveParticipant:
    """Conference Participant delete (kick)."""

    conference_sid: str
    call_sid: str


@dataclass(frozen=True, kw_only=True)
class RedirectLeg:
    """Calls update: the call leaves whatever it runs (bridge, queue, music) and runs ``twiml_path``."""

    call_sid: str
    twiml_path: str


@dataclass(frozen=True, kw_only=True)
class Announce:
    """Conference Participant update: ``AnnounceUrl`` = the TwiML at ``twiml_path`` (``<Say>``/``<Play>``
    only), played to that participant alone."""

    conference_sid: str
    call_sid: str
    twiml_path: str


Command = (
    SetParticipantHold | SetParticipantMuted | AddParticipant | RemoveParticipant | RedirectLeg | Announce
)
"""Any command."""
