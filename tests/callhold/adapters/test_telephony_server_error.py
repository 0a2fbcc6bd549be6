"""Twilio answering a server error (500, 502, 504) leaves the request's outcome unknown: the
error is ``uncertain``, as for an answer that never came, not a refusal the domain takes for
"nothing moved". Twilio: a POST answered 500 may have been carried out -- "if you ... retry the
request, it is possible for a customer to receive multiple messages or calls" (docs/api/errors/20500).
Its status and code are kept, and it is not sent again.
"""

from __future__ import annotations

import pytest
import twilio.rest
from tests.twilio_refusals import InterceptingTransport, RefusingTransport, Sent
from twilio.http.response import Response

from callhold.adapters.telephony import TwilioTelephony
from callhold.domain.errors import TelephonyError
from voicesim import Emulator

TO, FROM = "+15557770000", "+15550001000"
CALL_SID = "CA" + "1" * 32


class GatewayPage(InterceptingTransport):
    """Every request answered ``status`` with an HTML page and no Twilio error JSON, as a gateway in
    front of Twilio's API answers (502, 504); ``sent`` counts them."""

    def __init__(self, emu: Emulator, status: int) -> None:
        super().__init__(emu, lambda *_: True, "tests.gateway_page")
        self.status, self.sent = status, 0

    async def intercept(self, sent: Sent, selected: bool) -> Response:
        self.sent += 1
        page = f"<html><body><h1>{self.status}</h1></body></html>"
        return Response(self.status, page, {"Content-Type": "text/html"})


def telephony(emu: Emulator, transport: InterceptingTransport) -> TwilioTelephony:
    """The adapter over ``transport``, with (instant) 429 retries: a 5xx retried would show."""
    client = twilio.rest.Client(emu.account_sid, emu.auth_token, http_client=transport)
    return TwilioTelephony(client, "http://callhold.test", rate_limit_delays=(0.0, 0.0, 0.0))


async def place(telephony: TwilioTelephony) -> TelephonyError:
    """Calls create (the non-idempotent POST Twilio's 20500 page warns of); the error it raises."""
    with pytest.raises(TelephonyError) as caught:
        await telephony.place_call(TO, FROM, "/twiml/outbound", "/webhooks/call-status")
    return caught.value


@pytest.mark.parametrize(("status", "code"), [(500, 20500), (502, 20500), (504, 20504)])
async def test_a_server_error_twilio_answered_is_uncertain_with_its_status_and_code(
    voicesim: Emulator, status: int, code: int
) -> None:
    transport = RefusingTransport(voicesim, lambda *_: True, status=status, code=code, message="Oops")
    error = await place(telephony(voicesim, transport))
    assert error.uncertain and (error.status, error.code) == (status, code)
    # Says what Twilio answered (the API's problem detail): not "no answer", not a plain refusal.
    assert f"HTTP {status}" in error.message and "Oops" in error.message
    assert "no answer" not in error.message
    assert len(transport.refused) == 1  # not sent again: Twilio may have placed the call


@pytest.mark.parametrize(("status", "uncertain"), [(502, True), (504, True), (503, True), (501, False)])
async def test_a_gateways_page_with_no_twilio_error_goes_by_its_status(
    voicesim: Emulator, status: int, uncertain: bool
) -> None:
    """502 and 504: the server behind the gateway may have acted; so may it for a 503 that is not
    Twilio's own 20503 (a proxy's, for a connection lost mid-request): not sent again, unlike
    Twilio's. 501 (not implemented): nothing was done."""
    transport = GatewayPage(voicesim, status)
    error = await place(telephony(voicesim, transport))
    assert error.uncertain is uncertain and error.status == status
    assert (f"HTTP {status}" in error.message) is uncertain
    assert transport.sent == 1


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, 21211), (401, 20003), (404, 20404), (429, 20429), (503, 20503)],
)
async def test_a_4xx_or_a_503_is_a_refusal(voicesim: Emulator, status: int, code: int) -> None:
    """Twilio did nothing (a 429 or a 503: once its retries are spent)."""
    transport = RefusingTransport(voicesim, lambda *_: True, status=status, code=code)
    error = await place(telephony(voicesim, transport))
    assert not error.uncertain and (error.status, error.code) == (status, code)
    assert "HTTP" not in error.message


@pytest.mark.parametrize("read", ["fetch", "list page"])
async def test_a_read_answered_with_a_server_error_is_uncertain_as_one_timed_out_is(
    voicesim: Emulator, read: str
) -> None:
    """One rule for every method (a read carries nothing out, and callhold takes any failure of a
    read alike); the SDK's list pages raise another exception than fetches, with the same outcome."""
    transport = RefusingTransport(voicesim, lambda *_: True, status=500, code=20500)
    adapter = telephony(voicesim, transport)
    with pytest.raises(TelephonyError) as caught:
        if read == "fetch":
            await adapter.call_status(CALL_SID)
        else:
            await adapter.queues_page(None)
    assert caught.value.uncertain and (caught.value.status, caught.value.code) == (500, 20500)
    assert len(transport.refused) == 1
