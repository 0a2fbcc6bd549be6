"""API keys: the ``SK...`` SID and secret a client may authenticate with instead of the auth token.

Twilio recommends HTTP Basic with an API key SID and its secret (https://twilio.com/docs/iam/api-keys;
the SDK does it with ``Client(api_key_sid, api_secret, account_sid)``). voicesim accepts a key only
once it is registered -- ``Emulator(api_keys={sid: secret})``, ``emu.create_api_key()``, ``POST
/Keys.json`` or ``python -m voicesim --api-key SID:SECRET`` -- so a wrong secret or an unknown key is
refused (401, 20003) exactly as a wrong auth token is.

Every key is a Standard key: it reaches every voicesim resource except the keys themselves, which
need the account's own credentials (Twilio: "Standard API Keys give you access to all the
functionality in Twilio's API, except for managing API Keys, Account Configuration, and
Subaccounts", https://twilio.com/docs/iam/api-keys/api-key).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ApiKey", "check_key_sid"]

_KEY_SID = re.compile(r"^SK[0-9a-fA-F]{32}$")


@dataclass(eq=False)
class ApiKey:
    """One API key of the account, as the Key resource shows it, plus its secret."""

    sid: str
    secret: str
    friendly_name: str | None
    date_created: float
    date_updated: float


def check_key_sid(sid: str) -> str:
    """``sid`` if it is an API key SID (``SK`` + 32 hex digits, the Key resource's pattern)."""
    if not _KEY_SID.match(sid):
        raise ValueError(f"an API key SID is SK followed by 32 hex digits, not {sid!r}")
    return sid
