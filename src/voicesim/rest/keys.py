"""``/Keys``: the account's API keys -- create (the secret is shown once), list, fetch, update, delete.

The OAI spec's v2010 Key resource (``api.v2010.account.key``; ``new_key`` adds ``secret``). Only the
account's own credentials manage keys: a request authenticated with an API key is refused, since
every voicesim key is a Standard key and those cannot reach the Keys endpoints
(https://twilio.com/docs/iam/api-keys/api-key; :mod:`voicesim.keys`). Twilio's answer to that request
is not documented; voicesim's choice is 401 with 20003, its answer to any credentials that may not
make the request.
"""

from __future__ import annotations

from typing import Any

from voicesim.emulator import Emulator
from voicesim.keys import ApiKey
from voicesim.rest.app import API_PREFIX, Reply, Request
from voicesim.rest.errors import AuthenticationError, InvalidParameter, NotFound
from voicesim.rest.params import Params
from voicesim.rest.render import date, page

__all__ = ["ROUTES", "key_json"]

#: The longest FriendlyName voicesim accepts (chosen: the spec gives no limit; as for numbers).
MAX_FRIENDLY_NAME = 64


def key_json(emu: Emulator, key: ApiKey, *, with_secret: bool = False) -> dict[str, Any]:
    """A Key resource; ``with_secret`` for the create response only (``new_key``)."""
    body: dict[str, Any] = {
        "sid": key.sid,
        "friendly_name": key.friendly_name,
        "date_created": date(emu, key.date_created),
        "date_updated": date(emu, key.date_updated),
    }
    if with_secret:
        body["secret"] = key.secret
    return body


def _account_only(emu: Emulator, request: Request) -> None:
    if request.credential != emu.account_sid:
        raise AuthenticationError("API keys cannot manage API keys; use the account's credentials")


def _friendly_name(params: Params) -> str | None:
    name = params.get("FriendlyName")
    if name is not None and len(name) > MAX_FRIENDLY_NAME:
        raise InvalidParameter(f"FriendlyName must be at most {MAX_FRIENDLY_NAME} characters")
    return name or None


def _key(emu: Emulator, request: Request) -> ApiKey:
    _account_only(emu, request)
    key = emu.api_keys.get(request.path_params["Sid"])
    if key is None:
        raise NotFound(request.path)
    return key


def create_key(emu: Emulator, request: Request) -> Reply:
    """``POST /Keys.json`` with an optional FriendlyName (201, with the secret)."""
    _account_only(emu, request)
    sid, _ = emu.create_api_key(_friendly_name(request.form))
    return Reply(201, key_json(emu, emu.api_keys[sid], with_secret=True))


def list_keys(emu: Emulator, request: Request) -> Reply:
    """``GET /Keys.json``: every key, oldest first, without secrets."""
    _account_only(emu, request)
    return Reply(200, page(emu, request, "keys", list(emu.api_keys.values()), key_json))


def fetch_key(emu: Emulator, request: Request) -> Reply:
    """``GET /Keys/{Sid}.json``."""
    return Reply(200, key_json(emu, _key(emu, request)))


def update_key(emu: Emulator, request: Request) -> Reply:
    """``POST /Keys/{Sid}.json``: change the FriendlyName."""
    key = _key(emu, request)
    if "FriendlyName" in request.form:
        key.friendly_name = _friendly_name(request.form)
        key.date_updated = emu.clock.now()
    return Reply(200, key_json(emu, key))


def delete_key(emu: Emulator, request: Request) -> Reply:
    """``DELETE /Keys/{Sid}.json`` (204): the key stops authenticating at once."""
    key = _key(emu, request)
    del emu.api_keys[key.sid]
    emu.log("api-key.deleted", sid=key.sid)
    return Reply(204)


_BASE = f"{API_PREFIX}/Accounts/{{AccountSid}}/Keys"
ROUTES = [
    ("POST", f"{_BASE}.json", create_key),
    ("GET", f"{_BASE}.json", list_keys),
    ("GET", f"{_BASE}/{{Sid}}.json", fetch_key),
    ("POST", f"{_BASE}/{{Sid}}.json", update_key),
    ("DELETE", f"{_BASE}/{{Sid}}.json", delete_key),
]
