"""``/IncomingPhoneNumbers``: the account's numbers and where their inbound calls go."""

from __future__ import annotations

from typing import Any

from voicesim.emulator import Emulator
from voicesim.numbers import IncomingPhoneNumber
from voicesim.phones import normalise_address
from voicesim.rest.app import API_PREFIX, Reply, Request
from voicesim.rest.errors import InvalidParameter, NotFound, TwilioError
from voicesim.rest.params import Params
from voicesim.rest.render import number_json, page
from voicesim.sids import is_sid

__all__ = ["ROUTES"]


def _number(emu: Emulator, request: Request) -> IncomingPhoneNumber:
    sid = request.path_params["Sid"]
    number = emu.numbers.get(sid) if is_sid(sid, "PN") else None
    if number is None:
        raise NotFound(request.path)
    return number


def _voice_fields(params: Params) -> dict[str, Any]:
    """The voice settings present in ``params`` (absent ones are left out)."""
    fields: dict[str, Any] = {}
    for key, attr in (
        ("VoiceUrl", "voice_url"),
        ("VoiceFallbackUrl", "voice_fallback_url"),
        ("StatusCallback", "status_callback"),
    ):
        if key in params:
            fields[attr] = params.url(key)
    for key, attr in (
        ("VoiceMethod", "voice_method"),
        ("VoiceFallbackMethod", "voice_fallback_method"),
        ("StatusCallbackMethod", "status_callback_method"),
    ):
        if key in params:
            fields[attr] = params.method(key)
    if "FriendlyName" in params:
        name = params.get("FriendlyName") or ""
        if len(name) > 64:
            raise InvalidParameter("FriendlyName must be at most 64 characters")
        fields["friendly_name"] = name or None
    return fields


def create_number(emu: Emulator, request: Request) -> Reply:
    """``POST /IncomingPhoneNumbers.json`` with PhoneNumber (E.164) and voice settings (201)."""
    params = request.form
    raw = (params.get("PhoneNumber") or "").strip()
    if not raw:
        raise InvalidParameter("A 'PhoneNumber' or 'AreaCode' is required.", 21452)
    number = normalise_address(raw)
    if not number.startswith("+") or not number[1:].isdigit() or not 8 <= len(number) <= 16:
        raise InvalidParameter(f"{raw} is not a valid E.164 phone number.", 21421)
    if emu.number_for(number) is not None:
        raise TwilioError(f"{number} is already in this account.", code=21422, status=400)
    fields = _voice_fields(params)
    created = emu.buy_number(number, **fields)
    return Reply(201, number_json(emu, created))


def list_numbers(emu: Emulator, request: Request) -> Reply:
    """``GET /IncomingPhoneNumbers.json`` with PhoneNumber/FriendlyName filters."""
    numbers = sorted(emu.numbers.values(), key=lambda n: n.date_created)
    wanted = request.query.get("PhoneNumber")
    if wanted:
        numbers = [n for n in numbers if normalise_address(wanted) in n.phone_number]
    name = request.query.get("FriendlyName")
    if name:
        numbers = [n for n in numbers if n.friendly_name == name]
    return Reply(200, page(emu, request, "incoming_phone_numbers", numbers, number_json))


def fetch_number(emu: Emulator, request: Request) -> Reply:
    """``GET /IncomingPhoneNumbers/{Sid}.json``."""
    return Reply(200, number_json(emu, _number(emu, request)))


def update_number(emu: Emulator, request: Request) -> Reply:
    """``POST /IncomingPhoneNumbers/{Sid}.json``: change the voice settings (validated first)."""
    number = _number(emu, request)
    fields = _voice_fields(request.form)
    for attr, value in fields.items():
        if attr == "friendly_name" and value is None:
            continue
        setattr(number, attr, value)
    number.date_updated = emu.clock.now()
    return Reply(200, number_json(emu, number))


def delete_number(emu: Emulator, request: Request) -> Reply:
    """``DELETE /IncomingPhoneNumbers/{Sid}.json`` (204)."""
    number = _number(emu, request)
    del emu.numbers[number.sid]
    return Reply(204)


_BASE = f"{API_PREFIX}/Accounts/{{AccountSid}}/IncomingPhoneNumbers"
ROUTES = [
    ("POST", f"{_BASE}.json", create_number),
    ("GET", f"{_BASE}.json", list_numbers),
    ("GET", f"{_BASE}/{{Sid}}.json", fetch_number),
    ("POST", f"{_BASE}/{{Sid}}.json", update_number),
    ("DELETE", f"{_BASE}/{{Sid}}.json", delete_number),
]
