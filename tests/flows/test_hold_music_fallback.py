"""Hold music that does not play is not fetched again and again (callhold.twiml.HoldMusic).

Twilio goes on to the next verb when a ``<Play>`` cannot be fetched, and the hold audio's next verb
is the ``<Redirect>`` that loops it: music that fails came straight back, a webhook loop as fast as
Twilio could go, with the customer in silence. Now the loop notices it came back at once and plays
the next thing down: the hold's own music, the default music, then reminders over pauses.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from callhold.domain.model import Hold, HoldState, Strategy
from callhold.twiml import HOLD_REMINDER, QUIET_LOOP_SECONDS, WAITING_PROMPT, HoldMusic
from tests.flows.callhold_harness import BASE, Harness, make_harness
from voicesim import Emulator, VirtualClock
from voicesim.webhooks import WebhookRequest, WebhookResponse

MISSING = f"{BASE}/media/no-such-music.mp3"  # callhold answers 404: voicesim cannot play it
DEFAULT = f"{BASE}/media/hold-music.wav"


def hold_audio_fetches(h: Harness, customer: str) -> list[dict[str, Any]]:
    """The requests voicesim made for the customer's hold audio."""
    return [
        e.data
        for e in h.emu.events
        if e.type == "webhook"
        and "/hold-music/" in e.data["url"]
        and e.data["params"].get("CallSid") == customer
    ]


def played(h: Harness, customer: str) -> set[str]:
    return {seg.detail for seg in h.emu.media.segments(customer) if seg.kind == "play"}


@pytest.mark.parametrize("strategy", ["conference", "legs"])
async def test_a_hold_music_that_cannot_be_played_gives_way_to_the_default_music(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, strategy: str
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy=strategy, reminder_interval=600)
    customer, _agent = await h.connected()
    await h.services.service.hold(customer, by="alice", agent_id="alice", music_url=MISSING)
    await h.clock.advance(120)
    h.clock.raise_errors()
    assert played(h, customer) == {DEFAULT}
    assert h.heard(customer)[-1][0] == "play"  # music, not silence
    fetches = hold_audio_fetches(h, customer)
    assert 2 <= len(fetches) <= 12  # once for the missing music, then a loop per play of the default
    assert sum(1 for alert in voicesim.alerts if alert.url == MISSING) == 1


