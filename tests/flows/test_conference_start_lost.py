"""A conference whose ``conference-start`` callback callhold never took can still be held.

Twilio sends a status callback again only if it could not connect to callhold (Q9): one answered
503 (the database away for a moment) or lost in a restart is never sent again. callhold learns that
the conference started from the agent's ``participant-join``, or, when that was lost too, from
Twilio's Conferences list when a hold is asked for. End to end on voicesim, on a virtual clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from callhold.domain.errors import ConferenceNotStarted
from callhold.domain.model import HoldState
from tests.flows.callhold_harness import BASE, CUSTOMER, NUMBER, Harness, make_harness
from tests.flows.callhold_signed import Courier
from tests.flows.test_webhook_failures import table_away
from tests.twilio_refusals import RefusingTransport, telephony_over
from voicesim import Emulator, VirtualClock
from voicesim.sdk import client


@pytest.fixture
def h(voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path) -> Harness:
    return make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")


def conference_events(h: Harness, kind: str) -> list[dict[str, Any]]:
    """The conference events ``kind`` voicesim sent to callhold (each with its ``params`` and the
    ``status`` callhold answered)."""
    return [
        e.data
        for e in h.emu.events
        if e.type == "webhook" and e.data["params"].get("StatusCallbackEvent") == kind
    ]


def live_conference(h: Harness, name: str) -> str:
    """The SID of the conference named ``name`` that is in progress, as Twilio (voicesim) lists it."""
    (conference,) = client(h.emu).conferences.list(friendly_name=name, status="in-progress")
    return str(conference.sid)


async def assert_holds_with_music(h: Harness, customer: str) -> None:
    """alice holds the customer, who then hears the hold music; alice resumes, and they talk again."""
    service = h.services.service
    await service.hold(customer, by="alice", agent_id="alice")
    await h.clock.advance(5)
    h.clock.raise_errors()
    hold = h.view(customer).hold
    assert hold is not None and hold.state is HoldState.HELD
    assert h.heard(customer)[-1][1] == "hold"
    await service.resume(customer, by="alice", agent_id="alice")
    await h.clock.advance(2)
    h.clock.raise_errors()
    view = h.view(customer)
    assert view.hold is not None and view.hold.state is HoldState.ENDED
    assert view.agent_leg is not None
    assert h.heard(customer)[-1] == ("conference", "", view.agent_leg.call_sid)  # alice again


async def test_the_agents_join_stands_in_for_a_conference_start_that_never_arrived(
    h: Harness, voicesim: Emulator
) -> None:
    courier = Courier(h.app)
    voicesim.webhooks.mount(BASE, courier)
    courier.keep_back(lambda _path, form: form.get("StatusCallbackEvent") == "conference-start")
    h.add_agent()
    call = await h.call_in()
    assert [request.form["StatusCallbackEvent"] for request in courier.kept] == ["conference-start"]
    view = h.view(call.sid)
    assert view.call.conference_name is not None
    # Recorded from alice's participant-join, before anyone asked for a hold.
    assert view.call.conference_sid == live_conference(h, view.call.conference_name)
    await assert_holds_with_music(h, call.sid)


async def start_missed(h: Harness, tmp_path: Path) -> str:
    """alice answers a new customer while callhold's database is away: the conference starts, but
    its conference-start and alice's participant-join were answered 503. The customer's call SID."""
    h.add_agent()
    h.emu.phones.script("client:alice", answer_after=15)
    call = h.emu.inbound_call(CUSTOMER, NUMBER)
    await h.clock.advance(10)  # alice is still ringing
    with table_away(tmp_path, "calls"):  # the database is away as alice answers (t=18 s)
        await h.clock.advance(10)
    h.clock.raise_errors()
    assert [e["status"] for e in conference_events(h, "conference-start")] == [503]
    # The customer's join went in (t=3 s), alice's did not.
    assert [e["status"] for e in conference_events(h, "participant-join")] == [204, 503]
    assert h.view(call.sid).call.conference_sid is None
    return call.sid


async def test_a_hold_finds_the_conference_whose_start_and_joins_were_answered_503(
    h: Harness, tmp_path: Path
) -> None:
    customer = await start_missed(h, tmp_path)
    name = h.view(customer).call.conference_name
    assert name is not None

    await assert_holds_with_music(h, customer)
    assert h.view(customer).call.conference_sid == live_conference(h, name)
    # ... and so is everything else done in the conference: alice can be muted.
    agent = h.view(customer).agent_leg
    assert agent is not None
    await h.services.service.mute(customer, agent.call_sid, True, agent_id="alice")
    await h.clock.advance(1)
    agent = h.view(customer).agent_leg
    assert agent is not None and agent.muted


async def test_while_twilio_cannot_be_asked_the_hold_is_refused_and_nothing_is_recorded(
    h: Harness, tmp_path: Path, voicesim: Emulator
) -> None:
    def lists_conferences(method: str, url: str, _data: Mapping[str, object]) -> bool:
        return method == "GET" and url.endswith("/Conferences.json")

    refusing = RefusingTransport(voicesim, lists_conferences)  # 503, 20503
    h.services.service.telephony = telephony_over(voicesim, refusing, BASE)
    customer = await start_missed(h, tmp_path)
    before = h.view(customer)
    with pytest.raises(ConferenceNotStarted):
        await h.services.service.hold(customer, by="alice", agent_id="alice")
    assert len(refusing.refused) == 1  # Twilio was asked
    assert h.view(customer) == before
    assert h.services.store.list_holds() == []
    assert h.heard(customer)[-1][1] != "hold"

    refusing.selects = lambda *_: False  # Twilio answers again
    await assert_holds_with_music(h, customer)
