"""What an agent does from the console besides hold and resume: availability, muting, third parties,
outbound calls -- each refusal shown as the API's problem, each button out of reach while its request
is in flight, and only what the call's strategy can do on offer."""

from __future__ import annotations

import re

import pytest
from console_page import ConsolePage, expect


def test_availability_toggles_and_away_on_a_call_means_no_next_customer(console: ConsolePage) -> None:
    live = console.live
    alice = live.agent("alice", available=False)
    console.sign_in(alice)
    switch = console.availability()
    expect(switch).to_have_attribute("aria-checked", "false")

    switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")
    expect(console.status()).to_have_text("You are available for calls.")
    assert live.request("GET", "/agents/alice").json()["available"] is True
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "false")
    assert live.request("GET", "/agents/alice").json()["available"] is False

    sid = live.customer_calls()  # nobody is available: the customer waits in line
    assert live.call(sid)["agent_id"] is None
    console.poll()
    expect(console.calls()).to_have_count(0)  # not alice's call

    switch.click()  # available again: the waiting customer is handed to alice
    console.said("You are taking calls: a waiting customer was handed over.")
    live.advance(20)
    console.poll()
    expect(console.state_of(sid)).to_have_text("Connected")
    expect(switch).to_have_attribute("aria-checked", "true")  # taking calls, on one
    expect(console.page.locator("#who-detail")).to_contain_text("on a call")

    switch.click()  # on a call: away after it
    console.said("You are away: no customer will be handed over after this call until switched back.")
    expect(switch).to_have_attribute("aria-checked", "false")
    expect(console.page.locator("#who-detail")).to_contain_text("on a call, away after it")
    second = live.customer_calls()
    live.hang_up(sid)
    live.advance(30)
    alice_now = live.request("GET", "/agents/alice").json()
    assert (alice_now["available"], alice_now["away"]) == (False, True)
    assert live.call(second)["agent_id"] is None  # not handed to alice, who is away


def test_an_agent_whose_outbound_call_is_being_placed_reads_calling_that_number(console: ConsolePage) -> None:
    live = console.live
    alice = live.agent("alice")
    console.sign_in(alice)
    detail = console.page.locator("#who-detail")
    expect(detail).to_contain_text("available")
    store = live.services.store

    async def placing() -> None:  # Twilio's answer to Calls create not in yet
        assert store.claim_for_outbound("alice", "+15557770000", live.services.service.clock.now())

    live.run(placing)
    console.poll()
    expect(detail).to_contain_text("calling +15557770000")


def test_mute_unmute_add_and_remove_a_third_party(console: ConsolePage) -> None:
    live = console.live
    alice = live.agent("alice")
    sid = live.customer_calls()
    who = live.call(sid)["customer_number"]
    console.sign_in(alice)
    card = console.call(sid)
    customer = console.leg_row(sid, "Customer")

    customer.get_by_role("button", name="Mute customer").click()
    console.said("Muted")
    live.advance(1)
    console.poll()
    expect(customer).to_contain_text("Muted")
    assert live.leg(sid, "customer")["muted"] is True
    customer.get_by_role("button", name="Unmute customer").click()
    console.said("Unmuted")
    live.advance(1)
    console.poll()
    expect(customer).not_to_contain_text("Muted")
    assert live.leg(sid, "customer")["muted"] is False

    party = card.get_by_label("Add a third party")
    add_party = card.get_by_role("button", name=f"Add party to the call with customer {who}", exact=True)
    party.fill("12345")  # not a number Twilio can dial: the API's 422 and its field error
    add_party.click()
    alert = console.alert()
    expect(alert.locator("#notice-title")).to_have_text("Unprocessable Content")
    expect(alert).to_contain_text("The request is not valid.")
    # What to type, in words: not the regular expression the API checks it with.
    expect(alert.locator("#notice-errors li")).to_contain_text(
        "to: Enter a phone number in international form (E.164: + then the country code and number"
    )
    expect(alert.locator("#notice-errors li")).to_contain_text("e.g. +15551230001) or client:<name>")
    expect(alert).not_to_contain_text("pattern")

    party.fill("+15554440003")
    add_party.click()
    console.said("Dialling +15554440003 into the call")
    expect(alert).to_be_hidden()
    expect(party).to_have_value("")
    live.advance(10)
    console.poll()
    third = console.leg_row(sid, "Third party")
    expect(third).to_contain_text("in-progress")
    third_sid = live.leg(sid, "third_party")["call_sid"]
    expect(third).to_contain_text(third_sid)

    third.get_by_role("button", name=f"Remove third party {third_sid}").click()
    console.said("Removed")
    expect(add_party).to_be_focused()  # the button clicked is gone: the keyboard stays on the call
    live.advance(3)
    console.poll()
    expect(third).to_contain_text("completed")
    expect(third.get_by_role("button", name=re.compile("^Remove"))).to_be_hidden()
    expect(console.state_of(sid)).to_have_text("Connected")  # alice and the customer talk on


