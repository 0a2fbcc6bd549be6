"""What each conference participant hears: the mix, wait music, hold music, announcements.

A participant's audio is layered. From the top:

1. **hold** (Q5): the hold audio only -- HoldUrl fetched with HoldMethod (default GET, Q6); audio
   plays once, TwiML runs with its own loops, then silence (Q7); no HoldUrl: Twilio's default
   music, looping. Nobody hears a held participant.
2. an **announcement** to that participant, then one to the whole conference;
3. before the conference starts, the **waitUrl** (reference §2.2): Twilio's default playlist loops,
   ``""`` is silence, a real URL is fetched with waitMethod and runs once, then silence;
4. once started, the **conference mix** (``Audio("conference", sid)``; who is speaking is kept in
   the :class:`~voicesim.media.ConferenceMix`, so a hold toggled in a 250-party conference costs
   one set update).

Each layer is a :class:`Channel`. A channel that plays TwiML runs a :class:`ChannelSession` in its
own flow; the session's audio goes to the channel, and :func:`refresh` copies the top layer into
the call's timeline. Muted participants hear the mix and are not heard (Q5). A coach is heard only by
the participant it coaches, and hears everyone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from voicesim.calls import Call, Source
from voicesim.media import Audio
from voicesim.process import Interrupt, Process
from voicesim.twiml.interpreter import Session
from voicesim.twiml.parse import Context, TwimlError
from voicesim.twiml.verbs import DEFAULT_HOLD_MUSIC_URL
from voicesim.webhooks import WebhookRequest

if TYPE_CHECKING:
    from voicesim.conference_model import Conference, Participant
    from voicesim.emulator import Emulator

__all__ = [
    "ANNOUNCEMENT",
    "BUILTIN_MUSIC_URLS",
    "HOLD",
    "WAIT",
    "Channel",
    "ChannelSession",
    "Stopped",
    "is_builtin_music",
    "play_source",
    "refresh",
    "start_channel",
    "stop_channels",
    "top_audio",
]

#: URLs voicesim plays as Twilio's own looping music, without fetching them.
BUILTIN_MUSIC_URLS = (
    DEFAULT_HOLD_MUSIC_URL,
    "http://twimlets.com/holdmusic",
    "https://twimlets.com/holdmusic",
)

#: Labels (timeline contexts) of the layers.
HOLD, WAIT, ANNOUNCEMENT = "hold", "conference-wait", "announcement"


def is_builtin_music(url: str) -> bool:
    """Twilio's default playlist or the classic hold-music twimlet."""
    return url.startswith(BUILTIN_MUSIC_URLS)


class Stopped(Interrupt):
    """Thrown into a channel's flow when what it plays is no longer wanted."""


class Channel:
    """One layer of what a participant hears, and the flow that plays it (if any)."""

    def __init__(self, audio: Audio) -> None:
        self.audio = audio
        self.stopped = False
        self.process: Process | None = None

    def stop(self) -> None:
        """Stop playing now."""
        self.stopped = True
        if self.process is not None and not self.process.finished:
            self.process.interrupt(Stopped("channel stopped"))


class ChannelSession(Session):
    """A TwiML session whose audio goes into a :class:`Channel` instead of the call's timeline."""

    def __init__(
        self,
        emu: Emulator,
        call: Call,
        context: Context,
        label: str,
        channel: Channel,
        on_change: Callable[[], None],
        request_params: Sequence[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(emu, call, context, label)
        self.channel = channel
        self.on_change = on_change
        self.request_params = None if request_params is None else list(request_params)

    def hear(self, kind: str, detail: str = "") -> None:
        """The channel plays ``kind`` from now on (and the participant hears it if on top)."""
        if self.channel.stopped:
            return
        self.channel.audio = Audio(kind, detail, self.label)
        self.on_change()

    def params(self, extra: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
        """The call's standard parameters, or the conference's for a conference announcement."""
        if self.request_params is None:
            return super().params(extra)
        return [*self.request_params, *self.extra_params, *extra]


async def play_source(session: ChannelSession, source: Source, purpose: str) -> int | None:
    """Run the document at ``source`` (and what it redirects to), then go silent.

    Returns None when the first document ran, else the Twilio error code that stopped it (the
    alert is recorded). Audio replies play once; TwiML plays its own loops (Q7).
    """
    emu, url = session.emu, source.url or ""
    reply = await emu.fetch(
        WebhookRequest(url, source.method, session.params(source.params), purpose, session.call.sid)
    )
    try:
        response = session.interpret(reply, url)
    except TwimlError as exc:
        emu.alert(exc.code, exc.message, call_sid=session.call.sid, url=url)
        session.hear("silence")
        return exc.code
    session.doc_url, session.doc_source = url, Source(url=url, method=source.method)
    following = await session.execute(response.verbs)
    if following is not None:
        await session.run(following)
    session.hear("silence")
    return None


def start_channel(
    emu: Emulator,
    call: Call,
    *,
    url: str | None,
    method: str,
    context: Context,
    label: str,
    on_change: Callable[[], None],
    purpose: str,
    request_params: Sequence[tuple[str, str]] | None = None,
    on_done: Callable[[int | None], None] | None = None,
    builtin_music: bool = True,
) -> Channel:
    """A channel playing ``url``: builtin music (None or Twilio's URL), silence (""), or fetched.

    ``on_done(error)`` runs when a fetched document has finished playing (error None) or could not
    be played (Twilio's error code). ``builtin_music=False`` fetches every URL (announcements).
    """
    if url is None or (builtin_music and is_builtin_music(url)):
        return Channel(Audio("music", url or DEFAULT_HOLD_MUSIC_URL, label))
    channel = Channel(Audio("silence", "", label))
    if url == "":
        return channel
    session = ChannelSession(emu, call, context, label, channel, on_change, request_params)

    async def flow() -> None:
        error = await play_source(session, Source(url=url, method=method), purpose)
        if on_done is not None and not channel.stopped:
            on_done(error)

    channel.process = emu.spawn(None, flow(), f"{purpose}:{call.sid}")
    return channel


def top_audio(conference: Conference, participant: Participant) -> Audio:
    """What the participant hears now: the top layer."""
    if participant.hold:
        return participant.held.audio if participant.held else Audio("music", DEFAULT_HOLD_MUSIC_URL, HOLD)
    if participant.announcement is not None:
        return participant.announcement.audio
    if conference.announcement is not None:
        return conference.announcement.audio
    if conference.status == "init":
        return participant.wait.audio if participant.wait else Audio("silence", "", WAIT)
    if conference.beeping is not None:
        return conference.beeping
    return Audio("conference", conference.sid)


def refresh(emu: Emulator, conference: Conference, participant: Participant) -> None:
    """Bring the participant's timeline and the conference mix up to date (both idempotent)."""
    if participant.status != "connected":
        return
    now = emu.clock.now()
    emu.media.timeline(participant.call_sid).hear(now, top_audio(conference, participant))
    in_mix = conference.status == "in-progress" and not participant.hold
    speaks = in_mix and not participant.muted and not participant.coaching
    whispers = in_mix and participant.coaching and not participant.muted
    emu.media.mix(conference.sid).update(
        now,
        participant.call_sid,
        speaks=speaks,
        listens=in_mix,
        whispers_to=participant.call_sid_to_coach if whispers else None,
    )


def stop_channels(participant: Participant) -> None:
    """Stop every channel of a participant (it leaves the conference)."""
    for channel in (participant.wait, participant.held, participant.announcement):
        if channel is not None:
            channel.stop()
    participant.wait = participant.held = participant.announcement = None
