"""Twilio-shaped identifiers (``CA`` + 32 hex digits) from one seedable random source."""

from __future__ import annotations

import random
import re
import string

__all__ = ["SID_PATTERN", "SidFactory", "is_sid"]

SID_PATTERN = re.compile(r"^[A-Z]{2}[0-9a-f]{32}$")


def is_sid(value: str, prefix: str) -> bool:
    """True when ``value`` is a well-formed SID with the two-letter ``prefix``."""
    return value.startswith(prefix) and SID_PATTERN.match(value) is not None


class SidFactory:
    """Makes SIDs; the same seed gives the same sequence (DESIGN boundary 5)."""

    def __init__(self, seed: int | None = 0) -> None:
        self._rng = random.Random(seed)

    def reseed(self, seed: int | None) -> None:
        """Start the sequence again from ``seed``."""
        self._rng = random.Random(seed)

    def new(self, prefix: str) -> str:
        """A fresh SID such as ``CA`` + 32 lowercase hex digits."""
        return prefix + f"{self._rng.getrandbits(128):032x}"

    def secret(self) -> str:
        """A fresh 32-character secret (letters and digits), such as an API key's."""
        return "".join(self._rng.choices(string.ascii_letters + string.digits, k=32))
