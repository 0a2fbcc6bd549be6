"""Shared fixtures: voicesim's own plugin gives ``voicesim``, ``voicesim_clock``, ``twilio_client``."""

from __future__ import annotations

import pytest

from tests.webhook_app import BASE, WebhookApp
from voicesim import Emulator


@pytest.fixture
def app(voicesim: Emulator) -> WebhookApp:
    """A webhook server mounted at http://app.test inside the emulator (no sockets)."""
    hooks = WebhookApp()
    voicesim.webhooks.mount(BASE, hooks.asgi)
    return hooks
