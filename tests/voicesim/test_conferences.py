"""voicesim conferences: <Dial><Conference>, start/end rules, events, the Python API and bad input."""

from __future__ import annotations

from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from tests.webhook_app import BASE, WebhookApp, wav_bytes
from voicesim import Emulator, PhoneScript, Source, VirtualClock
from voicesim.conference_model import Conference, ConferenceError

NUMBER = "+15550000001"
CUSTOMER = "+15551110000"
AGENT = "+15552220000"


class World:
    """The emulator, its virtual clock and the in-process webhook app, with conference helpers."""

    def __init__(self, emu: Emulator, clock: VirtualClock, app: WebhookApp) -> None:
        self.emu, self.clock, self.app = emu, clock, app
        emu.buy_number(NUMBER, voice_url=f"{BASE}/voice")
        app.raw("/events", b"", "text/plain")

    def twiml(self, path: str, body: str) -> None:
        self.app.twiml(path, body)

    def audio(self, path: str, seconds: float) -> None:
        self.app.raw(path, wav_bytes(seconds), "audio/wav")

    def hits(self, path: str) -> list[dict[str, str]]:
        return [r.params for r in self.app.to(path)]

    def events(self, path: str = "/events") -> list[str]:
        return [params["StatusCallbackEvent"] for params in self.hits(path)]

    def signed(self, path: str) -> bool:
        validator = RequestValidator(self.emu.auth_token)
        return all(
            validator.validate(r.url, r.params if r.method == "POST" else {}, r.headers["x-twilio-signature"])
            for r in self.app.to(path)
        )

    def call_in(self, caller: str = CUSTOMER) -> str:
        return self.emu.inbound_call(caller, NUMBER).sid

    def conference(self, name: str = "room") -> Conference:
        found = self.emu.conferences.list(friendly_name=name)
        assert found, f"no conference {name}"
        return found[0]

    def heard(self, call_sid: str) -> list[tuple[float, float | None, str, str, tuple[str, ...]]]:
        origin = self.emu.calls.by_sid[call_sid].date_created
        return [
            (s.start - origin, None if s.end is None else s.end - origin, s.kind, s.context, s.voices)
            for s in self.emu.media.segments(call_sid)
        ]

    def now_hearing(self, call_sid: str) -> tuple[str, str, tuple[str, ...]]:
        last = self.emu.media.segments(call_sid)[-1]
        assert last.end is None
        return last.kind, last.context, last.voices


@pytest.fixture
def world(voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp) -> World:
    return World(voicesim, voicesim_clock, app)


ROOM = '<Dial action="/after"><Conference {attrs}>room</Conference></Dial>'


def join_twiml(world: World, path: str = "/voice", **attrs: Any) -> None:
    text = " ".join(f'{k}="{v}"' for k, v in attrs.items())
    world.twiml(path, ROOM.format(attrs=text))


# -- start and end rules -----------------------------------------------------------------------
async def test_first_caller_waits_with_default_music_and_conference_is_init(world: World) -> None:
    join_twiml(world)
    customer = world.call_in()
    await world.clock.advance(5)
    conference = world.conference()
    assert conference.status == "init"
    assert world.now_hearing(customer) == ("music", "conference-wait", ())
    assert [r.path for r in world.app.received] == ["/voice"]  # the default playlist is builtin


async def test_second_caller_starts_the_conference_and_they_hear_each_other(world: World) -> None:
    join_twiml(world)
    customer = world.call_in()
    await world.clock.advance(5)
    agent = world.call_in(AGENT)
    await world.clock.advance(5)
    assert world.conference().status == "in-progress"
    assert world.now_hearing(customer) == ("conference", "", (agent,))
    assert world.now_hearing(agent) == ("conference", "", (customer,))


async def test_no_start_until_a_start_conference_on_enter_participant(world: World) -> None:
    join_twiml(world, startConferenceOnEnter="false")
    world.twiml("/moderator", ROOM.format(attrs=""))
    first, second = world.call_in(), world.call_in(AGENT)
    await world.clock.advance(5)
    assert world.conference().status == "init"
    assert world.now_hearing(first)[0:2] == ("music", "conference-wait")
    next(iter(world.emu.numbers.values())).voice_url = f"{BASE}/moderator"
    third = world.call_in("+15553330000")
    await world.clock.advance(1)
    assert world.conference().status == "in-progress"
    assert world.now_hearing(first) == ("conference", "", tuple(sorted((second, third))))


