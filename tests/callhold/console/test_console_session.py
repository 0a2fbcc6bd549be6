"""The console's session and refresh loop: what one refresh asks the API, a hidden tab that stops
polling, and a sign-out that leaves nothing of its session for the next token to see."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from console_live import ADMIN
from console_page import POLL_MS, ConsolePage, expect

API = "/api/v1"


def api_requests(console: ConsolePage) -> list[tuple[str, str, dict[str, str]]]:
    """The requests the page sends the API from now on: (method, path under /api/v1, query), in order."""
    sent: list[tuple[str, str, dict[str, str]]] = []

    def on_request(request: Any) -> None:
        url = urlsplit(request.url)
        if url.path.startswith(API + "/"):
            sent.append((request.method, url.path.removeprefix(API), dict(parse_qsl(url.query))))

    console.page.on("request", on_request)
    return sent


def test_a_refresh_asks_for_every_active_call_with_its_detail_in_one_request(console: ConsolePage) -> None:
    live = console.live
    live.agent("alice")
    alices = live.customer_calls()
    live.agent("bob")
    bobs = live.customer_calls()
    console.sign_in(ADMIN)
    expect(console.calls()).to_have_count(2)
    sent = api_requests(console)

    console.poll()

    paths = sorted(path for _, path, _ in sent)
    # no GET /calls/{id}; and no /stats: its totals are asked for far less often (see below)
    assert paths == ["/agents", "/calls", "/calls", "/holds", "/me"]
    assert {method for method, _, _ in sent} == {"GET"}
    calls = [query for _, path, query in sent if path == "/calls"]
    assert {"status": "active", "detail": "true", "limit": "1000"} in calls
    assert {"status": "ended", "detail": "true", "limit": "10"} in calls  # with legs: how each ended
    # The details listed are shown as GET /calls/{id} would have shown them.
    for sid, agent in [(alices, "alice"), (bobs, "bob")]:
        expect(console.call(sid).locator("[data-part=agent]")).to_have_text(f"Agent {agent}")
        expect(console.state_of(sid)).to_have_text("Connected")
        expect(console.leg_row(sid, "Agent")).to_contain_text(live.leg(sid, "agent")["call_sid"])


def test_a_hidden_tab_stops_polling_and_refreshes_at_once_when_shown_again(console: ConsolePage) -> None:
    live = console.live
    alice = live.agent("alice")
    sid = live.customer_calls()
    console.sign_in(alice)
    body = console.page.locator("body")
    done = console.refreshes()
    sent = api_requests(console)

    console.set_hidden(True)
    console.page.clock.run_for(5 * POLL_MS)
    # A refresh the timers had started would be running, or done: neither happened.
    assert body.get_attribute("data-refreshing") == "false"
    assert console.refreshes() == done
    assert sent == []

    live.hang_up(sid)  # meanwhile the call ends
    console.set_hidden(False)  # shown: a refresh at once, with no timer moved
    expect(body).to_have_attribute("data-refreshes", str(done + 1))
    console.settled()
    expect(console.calls()).to_have_count(0)
    assert len(sent) == 5  # /me, the active calls with their details, the ended ones, /stats, /holds

    console.poll()  # and polling again
    assert console.refreshes() == done + 2


def test_signing_out_leaves_nothing_for_the_next_token_to_see_before_its_first_refresh(
    console: ConsolePage,
) -> None:
    live = console.live
    alice = live.agent("alice")
    alices = live.customer_calls()
    live.agent("bob")
    bobs = live.customer_calls()
    assert live.request("POST", f"/calls/{bobs}/hold", json={"reason": "one moment"}).status_code == 200
    live.advance(5)
    assert live.request("POST", f"/calls/{bobs}/resume").status_code == 200
    live.hang_up(bobs)
    page = console.page

    console.sign_in(ADMIN)  # alice on a call; bob's hold, and his ended call
    expect(page.locator("#stat-holds")).to_have_text("1")
    expect(page.locator("#recent tr")).to_have_count(1)
    expect(page.locator("#updated")).not_to_be_empty()
    page.get_by_role("button", name="Sign out").click()

    live.hang_up(alices)  # alice is off her call, and away
    assert live.request("PATCH", "/agents/alice", json={"available": False}).json()["away"] is True
    stalled: list[Any] = []
    page.route(lambda url: urlsplit(url).path == f"{API}/calls", lambda route: stalled.append(route))
    page.get_by_label("API token").fill(alice)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#console-view")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-refreshing", "true")

    # Her first refresh has not answered: the page shows her, and nothing of the admin's session.
    expect(page.locator("#who-detail")).to_have_text("alice · client:alice · away")
    expect(page.locator("#stat-holds")).to_have_text("0")
    expect(page.locator("#stat-total")).to_have_text("0:00")
    expect(page.locator("#stat-longest")).to_have_text("0:00")
    expect(page.locator("#holds li")).to_have_count(0)
    expect(page.locator("#no-holds")).to_be_visible()
    expect(page.locator("#recent-table")).to_be_hidden()
    expect(page.locator("#no-recent")).to_be_visible()
    expect(page.locator("#updated")).to_be_empty()
    expect(page.locator("#agent-stats tr")).to_have_count(0)
    expect(page.locator("#agents li")).to_have_count(0)
    expect(page.locator("#dial-agent option")).to_have_count(1)

    for route in stalled:
        route.continue_()
    page.unroute_all()
    console.settled()
    expect(page.locator("#recent tr")).to_have_count(1)  # her own ended call
    expect(page.locator("#recent code")).to_have_attribute("title", alices)
    expect(page.locator("#stat-holds")).to_have_text("0")
    expect(page.locator("#who-detail")).to_have_text("alice · client:alice · away")


def test_a_request_of_a_signed_out_session_does_not_free_the_next_ones_button(console: ConsolePage) -> None:
    """The admin's call request is still out when it signs out; alice signs in and asks for a call
    too. The admin's answer arriving must not enable alice's Call button while hers is out."""
    live, page = console.live, console.page
    alice = live.agent("alice", available=False)  # so that no call is placed for anyone
    held: list[Any] = []
    page.route(
        lambda url: urlsplit(url).path == f"{API}/calls",
        lambda route: held.append(route) if route.request.method == "POST" else route.continue_(),
    )
    call = page.get_by_role("button", name="Call", exact=True)
    console.sign_in(ADMIN)
    page.get_by_label("Number to call").fill("+15557770001")
    call.click()
    expect(call).to_be_disabled()
    page.get_by_role("button", name="Sign out").click()
    console.sign_in(alice)
    expect(call).to_be_enabled()  # a new session: nothing of its own in flight
    page.get_by_label("Number to call").fill("+15557770002")
    call.click()
    expect(call).to_be_disabled()
    assert len(held) == 2

    with page.expect_event("requestfinished", lambda request: request.method == "POST"):
        held[0].continue_()  # the admin's request answers (a 409 nobody sees: that session is gone)
    console.poll()
    expect(call).to_be_disabled()  # alice's own request is still out
    with page.expect_event("requestfinished", lambda request: request.method == "POST"):
        held[1].continue_()
    expect(call).to_be_enabled()


def test_the_console_asks_for_the_few_holds_it_shows_and_for_statistics_rarely(console: ConsolePage) -> None:
    """Each refresh downloads what the page shows: the 5 latest holds (newest first), not a day's
    worth; the statistics -- totals the server sums over every hold on record -- every 30 s, after an
    action of the page, or when the tab is shown again, and without per-call rows."""
    live = console.live
    alice = live.agent("alice")
    sid = live.customer_calls()
    sent = api_requests(console)
    console.sign_in(alice)
    stats = [query for _, path, query in sent if path == "/stats"]
    assert stats == [{"limit": "0"}]
    (holds, *_) = [query for _, path, query in sent if path == "/holds"]
    assert (holds["order"], holds["limit"]) == ("desc", "5")

    for _ in range(14):  # 28 s of polling
        console.poll()
    assert len([path for _, path, _ in sent if path == "/stats"]) == 1
    assert len([path for _, path, _ in sent if path == "/holds"]) == 15
    console.poll()  # 30 s
    assert len([path for _, path, _ in sent if path == "/stats"]) == 2

    console.hold(sid)  # an action: the totals are asked for at once
    console.said("on hold")
    assert len([path for _, path, _ in sent if path == "/stats"]) == 3
    expect(console.page.locator("#stat-holds")).to_have_text("1")
    expect(console.page.locator("#holds li")).to_have_count(1)
