"""The audio timeline: merged segments, who hears whom, and the readable rendering."""

from __future__ import annotations

from tests.webhook_app import BASE, WebhookApp
from voicesim import Audio, Emulator, VirtualClock
from voicesim.media import Media
from voicesim.report import render_text, timeline_json

NUMBER, CUSTOMER, AGENT = "+15550001000", "+15551230001", "+15559870002"


def test_same_audio_continues_one_segment_and_zero_length_segments_vanish() -> None:
    media = Media()
    tl = media.timeline("CA1")
    tl.hear(0, Audio("speech", "hi"))
    tl.hear(0, Audio("silence"))  # replaced at the same instant
    tl.hear(5, Audio("silence"))  # unchanged: same segment
    tl.hear(8, Audio("call", "CA2"))
    tl.close(10)
    assert tl.raw() == [(0, 8, Audio("silence")), (8, 10, Audio("call", "CA2"))]
    assert tl.current is None


def test_conference_mix_history_gives_each_participant_the_others_voices() -> None:
    media = Media()
    mix = media.mix("CF1")
    for sid in ("CA1", "CA2", "CA3"):
        mix.update(0, sid, speaks=True, listens=True)
        media.timeline(sid).hear(0, Audio("conference", "CF1"))
    mix.update(10, "CA2", speaks=False, listens=True)  # CA2 muted at t=10
    media.timeline("CA1").close(20)
    segments = media.segments("CA1")
    assert [(s.start, s.end, s.voices) for s in segments] == [(0, 10, ("CA2", "CA3")), (10, 20, ("CA3",))]
    assert (0, 10, "CA1") in media.heard_by("CA2") and all(
        end <= 10 for _, end, who in media.heard_by("CA2") if who == "CA1" and end is not None
    )


async def test_bridged_calls_hear_each_other_and_the_text_says_so(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    app.twiml("/voice", f"<Say>Connecting you now</Say><Dial><Number>{AGENT}</Number></Dial>")
    voicesim.buy_number(NUMBER, voice_url=f"{BASE}/voice")
    voicesim.phones.script(AGENT, answer_after=2, hang_up_after=30)
    customer = voicesim.inbound_call(CUSTOMER, NUMBER)
    await voicesim_clock.advance(60)
    (agent,) = [c for c in voicesim.calls.all() if c.parent_call_sid == customer.sid]
    doc = timeline_json(voicesim, customer.sid)
    assert [s["kind"] for s in doc["segments"]] == ["speech", "ringback", "call"]
    assert doc["segments"][2]["voices"] == [agent.sid]
    assert round(doc["segments"][2]["end"] - doc["segments"][2]["start"], 3) == 30
    assert [h["call_sid"] for h in doc["heard_by"]] == [agent.sid]
    text = render_text(voicesim)
    assert 'speech "Connecting you now"' in text
    assert f"talking with {AGENT}" in text and f"talking with {CUSTOMER}" in text
    assert "00:01.2 - 00:03.2  ringback" in text