async def test_last_leave_ends_conference_and_the_remaining_dial_continues(world: World) -> None:
    join_twiml(world, statusCallback=f"{BASE}/events", statusCallbackEvent="start end join leave")
    world.twiml("/after", "<Say>Goodbye</Say>")
    customer = world.call_in()
    agent = world.call_in(AGENT)
    await world.clock.advance(10)
    world.emu.hang_up(agent)
    await world.clock.advance(1)
    conference = world.conference()
    assert conference.status == "in-progress"  # one participant is still there
    world.emu.hang_up(customer)
    await world.clock.advance(1)
    assert conference.status == "completed"
    assert conference.reason_conference_ended == "last-participant-left"
    assert conference.call_sid_ending_conference == customer
    assert world.events() == [
        "participant-join",
        "participant-join",
        "conference-start",
        "participant-leave",
        "participant-leave",
        "conference-end",
    ]
    leave = world.hits("/events")[3]
    assert leave["ReasonParticipantLeft"] == "participant_hung_up"
    assert leave["ParticipantCallStatus"] == "completed"
    assert [int(p["SequenceNumber"]) for p in world.hits("/events")] == [1, 2, 3, 4, 5, 6]
    assert world.signed("/events")


async def test_end_conference_on_exit_drops_the_others_to_their_action(world: World) -> None:
    join_twiml(world, endConferenceOnExit="true")
    world.twiml("/after", "<Say>The agent left</Say>")
    world.twiml("/agent", '<Dial><Conference endConferenceOnExit="true">room</Conference></Dial>')
    customer = world.call_in()
    next(iter(world.emu.numbers.values())).voice_url = f"{BASE}/agent"
    agent = world.call_in(AGENT)
    await world.clock.advance(10)
    world.emu.hang_up(agent)
    await world.clock.advance(0.5)
    conference = world.conference()
    assert conference.reason_conference_ended == "participant-with-end-conference-on-exit-left"
    action = world.hits("/after")[-1]
    assert action["DialCallStatus"] == "answered"
    assert "DialCallSid" not in action and "DialCallDuration" not in action
    assert world.now_hearing(customer)[0] == "speech"
    await world.clock.advance(5)
    assert world.emu.calls.by_sid[customer].status == "completed"


async def test_api_completed_ends_the_conference_and_calls_go_to_next_verb(world: World) -> None:
    world.twiml("/voice", "<Dial><Conference>room</Conference></Dial><Say>After the conference</Say>")
    customer, agent = world.call_in(), world.call_in(AGENT)
    await world.clock.advance(10)
    conference = world.conference()
    world.emu.conferences.update(conference.sid, status="completed")
    assert conference.status == "completed"
    assert conference.reason_conference_ended == "conference-ended-via-api"
    await world.clock.advance(0.5)
    assert world.now_hearing(customer)[0:1] == ("speech",)
    assert world.now_hearing(agent)[0:1] == ("speech",)
    assert world.emu.conferences.participants.list(conference.sid) == []


async def test_duplicate_label_is_alert_16025_and_the_call_moves_on(world: World) -> None:
    world.twiml(
        "/voice",
        '<Dial><Conference participantLabel="agent">room</Conference></Dial>'
        '<Say>Busy</Say><Pause length="9"/>',
    )
    world.call_in()
    second = world.call_in(AGENT)
    await world.clock.advance(3)
    assert [a.error_code for a in world.emu.alerts] == [16025]
    assert ("speech", "") in [seg[2:4] for seg in world.heard(second)]
    assert len(world.emu.conferences.participants.list(world.conference().sid)) == 1


async def test_max_participants_full_fails_the_dial(world: World) -> None:
    join_twiml(world, maxParticipants="2")
    world.twiml("/after", "<Say>Full</Say>")
    world.call_in(), world.call_in(AGENT)
    third = world.call_in("+15553330000")
    await world.clock.advance(1)
    assert 16020 in [a.error_code for a in world.emu.alerts]
    assert world.hits("/after")[-1]["DialCallStatus"] == "failed"
    assert [seg[2] for seg in world.heard(third)] == ["speech"]


async def test_coach_of_a_call_not_in_the_conference_is_13240(world: World) -> None:
    world.twiml(
        "/voice", '<Dial action="/after"><Conference coach="CA' + "0" * 32 + '">room</Conference></Dial>'
    )
    world.twiml("/after", "<Hangup/>")
    world.call_in()
    await world.clock.advance(1)
    assert [a.error_code for a in world.emu.alerts] == [13240]
    assert world.hits("/after")[-1]["DialCallStatus"] == "failed"


