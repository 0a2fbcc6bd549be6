"""The status line stays true to the call it speaks of -- a hold or resume under way, a call being
dialled, a call that ended (busy or no answer for a customer who never picked up) -- and each card's
buttons say whose call they act on."""

from __future__ import annotations

import re

import pytest
from console_live import ADMIN
from console_page import ConsolePage, expect


def test_a_customer_who_hangs_up_on_hold_is_not_said_to_be_on_hold(console: ConsolePage) -> None:
    live = console.live
    alice = live.agent("alice")
    sid = live.customer_calls()
    who = live.call(sid)["customer_number"]
    console.sign_in(alice)
    console.hold(sid)
    console.said(f"Customer {who} is on hold.")

    live.hang_up(sid)
    console.poll()
    expect(console.calls()).to_have_count(0)
    expect(console.status()).to_have_text(f"The call with customer {who} has ended.")
    expect(console.page.locator("#recent tr")).to_contain_text("completed")


@pytest.mark.parametrize(
    ("outcome", "said", "shown"),
    [
        ("busy", "was busy: the call did not go through.", "busy"),
        ("no-answer", "did not answer: the call did not go through.", "no answer"),
    ],
)
def test_an_outbound_call_that_is_never_answered_says_why(
    console: ConsolePage, outcome: str, said: str, shown: str
) -> None:
    live = console.live
    number = "+15557770003"

    async def script() -> None:
        live.emu.phones.script(number, outcome=outcome)

    live.run(script)
    alice = live.agent("alice")
    console.sign_in(alice)
    console.page.get_by_label("Number to call").fill(number)
    console.page.get_by_role("button", name="Call", exact=True).click()
    console.said(f"Calling {number}")
    live.advance(60)
    (call,) = live.request("GET", "/calls").json()
    assert call["status"] == "ended"
    console.poll()

    expect(console.calls()).to_have_count(0)
    expect(console.status()).to_have_text(f"{number} {said}")  # not "Calling ..." for ever
    recent = console.page.locator("#recent tr")
    expect(recent).to_have_count(1)
    expect(recent).to_contain_text(number)
    expect(recent).to_contain_text(shown)


def test_an_answered_outbound_call_says_so(console: ConsolePage) -> None:
    live = console.live
    alice = live.agent("alice")
    console.sign_in(alice)
    console.page.get_by_label("Number to call").fill("+15557770004")
    console.page.get_by_role("button", name="Call", exact=True).click()
    console.said("Calling +15557770004")
    live.advance(10)
    console.poll()
    expect(console.status()).to_have_text("+15557770004 answered.")


def test_each_cards_buttons_name_the_customer(console: ConsolePage) -> None:
    """Two calls on the page: "Hold" and "Add party" alone would not say whose call they act on."""
    live = console.live
    live.agent("alice")
    first = live.customer_calls()
    live.agent("bob")
    second = live.customer_calls()
    console.sign_in(ADMIN)
    expect(console.calls()).to_have_count(2)
    names: list[str] = []
    for sid in (first, second):
        who = live.call(sid)["customer_number"]
        card = console.call(sid)
        for name in (f"Hold customer {who}", f"Add party to the call with customer {who}"):
            expect(card.get_by_role("button", name=name, exact=True)).to_be_visible()
            names.append(name)
    assert len(set(names)) == 4
    page = console.page
    expect(page.get_by_role("button", name=re.compile("^Hold"))).to_have_count(2)
    expect(page.get_by_role("button", name="Hold", exact=True)).to_have_count(0)

    console.hold(first)
    who = live.call(first)["customer_number"]
    resume = console.call(first).get_by_role("button", name=f"Resume customer {who}", exact=True)
    expect(resume).to_be_focused()
