"""``<Gather>``: what ends it (finishOnKey, numDigits, timeout) and what the action is told."""

from __future__ import annotations

from tests.webhook_app import BASE, WebhookApp
from voicesim import Emulator, VirtualClock
from voicesim.twiml.interpreter import say_duration

NUMBER, CALLER = "+15550001000", "+15551230001"
PROMPT = "Please enter your account number now"  # 2.4 s


async def call_in(emu: Emulator, clock: VirtualClock, app: WebhookApp, twiml: str) -> str:
    app.twiml("/voice", twiml)
    app.twiml("/menu", "<Say>Thanks</Say>")
    emu.buy_number(NUMBER, voice_url=f"{BASE}/voice")
    call = emu.inbound_call(CALLER, NUMBER)
    await clock.advance(60)
    clock.raise_errors()
    return call.sid


async def test_finished_on_key_names_the_key_that_ended_the_gather(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    voicesim.phones.script(CALLER, presses=((2.0, "42#"),))
    await call_in(voicesim, voicesim_clock, app, '<Gather action="/menu"><Say>Enter it</Say></Gather>')
    (menu,) = app.to("/menu")
    assert (menu.params["Digits"], menu.params["FinishedOnKey"]) == ("42", "#")


async def test_another_finish_on_key_is_reported_as_itself(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    voicesim.phones.script(CALLER, presses=((2.0, "7*"),))
    await call_in(voicesim, voicesim_clock, app, '<Gather action="/menu" finishOnKey="*"/>')
    (menu,) = app.to("/menu")
    assert (menu.params["Digits"], menu.params["FinishedOnKey"]) == ("7", "*")


async def test_finished_on_key_is_empty_after_the_timeout(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    voicesim.phones.script(CALLER, presses=((2.0, "9"),))
    await call_in(voicesim, voicesim_clock, app, '<Gather action="/menu" timeout="3"/>')
    (menu,) = app.to("/menu")
    assert (menu.params["Digits"], menu.params["FinishedOnKey"]) == ("9", "")


async def test_num_digits_reports_no_finishing_key(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    voicesim.phones.script(CALLER, presses=((2.0, "123"),))
    await call_in(voicesim, voicesim_clock, app, '<Gather action="/menu" numDigits="2"/>')
    (menu,) = app.to("/menu")
    assert (menu.params["Digits"], menu.params["FinishedOnKey"]) == ("12", "")


async def test_a_lone_finish_key_does_not_end_the_gather(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    voicesim.phones.script(CALLER, presses=((1.0, "#"), (3.0, "5"), (4.0, "#")))
    sid = await call_in(
        voicesim, voicesim_clock, app, f'<Gather action="/menu"><Say>{PROMPT}</Say></Gather><Say>Missed</Say>'
    )
    (menu,) = app.to("/menu")
    assert (menu.params["Digits"], menu.params["FinishedOnKey"]) == ("5", "#")
    # The lone "#" did not cut the prompt short either: the caller heard all of it.
    kinds = [(s.kind, round((s.end or 0) - s.start, 1)) for s in voicesim.media.segments(sid)]
    assert kinds[0] == ("speech", say_duration(PROMPT))


async def test_a_lone_finish_key_then_silence_ends_as_no_input(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    voicesim.phones.script(CALLER, presses=((1.0, "#"),))
    sid = await call_in(
        voicesim, voicesim_clock, app, '<Gather action="/menu" timeout="4"/><Say>Missed</Say>'
    )
    assert app.to("/menu") == []
    segments = [(s.kind, s.detail, s.start) for s in voicesim.media.segments(sid)]
    assert segments[-1][:2] == ("speech", "Missed")
    assert segments[-1][2] == segments[0][2] + 4  # the timeout ran from the start, not from the "#"


async def test_a_speech_gather_is_logged_as_not_emulated(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    sid = await call_in(
        voicesim, voicesim_clock, app, '<Gather input="speech" action="/menu" timeout="2"/><Say>Bye</Say>'
    )
    assert app.to("/menu") == []
    (event,) = [e for e in voicesim.events if e.type == "gather.speech-unsupported"]
    assert event.data == {"call_sid": sid, "input": "speech"}
