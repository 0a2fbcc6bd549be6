"""Part 2's requests: the webhook parameters Twilio posts, and signed bodies for a target URL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from bench.callhold.constants import ACCOUNT_SID, ALICE, AUTH_TOKEN, CUSTOMER, FORM


def form_headers(signature: str | None = None) -> dict[str, str]:
    """A form post's headers, with ``X-Twilio-Signature`` if ``signature`` is given."""
    if signature is None:
        return {"content-type": FORM}
    return {"content-type": FORM, "x-twilio-signature": signature}


def voice_params(call_sid: str, to: str) -> dict[str, str]:
    """What Twilio posts to a voice URL (an inbound call)."""
    return {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "CallStatus": "ringing",
        "Called": to,
        "CalledCity": "",
        "CalledCountry": "US",
        "CalledState": "",
        "CalledZip": "",
        "Caller": CUSTOMER,
        "CallerCity": "",
        "CallerCountry": "US",
        "CallerState": "",
        "CallerZip": "",
        "Direction": "inbound",
        "From": CUSTOMER,
        "FromCountry": "US",
        "To": to,
        "ToCountry": "US",
    }


def status_params(call_sid: str, parent: str, to: str, sequence: int) -> dict[str, str]:
    """What Twilio posts to a status callback (the agent leg, in progress)."""
    return {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "ParentCallSid": parent,
        "CallStatus": "in-progress",
        "CallbackSource": "call-progress-events",
        "Called": ALICE,
        "Caller": to,
        "Direction": "outbound-dial",
        "From": to,
        "To": ALICE,
        "SequenceNumber": str(sequence),
        "Timestamp": "Tue, 25 Nov 2025 10:00:00 +0000",
    }


@dataclass
class Load:
    """One load: callhold's path and the bare one, and the webhook parameters to send in turn (a
    single set, or sets differing only in ``SequenceNumber``, starting at ``first_sequence``)."""

    name: str
    path: str
    bare_path: str
    params: Callable[[int], dict[str, str]]
    count: int = 1
    first_sequence: int = 0


@dataclass
class Bodies:
    """Signed request bodies for one target URL: ``(body, signature)`` pairs, and for wrk the body as
    ``prefix .. SequenceNumber .. suffix`` when the bodies differ (``prefix`` is the whole body if not)."""

    pairs: list[tuple[bytes, str]]
    prefix: str
    suffix: str = ""
    first: int | None = None


def sign_all(url: str, load: Load) -> Bodies:
    validator = RequestValidator(AUTH_TOKEN)
    pairs = [signed(validator, url, load.params(k)) for k in range(load.count)]
    if load.count == 1:
        return Bodies(pairs, pairs[0][0].decode())
    marker = "SequenceNumber=" + str(load.first_sequence)
    prefix, _, suffix = pairs[0][0].decode().partition(marker)
    return Bodies(pairs, prefix + "SequenceNumber=", suffix, load.first_sequence)


def signed(validator: RequestValidator, url: str, params: dict[str, str]) -> tuple[bytes, str]:
    return urlencode(params).encode(), validator.compute_signature(url, params)