@pytest.mark.callhold(strategy="legs")
def test_a_legs_call_holds_and_resumes_and_offers_no_conference_only_action(console: ConsolePage) -> None:
    live = console.live
    alice = live.agent("alice")
    sid = live.customer_calls()
    console.sign_in(alice)
    card = console.call(sid)
    expect(card.locator("[data-part=strategy]")).to_have_text("Legs (Dial)")
    expect(console.state_of(sid)).to_have_text("Connected")
    expect(card.get_by_role("button", name=re.compile("^(Mute|Unmute|Remove)"))).to_have_count(0)
    expect(card.get_by_label("Add a third party")).to_be_hidden()
    expect(card).to_contain_text("muting and adding or removing parties need the conference strategy")

    who = live.call(sid)["customer_number"]
    console.hold(sid)
    console.said("on hold")
    expect(card.get_by_role("button", name="Resume")).to_be_visible()
    live.advance(30)
    assert live.heard(sid)[-1][1] == "queue-wait"  # the customer hears hold audio in its own queue
    console.poll()
    expect(console.state_of(sid)).to_have_text("On hold for 0:30")
    expect(console.status()).to_have_text(f"Customer {who} is on hold.")

    console.resume(sid)
    # The legs strategy resumes in two steps: not back until the agent's leg has the customer again.
    assert live.call(sid)["hold"]["state"] == "resuming"
    console.said(f"Taking customer {who} off hold…")
    live.advance(10)
    agent_leg = live.leg(sid, "agent")["call_sid"]
    assert live.heard(sid)[-1] == ("call", "", agent_leg)
    console.poll()
    expect(console.state_of(sid)).to_have_text("Connected")
    expect(console.status()).to_contain_text(f"Customer {who} is back (held for 0:")


def test_a_button_is_disabled_while_its_request_is_in_flight(console: ConsolePage) -> None:
    live = console.live
    alice = live.agent("alice")
    sid = live.customer_calls()
    console.sign_in(alice)
    page, card = console.page, console.call(sid)
    hold_requests: list[object] = []

    def stall_the_first(route: object) -> None:
        hold_requests.append(route)
        if len(hold_requests) > 1:
            route.continue_()  # type: ignore[attr-defined]

    page.route(f"**/api/v1/calls/{sid}/hold", stall_the_first)
    console.hold(sid, reason="first")
    hold_button = console.hold_button(sid)
    expect(hold_button).to_be_disabled()
    expect(hold_button).to_have_attribute("aria-busy", "true")
    card.get_by_label("Hold reason").press("Enter")  # submitting again sends nothing
    expect(hold_button).to_be_disabled()
    assert len(hold_requests) == 1

    hold_requests[0].continue_()  # type: ignore[attr-defined]
    console.said("on hold")
    expect(card.get_by_role("button", name="Resume")).to_be_enabled()
    assert len(hold_requests) == 1
    holds = live.request("GET", "/holds", params={"call_id": sid}).json()
    assert [(hold["reason"], hold["state"]) for hold in holds] == [("first", "held")]


def test_an_agent_places_an_outbound_call_and_a_refusal_shows_why(console: ConsolePage) -> None:
    live = console.live
    alice = live.agent("alice")
    console.sign_in(alice)
    expect(console.page.locator("#no-calls")).to_be_visible()
    number = console.page.get_by_label("Number to call")

    number.fill("+15557770001")
    console.page.get_by_role("button", name="Call", exact=True).click()
    console.said("Calling +15557770001")
    live.advance(10)
    console.poll()
    expect(console.calls()).to_have_count(1)
    (call,) = live.request("GET", "/calls").json()
    assert call["agent_id"] == "alice"
    expect(console.state_of(call["id"])).to_have_text("Connected")

    number.fill("+15557770002")  # alice is on that call now: not available
    console.page.get_by_role("button", name="Call", exact=True).click()
    expect(console.alert().locator("#notice-title")).to_have_text("Conflict")
    expect(console.alert()).to_contain_text("agent alice is not available")
    expect(console.calls()).to_have_count(1)
