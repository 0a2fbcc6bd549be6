"""The agent console in a real browser, on callhold over HTTP and voicesim's virtual clock: signing in,
seeing one's calls, holding and resuming (what the customer hears), and what each agent may see."""

from __future__ import annotations

from console_live import ADMIN
from console_page import ConsolePage, expect

TOKEN_KEY = "callhold.console.token"
MUSIC = "http://callhold.test/media/hold-music.wav?for=console"  # served by callhold itself


def test_an_agent_signs_in_and_sees_their_live_call(console: ConsolePage) -> None:
    live = console.live
    alice = live.agent("alice")
    sid = live.customer_calls()
    agent_leg = live.leg(sid, "agent")["call_sid"]

    console.sign_in(alice)

    page = console.page
    expect(page.locator("#who-name")).to_have_text("Alice")
    expect(page.locator("#who-detail")).to_have_text("alice · client:alice · on a call")
    expect(console.availability()).to_have_attribute("aria-checked", "true")  # taking calls, on one
    expect(console.calls()).to_have_count(1)
    card = console.call(sid)
    number = live.call(sid)["customer_number"]
    assert number is not None and number.startswith("+1555")
    expect(card.locator("[data-part=customer]")).to_have_text(number)  # who is calling
    expect(card.locator("[data-part=customer]")).to_have_attribute("title", sid)
    expect(card.locator("[data-part=strategy]")).to_have_text("Conference")
    expect(console.state_of(sid)).to_have_text("Connected")
    expect(console.leg_row(sid, "Customer")).to_contain_text("in-progress")
    expect(console.leg_row(sid, "Agent")).to_contain_text(agent_leg)
    expect(console.leg_row(sid, "Agent")).to_contain_text("in-progress")
    expect(console.hold_button(sid)).to_be_enabled()
    expect(card.get_by_role("button", name="Resume")).to_be_hidden()
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") == alice

    page.reload()  # the token is kept for the tab
    expect(console.call(sid)).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API token")).to_be_visible()
    expect(console.calls()).to_have_count(0)
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None


def test_hold_plays_music_to_the_customer_with_a_timer_and_resume_brings_them_back(
    console: ConsolePage,
) -> None:
    live = console.live
    alice = live.agent("alice")
    sid = live.customer_calls()
    console.sign_in(alice)

    console.hold(sid, reason="checking the order")
    console.said(f"Customer {live.call(sid)['customer_number']} is on hold.")  # by their number
    card = console.call(sid)
    expect(card.get_by_role("button", name="Resume")).to_be_focused()  # the keyboard stays on the call
    expect(console.hold_button(sid)).to_be_hidden()
    hold = live.call(sid)["hold"]
    assert (hold["state"], hold["reason"], hold["requested_by"]) == ("held", "checking the order", "alice")

    live.advance(65)
    assert live.heard(sid)[-1][:2] in (("play", "hold"), ("speech", "hold"))  # music, and reminders
    console.poll()
    expect(console.state_of(sid)).to_have_text("On hold for 1:05")
    expect(card).to_contain_text("Reason: checking the order")
    expect(console.leg_row(sid, "Customer")).to_contain_text("On hold")
    console.tick(1.5)  # the timer runs on between refreshes
    expect(console.state_of(sid)).to_have_text("On hold for 1:06")

    console.resume(sid)
    console.said("is back")
    live.advance(3)
    agent_leg = live.leg(sid, "agent")["call_sid"]
    assert live.heard(sid)[-1] == ("conference", "", agent_leg)  # the customer hears alice again
    assert live.call(sid)["hold"]["end_reason"] == "resumed"
    console.poll()
    expect(console.state_of(sid)).to_have_text("Connected")
    expect(console.hold_button(sid)).to_be_focused()
    expect(console.page.locator("#stat-holds")).to_have_text("1")
    expect(console.page.locator("#stat-total")).to_have_text("1:05")
    expect(console.page.locator("#stat-longest")).to_have_text("1:05")
    expect(console.page.locator("#holds li")).to_have_count(1)
    expect(console.page.locator("#holds li")).to_contain_text("checking the order")
    expect(console.page.locator("#holds li")).to_contain_text("resumed")

    live.hang_up(sid)  # the customer hangs up: the call leaves the active ones for the recent ones
    console.poll()
    expect(console.calls()).to_have_count(0)
    expect(console.page.locator("#no-calls")).to_be_visible()
    expect(console.page.locator("#recent tr")).to_have_count(1)
    recent = console.page.locator("#recent tr")
    expect(recent).to_contain_text(live.call(sid)["customer_number"])  # who called
    expect(recent.locator("code")).to_have_attribute("title", sid)


