"""Placing calls and the far end's behaviour: initiated, ringing, then what the phone's script does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from voicesim.calls import Call, HungUp, Source
from voicesim.media import Audio
from voicesim.phones import PhoneScript
from voicesim.process import Sleep

if TYPE_CHECKING:
    from voicesim.emulator import Emulator

__all__ = ["inbound_flow", "outbound_api_flow", "ring", "schedule_far_end"]

#: How long a busy or rejecting phone takes to say so.
BUSY_AFTER = 1.0


async def ring(emu: Emulator, call: Call, timeout: float) -> str:
    """Place ``call`` and let its phone decide. Returns ``"answered"`` or the final status."""
    calls = emu.calls
    calls.initiated(call)
    script = emu.phones.lookup(call.to)
    if script.outcome == "failed":
        calls.complete(call, "failed", by="network")
        return "failed"
    calls.ringing(call)
    if script.outcome in ("busy", "reject"):
        await Sleep(min(BUSY_AFTER, timeout))
        calls.complete(call, "busy", by="remote")
        return "busy"
    if script.outcome == "no-answer" or script.answer_after >= timeout:
        await Sleep(timeout)
        calls.complete(call, "no-answer", by="remote")
        return "no-answer"
    await Sleep(script.answer_after)
    calls.answer(call)
    schedule_far_end(emu, call, script)
    return "answered"


def schedule_far_end(emu: Emulator, call: Call, script: PhoneScript) -> None:
    """Schedule what the person on ``call`` does once connected: key presses, hanging up."""
    for offset, digits in script.presses:
        emu.clock.call_later(offset, _press, emu, call, digits)
    if script.hang_up_after is not None:
        emu.clock.call_later(script.hang_up_after, _hang_up, emu, call)


def _press(emu: Emulator, call: Call, digits: str) -> None:
    if not call.is_terminal:
        emu.press(call.sid, digits)


def _hang_up(emu: Emulator, call: Call) -> None:
    if not call.is_terminal:
        emu.log("phone.hangup", call_sid=call.sid)
        emu.calls.complete(call, "completed", by="remote")


async def outbound_api_flow(emu: Emulator, call: Call, source: Source) -> None:
    """A call placed through ``POST /Calls``: ring the ``To`` phone, then run the TwiML."""
    from voicesim.twiml.interpreter import run_call

    try:
        outcome = await ring(emu, call, call.timeout)
    except HungUp:
        return
    if outcome == "answered":
        await run_call(emu, call, source)


async def inbound_flow(emu: Emulator, call: Call) -> None:
    """A phone calls one of the account's numbers: ringing, then the number's VoiceUrl runs."""
    from voicesim.twiml.interpreter import run_call

    emu.calls.ringing(call)
    emu.media.timeline(call.sid).hear(emu.clock.now(), Audio("ringback"))
    schedule_far_end(emu, call, emu.phones.lookup(call.from_))
    source = Source(url=call.url, method=call.method) if call.url else Source(twiml="<Response/>")
    await run_call(emu, call, source)