async def test_wait_url_twiml_plays_then_silence_and_bad_verb_is_13238(world: World) -> None:
    join_twiml(world, waitUrl="/wait", waitMethod="GET")
    world.twiml("/wait", "<Say>Please wait while we connect you to the next agent</Say><Pause length='3'/>")
    customer = world.call_in()
    await world.clock.advance(1)
    assert world.now_hearing(customer) == ("speech", "conference-wait", ())
    await world.clock.advance(10)
    assert world.now_hearing(customer) == ("silence", "conference-wait", ())
    assert [r.method for r in world.app.to("/wait")] == ["GET"]
    world.twiml("/wait", "<Gather/>")
    world.call_in(AGENT)  # same conference: it starts, so nothing more is fetched
    await world.clock.advance(1)
    assert world.emu.alerts == []


async def test_wait_url_with_an_invalid_verb_records_13238_and_plays_silence(world: World) -> None:
    join_twiml(world, waitUrl=f"{BASE}/wait")
    world.twiml("/wait", "<Dial>+15550001111</Dial>")
    customer = world.call_in()
    await world.clock.advance(2)
    assert [a.error_code for a in world.emu.alerts] == [13238]
    assert world.now_hearing(customer) == ("silence", "conference-wait", ())
    assert world.hits("/wait")[0]["CallSid"] == customer  # POST by default


async def test_wait_url_that_cannot_be_fetched_leaves_the_dial(world: World) -> None:
    join_twiml(world, waitUrl=f"{BASE}/missing")
    world.twiml("/after", "<Say>Sorry</Say>")
    world.call_in()
    await world.clock.advance(1)
    assert [a.error_code for a in world.emu.alerts] == [11200]
    assert world.hits("/after")[-1]["DialCallStatus"] == "failed"


async def test_empty_wait_url_is_silence(world: World) -> None:
    join_twiml(world, waitUrl="")
    customer = world.call_in()
    await world.clock.advance(1)
    assert world.now_hearing(customer) == ("silence", "conference-wait", ())


# -- the Python API ----------------------------------------------------------------------------
async def test_list_filters_and_get(world: World) -> None:
    join_twiml(world)
    world.call_in()
    await world.clock.advance(1)
    conference = world.conference()
    api = world.emu.conferences
    assert api.get(conference.sid) is conference
    assert api.list(status="init") == [conference]
    assert api.list(status="completed") == []
    day = world.clock.now_datetime().date()
    assert api.list(date_created=day, date_updated_after=day) == [conference]
    with pytest.raises(ConferenceError) as info:
        api.get("CF" + "f" * 32)
    assert (info.value.code, info.value.status) == (20404, 404)


async def test_redirecting_a_participant_call_removes_it(world: World) -> None:
    join_twiml(world, statusCallback=f"{BASE}/events", statusCallbackEvent="leave")
    world.twiml("/elsewhere", "<Say>Elsewhere</Say><Pause length='30'/>")
    customer, agent = world.call_in(), world.call_in(AGENT)
    await world.clock.advance(5)
    world.emu.calls.redirect(world.emu.calls.by_sid[customer], Source(url=f"{BASE}/elsewhere"))
    await world.clock.advance(1)
    leave = world.hits("/events")[0]
    assert (leave["CallSid"], leave["ReasonParticipantLeft"]) == (customer, "participant_updated_via_api")
    assert leave["ParticipantCallStatus"] == "in-progress"
    assert world.heard(customer)[-2][2:] == ("speech", "", ())
    assert world.hits("/after")[0]["DialCallStatus"] == "answered"  # requested, reply discarded
    assert [p.call_sid for p in world.emu.conferences.participants.list(world.conference().sid)] == [agent]


async def test_conference_announcement_plays_to_everyone_not_held(world: World) -> None:
    join_twiml(world, statusCallback=f"{BASE}/events", statusCallbackEvent="announcement")
    world.audio("/notice.wav", 4)
    customer, agent = world.call_in(), world.call_in(AGENT)
    await world.clock.advance(5)
    conference = world.conference()
    world.emu.conferences.participants.update(conference.sid, agent, hold=True)
    world.emu.conferences.update(conference.sid, announce_url=f"{BASE}/notice.wav")
    await world.clock.advance(1)
    assert world.now_hearing(customer) == ("play", "announcement", ())
    assert world.now_hearing(agent) == ("music", "hold", ())
    await world.clock.advance(5)
    assert world.now_hearing(customer) == ("conference", "", ())
    assert world.events() == ["announcement-end"]
    assert world.hits("/notice.wav")[0]["ConferenceSid"] == conference.sid


