"""Twilio SIDs as value types: a string checked once, where it comes in, to be shaped like a SID."""

from __future__ import annotations

import re
from typing import Self

from callhold.domain.errors import Invalid

__all__ = ["CallSid", "ConferenceSid"]


class _Sid(str):
    """A Twilio SID: a two-letter prefix and 32 hex digits."""

    prefix = ""
    __slots__ = ()

    @classmethod
    def parse(cls, value: str) -> Self:
        """Return ``value`` as this SID type, or raise :class:`Invalid` if it is not shaped like one."""
        if not re.fullmatch(rf"{cls.prefix}[0-9a-fA-F]{{32}}", value):
            raise Invalid(f"not a {cls.__name__}: {value!r} (expected {cls.prefix} + 32 hex digits)")
        return cls(value)


class CallSid(_Sid):
    """A Call SID: ``CA`` + 32 hex digits."""

    prefix = "CA"
    __slots__ = ()


class ConferenceSid(_Sid):
    """A Conference SID: ``CF`` + 32 hex digits."""

    prefix = "CF"
    __slots__ = ()
