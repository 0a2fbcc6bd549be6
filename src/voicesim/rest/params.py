"""Request parameters as Twilio sends and reads them: ordered, repeatable, PascalCase."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from voicesim.rest.errors import InvalidParameter

__all__ = ["Params"]

_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


class Params:
    """A form or query string: ``get`` the last value, ``getall`` every value of a key."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self.items = list(items)
        self._last = dict(self.items)

    def __contains__(self, key: str) -> bool:
        return key in self._last

    def get(self, key: str, default: str | None = None) -> str | None:
        """The value of ``key``, or ``default``."""
        return self._last.get(key, default)

    def getall(self, key: str) -> list[str]:
        """Every value of ``key``, in order."""
        return [v for k, v in self.items if k == key]

    def boolean(self, key: str, default: bool | None = None) -> bool | None:
        """``true``/``false`` (case-insensitive); anything else is a 400."""
        raw = self.get(key)
        if raw is None or raw == "":
            return default
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise InvalidParameter(f"{key} must be true or false, not {raw!r}")

    def integer(self, key: str, default: int, low: int, high: int, code: int = 20001) -> int:
        """An integer in [low, high]; anything else is a 400 with ``code``."""
        raw = self.get(key)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise InvalidParameter(f"{key} must be an integer, not {raw!r}", code) from None
        if not low <= value <= high:
            raise InvalidParameter(f"{key} must be between {low} and {high}, not {value}", code)
        return value

    def method(self, key: str, default: str = "POST", code: int = 20001) -> str:
        """``GET`` or ``POST`` (any case in, upper case out)."""
        raw = self.get(key)
        if raw is None or raw == "":
            return default
        if raw.upper() not in ("GET", "POST"):
            raise InvalidParameter(f"{key} must be GET or POST, not {raw!r}", code)
        return raw.upper()

    def url(self, key: str, code: int = 21205) -> str | None:
        """An absolute http(s) URL, or None when absent; a malformed one is a 400 (21205)."""
        raw = self.get(key)
        if raw is None or raw == "":
            return None
        try:
            parts = urlsplit(raw)
        except ValueError:  # e.g. "http://[abc": an unterminated IPv6 host
            raise InvalidParameter(f"{key} is not a valid URL: {raw}", code) from None
        if parts.scheme not in ("http", "https") or not parts.netloc or any(ch.isspace() for ch in raw):
            raise InvalidParameter(f"{key} is not a valid URL: {raw}", code)
        return raw
