"""``<Dial hangupOnStar timeLimit><Conference>``: the caller leaves the conference, the call goes on.

Twilio's ``<Dial>`` doc: with ``hangupOnStar`` into a conference the action gets
``DialCallStatus=answered``; its ``<Conference>`` doc: ``timeLimit`` removes you from the conference
and ``hangupOnStar`` lets you leave it with ``*``. ReasonParticipantLeft (``participant_hung_up``)
and the time limit counting from the join are voicesim's choices (see voicesim.conference_dial).
"""

from __future__ import annotations

import pytest

from tests.voicesim.test_conferences import AGENT, World
from tests.webhook_app import BASE, WebhookApp
from voicesim import Emulator, VirtualClock

EVENTS = f'statusCallback="{BASE}/events" statusCallbackEvent="leave end"'


@pytest.fixture
def world(voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp) -> World:
    world = World(voicesim, voicesim_clock, app)
    world.twiml("/after", '<Say>Back with the bot</Say><Pause length="30"/>')
    return world


def dial(world: World, attrs: str, conference_attrs: str = EVENTS, after: str = "") -> None:
    world.twiml("/voice", f"<Dial {attrs}><Conference {conference_attrs}>room</Conference></Dial>{after}")


def leaves(world: World) -> list[tuple[str, str, str]]:
    return [
        (e["CallSid"], e["ReasonParticipantLeft"], e["ParticipantCallStatus"])
        for e in world.hits("/events")
        if e["StatusCallbackEvent"] == "participant-leave"
    ]


async def test_hangup_on_star_leaves_the_conference_and_runs_the_action(world: World) -> None:
    dial(world, 'action="/after" hangupOnStar="true"')
    customer, agent = world.call_in(), world.call_in(AGENT)
    await world.clock.advance(10)
    world.emu.press(customer, "*")
    await world.clock.advance(1)
    assert leaves(world) == [(customer, "participant_hung_up", "in-progress")]
    (after,) = world.hits("/after")
    assert (after["CallSid"], after["DialCallStatus"]) == (customer, "answered")
    assert "DialCallSid" not in after and "DialCallDuration" not in after
    assert world.heard(customer)[-2:] == [(0.5, 10, "conference", "", (agent,)), (10, None, "speech", "", ())]
    assert world.emu.calls.by_sid[customer].status == "in-progress"
    conference = world.conference()
    assert conference.status == "in-progress"  # the agent is still in it, alone
    assert [p.call_sid for p in world.emu.conferences.participants.list(conference.sid)] == [agent]


async def test_hangup_on_star_without_action_goes_on_to_the_next_verb(world: World) -> None:
    dial(world, 'hangupOnStar="true"', after="<Say>Goodbye</Say>")
    customer = world.call_in()
    await world.clock.advance(5)
    world.emu.press(customer, "*")
    await world.clock.advance(5)
    assert leaves(world) == [(customer, "participant_hung_up", "in-progress")]
    assert world.heard(customer)[-2:] == [(0, 5, "music", "conference-wait", ()), (5, 6, "speech", "", ())]
    assert world.emu.calls.by_sid[customer].status == "completed"  # the TwiML ran out
    assert world.conference().reason_conference_ended == "last-participant-left"


async def test_star_is_ignored_without_hangup_on_star(world: World) -> None:
    dial(world, 'action="/after"')
    customer, agent = world.call_in(), world.call_in(AGENT)
    await world.clock.advance(10)
    world.emu.press(customer, "*")
    await world.clock.advance(10)
    assert leaves(world) == [] and world.hits("/after") == []
    assert world.now_hearing(customer) == ("conference", "", (agent,))


async def test_star_by_an_end_conference_on_exit_participant_ends_the_conference(world: World) -> None:
    world.twiml(
        "/voice",
        f'<Dial action="/after" hangupOnStar="true"><Conference endConferenceOnExit="true" {EVENTS}>'
        "room</Conference></Dial>",
    )
    customer = world.call_in()
    await world.clock.advance(1)
    dial(world, 'action="/after"')
    agent = world.call_in(AGENT)
    await world.clock.advance(9)
    world.emu.press(customer, "*")
    await world.clock.advance(1)
    assert leaves(world) == [
        (customer, "participant_hung_up", "in-progress"),
        (agent, "moderator_ended_conference", "in-progress"),
    ]
    assert world.conference().reason_conference_ended == "participant-with-end-conference-on-exit-left"
    assert [(a["CallSid"], a["DialCallStatus"]) for a in world.hits("/after")] == [
        (customer, "answered"),
        (agent, "answered"),
    ]


async def test_time_limit_removes_the_participant_and_runs_the_action(world: World) -> None:
    dial(world, 'action="/after" timeLimit="20"')
    customer = world.call_in()
    await world.clock.advance(5)
    agent = world.call_in(AGENT)  # the same limit: it is removed 20 s after it joined
    await world.clock.advance(14.5)
    assert leaves(world) == [] and world.hits("/after") == []
    await world.clock.advance(1)
    assert leaves(world) == [(customer, "participant_hung_up", "in-progress")]
    (after,) = world.hits("/after")
    assert (after["CallSid"], after["DialCallStatus"]) == (customer, "answered")
    assert world.heard(customer)[-2:] == [(5.5, 20, "conference", "", (agent,)), (20, None, "speech", "", ())]
    await world.clock.advance(5)
    assert [leave[0] for leave in leaves(world)] == [customer, agent]
    assert world.conference().reason_conference_ended == "last-participant-left"


async def test_time_limit_counts_from_the_join_wait_music_included(world: World) -> None:
    dial(world, 'timeLimit="15"', after="<Say>Nobody came</Say>")
    customer = world.call_in()
    await world.clock.advance(20)
    assert leaves(world) == [(customer, "participant_hung_up", "in-progress")]
    assert [s[:4] for s in world.heard(customer)] == [
        (0, 15, "music", "conference-wait"),
        (15, 16, "speech", ""),  # "Nobody came"; then the TwiML ran out
    ]
    assert world.conference().reason_conference_ended == "last-participant-left"


async def test_default_time_limit_is_four_hours(world: World) -> None:
    dial(world, 'action="/after"', conference_attrs=f'waitUrl="" {EVENTS}')
    customer = world.call_in()
    world.emu.calls.set_time_limit(world.emu.calls.by_sid[customer], 86400)  # the call may outlast the Dial
    await world.clock.advance(4 * 3600 - 1)
    assert leaves(world) == []
    await world.clock.advance(2)
    assert leaves(world) == [(customer, "participant_hung_up", "in-progress")]
    assert world.hits("/after")[0]["DialCallStatus"] == "answered"


async def test_the_calls_own_four_hour_limit_ends_it_with_the_dials(world: World) -> None:
    """Both default to 14400 s; the call's counts from its answer, before the Dial began: it wins."""
    dial(world, 'action="/after"', conference_attrs=f'waitUrl="" {EVENTS}')
    customer = world.call_in()
    await world.clock.advance(4 * 3600 + 1)
    assert leaves(world) == [(customer, "participant_hung_up", "completed")]
    assert world.emu.calls.by_sid[customer].status == "completed"
    assert [(a.error_code, a.call_sid) for a in world.emu.alerts] == [(32015, customer)]
