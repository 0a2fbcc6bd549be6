"""Simulated phones: the people at the far end of every call, scripted.

A :class:`PhoneScript` says how an address (``+15551230000`` or ``client:alice``) behaves when it
is called -- answer after N seconds, be busy, not answer, fail, reject -- and what it does once
connected: hang up after N seconds, press digits at given offsets. Addresses with no script
answer after :data:`DEFAULT_ANSWER_AFTER` seconds and stay on the line.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

__all__ = ["DEFAULT_ANSWER_AFTER", "Outcome", "PhoneScript", "Phones", "normalise_address"]

Outcome = Literal["answer", "busy", "no-answer", "failed", "reject"]
OUTCOMES: tuple[str, ...] = ("answer", "busy", "no-answer", "failed", "reject")

#: Seconds an unscripted phone rings before it answers.
DEFAULT_ANSWER_AFTER = 3.0


def normalise_address(address: str) -> str:
    """``client:`` identities as given; phone numbers without spaces, dashes or brackets."""
    address = address.strip()
    if address.startswith(("client:", "sip:")):
        return address
    return "".join(ch for ch in address if ch not in " -().")


@dataclass(frozen=True, slots=True)
class PhoneScript:
    """How one address behaves when called, and what it does during a call.

    ``hang_up_after`` and the offsets in ``presses`` count from the moment the call is answered
    (for an inbound call: from the moment it is placed).
    """

    outcome: Outcome = "answer"
    answer_after: float = DEFAULT_ANSWER_AFTER
    hang_up_after: float | None = None
    presses: tuple[tuple[float, str], ...] = ()

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        if self.answer_after < 0 or (self.hang_up_after is not None and self.hang_up_after < 0):
            raise ValueError("times must not be negative")
        for at, digits in self.presses:
            if at < 0 or not digits or any(d not in "0123456789*#w" for d in digits):
                raise ValueError(f"invalid key press {digits!r} at {at}")


@dataclass(slots=True)
class Phones:
    """The scripts of every address the emulator knows."""

    scripts: dict[str, PhoneScript] = field(default_factory=dict)

    def script(self, address: str, script: PhoneScript | None = None, **changes: object) -> PhoneScript:
        """Set (or change fields of) the script of ``address``; returns it."""
        key = normalise_address(address)
        base = script or self.scripts.get(key) or PhoneScript()
        result = replace(base, **changes) if changes else base  # type: ignore[arg-type]
        self.scripts[key] = result
        return result

    def lookup(self, address: str) -> PhoneScript:
        """The script for ``address`` (the default one if none was set)."""
        return self.scripts.get(normalise_address(address), PhoneScript())

    def clear(self) -> None:
        """Forget every script."""
        self.scripts.clear()
