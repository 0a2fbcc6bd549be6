"""Readable renderings of the audio timeline: what every call heard, second by second."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from voicesim.emulator import Emulator
from voicesim.media import HeardSegment

__all__ = ["describe", "render_text", "timeline_json"]


def _clock(offset: float) -> str:
    minutes, seconds = divmod(max(offset, 0.0), 60)
    return f"{int(minutes):02d}:{seconds:04.1f}"


def _name(emu: Emulator, sid: str) -> str:
    call = emu.calls.by_sid.get(sid)
    if call is None:
        return sid
    party = call.from_ if call.direction == "inbound" else call.to
    return f"{party} ({sid[:10]}…)"


def describe(emu: Emulator, seg: HeardSegment) -> str:
    """One segment in words: ``speech "Hello"``, ``the call with +1555… (CA…)``, ``music …``."""
    tag = f"[{seg.context}] " if seg.context else ""
    if seg.kind == "speech":
        return f'{tag}speech "{seg.detail}"'
    if seg.kind == "call":
        return f"{tag}talking with {_name(emu, seg.detail)}"
    if seg.kind == "conference":
        voices = ", ".join(_name(emu, v) for v in seg.voices) or "nobody"
        return f"{tag}conference {seg.detail[:10]}…: hears {voices}"
    if seg.kind in ("play", "music"):
        return f"{tag}{seg.kind} {seg.detail}"
    if seg.kind == "dtmf":
        return f"{tag}DTMF tones {seg.detail}"
    return f"{tag}{seg.kind}"


def render_text(emu: Emulator, call_sids: Iterable[str] | None = None) -> str:
    """Every (or the given) call's timeline as text, offsets from the first call's creation."""
    sids = list(call_sids) if call_sids is not None else [c.sid for c in reversed(emu.calls.all())]
    calls = [emu.calls.by_sid[s] for s in sids if s in emu.calls.by_sid]
    if not calls:
        return "(no calls)\n"
    origin = min(c.date_created for c in calls)
    lines: list[str] = []
    for call in calls:
        lines.append(f"{call.sid}  {call.direction}  {call.from_} -> {call.to}  [{call.status}]")
        for seg in emu.media.segments(call.sid):
            if seg.end is not None and seg.end - seg.start < 0.05:
                continue  # a real-time clock leaves slivers between instants
            end = "…" if seg.end is None else _clock(seg.end - origin)
            lines.append(f"  {_clock(seg.start - origin)} - {end:>7}  {describe(emu, seg)}")
        heard = emu.media.heard_by(call.sid)
        if heard:
            who = sorted({listener for _, _, listener in heard})
            lines.append("  heard by: " + ", ".join(_name(emu, s) for s in who))
        lines.append("")
    return "\n".join(lines)


def timeline_json(emu: Emulator, call_sid: str) -> dict[str, Any]:
    """One call's timeline as JSON: segments (with voices heard) and who heard this call."""
    call = emu.calls.by_sid[call_sid]
    origin = call.date_created
    return {
        "call_sid": call_sid,
        "status": call.status,
        "segments": [seg.as_dict(origin) for seg in emu.media.segments(call_sid)],
        "heard_by": [
            {
                "start": round(s - origin, 3),
                "end": None if e is None else round(e - origin, 3),
                "call_sid": who,
            }
            for s, e, who in emu.media.heard_by(call_sid)
        ],
    }
