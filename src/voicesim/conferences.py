"""Conferences: ``<Dial><Conference>`` and the Conference/Participant resources (voicesim part 2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voicesim.calls import Source
    from voicesim.emulator import Emulator
    from voicesim.twiml.interpreter import Session
    from voicesim.twiml.verbs import Conference, Dial


class Conferences:
    """Every conference of the emulator (not yet implemented: issue 3)."""

    def __init__(self, emu: Emulator) -> None:
        self._emu = emu

    async def dial(self, session: Session, verb: Dial, noun: Conference) -> Source | None:
        """``<Dial><Conference>`` (issue 3)."""
        raise NotImplementedError("conferences arrive with voicesim part 2")

    def call_ended(self, call: object) -> None:
        """Nothing to clean up yet."""
