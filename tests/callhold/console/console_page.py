"""The agent console as a test sees it: a Playwright page on a live callhold, with its own fake
clock (the console polls only when :meth:`ConsolePage.poll` lets it), and what an agent does on it.

Playwright is imported only when a test runs (by the ``browser`` fixture and :func:`expect`), so the
tests are collected -- and skipped with a reason -- where it is not installed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from console_live import LiveCallhold

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

POLL_MS = 2000  # the console's refresh period (session.js)


def expect(target: Any, message: str | None = None) -> Any:
    """Playwright's auto-waiting ``expect``."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target, message)


class ConsolePage:
    """One browser tab on ``/console``."""

    def __init__(self, page: Page, live: LiveCallhold) -> None:
        self.page, self.live = page, live

    # -- navigation and session ------------------------------------------------------------------
    def open(self) -> ConsolePage:
        response = self.page.goto(f"{self.live.base_url}/console")
        assert response is not None and response.status == 200
        return self

    def sign_in(self, token: str) -> ConsolePage:
        """Sign in with ``token`` and wait for the first refresh to finish."""
        self.page.get_by_label("API token").fill(token)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.locator("#console-view")).to_be_visible()
        self.settled()
        return self

    def settled(self) -> None:
        """Wait until no refresh is running."""
        expect(self.page.locator("body")).to_have_attribute("data-refreshing", "false")

    def said(self, text: str) -> None:
        """Wait until the status line says ``text`` (an action succeeded), then for the refresh the
        action started: the page then shows the server as it was, before the test moves the clock."""
        expect(self.status()).to_contain_text(text)
        self.settled()

    def poll(self) -> None:
        """Let the console's timer fire once (its next refresh), and wait for that refresh to end."""
        self.settled()
        done = self.refreshes()
        self.page.clock.run_for(POLL_MS)
        expect(self.page.locator("body")).to_have_attribute("data-refreshes", str(done + 1))
        self.settled()

    def set_hidden(self, hidden: bool) -> None:
        """Hide the tab (or show it again) as the console sees it. Headless Chromium never hides a
        tab, so the document's ``hidden`` and ``visibilityState`` are overridden and the
        ``visibilitychange`` event is dispatched, as a browser does when the user switches tabs."""
        self.page.evaluate(
            """(hidden) => {
                const state = hidden ? "hidden" : "visible";
                Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
                Object.defineProperty(document, "visibilityState", { configurable: true, get: () => state });
                document.dispatchEvent(new Event("visibilitychange"));
            }""",
            hidden,
        )

    def refreshes(self) -> int:
        """How many refreshes the page has completed."""
        return int(self.page.locator("body").get_attribute("data-refreshes") or "0")

    def tick(self, seconds: float) -> None:
        """Let ``seconds`` pass in the page after a :meth:`poll`: its hold timers tick on, and no
        refresh comes due if ``seconds`` is under the refresh period."""
        assert seconds * 1000 < POLL_MS
        self.page.clock.run_for(round(seconds * 1000))

    # -- what is on the page -----------------------------------------------------------------------
    def call(self, call_id: str) -> Locator:
        """The card of the active call ``call_id``."""
        return self.page.get_by_role("article", name=f"Call from customer {call_id}")

    def calls(self) -> Locator:
        return self.page.locator("#calls article")

    def state_of(self, call_id: str) -> Locator:
        return self.call(call_id).locator(".call-state-text")

    def leg_row(self, call_id: str, role: str) -> Locator:
        """The row(s) of the call's parties in ``role`` (Customer, Agent, Third party)."""
        return (
            self.call(call_id)
            .locator("tbody tr")
            .filter(has=self.page.get_by_role("rowheader", name=role, exact=True))
        )

    def availability(self) -> Locator:
        return self.page.get_by_role("switch", name="Taking calls", exact=True)

    def alert(self) -> Locator:
        """The problem shown after a failed action."""
        return self.page.locator("#notice")

    def status(self) -> Locator:
        """The line saying what the last action did."""
        return self.page.get_by_role("status")

    # -- what an agent does --------------------------------------------------------------------------
    def hold(self, call_id: str, *, reason: str = "", music_url: str = "") -> None:
        card = self.call(call_id)
        if reason:
            card.get_by_label("Hold reason").fill(reason)
        if music_url:
            card.get_by_label("Hold music URL").fill(music_url)
        self.hold_button(call_id).click()

    def hold_button(self, call_id: str) -> Locator:
        """The card's Hold button (named after the customer: "Hold customer +1555...")."""
        return self.call(call_id).get_by_role("button", name=re.compile(r"^Hold customer \S+$"))

    def resume(self, call_id: str) -> None:
        self.call(call_id).get_by_role("button", name="Resume").click()
