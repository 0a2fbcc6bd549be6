"""Queues: ``<Enqueue>``, ``<Dial><Queue>`` and the Queue/Member resources (voicesim part 2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voicesim.calls import Source
    from voicesim.emulator import Emulator
    from voicesim.twiml.interpreter import Session
    from voicesim.twiml.verbs import Dial, Enqueue, Queue


class Queues:
    """Every queue of the emulator (not yet implemented: issue 3)."""

    def __init__(self, emu: Emulator) -> None:
        self._emu = emu

    async def enqueue(self, session: Session, verb: Enqueue) -> Source | None:
        """``<Enqueue>`` (issue 3)."""
        raise NotImplementedError("queues arrive with voicesim part 2")

    async def dial(self, session: Session, verb: Dial, noun: Queue) -> Source | None:
        """``<Dial><Queue>`` (issue 3)."""
        raise NotImplementedError("queues arrive with voicesim part 2")

    def call_ended(self, call: object) -> None:
        """Nothing to clean up yet."""
