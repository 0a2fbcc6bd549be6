"""callhold's own hold music: a soft 12-second chime, made on first request (stdlib ``wave``).

Serving it from callhold means a fresh install has hold music that Twilio can fetch (and that
loops in callhold's hold TwiML, with a reminder between loops) without any other hosting.
"""

from __future__ import annotations

import functools
import io
import math
import wave

from fastapi import APIRouter, Response

__all__ = ["HOLD_MUSIC_PATH", "hold_music_wav", "router"]

HOLD_MUSIC_PATH = "/media/hold-music.wav"
RATE = 8000
NOTES = (523.25, 659.25, 783.99, 659.25)  # C5 E5 G5 E5
SECONDS = 12.0

router = APIRouter(include_in_schema=False)


@functools.cache
def hold_music_wav() -> bytes:
    """The chime as mono 8-bit 8 kHz WAV bytes."""
    frames = bytearray()
    per_note = int(RATE * SECONDS / (len(NOTES) * 3))
    for i in range(len(NOTES) * 3):
        freq = NOTES[i % len(NOTES)]
        for n in range(per_note):
            fade = min(1.0, n / 400, (per_note - n) / 400)
            frames.append(int(128 + 40 * fade * math.sin(2 * math.pi * freq * n / RATE)))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))
    return buf.getvalue()


@router.get(HOLD_MUSIC_PATH)
async def hold_music() -> Response:
    """The default hold music."""
    return Response(
        hold_music_wav(), media_type="audio/wav", headers={"Cache-Control": "public, max-age=86400"}
    )
