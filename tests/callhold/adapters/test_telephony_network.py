"""A Twilio that cannot be reached is a TelephonyError (so the domain compensates), not a crash."""

from __future__ import annotations

import socket

import pytest
from twilio.rest import Client

from callhold.adapters.http import RebasedAsyncHttpClient
from callhold.adapters.telephony import TwilioTelephony
from callhold.domain.commands import RedirectLeg
from callhold.domain.errors import TelephonyError


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # released on exit: nothing listens there


async def test_connection_refused_becomes_a_telephony_error() -> None:
    http = RebasedAsyncHttpClient(f"http://127.0.0.1:{_closed_port()}")
    telephony = TwilioTelephony(Client("AC" + "0" * 32, "token", http_client=http), "http://callhold.test")
    try:
        with pytest.raises(TelephonyError) as caught:
            await telephony.redirect_leg(RedirectLeg(call_sid="CA" + "1" * 32, twiml_path="/twiml/x"))
    finally:
        await http.close()
    assert caught.value.status == 503 and "cannot reach Twilio" in caught.value.message
    assert not caught.value.call_gone
