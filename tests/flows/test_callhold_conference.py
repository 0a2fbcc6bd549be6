"""callhold, conference strategy, end to end on voicesim: hold, music, reminders, resume, records."""

from __future__ import annotations

from pathlib import Path

import pytest

from callhold.domain.model import HoldState, LegRole, Strategy
from tests.flows.callhold_harness import Harness, make_harness
from voicesim import Emulator, VirtualClock


@pytest.fixture
def h(voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path) -> Harness:
    return make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")


async def test_inbound_call_reaches_the_agent_through_a_conference(h: Harness) -> None:
    h.add_agent()
    call = await h.call_in()
    view = h.view(call.sid)
    assert view.call.strategy is Strategy.CONFERENCE and view.call.agent_id == "alice"
    agent = view.agent_leg
    assert agent is not None and agent.role is LegRole.AGENT
    assert view.call.conference_sid is not None  # recorded from conference-start
    assert h.heard(call.sid)[-1][0] == "conference"
    assert h.heard(call.sid)[-1][2] == agent.call_sid  # the customer hears the agent


async def test_hold_plays_music_to_the_customer_only_and_resume_restores_both_ways(h: Harness) -> None:
    h.add_agent()
    call = await h.call_in()
    service = h.services.service
    view = await service.hold(call.sid, by="alice", agent_id="alice", reason="checking")
    await h.clock.advance(1)
    view = h.view(call.sid)
    assert view.hold is not None and view.hold.state is HoldState.HELD
    agent_sid = view.agent_leg.call_sid  # type: ignore[union-attr]
    await h.clock.advance(41)
    assert h.heard(call.sid)[-1][:2] in (("play", "hold"), ("speech", "hold"))
    agent_now = h.heard(agent_sid)[-1]
    assert agent_now[0] == "conference" and agent_now[2] == ""  # the agent hears nobody while held
    await service.resume(call.sid, by="alice", agent_id="alice")
    await h.clock.advance(5)
    assert h.heard(call.sid)[-1] == ("conference", "", agent_sid)
    assert h.heard(agent_sid)[-1] == ("conference", "", call.sid)
    view = h.view(call.sid)
    assert view.hold is not None and view.hold.state is HoldState.ENDED
    assert 41 <= view.hold.duration(h.services.service.clock.now()).total_seconds() <= 43
    assert call.status == "in-progress"
