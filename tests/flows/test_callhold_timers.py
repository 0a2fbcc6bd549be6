"""Hold timers end to end on voicesim (issue 4, Deliver 5), on both strategies.

Settings: a "thank you for holding" reminder in the customer's hold audio every 20 s, the agent reminded
after 25 s, the maximum hold at 60 s, then either auto-resume or an announcement to the agent.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from callhold.domain.model import HoldEndReason, HoldState
from tests.flows.callhold_harness import Harness, make_harness
from voicesim import Emulator, VirtualClock

CUSTOMER_REMINDER = "Thank you for holding. Your agent will be with you shortly."
AGENT_REMINDER = "Reminder: your customer has been on hold for 25 seconds."
MAX_HOLD_NOTICE = "The maximum hold time has been reached. Please take your customer off hold."
MUSIC_SECONDS = 12  # callhold's own hold music: the reminder waits for the end of the current loop
HOLD_CONTEXT = {"conference": "hold", "legs": "queue-wait"}
NOTICE_CONTEXT = {"conference": "announcement", "legs": ""}


def make(voicesim: Emulator, clock: VirtualClock, tmp_path: Path, strategy: str, action: str) -> Harness:
    return make_harness(
        voicesim,
        clock,
        tmp_path,
        strategy=strategy,
        reminder_interval=20,
        agent_reminder_after=25,
        max_hold=60,
        max_hold_action=action,
    )


async def held(h: Harness) -> tuple[str, str, float]:
    """alice's customer, held now: (customer SID, agent SID, hold start)."""
    h.add_agent()
    call = await h.call_in()
    agent = h.view(call.sid).agent_leg
    assert agent is not None
    await h.services.service.hold(call.sid, by="alice", agent_id="alice")
    return call.sid, agent.call_sid, h.clock.now()


def spoken(h: Harness, call_sid: str, text: str, since: float) -> list[tuple[float, str]]:
    """(offset from ``since``, context) of each time ``call_sid`` heard ``text``."""
    return [
        (round(s.start - since, 1), s.context)
        for s in h.emu.media.segments(call_sid)
        if s.kind == "speech" and s.detail == text and s.start >= since
    ]


def voices(h: Harness, call_sid: str) -> tuple[str, ...]:
    return h.emu.media.segments(call_sid)[-1].voices


@pytest.mark.parametrize("strategy", ["conference", "legs"])
async def test_reminders_then_max_hold_auto_resumes(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, strategy: str
) -> None:
    h = make(voicesim, voicesim_clock, tmp_path, strategy, "resume")
    customer, agent, start = await held(h)
    await h.clock.advance(59)
    h.clock.raise_errors()

    # The customer: a reminder in its hold audio at the first loop boundary after every 20 s.
    reminders = spoken(h, customer, CUSTOMER_REMINDER, start)
    assert len(reminders) == 2
    assert {context for _, context in reminders} == {HOLD_CONTEXT[strategy]}
    assert 20 <= reminders[0][0] <= 20 + MUSIC_SECONDS
    assert 40 <= reminders[1][0] <= 40 + MUSIC_SECONDS
    # The agent: reminded once, 25 s into the hold, in its own audio only.
    assert spoken(h, agent, AGENT_REMINDER, start) == [(25.0, NOTICE_CONTEXT[strategy])]
    assert spoken(h, customer, AGENT_REMINDER, start) == []
    hold = h.view(customer).hold
    assert hold is not None and hold.state is HoldState.HELD

    await h.clock.advance(11)  # max hold at 60 s: resumed on its own
    h.clock.raise_errors()
    hold = h.view(customer).hold
    assert hold is not None
    assert (hold.state, hold.end_reason) == (HoldState.ENDED, HoldEndReason.MAX_HOLD_AUTO_RESUMED)
    assert hold.ended_at is not None
    assert hold.ended_at - hold.started_at <= timedelta(seconds=60 + 5)
    assert voices(h, customer) == (agent,) and voices(h, agent) == (customer,)
    assert h.emu.alerts == []


@pytest.mark.parametrize("strategy", ["conference", "legs"])
async def test_max_hold_announce_tells_the_agent_and_the_hold_goes_on(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, strategy: str
) -> None:
    h = make(voicesim, voicesim_clock, tmp_path, strategy, "announce")
    customer, agent, start = await held(h)
    await h.clock.advance(90)
    h.clock.raise_errors()

    assert spoken(h, agent, MAX_HOLD_NOTICE, start) == [(60.0, NOTICE_CONTEXT[strategy])]
    hold = h.view(customer).hold
    assert hold is not None and hold.state is HoldState.HELD
    assert h.heard(customer)[-1][1] == HOLD_CONTEXT[strategy]  # still on hold audio
    assert len(spoken(h, customer, CUSTOMER_REMINDER, start)) >= 4  # reminders go on
    if strategy == "legs":
        assert h.heard(agent)[-1][0] == "play"  # back to the music after the notice

    await h.services.service.resume(customer, by="alice", agent_id="alice")
    await h.clock.advance(10)
    hold = h.view(customer).hold
    assert hold is not None and (hold.state, hold.end_reason) == (HoldState.ENDED, HoldEndReason.RESUMED)
    assert voices(h, customer) == (agent,) and voices(h, agent) == (customer,)


@pytest.mark.parametrize("strategy", ["conference", "legs"])
async def test_the_timers_of_a_resumed_hold_never_fire(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, strategy: str
) -> None:
    h = make(voicesim, voicesim_clock, tmp_path, strategy, "resume")
    customer, agent, start = await held(h)
    await h.clock.advance(10)
    await h.services.service.resume(customer, by="alice", agent_id="alice")
    await h.clock.advance(120)
    h.clock.raise_errors()
    assert spoken(h, agent, AGENT_REMINDER, start) == []
    assert [(x.state, x.end_reason) for x in h.services.store.list_holds()] == [
        (HoldState.ENDED, HoldEndReason.RESUMED)
    ]
    assert voices(h, customer) == (agent,) and voices(h, agent) == (customer,)


@pytest.mark.parametrize("strategy", ["conference", "legs"])
async def test_a_max_hold_the_database_fails_to_record_is_tried_again(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, strategy: str
) -> None:
    # The maximum hold comes due while the database refuses a write (a SQLite busy timeout, a
    # PostgreSQL failover): the auto-resume is tried again later, not lost with the customer held.
    h = make(voicesim, voicesim_clock, tmp_path, strategy, "resume")
    customer, _, _ = await held(h)
    await h.clock.advance(40)  # past the agent reminder (which stamps the hold)
    refused: list[str] = []

    def locked(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not refused and statement.lstrip().upper().startswith("UPDATE HOLDS"):
            refused.append(statement)
            raise sqlite3.OperationalError("database is locked")

    engine = h.services.store.engine
    event.listen(engine, "before_cursor_execute", locked)
    try:
        await h.clock.advance(25)  # the maximum hold (60 s) comes due: its write is refused
        assert refused
        h.clock.errors.clear()  # the timer's failure, logged
        hold = h.view(customer).hold
        assert hold is not None and hold.state is HoldState.HELD
        await h.clock.advance(h.services.service.timings.retry_after + 5)
    finally:
        event.remove(engine, "before_cursor_execute", locked)
    h.clock.raise_errors()
    hold = h.view(customer).hold
    assert hold is not None and hold.state is HoldState.ENDED
    assert hold.end_reason is HoldEndReason.MAX_HOLD_AUTO_RESUMED