def test_an_agent_sees_only_its_own_calls_and_the_admin_sees_every_call(console: ConsolePage) -> None:
    live = console.live
    alice = live.agent("alice")
    alices = live.customer_calls()
    live.agent("bob")
    bobs = live.customer_calls()
    assert (live.call(alices)["agent_id"], live.call(bobs)["agent_id"]) == ("alice", "bob")

    console.sign_in(alice)
    expect(console.calls()).to_have_count(1)
    expect(console.call(alices)).to_be_visible()
    expect(console.page.get_by_text(bobs)).to_have_count(0)

    console.page.get_by_role("button", name="Sign out").click()
    console.sign_in(ADMIN)
    expect(console.page.locator("#who-name")).to_have_text("Admin")
    expect(console.availability()).to_be_hidden()
    expect(console.calls()).to_have_count(2)
    expect(console.call(alices).locator("[data-part=agent]")).to_have_text("Agent alice")
    expect(console.call(bobs).locator("[data-part=agent]")).to_have_text("Agent bob")
    agents = console.page.locator("#agents li")
    expect(agents).to_have_count(2)
    expect(agents.first).to_contain_text("alice · client:alice")

    live.agent("carol", available=False)  # the admin sets any agent's availability
    console.poll()
    carol = console.page.get_by_role("switch", name="Carol taking calls")
    expect(carol).to_have_attribute("aria-checked", "false")
    carol.click()
    console.said("Carol is available for calls.")
    expect(carol).to_have_attribute("aria-checked", "true")
    assert live.request("GET", "/agents/carol").json()["available"] is True


def test_a_wrong_token_shows_the_problem_and_keeps_nothing(console: ConsolePage) -> None:
    console.page.get_by_label("API token").fill("not-a-token")
    console.page.get_by_role("button", name="Sign in").click()
    error = console.page.locator("#sign-in-error")
    expect(error).to_be_visible()
    expect(error).to_have_text("Unauthorized — Unknown bearer token")
    expect(console.page.locator("#console-view")).to_be_hidden()
    assert console.page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None


def test_hold_with_the_agents_music_then_a_resume_someone_else_made_shows_the_409_problem(
    console: ConsolePage,
) -> None:
    live = console.live
    alice = live.agent("alice")
    sid = live.customer_calls()
    console.sign_in(alice)
    console.hold(sid, music_url=MUSIC)
    console.said("on hold")
    assert live.call(sid)["hold"]["music_url"] == MUSIC
    live.advance(5)
    assert live.heard(sid)[-1] == ("play", "hold", MUSIC)  # the customer hears the agent's music
    console.poll()
    expect(console.state_of(sid)).to_have_text("On hold for 0:05")

    # Meanwhile the admin resumes the call (the page has not refreshed since).
    assert live.request("POST", f"/calls/{sid}/resume").status_code == 200
    console.resume(sid)

    alert = console.alert()
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("Resume:")
    expect(alert.locator("#notice-title")).to_have_text("Conflict")
    expect(alert).to_contain_text(f"call {sid} is not on hold")
    console.settled()  # the failed action refreshed the page: it shows the call as it is
    expect(console.state_of(sid)).to_have_text("Connected")
    alert.get_by_role("button", name="Dismiss the error").click()
    expect(alert).to_be_hidden()


def test_after_a_hand_over_the_new_agent_sees_itself_connected(console: ConsolePage) -> None:
    """The call keeps the first agent's ended leg, listed before the new agent's: the card goes by
    the latest agent leg."""
    live = console.live
    live.agent("alice")
    sid = live.customer_calls()
    alices_leg = live.leg(sid, "agent")["call_sid"]
    assert live.request("POST", f"/calls/{sid}/hold", json={"reason": "one moment"}).status_code == 200
    live.advance(3)
    bob = live.agent("bob", available=False)
    live.hang_up(alices_leg, wait=10)  # alice drops while the customer is held: requeued
    live.request("PATCH", "/agents/alice", json={"available": False})
    live.request("PATCH", "/agents/bob", json={"available": True})
    live.advance(30)
    agent_legs = [leg for leg in live.call(sid)["legs"] if leg["role"] == "agent"]
    assert [leg["status"] for leg in agent_legs] == ["completed", "in-progress"]

    console.sign_in(bob)
    expect(console.state_of(sid)).to_have_text("Connected")
