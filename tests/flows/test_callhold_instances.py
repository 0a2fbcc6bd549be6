"""Several callhold instances on one database, and an instance dying mid-hold, end to end on voicesim.

Every instance arms the timers of every open hold it knows of (at startup, all of them), yet the agent
is reminded once and the maximum-hold action happens once. A hold committed as ``holding`` by an
instance that died before sending its Twilio commands is completed by the next instance to start.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from callhold.config import Settings
from callhold.domain import events as ev
from callhold.domain.machine import decide
from callhold.domain.model import HoldEndReason, HoldState
from callhold.web.app import Services, create_app
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.twilio_refusals import RefusingTransport, telephony_over
from voicesim import Emulator, VirtualClock

AGENT_REMINDER = "Reminder: your customer has been on hold for 25 seconds."
MAX_HOLD_NOTICE = "The maximum hold time has been reached. Please take your customer off hold."
HOLD_AUDIO = {"conference": "hold", "legs": "queue-wait"}
CALL_UPDATE = re.compile(r"/Calls/CA\w{32}\.json$")
SETTINGS: dict[str, object] = {"agent_reminder_after": 25, "max_hold": 60, "max_hold_action": "announce"}


def another_instance(h: Harness, tmp_path: Path, strategy: str) -> Services:
    """A second callhold process on the same database and the same voicesim (started now)."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/callhold.db",
        public_base_url=BASE,
        strategy=strategy,  # type: ignore[arg-type]
        **SETTINGS,  # type: ignore[arg-type]
    )
    services: Services = create_app(settings, emulator=h.emu, seed=7).state.services
    return services


def said(h: Harness, call_sid: str, text: str) -> int:
    return sum(1 for s in h.emu.media.segments(call_sid) if s.kind == "speech" and s.detail == text)


@pytest.mark.parametrize("strategy", ["conference", "legs"])
async def test_two_instances_remind_the_agent_once_and_announce_max_hold_once(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, strategy: str
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy=strategy, **SETTINGS)
    customer, agent = await h.held()
    second = another_instance(h, tmp_path, strategy)
    assert second.service.rearm_timers() == 1  # it arms the same hold's timers

    await voicesim_clock.advance(90)
    voicesim_clock.raise_errors()
    assert said(h, agent, AGENT_REMINDER) == 1
    assert said(h, agent, MAX_HOLD_NOTICE) == 1
    hold = h.view(customer).hold
    assert hold is not None and hold.state is HoldState.HELD
    assert hold.agent_reminded_at is not None and hold.max_hold_acted_at is not None
    assert h.heard(customer)[-1][1] == HOLD_AUDIO[strategy]


@pytest.mark.parametrize("strategy", ["conference", "legs"])
async def test_a_hold_whose_instance_died_before_sending_it_is_completed_after_a_restart(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, strategy: str
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy=strategy, **SETTINGS)
    customer, agent = await h.connected()
    service = h.services.service
    # The first instance commits the hold as "holding" ... and dies before sending any command.
    request = ev.HoldRequested(hold_id="h" * 32, by="alice", at=service.clock.now())
    decision = h.services.store.transact(customer, lambda view: decide(view, request, service.policy))
    assert decision.commands  # the commands that were never sent
    await voicesim_clock.advance(10)
    assert h.heard(customer)[-1][0] in ("conference", "call")  # nobody was put on hold
    stuck = h.view(customer).hold
    assert stuck is not None and stuck.state is HoldState.HOLDING

    second = another_instance(h, tmp_path, strategy)
    assert second.service.rearm_timers() == 1
    await voicesim_clock.advance(10)  # within the recovery grace: left alone (it may be in flight)
    assert second.service.view(customer).hold == stuck
    await voicesim_clock.advance(30)
    voicesim_clock.raise_errors()
    hold = second.service.view(customer).hold
    assert hold is not None and hold.state is HoldState.HELD and hold.recovered_at is not None
    assert h.heard(customer)[-1][1] == HOLD_AUDIO[strategy]  # the customer is on hold audio now

    await second.service.resume(customer, by="alice", agent_id="alice")
    await voicesim_clock.advance(10)
    voicesim_clock.raise_errors()
    hold = second.service.view(customer).hold
    assert hold is not None and (hold.state, hold.end_reason) == (HoldState.ENDED, HoldEndReason.RESUMED)
    assert h.emu.media.segments(customer)[-1].voices == (agent,)
    assert h.emu.media.segments(agent)[-1].voices == (customer,)
    assert voicesim.alerts == []


async def test_a_recovery_twilio_keeps_refusing_backs_off_then_completes_the_hold(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    """An outage: every re-sent first step is refused. callhold re-sends it after 30 s, 30 s, 60 s,
    then every 2 minutes -- not every 30 s -- and completes the hold once Twilio answers again."""
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="legs", **SETTINGS)
    customer, _ = await h.connected()
    service = h.services.service
    request = ev.HoldRequested(hold_id="h" * 32, by="alice", at=service.clock.now())
    h.services.store.transact(customer, lambda view: decide(view, request, service.policy))
    stuck_at = voicesim_clock.now()  # the instance that committed it died before sending anything

    second = another_instance(h, tmp_path, "legs")
    refused_at: list[float] = []

    def outage(method: str, url: str, _: object) -> bool:
        if method == "POST" and CALL_UPDATE.search(url):
            refused_at.append(round(voicesim_clock.now() - stuck_at))
            return True
        return False

    working = second.service.telephony
    second.service.telephony = telephony_over(h.emu, RefusingTransport(h.emu, outage), BASE)
    assert second.service.rearm_timers() == 1
    await voicesim_clock.advance(400)
    assert refused_at == [30, 60, 120, 240, 360]
    hold = second.service.view(customer).hold
    assert hold is not None and hold.state is HoldState.HOLDING
    assert h.heard(customer)[-1][0] == "call"  # nothing moved: still talking to the agent

    second.service.telephony = working  # Twilio is back
    await voicesim_clock.advance(90)  # the next recovery, at 480 s
    voicesim_clock.raise_errors()
    hold = second.service.view(customer).hold
    assert hold is not None and hold.state is HoldState.HELD
    assert h.heard(customer)[-1][1] == HOLD_AUDIO["legs"]
