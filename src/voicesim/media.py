"""The audio timeline: what every call hears over time, and who hears it.

Each call has a list of segments. A segment says what the call hears from ``start`` to ``end``:
ringback, speech (with its text), a played URL, silence, another call it is bridged to, a
conference mix, or hold / wait music. Conference mixes are kept once per conference as a history
of who is speaking (connected, not muted, not held) and who is listening (connected, not held), so
a hold toggled in a 250-party conference costs one set update, not one per participant; the
per-participant view is derived when it is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = ["Audio", "ConferenceMix", "HeardSegment", "Media", "Timeline"]


@dataclass(frozen=True, slots=True)
class Audio:
    """What a call hears. ``kind`` is one of: ringback, speech, play, silence, call, conference,
    music, dtmf. ``context`` says why: "" (the call's own TwiML), "hold", "conference-wait",
    "queue-wait", "announcement", "dial-leg" (the called party's whisper TwiML)."""

    kind: str
    detail: str = ""
    context: str = ""


@dataclass(slots=True)
class _Segment:
    start: float
    end: float | None
    audio: Audio


@dataclass(frozen=True, slots=True)
class HeardSegment:
    """A rendered stretch of a call's timeline: what it heard and whose voices (call SIDs)."""

    start: float
    end: float | None
    kind: str
    detail: str
    context: str
    voices: tuple[str, ...]

    def as_dict(self, origin: float) -> dict[str, object]:
        """JSON-ready form with offsets (seconds) from ``origin`` and absolute ISO times."""
        return {
            "start": round(self.start - origin, 3),
            "end": None if self.end is None else round(self.end - origin, 3),
            "start_time": datetime.fromtimestamp(self.start, UTC).isoformat(),
            "kind": self.kind,
            "detail": self.detail,
            "context": self.context,
            "voices": list(self.voices),
        }


@dataclass(slots=True)
class ConferenceMix:
    """Who speaks into and who listens to one conference, as a history of changes."""

    sid: str
    history: list[tuple[float, frozenset[str], frozenset[str], frozenset[tuple[str, str]]]] = field(
        default_factory=list
    )
    speakers: set[str] = field(default_factory=set)
    listeners: set[str] = field(default_factory=set)
    #: coach call SID -> the call it coaches (heard by that call only).
    whispers: dict[str, str] = field(default_factory=dict)

    def update(
        self, now: float, call_sid: str, *, speaks: bool, listens: bool, whispers_to: str | None = None
    ) -> None:
        """Set one participant's flags (O(n) for the snapshot, never O(n^2)).

        ``whispers_to``: the participant is a coach heard only by that call (Twilio's coaching).
        """
        changed = self.whispers.get(call_sid) != whispers_to
        if whispers_to is None:
            self.whispers.pop(call_sid, None)
        else:
            self.whispers[call_sid] = whispers_to
        for group, flag in ((self.speakers, speaks), (self.listeners, listens)):
            if flag and call_sid not in group:
                group.add(call_sid)
                changed = True
            elif not flag and call_sid in group:
                group.discard(call_sid)
                changed = True
        if changed:
            snap = (
                now,
                frozenset(self.speakers),
                frozenset(self.listeners),
                frozenset(self.whispers.items()),
            )
            if self.history and self.history[-1][0] == now:
                self.history[-1] = snap
            else:
                self.history.append(snap)

    def voices_between(
        self, listener: str, start: float, end: float | None
    ) -> list[tuple[float, frozenset[str]]]:
        """What ``listener`` hears during [start, end): each voice set with the instant it began.

        Everyone speaking but the listener, plus any coach whispering to the listener.
        """
        return [
            (at, (speakers | {coach for coach, coached in whispers if coached == listener}) - {listener})
            for at, speakers, whispers in self._between(start, end)
        ]

    def _between(
        self, start: float, end: float | None
    ) -> list[tuple[float, frozenset[str], frozenset[tuple[str, str]]]]:
        empty: frozenset[tuple[str, str]] = frozenset()
        current: tuple[frozenset[str], frozenset[tuple[str, str]]] = (frozenset(), empty)
        out: list[tuple[float, frozenset[str], frozenset[tuple[str, str]]]] = []
        for at, speakers, _, whispers in self.history:
            if at <= start:
                current = (speakers, whispers)
                continue
            if end is not None and at >= end:
                break
            if not out:
                out.append((start, *current))
            out.append((at, speakers, whispers))
        if not out:
            out.append((start, *current))
        return out


class Timeline:
    """One call's segments, in order."""

    def __init__(self, call_sid: str) -> None:
        self.call_sid = call_sid
        self._segments: list[_Segment] = []

    def hear(self, now: float, audio: Audio) -> None:
        """From ``now`` on, the call hears ``audio``."""
        if self._segments:
            last = self._segments[-1]
            if last.end is None:
                if last.audio == audio:
                    return
                if last.start == now:
                    self._segments.pop()
                    if self._segments and self._segments[-1].audio == audio and self._segments[-1].end == now:
                        self._segments[-1].end = None
                        return
                else:
                    last.end = now
        self._segments.append(_Segment(now, None, audio))

    def close(self, now: float) -> None:
        """The call has ended: nothing more is heard."""
        if self._segments and self._segments[-1].end is None:
            last = self._segments[-1]
            if last.start == now:
                self._segments.pop()
            else:
                last.end = now

    @property
    def current(self) -> Audio | None:
        """What the call hears now, or None once it has ended."""
        if self._segments and self._segments[-1].end is None:
            return self._segments[-1].audio
        return None

    def raw(self) -> list[tuple[float, float | None, Audio]]:
        """Segments as stored (conference mixes not expanded)."""
        return [(s.start, s.end, s.audio) for s in self._segments]


class Media:
    """Every call's timeline and every conference's mix."""

    def __init__(self) -> None:
        self.timelines: dict[str, Timeline] = {}
        self.mixes: dict[str, ConferenceMix] = {}

    def timeline(self, call_sid: str) -> Timeline:
        """The timeline of ``call_sid``, made on first use."""
        tl = self.timelines.get(call_sid)
        if tl is None:
            tl = self.timelines[call_sid] = Timeline(call_sid)
        return tl

    def mix(self, conference_sid: str) -> ConferenceMix:
        """The mix of ``conference_sid``, made on first use."""
        mix = self.mixes.get(conference_sid)
        if mix is None:
            mix = self.mixes[conference_sid] = ConferenceMix(conference_sid)
        return mix

    def segments(self, call_sid: str) -> list[HeardSegment]:
        """What ``call_sid`` heard, with conference mixes expanded into who was speaking."""
        out: list[HeardSegment] = []
        tl = self.timelines.get(call_sid)
        if tl is None:
            return out
        for start, end, audio in tl.raw():
            if audio.kind == "conference":
                mix = self.mixes.get(audio.detail)
                pieces = mix.voices_between(call_sid, start, end) if mix else [(start, frozenset())]
                for i, (at, heard) in enumerate(pieces):
                    until = pieces[i + 1][0] if i + 1 < len(pieces) else end
                    voices = tuple(sorted(heard))
                    if (
                        out
                        and out[-1].kind == "conference"
                        and out[-1].voices == voices
                        and out[-1].end == at
                    ):
                        prev = out.pop()
                        at = prev.start
                    out.append(HeardSegment(at, until, "conference", audio.detail, audio.context, voices))
            else:
                voices = (audio.detail,) if audio.kind == "call" else ()
                out.append(HeardSegment(start, end, audio.kind, audio.detail, audio.context, voices))
        return out

    def heard_by(self, call_sid: str) -> list[tuple[float, float | None, str]]:
        """Every stretch during which another call heard ``call_sid``: (start, end, listener)."""
        found: list[tuple[float, float | None, str]] = []
        for other in self.timelines:
            if other == call_sid:
                continue
            for seg in self.segments(other):
                if call_sid in seg.voices:
                    found.append((seg.start, seg.end, other))
        return sorted(found, key=lambda item: (item[0], item[2]))
