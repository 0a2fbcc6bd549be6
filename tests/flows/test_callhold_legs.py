"""callhold, legs strategy, end to end on voicesim: the <Dial> bridge survives hold and resume."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from callhold.domain.model import HoldState, Strategy
from tests.flows.callhold_harness import Harness, make_harness
from voicesim import Emulator, VirtualClock


@pytest.fixture
def h(voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path) -> Harness:
    return make_harness(voicesim, voicesim_clock, tmp_path, strategy="legs")


async def test_hold_and_resume_reconnect_exactly_this_customer_and_drop_nobody(h: Harness) -> None:
    h.add_agent()
    call = await h.call_in()
    view = h.view(call.sid)
    assert view.call.strategy is Strategy.LEGS
    agent = view.agent_leg
    assert agent is not None and agent.parent_call_sid == call.sid
    assert h.heard(call.sid)[-1] == ("call", "", agent.call_sid)

    service = h.services.service
    await service.hold(call.sid, by="alice", agent_id="alice")
    await h.clock.advance(30)
    view = h.view(call.sid)
    assert view.hold is not None and view.hold.state is HoldState.HELD
    customer_now, agent_now = h.heard(call.sid)[-1], h.heard(agent.call_sid)[-1]
    assert customer_now[1] == "queue-wait"  # the customer hears hold audio in its own queue
    assert agent_now[0] in ("play", "speech") and agent_now[1] == ""  # the agent hears music
    assert call.status == "in-progress"

    await service.resume(call.sid, by="alice", agent_id="alice")
    await h.clock.advance(10)
    view = h.view(call.sid)
    assert view.hold is not None and view.hold.state is HoldState.ENDED
    assert h.heard(call.sid)[-1] == ("call", "", agent.call_sid)
    assert h.heard(agent.call_sid)[-1] == ("call", "", call.sid)
    assert call.status == "in-progress"
    customer_segments = h.emu.media.segments(call.sid)
    assert all(a.end == b.start for a, b in itertools.pairwise(customer_segments))
