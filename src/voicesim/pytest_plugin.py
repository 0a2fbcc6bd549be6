"""Fixtures for any project's tests (registered as the ``voicesim`` pytest plugin).

* ``voicesim_clock`` -- a :class:`~voicesim.clock.VirtualClock`;
* ``voicesim`` -- an :class:`~voicesim.emulator.Emulator` on that clock (closed after the test);
* ``twilio_client`` -- the official ``twilio.rest.Client`` wired to it in process;
* ``phones`` -- its :class:`~voicesim.phones.Phones`, to script who answers and how.

Serve your webhooks in process with ``voicesim.webhooks.mount("http://app.test", asgi_app)``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from twilio.rest import Client

from voicesim.clock import VirtualClock
from voicesim.emulator import Emulator
from voicesim.phones import Phones
from voicesim.sdk import client


@pytest.fixture
def voicesim_clock() -> VirtualClock:
    """A virtual clock starting at voicesim's fixed epoch."""
    return VirtualClock()


@pytest.fixture
def voicesim(voicesim_clock: VirtualClock) -> Iterator[Emulator]:
    """A fresh emulator (seed 0) on the virtual clock."""
    emu = Emulator(voicesim_clock, seed=0)
    yield emu
    emu.close()


@pytest.fixture
def twilio_client(voicesim: Emulator) -> Client:
    """The twilio SDK talking to ``voicesim`` with no sockets."""
    return client(voicesim)


@pytest.fixture
def phones(voicesim: Emulator) -> Phones:
    """The emulator's phone scripts."""
    return voicesim.phones
