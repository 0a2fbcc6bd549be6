"""TwiML verbs on a call, with Twilio's timing, content types, fallback and application errors."""

from __future__ import annotations

from tests.webhook_app import BASE, WebhookApp, wav_bytes
from voicesim import Emulator, PhoneScript, VirtualClock
from voicesim.twiml.interpreter import APPLICATION_ERROR_TEXT, say_duration

NUMBER, CALLER = "+15550001000", "+15551230001"


def kinds(emu: Emulator, sid: str) -> list[tuple[str, str, float]]:
    return [(s.kind, s.detail, round((s.end or 0) - s.start, 1)) for s in emu.media.segments(sid)]


async def call_in(emu: Emulator, clock: VirtualClock, seconds: float = 60, **number: str) -> str:
    emu.buy_number(NUMBER, voice_url=f"{BASE}/voice", **number)
    call = emu.inbound_call(CALLER, NUMBER)
    await clock.advance(seconds)
    clock.raise_errors()
    return call.sid


async def test_say_play_pause_take_their_time_then_the_call_hangs_up(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    app.raw("/tone.wav", wav_bytes(4.0), "audio/wav")
    app.twiml(
        "/voice", f'<Say>Hello there caller</Say><Play loop="2">{BASE}/tone.wav</Play><Pause length="3"/>'
    )
    sid = await call_in(voicesim, voicesim_clock)
    assert kinds(voicesim, sid) == [
        ("speech", "Hello there caller", say_duration("Hello there caller")),
        ("play", f"{BASE}/tone.wav", 8.0),
        ("silence", "", 3.0),
    ]
    call = voicesim.calls.get(sid)
    assert call is not None and call.status == "completed"
    assert call.duration() == int(say_duration("Hello there caller") + 11)
    assert [r.method for r in app.to("/tone.wav")] == ["GET"]  # fetched once, cached for the loop


async def test_gather_collects_digits_and_posts_them_to_the_action(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    voicesim.phones.script(CALLER, presses=((3.0, "12#"),))
    app.twiml(
        "/voice", '<Gather action="/menu" numDigits="4"><Say>Enter your code</Say></Gather><Say>Missed</Say>'
    )
    app.twiml("/menu", "<Say>Thanks</Say>")
    sid = await call_in(voicesim, voicesim_clock)
    (menu,) = app.to("/menu")
    assert menu.params["Digits"] == "12"
    assert menu.params["CallSid"] == sid
    assert [k for k, _, _ in kinds(voicesim, sid)] == ["speech", "silence", "speech"]
    assert "Missed" not in [d for _, d, _ in kinds(voicesim, sid)]


async def test_gather_timeout_without_input_falls_through(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    app.twiml("/voice", '<Gather action="/menu" timeout="4"/><Say>No input</Say>')
    sid = await call_in(voicesim, voicesim_clock)
    assert app.to("/menu") == []
    assert kinds(voicesim, sid) == [("silence", "", 4.0), ("speech", "No input", 1.0)]


async def test_redirect_and_relative_urls(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    app.twiml("/voice", "<Redirect>/step2</Redirect><Say>never</Say>")
    app.twiml("/step2", '<Redirect method="GET">step3</Redirect>')
    app.twiml("/step3", "<Say>arrived</Say><Hangup/><Say>never</Say>")
    sid = await call_in(voicesim, voicesim_clock)
    assert [(r.method, r.path) for r in app.received] == [
        ("POST", "/voice"),
        ("POST", "/step2"),
        ("GET", "/step3"),
    ]
    assert [d for _, d, _ in kinds(voicesim, sid)] == ["arrived"]


async def test_reject_ends_an_unanswered_call_busy_or_no_answer(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    app.twiml("/voice", '<Reject reason="busy"/>')
    sid = await call_in(voicesim, voicesim_clock)
    call = voicesim.calls.get(sid)
    assert call is not None and (call.status, call.answered_at) == ("busy", None)
    app.twiml("/voice", "<Reject/>")
    second = voicesim.inbound_call(CALLER, NUMBER)
    await voicesim_clock.advance(5)
    assert second.status == "no-answer"


async def test_audio_response_is_played_then_the_call_hangs_up(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    app.raw("/voice", wav_bytes(5.0), "audio/wav")
    sid = await call_in(voicesim, voicesim_clock)
    assert kinds(voicesim, sid) == [("play", f"{BASE}/voice", 5.0)]
    assert voicesim.calls.by_sid[sid].status == "completed"


async def test_plain_text_is_read_aloud_unless_it_is_twiml(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    app.raw("/voice", b"We are closed today", "text/plain")
    sid = await call_in(voicesim, voicesim_clock)
    assert [k for k, _, _ in kinds(voicesim, sid)] == ["speech"]
    assert kinds(voicesim, sid)[0][1] == "We are closed today"
    app.raw("/voice", b"<Response><Say>twiml as text</Say></Response>", "text/plain")
    second = voicesim.inbound_call(CALLER, NUMBER)
    await voicesim_clock.advance(10)
    assert kinds(voicesim, second.sid)[-1][1] == "twiml as text"


async def test_failing_webhook_uses_the_fallback_with_error_code(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    app.raw("/voice", b"boom", "text/plain", status=500)
    app.twiml("/fallback", "<Say>Fallback speaking</Say>")
    sid = await call_in(voicesim, voicesim_clock, voice_fallback_url=f"{BASE}/fallback")
    (fallback,) = app.to("/fallback")
    assert fallback.params["ErrorCode"] == "11200"
    assert fallback.params["ErrorUrl"] == f"{BASE}/voice"
    assert [a.error_code for a in voicesim.alerts] == [11200]
    assert [d for _, d, _ in kinds(voicesim, sid)] == ["Fallback speaking"]


async def test_invalid_twiml_without_fallback_plays_the_application_error_and_hangs_up(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    app.raw("/voice", b"<Response><Say>unclosed</Response>")
    sid = await call_in(voicesim, voicesim_clock)
    assert [a.error_code for a in voicesim.alerts] == [12100]
    assert [d for _, d, _ in kinds(voicesim, sid)] == [APPLICATION_ERROR_TEXT]
    assert voicesim.calls.by_sid[sid].status == "completed"


async def test_wrong_root_and_unknown_verb_are_twilio_errors(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    app.raw("/voice", b"<Document><Say>x</Say></Document>")
    await call_in(voicesim, voicesim_clock)
    app.twiml("/voice", "<Dance/>")
    voicesim.inbound_call(CALLER, NUMBER)
    await voicesim_clock.advance(10)
    assert [a.error_code for a in voicesim.alerts] == [12102, 12200]


async def test_outbound_call_rings_the_script_then_runs_twiml(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    from voicesim import Source

    voicesim.phones.script("+15557770000", PhoneScript(answer_after=7, hang_up_after=4))
    app.twiml("/out", '<Say>Hello</Say><Pause length="60"/>')
    call = voicesim.create_call(to="+15557770000", from_=NUMBER, source=Source(url=f"{BASE}/out"))
    await voicesim_clock.advance(6)
    assert call.status == "ringing" and app.received == []
    await voicesim_clock.advance(10)
    assert call.status == "completed" and call.duration() == 4
    assert app.to("/out")[0].params["Direction"] == "outbound-api"
