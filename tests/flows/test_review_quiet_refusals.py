"""Twilio refusing commands that webhooks and timers issue: never raised, handled by the domain.

Only the API use cases raise a refusal (the caller is waiting for an answer). A status callback, a
conference event or a hold timer whose command Twilio refuses answers Twilio normally and leaves
the records as the domain decided.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import twilio.rest
from twilio.http import AsyncHttpClient
from twilio.http.response import Response

from callhold.adapters.telephony import TwilioTelephony
from callhold.domain.model import HoldEndReason, HoldState
from tests.flows.callhold_harness import BASE, Harness, make_harness
from voicesim import Emulator, VirtualClock
from voicesim.sdk import AsyncInProcessHttpClient


class Refusing(AsyncHttpClient):  # type: ignore[misc]
    """voicesim's SDK transport, with Twilio answering 503 to every POST whose URL matches."""

    def __init__(self, emu: Emulator, pattern: re.Pattern[str]) -> None:
        super().__init__(logging.getLogger("tests.refusing"), is_async=True)
        self.inner = AsyncInProcessHttpClient(emu)
        self.pattern = pattern
        self.refused: list[str] = []

    async def request(self, method: str, url: str, *args: object, **kwargs: object) -> Response:
        if method == "POST" and self.pattern.search(url):
            self.refused.append(url)
            if len(self.refused) > 10:
                raise RuntimeError("callhold retries a refused command in a loop")
            body = {"code": 20503, "message": "Service Unavailable", "status": 503}
            return Response(503, json.dumps(body), {"Content-Type": "application/json"})
        return await self.inner.request(method, url, *args, **kwargs)


def refuse(h: Harness, pattern: str) -> Refusing:
    transport = Refusing(h.emu, re.compile(pattern))
    client = twilio.rest.Client(h.emu.account_sid, h.emu.auth_token, http_client=transport)
    h.services.service.telephony = TwilioTelephony(client, BASE)
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
