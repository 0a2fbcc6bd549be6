"""When Twilio picks up an inbound call: any response but ``<Reject>`` answers it, a leading
``<Pause>`` delays the answer, and ``<Dial answerOnBridge="true">`` answers it only at the bridge."""

from __future__ import annotations

from tests.webhook_app import BASE, WebhookApp
from voicesim import Emulator, PhoneScript, Source, VirtualClock
from voicesim.calls import Call
from voicesim.twiml.interpreter import say_duration

NUMBER, CALLER, CALLEE = "+15550001000", "+15551230001", "+15552220000"


def ring_in(emu: Emulator, app: WebhookApp, twiml: str) -> Call:
    """An inbound call to NUMBER whose voice URL serves ``twiml``; status callbacks to /status."""
    app.twiml("/voice", twiml)
    emu.buy_number(NUMBER, voice_url=f"{BASE}/voice", status_callback=f"{BASE}/status")
    return emu.inbound_call(CALLER, NUMBER)


def heard(emu: Emulator, sid: str) -> list[tuple[str, float]]:
    return [(s.kind, round((s.end or 0) - s.start, 1)) for s in emu.media.segments(sid)]


async def test_an_empty_response_answers_the_call_which_then_completes(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    call = ring_in(voicesim, app, "")
    await voicesim_clock.advance(5)
    voicesim_clock.raise_errors()
    assert (call.status, call.answered_at, call.duration()) == ("completed", call.start_time, 0)
    (status,) = app.to("/status")
    assert (status.params["CallStatus"], status.params["CallDuration"]) == ("completed", "0")


async def test_a_redirect_to_an_empty_document_also_ends_completed(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    app.twiml("/empty", "")
    call = ring_in(voicesim, app, "<Redirect>/empty</Redirect>")
    await voicesim_clock.advance(5)
    assert [r.path for r in app.received] == ["/voice", "/empty", "/status"]
    assert (call.status, call.duration()) == ("completed", 0)
    assert app.to("/status")[0].params["CallStatus"] == "completed"


async def test_an_outbound_call_answered_by_its_callee_runs_empty_twiml_and_completes(
    voicesim: Emulator, voicesim_clock: VirtualClock
) -> None:
    voicesim.phones.script(CALLEE, answer_after=2)
    call = voicesim.create_call(to=CALLEE, from_=NUMBER, source=Source(twiml="<Response/>"))
    await voicesim_clock.advance(5)
    assert (call.status, call.duration()) == ("completed", 0)


async def test_a_leading_pause_keeps_the_caller_ringing_before_the_pick_up(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    call = ring_in(voicesim, app, '<Pause length="5"/><Say>Hello</Say><Pause length="2"/>')
    await voicesim_clock.advance(4)
    assert (call.status, call.answered_at) == ("ringing", None)
    await voicesim_clock.advance(10)
    assert call.start_time is not None and call.answered_at == call.start_time + 5
    assert heard(voicesim, call.sid) == [("ringback", 5.0), ("speech", 1.0), ("silence", 2.0)]
    assert (call.status, call.duration()) == ("completed", 3)


async def test_a_leading_pause_alone_answers_the_call_when_it_ends(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    call = ring_in(voicesim, app, '<Pause length="3"/>')
    await voicesim_clock.advance(10)
    assert call.start_time is not None and call.answered_at == call.start_time + 3
    assert app.to("/status")[0].params["CallStatus"] == "completed"


async def test_answer_on_bridge_answers_the_caller_when_the_callee_is_connected(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    voicesim.phones.script(CALLEE, PhoneScript(answer_after=8, hang_up_after=20))
    app.twiml("/whisper", "<Say>Call for you</Say>")
    whisper = say_duration("Call for you")
    call = ring_in(
        voicesim, app, f'<Dial answerOnBridge="true"><Number url="/whisper">{CALLEE}</Number></Dial>'
    )
    await voicesim_clock.advance(8.5)  # the callee answered and hears the whisper: still ringing
    assert (call.status, call.answered_at) == ("ringing", None)
    await voicesim_clock.advance(60)
    assert call.start_time is not None and call.answered_at == call.start_time + 8 + whisper
    assert (call.status, call.duration()) == ("completed", int(20 - whisper))  # billed from the bridge
    assert heard(voicesim, call.sid)[0] == ("ringback", 8 + whisper)


async def test_answer_on_bridge_leaves_a_failed_dial_unanswered_when_nothing_follows(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    voicesim.phones.script(CALLEE, outcome="busy")
    call = ring_in(voicesim, app, f'<Dial answerOnBridge="true">{CALLEE}</Dial>')
    await voicesim_clock.advance(30)
    assert (call.status, call.answered_at, call.duration()) == ("busy", None, 0)
    (status,) = app.to("/status")
    assert (status.params["CallStatus"], status.params["CallDuration"]) == ("busy", "0")


async def test_answer_on_bridge_no_answer_then_the_action_twiml_answers_the_caller(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    voicesim.phones.script(CALLEE, outcome="no-answer")
    app.twiml("/after", "<Say>Nobody is here</Say>")
    call = ring_in(voicesim, app, f'<Dial answerOnBridge="true" timeout="10" action="/after">{CALLEE}</Dial>')
    await voicesim_clock.advance(60)
    assert app.to("/after")[0].params["DialCallStatus"] == "no-answer"
    assert call.start_time is not None and call.answered_at == call.start_time + 10
    assert (call.status, call.duration()) == ("completed", 1)


async def test_answer_on_bridge_then_reject_in_the_action_never_answers(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    voicesim.phones.script(CALLEE, outcome="failed")
    app.twiml("/after", '<Reject reason="busy"/>')
    call = ring_in(voicesim, app, f'<Dial answerOnBridge="true" action="/after">{CALLEE}</Dial>')
    await voicesim_clock.advance(60)
    assert (call.status, call.answered_at) == ("busy", None)


async def test_answer_on_bridge_changes_nothing_once_an_earlier_verb_answered(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    voicesim.phones.script(CALLEE, PhoneScript(answer_after=8, hang_up_after=5))
    call = ring_in(voicesim, app, f'<Say>Connecting</Say><Dial answerOnBridge="true">{CALLEE}</Dial>')
    await voicesim_clock.advance(60)
    assert call.answered_at == call.start_time
    assert (call.status, call.duration()) == ("completed", 14)
