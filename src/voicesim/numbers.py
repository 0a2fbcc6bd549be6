"""IncomingPhoneNumbers: the numbers an account owns, and where their inbound calls go."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["IncomingPhoneNumber", "format_number"]


def format_number(e164: str) -> str:
    """Twilio's ``friendly_name`` / ``*_formatted`` style: ``(555) 123-4567`` for +1 numbers."""
    digits = e164[2:] if e164.startswith("+1") else ""
    if len(digits) == 10 and digits.isdigit():
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return e164


@dataclass(eq=False)
class IncomingPhoneNumber:
    """One number and its voice configuration (VoiceUrl, VoiceFallbackUrl, StatusCallback)."""

    sid: str
    account_sid: str
    phone_number: str
    friendly_name: str
    date_created: float
    date_updated: float
    voice_url: str | None = None
    voice_method: str = "POST"
    voice_fallback_url: str | None = None
    voice_fallback_method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"
