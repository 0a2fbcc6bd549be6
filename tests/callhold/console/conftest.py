"""Fixtures for the agent console's browser tests: ``live`` (callhold on a real uvicorn, voicesim on a
virtual clock), ``browser`` (headless Debian chromium through Playwright) and ``console`` (a tab on
``/console`` whose timers run only when the test lets them).

Without ``/usr/bin/chromium`` or the ``playwright`` package the tests skip, saying which is missing;
with ``CI=true`` they fail instead.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from console_live import LiveCallhold, serve
from console_page import ConsolePage

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGE_EPOCH = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
"""Where the page's fake clock starts (it does not move unless the test moves it)."""


def _missing() -> str | None:
    """Why the browser tests cannot run here (None: they can)."""
    if importlib.util.find_spec("playwright") is None:
        return 'the playwright package is not installed (pip install -e ".[dev]")'
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium; never `playwright install`)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless chromium, one per test module."""
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the console's browser tests cannot run: {reason}")
        pytest.skip(f"console browser tests need chromium and playwright: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def live(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LiveCallhold]:
    """callhold served on 127.0.0.1; settings from ``@pytest.mark.callhold(strategy=...)``."""
    marker = request.node.get_closest_marker("callhold")
    settings = dict(marker.kwargs) if marker is not None else {}
    with serve(tmp_path, **settings) as running:
        yield running


@pytest.fixture
def console(browser: Any, live: LiveCallhold) -> Iterator[ConsolePage]:
    """A fresh browser tab on the console (not signed in). After the test: no page script error, no
    Content-Security-Policy violation, and no response of callhold's over 499."""
    context = browser.new_context()
    page = context.new_page()
    page.bring_to_front()  # the focused tab: focus assertions mean what they say
    page.set_default_timeout(10_000)
    page.clock.install(time=PAGE_EPOCH)  # fake timers, still running...
    page.clock.pause_at(PAGE_EPOCH.timestamp() + 30)  # ...stopped before the page loads (a margin)
    problems: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(f"console: {message.text}")

    def on_response(response: Any) -> None:
        if response.status >= 500:
            problems.append(f"{response.status} {response.request.method} {response.url}")

    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", on_console)
    page.on("response", on_response)
    try:
        yield ConsolePage(page, live).open()
    finally:
        context.close()
    assert problems == []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "callhold(**settings): settings of the live callhold under test")
