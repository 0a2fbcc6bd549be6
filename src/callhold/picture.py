"""A picture of audio timelines: one lane per call, coloured by what the call hears.

Written as a self-contained HTML page with inline SVG (no scripts, no external assets), so it
opens anywhere and can be attached to a ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["Lane", "Segment", "render_html"]

COLOURS = {
    "speech": "#4c78a8",
    "play": "#f58518",
    "music": "#f58518",
    "call": "#54a24b",
    "conference": "#54a24b",
    "ringback": "#b279a2",
    "silence": "#d8d8d8",
    "dtmf": "#9d755d",
}
HOLD_COLOUR = "#e45756"
WIDTH, LANE, TOP, LEFT = 1100, 46, 40, 230


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of a lane: seconds from the scenario start, a kind and a label."""

    start: float
    end: float
    kind: str
    context: str
    label: str


@dataclass(frozen=True, slots=True)
class Lane:
    """One call's row."""

    title: str
    subtitle: str
    segments: Sequence[Segment]


def _colour(seg: Segment) -> str:
    if seg.context in ("hold", "queue-wait") and seg.kind in ("play", "music", "speech"):
        return HOLD_COLOUR
    return COLOURS.get(seg.kind, "#999999")


def _svg(lanes: Sequence[Lane], span: float) -> str:
    scale = (WIDTH - LEFT - 20) / max(span, 1.0)
    height = TOP + LANE * len(lanes) + 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif">'
    ]
    step = 10 if span <= 120 else 30 if span <= 600 else 60
    t = 0
    while t <= span:
        x = LEFT + t * scale
        out.append(f'<line x1="{x:.1f}" y1="{TOP - 8}" x2="{x:.1f}" y2="{height - 25}" stroke="#eee"/>')
        out.append(
            f'<text x="{x:.1f}" y="{TOP - 12}" font-size="10" text-anchor="middle" fill="#777">{t}s</text>'
        )
        t += step
    for i, lane in enumerate(lanes):
        y = TOP + i * LANE
        out.append(f'<text x="8" y="{y + 18}" font-size="13" font-weight="bold">{escape(lane.title)}</text>')
        out.append(f'<text x="8" y="{y + 33}" font-size="10" fill="#666">{escape(lane.subtitle)}</text>')
        for seg in lane.segments:
            x, w = LEFT + seg.start * scale, max((seg.end - seg.start) * scale, 1.0)
            tip = escape(
                f"{seg.start:.1f}-{seg.end:.1f}s {seg.context + ': ' if seg.context else ''}{seg.label}"
            )
            out.append(
                f'<rect x="{x:.1f}" y="{y + 6}" width="{w:.1f}" height="{LANE - 16}" rx="3" '
                f'fill="{_colour(seg)}"><title>{tip}</title></rect>'
            )
            if w > 60:
                text = escape(seg.label if len(seg.label) * 6 < w else seg.label[: int(w / 6) - 1] + "…")
                out.append(f'<text x="{x + 4:.1f}" y="{y + 25}" font-size="10" fill="white">{text}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _legend() -> str:
    items = [
        ("talking", COLOURS["call"]),
        ("speech", COLOURS["speech"]),
        ("music / audio", COLOURS["play"]),
        ("on hold (music, reminders)", HOLD_COLOUR),
        ("ringing", COLOURS["ringback"]),
        ("silence", COLOURS["silence"]),
    ]
    return " ".join(
        f'<span style="display:inline-block;margin-right:14px"><span style="display:inline-block;width:12px;'
        f'height:12px;background:{c};border-radius:2px;vertical-align:middle"></span> {escape(n)}</span>'
        for n, c in items
    )


def render_html(title: str, sections: Sequence[tuple[str, Sequence[Lane], str]]) -> str:
    """A page with one SVG per section: (heading, lanes, caption)."""
    body = []
    for heading, lanes, caption in sections:
        span = max((s.end for lane in lanes for s in lane.segments), default=1.0)
        body.append(f"<h2>{escape(heading)}</h2><p>{escape(caption)}</p>{_svg(lanes, span)}")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:24px;color:#222}h2{margin-top:32px}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>{_legend()}</p>{''.join(body)}</body></html>"
    )
