"""Twilio's 429 (error 20429, too many concurrent requests) and 503 (20503, service temporarily
unavailable) are retried after a pause; nothing else is.

Twilio: "Requests that receive 429 responses aren't processed and are safe to retry after backing
off" (docs/api/errors/20429); 503: "Try again a few times with exponential back-off"
(docs/api/errors/20503). Before, a hold refused so failed outright (502, and undone) when Twilio only
asked to slow down.
"""

from __future__ import annotations

import pytest
from tests.twilio_refusals import RefusingTransport

from callhold import budget
from callhold.adapters.telephony import TwilioTelephony
from callhold.domain.errors import TelephonyError
from voicesim import Emulator


class RefusingFirst(RefusingTransport):
    """Refuses the first ``times`` requests, then sends the rest to voicesim."""

    def __init__(self, emu: Emulator, times: int, *, status: int = 429, code: int = 20429) -> None:
        super().__init__(emu, lambda *_: True, status=status, code=code)
        self.times = times
        self.sent = 0

    async def intercept(self, sent: object, selected: bool) -> object:  # type: ignore[override]
        self.sent += 1
        return await super().intercept(sent, self.sent <= self.times)  # type: ignore[arg-type]


def telephony(
    emu: Emulator, transport: RefusingFirst, delays: tuple[float, ...] = (0.0, 0.0, 0.0)
) -> TwilioTelephony:
    import twilio.rest

    client = twilio.rest.Client(emu.account_sid, emu.auth_token, http_client=transport)
    return TwilioTelephony(client, "http://callhold.test", rate_limit_delays=delays)


FOR_NOW = pytest.mark.parametrize("status, code", [(429, 20429), (503, 20503)])


@FOR_NOW
async def test_a_request_twilio_refused_for_now_is_sent_again_and_succeeds(
    voicesim: Emulator, status: int, code: int
) -> None:
    transport = RefusingFirst(voicesim, times=2, status=status, code=code)
    queues, _next = await telephony(voicesim, transport).queues_page(None)
    assert queues == [] and transport.sent == 3  # two refusals, then voicesim's answer


@FOR_NOW
async def test_after_the_last_retry_the_refusal_is_the_answer(
    voicesim: Emulator, status: int, code: int
) -> None:
    transport = RefusingFirst(voicesim, times=10, status=status, code=code)
    with pytest.raises(TelephonyError) as caught:
        await telephony(voicesim, transport).queues_page(None)
    assert (caught.value.status, caught.value.code) == (status, code)
    assert not caught.value.uncertain  # nothing was done: the domain may undo at once
    assert transport.sent == 4  # the request and three retries: not a loop


@pytest.mark.parametrize("status, code", [(400, 21220), (500, 20500)])
async def test_any_other_refusal_is_not_retried(voicesim: Emulator, status: int, code: int) -> None:
    transport = RefusingFirst(voicesim, times=10, status=status, code=code)
    with pytest.raises(TelephonyError) as caught:
        await telephony(voicesim, transport).queues_page(None)
    assert caught.value.status == status and transport.sent == 1


async def test_no_retry_that_the_webhook_being_answered_has_no_time_for(voicesim: Emulator) -> None:
    transport = RefusingFirst(voicesim, times=10)
    with budget.spending(1.5), pytest.raises(TelephonyError) as caught:  # Twilio is waiting for TwiML
        await telephony(voicesim, transport, delays=(1.0, 2.0)).queues_page(None)
    assert caught.value.status == 429 and transport.sent == 1