async def test_with_no_music_that_plays_the_customer_hears_reminders_over_pauses(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    h = make_harness(
        voicesim, voicesim_clock, tmp_path, hold_music_url="/media/missing-default.wav", reminder_interval=30
    )
    customer, _agent = await h.connected()
    held_at = h.clock.now()
    await h.services.service.hold(customer, by="alice", agent_id="alice", music_url=MISSING)
    await h.clock.advance(120)
    h.clock.raise_errors()
    assert played(h, customer) == set()
    spoken = [seg for seg in h.emu.media.segments(customer) if seg.kind == "speech" and seg.start >= held_at]
    assert [seg.detail for seg in spoken] == [HOLD_REMINDER] * len(spoken)
    assert 3 <= len(spoken) <= 5  # one every 30 s or so
    # A loop per pause, and in each 30 s reminder interval one more try of the hold's own music
    # and of the default (each failing at once): bounded, not a loop as fast as Twilio goes.
    assert len(hold_audio_fetches(h, customer)) <= 3 * (1 + 120 // 30) + 120 / QUIET_LOOP_SECONDS


async def test_a_music_that_plays_is_kept(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path)
    customer, _agent = await h.connected()
    own = f"{BASE}/media/hold-music.wav?own=1"
    await h.services.service.hold(customer, by="alice", agent_id="alice", music_url=own)
    await h.clock.advance(300)
    assert played(h, customer) == {own}
    assert [alert for alert in voicesim.alerts if "media" in str(alert.url)] == []


def test_what_plays_next_is_decided_by_how_soon_the_loop_came_back() -> None:
    default = Hold(
        id="h",
        call_id="c",
        state=HoldState.HELD,
        strategy=Strategy.CONFERENCE,
        requested_by="a",
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    own = replace(default, music_url=MISSING)
    requested = HoldMusic.REQUESTED
    assert requested.after(own, None) is requested  # the first loop
    assert requested.after(own, 35.0) is requested  # it played
    assert requested.after(own, 0.0) is HoldMusic.DEFAULT
    assert requested.after(own, -0.3) is HoldMusic.DEFAULT  # another instance's clock, a little behind
    assert requested.after(own, -15.0) is requested  # a `since` that is no loop of this hold's
    assert requested.after(default, 0.2) is HoldMusic.NONE  # the default itself did not play
    assert HoldMusic.DEFAULT.after(own, 0.0) is HoldMusic.NONE
    assert HoldMusic.DEFAULT.after(own, 12.0) is HoldMusic.DEFAULT  # no retry within an interval
    assert HoldMusic.DEFAULT.after(own, 12.0, retry=True) is requested  # the failure may have passed
    assert HoldMusic.NONE.after(own, 0.0) is HoldMusic.NONE
    assert HoldMusic.NONE.after(own, 20.0) is HoldMusic.NONE
    assert HoldMusic.NONE.after(own, 20.0, retry=True) is requested


def fail_first_fetch_of(emu: Emulator, url: str) -> list[str]:
    """The first GET of ``url`` fails (a blip: a 503 from a load balancer during a deploy)."""
    failed: list[str] = []
    send = emu.webhooks.send

    async def flaky(request: WebhookRequest) -> WebhookResponse:
        if request.url == url and not failed:
            failed.append(url)
            return WebhookResponse(status=503, url=url, error_code=11200, error="HTTP 503")
        return await send(request)

    emu.webhooks.send = flaky  # type: ignore[method-assign]
    return failed


@pytest.mark.parametrize("strategy", ["conference", "legs"])
async def test_music_that_failed_once_is_played_again_after_the_reminder_interval(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, strategy: str
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy=strategy, reminder_interval=60)
    customer, _agent = await h.connected()
    voicesim.media_durations.pop(DEFAULT, None)  # not in Twilio's media cache (expired, or first use)
    failed = fail_first_fetch_of(voicesim, DEFAULT)
    held_at = h.clock.now()
    await h.services.service.hold(customer, by="alice", agent_id="alice")
    await h.clock.advance(200)
    h.clock.raise_errors()
    assert failed == [DEFAULT]  # one blip, at the start of the hold
    music = [seg for seg in h.emu.media.segments(customer) if seg.kind == "play" and seg.start >= held_at]
    assert music and music[0].start - held_at <= 60 + QUIET_LOOP_SECONDS  # back within an interval
    assert h.heard(customer)[-1][0] == "play"


def fetches_of(h: Harness, call_sid: str, path: str) -> list[dict[str, Any]]:
    """The requests voicesim made for ``call_sid`` to URLs containing ``path``."""
    return [
        e.data
        for e in h.emu.events
        if e.type == "webhook" and path in e.data["url"] and e.data["params"].get("CallSid") == call_sid
    ]


async def test_an_agent_whose_hold_music_cannot_be_played_hears_pauses_not_a_loop_of_requests(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    h = make_harness(
        voicesim, voicesim_clock, tmp_path, strategy="legs", hold_music_url="/media/missing-default.wav"
    )
    customer, agent = await h.connected()
    held_at = h.clock.now()
    await h.services.service.hold(customer, by="alice", agent_id="alice")
    await h.clock.advance(120)
    h.clock.raise_errors()
    fetches = fetches_of(h, agent, "/twiml/legs/hold-music/")
    # Each 20 s pause is followed by one more try of the music, which fails at once: two fetches per
    # pause, not thousands (before: a loop as fast as Twilio could go).
    assert 2 <= len(fetches) <= 2 * (1 + 120 // QUIET_LOOP_SECONDS)
    agent_audio = [seg for seg in h.emu.media.segments(agent) if seg.start >= held_at]
    spoken = [seg.detail for seg in agent_audio if seg.kind == "speech"]
    assert spoken[0] == "Your customer is on hold." and all("Reminder" in said for said in spoken[1:])
    assert sum((seg.end or h.clock.now()) - seg.start for seg in agent_audio if seg.kind == "silence") >= 90
    await h.services.service.resume(customer, by="alice", agent_id="alice")
    await h.clock.advance(10)
    h.assert_talking_to(customer, "alice")  # the quiet loop did not get in the way of the resume


async def test_an_agent_whose_hold_music_plays_hears_it_from_start_to_end(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="legs")
    customer, agent = await h.connected()
    held_at = h.clock.now()
    await h.services.service.hold(customer, by="alice", agent_id="alice")
    await h.clock.advance(240)  # within the default max hold (300 s): the agent is still on music
    h.clock.raise_errors()
    agent_audio = [seg for seg in h.emu.media.segments(agent) if seg.start >= held_at]
    assert {seg.kind for seg in agent_audio} == {"speech", "play"}  # never silence
    assert {seg.detail for seg in agent_audio if seg.kind == "play"} == {DEFAULT}


async def test_a_waiting_customer_whose_music_cannot_be_played_hears_a_prompt_not_a_loop_of_requests(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, hold_music_url="/media/missing-default.wav")
    call = await h.call_in(seconds=120)  # no agent: the customer waits in the queue for the next one
    fetches = fetches_of(h, call.sid, "/twiml/wait-music")
    # The <Enqueue> waitUrl is requested again each time its TwiML runs out (reference §4.1): once
    # per prompt and pause now, where a music that failed at once made it a loop as fast as Twilio goes.
    assert 1 <= len(fetches) <= 1 + 120 // QUIET_LOOP_SECONDS
    spoken = [seg.detail for seg in h.emu.media.segments(call.sid) if seg.kind == "speech"]
    assert spoken.count(WAITING_PROMPT) >= 3
    h.add_agent()
    await h.services.service.agent_available("alice")
    await h.clock.advance(15)
    h.clock.raise_errors()
    h.assert_talking_to(call.sid, "alice")  # the prompt and pause did not get in the way of the next agent
