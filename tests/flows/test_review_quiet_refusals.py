"""Twilio refusing commands that webhooks and timers issue: never raised, handled by the domain.

Only the API use cases raise a refusal (the caller is waiting for an answer). A status callback, a
conference event or a hold timer whose command Twilio refuses answers Twilio normally and leaves
the records as the domain decided.
"""

from __future__ import annotations

import re
from pathlib import Path

from callhold.domain.model import HoldEndReason, HoldState
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.twilio_refusals import REFUSED, RefusingTransport, telephony_over
from voicesim import Emulator, VirtualClock


def refuse(h: Harness, pattern: str) -> RefusingTransport:
    """From now on Twilio refuses every POST whose URL matches ``pattern`` (and callhold retrying one
    in a loop fails the test)."""
    matches = re.compile(pattern)
    transport = RefusingTransport(
        h.emu,
        lambda method, url, _: method == "POST" and matches.search(url) is not None,
        limit=10,
        **REFUSED,
    )
    h.services.service.telephony = telephony_over(h.emu, transport, BASE)
    return transport


async def test_refused_timer_commands_leave_the_customer_held(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    h = make_harness(
        voicesim, voicesim_clock, tmp_path, strategy="conference", agent_reminder_after=25, max_hold=60
    )
    h.add_agent()
    call = await h.call_in()
    await h.services.service.hold(call.sid, by="alice", agent_id="alice")
    await h.clock.advance(5)
    working = h.services.service.telephony
    transport = refuse(h, r"/Participants/CA\w{32}\.json$")
    await h.clock.advance(70)  # the reminder (AnnounceUrl) and the auto-resume (Hold=false) are refused
    h.clock.raise_errors()
    assert len(transport.refused) == 2  # once each: a refused auto-resume is not retried in a loop
    hold = h.view(call.sid).hold
    assert hold is not None and hold.state is HoldState.HELD  # not lost: still held, resume can be retried
    assert h.heard(call.sid)[-1][1] == "hold"
    # Twilio works again: the maximum-hold action is retried 30 s later, and the customer is back.
    h.services.service.telephony = working
    await h.clock.advance(20)
    h.clock.raise_errors()
    hold = h.view(call.sid).hold
    assert hold is not None and (hold.state, hold.end_reason) == (
        HoldState.ENDED,
        HoldEndReason.MAX_HOLD_AUTO_RESUMED,
    )
    assert h.heard(call.sid)[-1][0] == "conference"
    assert h.emu.alerts == []


async def test_a_refused_command_of_a_status_callback_answers_twilio_normally(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="legs")
    h.add_agent()
    call = await h.call_in()
    await h.services.service.hold(call.sid, by="alice", agent_id="alice")
    await h.clock.advance(10)
    transport = refuse(h, r"/Calls/CA\w{32}\.json$")
    assert h.emu.hang_up(call.sid)  # the callback asks to redirect the agent: refused
    await h.clock.advance(5)
    h.clock.raise_errors()
    assert len(transport.refused) == 1
    hold = h.view(call.sid).hold
    assert hold is not None and (hold.state, hold.end_reason) == (
        HoldState.ENDED,
        HoldEndReason.CUSTOMER_HUNG_UP,
    )
    assert h.emu.alerts == []