async def test_announcement_that_fails_sends_announcement_fail(world: World) -> None:
    join_twiml(world, statusCallback=f"{BASE}/events", statusCallbackEvent="announcement")
    customer = world.call_in()
    world.call_in(AGENT)
    await world.clock.advance(5)
    conference = world.conference()
    world.emu.conferences.participants.update(conference.sid, customer, announce_url=f"{BASE}/nothing")
    await world.clock.advance(1)
    event = world.hits("/events")[0]
    assert event["StatusCallbackEvent"] == "announcement-fail"
    assert event["CallSid"] == customer and "11200" in event["ReasonAnnouncementFailed"]


# -- bad input changes nothing -----------------------------------------------------------------
async def test_update_of_unknown_or_completed_or_unconnected_participant_is_refused(world: World) -> None:
    join_twiml(world)
    world.emu.phones.script(AGENT, PhoneScript(answer_after=20))
    customer = world.call_in()
    await world.clock.advance(1)
    conference = world.conference()
    parts = world.emu.conferences.participants
    ringing = parts.create(conference.sid, from_=NUMBER, to=AGENT, label="agent")
    await world.clock.advance(1)
    cases: list[tuple[dict[str, Any], int, int]] = [
        ({"key": "nobody", "hold": True}, 20404, 404),
        ({"key": "agent", "hold": True}, 21220, 400),
        ({"key": customer, "hold": True, "hold_url": "not a url"}, 21205, 400),
        ({"key": customer, "hold": True, "hold_method": "PUT"}, 21209, 400),
        ({"key": customer, "coaching": True}, 20001, 400),
        ({"key": customer, "call_sid_to_coach": ringing.call_sid}, 16028, 400),
    ]
    for kwargs, code, status in cases:
        key = kwargs.pop("key")
        with pytest.raises(ConferenceError) as info:
            parts.update(conference.sid, key, **kwargs)
        assert (info.value.code, info.value.status) == (code, status), kwargs
    participant = parts.get(conference.sid, customer)
    assert (participant.hold, participant.muted, participant.coaching) == (False, False, False)
    assert world.now_hearing(customer)[0:2] == ("music", "conference-wait")
    world.emu.conferences.update(conference.sid, status="completed")
    with pytest.raises(ConferenceError) as info:
        parts.update(conference.sid, customer, muted=True)
    assert info.value.code == 20404


async def test_create_participant_bad_input_changes_nothing(world: World) -> None:
    parts = world.emu.conferences.participants
    cases: list[tuple[dict[str, Any], int]] = [
        ({"to": None}, 21201),
        ({"from_": ""}, 21213),
        ({"timeout": 4}, 21208),
        ({"max_participants": 251}, 20001),
        ({"max_participants": 1}, 20001),
        ({"beep": "loud"}, 20001),
        ({"label": "CA" + "a" * 32}, 16023),
        ({"label": "a/b"}, 16023),
        ({"wait_url": "ftp://x"}, 21205),
        ({"conference_status_callback_method": "PATCH"}, 21209),
        ({"coaching": True}, 20001),
        ({"call_sid_to_coach": "CA" + "b" * 32}, 16028),
    ]
    for overrides, code in cases:
        kwargs: dict[str, Any] = {"from_": NUMBER, "to": AGENT, **overrides}
        with pytest.raises(ConferenceError) as info:
            parts.create("room", **kwargs)
        assert info.value.code == code, overrides
    with pytest.raises(ConferenceError) as info:
        parts.create("CF" + "0" * 32, from_=NUMBER, to=AGENT)
    assert info.value.code == 20404
    assert world.emu.conferences.list() == [] and world.emu.calls.all() == []


# -- hold, mute and modify through the Python API -----------------------------------------------
async def in_progress(world: World, **attrs: Any) -> tuple[str, str, str]:
    """Customer and agent talking in "room"; returns (conference SID, customer, agent)."""
    join_twiml(world, statusCallback=f"{BASE}/events", statusCallbackEvent="mute hold modify", **attrs)
    customer, agent = world.call_in(), world.call_in(AGENT)
    await world.clock.advance(5)
    return world.conference().sid, customer, agent


async def test_hold_twiml_with_an_invalid_verb_is_13238_then_silence(world: World) -> None:
    conference, customer, agent = await in_progress(world)
    world.twiml("/hold", "<Say>Please hold</Say><Gather/>")
    world.emu.conferences.participants.update(conference, customer, hold=True, hold_url=f"{BASE}/hold")
    await world.clock.advance(1)
    assert [a.error_code for a in world.emu.alerts] == [13238]
    assert world.now_hearing(customer) == ("silence", "hold", ())  # still held, hearing nothing
    assert world.now_hearing(agent) == ("conference", "", ())


