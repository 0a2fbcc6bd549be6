"""Announcements: AnnounceUrl played to a whole conference or to one participant (reference §1.1, §2.1).

The URL is fetched with AnnounceMethod (default POST) and may return MP3/WAV (played once) or TwiML
with only Play/Say/Pause/Redirect (others: 13238). While it plays, the participants it is for hear
it instead of the mix (held participants keep hearing their hold audio); then ``announcement-end``
is sent -- or ``announcement-fail`` with ``ReasonAnnouncementFailed`` when it could not be played.
A conference-wide announcement's request carries the conference's parameters, not a call's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voicesim.calls import Call
from voicesim.conference_audio import ANNOUNCEMENT, Channel, refresh, start_channel
from voicesim.conference_events import send_event

if TYPE_CHECKING:
    from voicesim.conference_model import Conference, Participant
    from voicesim.emulator import Emulator

__all__ = ["announce"]


def announce(
    emu: Emulator, conference: Conference, participant: Participant | None, url: str, method: str
) -> None:
    """Play ``url`` to the whole conference (``participant`` None) or to one participant."""
    previous = conference.announcement if participant is None else participant.announcement
    if previous is not None:
        previous.stop()
    if participant is None:
        call = _conference_pseudo_call(conference, emu.clock.now())
        params: list[tuple[str, str]] | None = [
            ("AccountSid", conference.account_sid),
            ("ApiVersion", "2010-04-01"),
            ("ConferenceSid", conference.sid),
            ("FriendlyName", conference.friendly_name),
        ]
    else:
        call, params = emu.calls.by_sid[participant.call_sid], None
    channel: Channel | None = None

    def changed() -> None:
        for p in conference.connected() if participant is None else [participant]:
            refresh(emu, conference, p)

    def done(error: int | None) -> None:
        assert channel is not None
        _announced(emu, conference, participant, channel, url, error)

    channel = start_channel(
        emu,
        call,
        url=url,
        method=method,
        context="announce",
        label=ANNOUNCEMENT,
        on_change=changed,
        purpose="announce",
        request_params=params,
        on_done=done,
        builtin_music=False,
    )
    if participant is None:
        conference.announcement = channel
    else:
        participant.announcement = channel
    changed()


def _announced(
    emu: Emulator,
    conference: Conference,
    participant: Participant | None,
    channel: Channel,
    url: str,
    error: int | None,
) -> None:
    if participant is None and conference.announcement is channel:
        conference.announcement = None
        for p in conference.connected():
            refresh(emu, conference, p)
    elif participant is not None and participant.announcement is channel:
        participant.announcement = None
        refresh(emu, conference, participant)
    extra = [("AnnounceUrl", url)]
    if error is None:
        send_event(emu, conference, "announcement-end", participant, extra)
    else:
        extra.append(("ReasonAnnouncementFailed", f"Error {error} while fetching or playing {url}"))
        send_event(emu, conference, "announcement-fail", participant, extra)


def _conference_pseudo_call(conference: Conference, now: float) -> Call:
    """A call record (never registered) that a conference-wide announcement session runs on."""
    return Call(
        sid=conference.sid,
        account_sid=conference.account_sid,
        to="",
        from_="",
        direction="outbound-api",
        date_created=now,
        status="in-progress",
    )
