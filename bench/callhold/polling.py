"""Polling until something is true, within a time limit."""

from __future__ import annotations

import time
from collections.abc import Iterator


def until(timeout: float, interval: float) -> Iterator[None]:
    """Yield at once, then every ``interval`` s while fewer than ``timeout`` s have passed (the last
    attempt comes after the deadline). A ``for`` loop over it that neither returns nor breaks has timed
    out: its ``else`` clause is where to fail."""
    deadline = time.monotonic() + timeout
    while True:
        yield
        if time.monotonic() > deadline:
            return
        time.sleep(interval)