async def test_mute_hold_and_modify_events_carry_the_participant_fields(world: World) -> None:
    conference, customer, agent = await in_progress(world)
    parts = world.emu.conferences.participants
    parts.update(conference, agent, muted=True)
    parts.update(conference, agent, muted=True)  # no change, no event
    parts.update(conference, agent, muted=False, hold=True)
    parts.update(conference, agent, end_conference_on_exit=True, beep_on_exit=False)
    await world.clock.settle()
    assert world.events() == [
        "participant-mute",
        "participant-unmute",
        "participant-hold",
        "participant-modify",
    ]
    modify = world.hits("/events")[-1]
    assert (modify["CallSid"], modify["EndConferenceOnExit"], modify["Hold"], modify["Muted"]) == (
        agent,
        "true",
        "true",
        "false",
    )
    assert {"ConferenceSid", "FriendlyName", "AccountSid", "Timestamp", "SequenceNumber"} <= set(modify)
    assert [p.call_sid for p in parts.list(conference, hold=True)] == [agent]
    assert [p.call_sid for p in parts.list(conference, hold=False, muted=False)] == [customer]


async def test_hold_before_the_conference_starts_plays_hold_music_over_the_wait_music(world: World) -> None:
    join_twiml(world)
    customer = world.call_in()
    await world.clock.advance(1)
    conference = world.conference().sid
    parts = world.emu.conferences.participants
    parts.update(conference, customer, hold=True)  # Q14: allowed in an init conference
    await world.clock.advance(1)
    assert world.now_hearing(customer) == ("music", "hold", ())
    agent = world.call_in(AGENT)
    await world.clock.advance(1)
    assert world.now_hearing(customer) == ("music", "hold", ())  # started, but still held
    assert world.now_hearing(agent) == ("conference", "", ())
    parts.update(conference, customer, hold=False)
    await world.clock.advance(1)
    assert world.now_hearing(customer) == ("conference", "", (agent,))


async def test_a_coach_is_heard_by_nobody_in_the_mix_and_hears_everyone(world: World) -> None:
    conference, customer, agent = await in_progress(world)
    parts = world.emu.conferences.participants
    coach = parts.create(conference, from_=NUMBER, to="+15554440000", call_sid_to_coach=agent)
    assert coach.coaching
    await world.clock.advance(5)
    assert world.now_hearing(coach.call_sid) == ("conference", "", tuple(sorted((customer, agent))))
    assert world.now_hearing(customer) == ("conference", "", (agent,))
    parts.update(conference, agent, hold=True)
    with pytest.raises(ConferenceError) as info:
        parts.update(conference, coach.call_sid, call_sid_to_coach=agent)
    assert info.value.code == 16027  # the call to coach is on hold
    parts.update(conference, coach.call_sid, coaching=False)
    await world.clock.settle()
    assert world.now_hearing(customer) == ("conference", "", (coach.call_sid,))


async def test_kicking_a_twiml_participant_continues_its_call_q4(world: World) -> None:
    join_twiml(world)
    world.twiml("/after", "<Say>You were removed from the conference</Say>")
    customer, agent = world.call_in(), world.call_in(AGENT)
    await world.clock.advance(5)
    conference = world.conference()
    world.emu.conferences.participants.delete(conference.sid, agent)
    await world.clock.advance(1)
    assert world.hits("/after")[0]["DialCallStatus"] == "answered"
    assert world.now_hearing(agent)[0] == "speech"
    assert (conference.status, conference.reason_conference_ended) == ("in-progress", None)
    world.emu.conferences.participants.delete(conference.sid, customer)
    assert conference.reason_conference_ended == "last-participant-kicked"


async def test_api_participant_that_does_not_answer_leaves_with_participant_add_failed(world: World) -> None:
    join_twiml(world, statusCallback=f"{BASE}/events", statusCallbackEvent="join leave")
    world.emu.phones.script(AGENT, PhoneScript(outcome="busy"))
    world.call_in()
    await world.clock.advance(1)
    conference = world.conference().sid
    parts = world.emu.conferences.participants
    agent = parts.create(conference, from_=NUMBER, to=AGENT)
    await world.clock.advance(5)
    leave = world.hits("/events")[-1]
    assert (leave["StatusCallbackEvent"], leave["CallSid"]) == ("participant-leave", agent.call_sid)
    assert (leave["ReasonParticipantLeft"], leave["ParticipantCallStatus"]) == (
        "participant_add_failed",
        "busy",
    )
    assert agent.status == "failed"
    assert len(parts.list(conference)) == 1
