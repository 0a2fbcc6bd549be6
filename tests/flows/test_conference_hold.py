"""Conference hold end to end, through the official twilio SDK, on the audio timeline (§1, §2, Q5-Q7).

A customer calls in and is put in conference "support"; the agent is added with ``POST
/Participants`` (dialled out, answers after 3 s). Times below are seconds since the customer called.
"""

from __future__ import annotations

from twilio.rest import Client

from tests.webhook_app import BASE, WebhookApp, wav_bytes
from voicesim import Emulator, PhoneScript, VirtualClock

NUMBER, CUSTOMER, AGENT, SUPERVISOR = "+15550001000", "+15551230001", "+15559870002", "+15554440003"
Heard = tuple[float, float | None, str, str, tuple[str, ...]]


class Desk:
    """A customer in conference "support" and the helpers to look at what everyone heard."""

    def __init__(self, emu: Emulator, clock: VirtualClock, app: WebhookApp, client: Client) -> None:
        self.emu, self.clock, self.app, self.client = emu, clock, app, client
        self.t0 = clock.now()
        app.raw("/hold.wav", wav_bytes(20), "audio/wav")
        app.twiml("/after", "<Say>The agent has left the call</Say>")
        app.twiml("/loop", f'<Play loop="0">{BASE}/hold.wav</Play>')
        emu.buy_number(NUMBER, voice_url=f"{BASE}/voice")

    def customer_calls(self, **attrs: str) -> str:
        extra = "".join(f' {k}="{v}"' for k, v in attrs.items())
        self.app.twiml(
            "/voice",
            f'<Dial action="/after"><Conference statusCallback="/events" '
            f'statusCallbackEvent="start end join leave hold mute"{extra}>support</Conference></Dial>',
        )
        return self.emu.inbound_call(CUSTOMER, NUMBER).sid

    def add(self, to: str, **options: object) -> str:
        return str(
            self.client.conferences("support").participants.create(from_=NUMBER, to=to, **options).call_sid
        )

    @property
    def conference_sid(self) -> str:
        return self.emu.conferences.list(friendly_name="support")[0].sid

    def update(self, call_sid: str, **changes: object) -> None:
        self.client.conferences(self.conference_sid).participants(call_sid).update(**changes)

    def heard(self, call_sid: str) -> list[Heard]:
        return [
            (s.start - self.t0, None if s.end is None else s.end - self.t0, s.kind, s.context, s.voices)
            for s in self.emu.media.segments(call_sid)
        ]

    def at(self, call_sid: str, t: float) -> tuple[str, str, tuple[str, ...]]:
        """What ``call_sid`` heard ``t`` seconds after the customer called."""
        for start, end, kind, context, voices in self.heard(call_sid):
            if start <= t and (end is None or t < end):
                return kind, context, voices
        raise AssertionError(f"{call_sid} heard nothing at {t}")

    def events(self) -> list[tuple[str, str]]:
        return [
            (r.params["StatusCallbackEvent"], r.params.get("CallSid", "")) for r in self.app.to("/events")
        ]


def desk(voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, twilio_client: Client) -> Desk:
    return Desk(voicesim, voicesim_clock, app, twilio_client)


async def talking(d: Desk, **agent_options: object) -> tuple[str, str]:
    """The customer calls at 0, the agent is added at 1 and answers at 4; now is 10."""
    customer = d.customer_calls()
    await d.clock.advance(1)
    agent = d.add(AGENT, label="agent", **agent_options)
    await d.clock.advance(9)
    return customer, agent


async def test_customer_and_agent_talk_then_mp3_hold_plays_once_then_silence(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, twilio_client: Client
) -> None:
    d = desk(voicesim, voicesim_clock, app, twilio_client)
    customer, agent = await talking(d)
    d.update(customer, hold=True, hold_url=f"{BASE}/hold.wav")
    await d.clock.advance(30)
    d.update(customer, hold=False)
    await d.clock.advance(10)
    assert d.heard(customer) == [
        (0, 4, "music", "conference-wait", ()),
        (4, 4.5, "beep", "", ()),  # the agent entered with beep="true" (the default)
        (4.5, 10, "conference", "", (agent,)),
        (10, 30, "play", "hold", ()),  # the audio file plays once (Q7)...
        (30, 40, "silence", "hold", ()),  # ...then silence
        (40, None, "conference", "", (agent,)),
    ]
    assert d.heard(agent) == [
        (4, 4.5, "beep", "", ()),
        (4.5, 10, "conference", "", (customer,)),
        (10, 40, "conference", "", ()),  # nobody hears the held customer, nor the music (Q5)
        (40, None, "conference", "", (customer,)),
    ]
    assert [r.method for r in app.to("/hold.wav")] == ["GET"]  # HoldMethod defaults to GET (Q6)
    assert d.events() == [
        ("participant-join", customer),
        ("participant-join", agent),
        ("conference-start", ""),
        ("participant-hold", customer),
        ("participant-unhold", customer),
    ]


async def test_looping_twiml_hold_music_loops_until_resumed(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, twilio_client: Client
) -> None:
    d = desk(voicesim, voicesim_clock, app, twilio_client)
    customer, agent = await talking(d)
    d.update(customer, hold=True, hold_url=f"{BASE}/loop", hold_method="POST")
    await d.clock.advance(100)  # five times the length of the file
    assert d.at(customer, 105) == ("play", "hold", ())
    d.update(customer, hold=False)
    await d.clock.advance(5)
    assert d.heard(customer)[-2:] == [(10, 110, "play", "hold", ()), (110, None, "conference", "", (agent,))]
    assert d.at(agent, 50) == ("conference", "", ())
    assert [r.method for r in app.to("/loop")] == ["POST"]
    d.update(agent, hold=True)  # no HoldUrl: Twilio's default music, looping
    await d.clock.advance(1)
    assert d.at(agent, 115.5) == ("music", "hold", ())
    assert d.at(customer, 115.5) == ("conference", "", ())
    twilio_client.calls(customer).update(status="completed")
    await d.clock.advance(600)
    # Nothing is left playing: the hold flows stopped. All that is still scheduled is the end of the
    # agent's call at Twilio's four-hour limit (run_until_idle would run until then).
    agent_call = voicesim.calls.by_sid[agent]
    assert agent_call.limit_timer is not None
    assert (voicesim_clock.pending, voicesim_clock.next_due) == (1, agent_call.limit_timer.when)
    assert agent_call.status == "in-progress"  # alone, still held, still there
    twilio_client.conferences(d.conference_sid).participants(agent).delete()  # kicked: hangs up (Q4)
    await d.clock.run_until_idle()
    assert voicesim.calls.by_sid[agent].status == "completed"
    assert (
        twilio_client.conferences(d.conference_sid).fetch().reason_conference_ended
        == "last-participant-kicked"
    )


async def test_three_parties_one_held_one_muted_who_hears_whom(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, twilio_client: Client
) -> None:
    d = desk(voicesim, voicesim_clock, app, twilio_client)
    customer, agent = await talking(d)
    supervisor = d.add(SUPERVISOR, label="supervisor", muted=True)  # joins at 13
    await d.clock.advance(10)  # 20: all three in, the supervisor muted
    d.update("agent", hold=True)  # by label
    await d.clock.advance(10)  # 30
    d.update("supervisor", muted=False)
    await d.clock.advance(10)  # 40
    d.update("agent", hold=False)
    await d.clock.advance(10)  # 50
    moments = {
        15: {customer: (agent,), agent: (customer,), supervisor: tuple(sorted((customer, agent)))},
        25: {customer: (), agent: "hold", supervisor: (customer,)},
        35: {customer: (supervisor,), agent: "hold", supervisor: (customer,)},
        45: {customer: tuple(sorted((agent, supervisor))), agent: tuple(sorted((customer, supervisor)))},
    }
    for t, expected in moments.items():
        for who, voices in expected.items():
            if voices == "hold":
                assert d.at(who, t) == ("music", "hold", ()), (t, who)
            else:
                assert d.at(who, t) == ("conference", "", voices), (t, who)
    listed = twilio_client.conferences(d.conference_sid).participants.list(muted=False)
    assert sorted(p.call_sid for p in listed) == sorted((customer, agent, supervisor))


async def test_customer_hangs_up_while_held_and_the_conference_ends(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, twilio_client: Client
) -> None:
    d = desk(voicesim, voicesim_clock, app, twilio_client)
    voicesim.phones.script(CUSTOMER, PhoneScript(hang_up_after=15))  # the customer gives up at 15
    customer = d.customer_calls(endConferenceOnExit="true")
    await d.clock.advance(1)
    agent = d.add(AGENT, label="agent")
    await d.clock.advance(9)
    d.update(customer, hold=True, hold_url=f"{BASE}/loop")
    await d.clock.run_until_idle()
    conference = twilio_client.conferences(d.conference_sid).fetch()
    assert (conference.status, conference.reason_conference_ended) == (
        "completed",
        "participant-with-end-conference-on-exit-left",
    )
    assert conference.call_sid_ending_conference == customer
    assert voicesim.calls.by_sid[agent].status == "completed"  # API participant: hangs up (Q4)
    leaves = [r.params for r in app.to("/events") if r.params["StatusCallbackEvent"] == "participant-leave"]
    assert [(p["CallSid"], p["ReasonParticipantLeft"], p["Hold"]) for p in leaves] == [
        (customer, "participant_hung_up", "true"),
        (agent, "moderator_ended_conference", "false"),
    ]
    assert d.heard(customer)[-1] == (10, 15, "play", "hold", ())
    assert app.to("/after")[0].params["CallStatus"] == "completed"  # requested, reply ignored (Q2b)


async def test_agent_hangs_up_while_customer_held(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, twilio_client: Client
) -> None:
    d = desk(voicesim, voicesim_clock, app, twilio_client)
    voicesim.phones.script(AGENT, PhoneScript(answer_after=3, hang_up_after=11))  # hangs up at 15
    customer, agent = await talking(d)
    d.update(customer, hold=True)
    await d.clock.advance(10)  # the agent had no endConferenceOnExit: the customer stays, still held
    assert voicesim.calls.by_sid[agent].status == "completed"
    assert ("participant-leave", agent) in d.events()
    assert d.at(customer, 19) == ("music", "hold", ())
    assert twilio_client.conferences(d.conference_sid).fetch().status == "in-progress"
    d.update(customer, hold=False)
    await d.clock.advance(1)
    assert d.at(customer, 20.5) == ("conference", "", ())  # alone in the conference


async def test_agent_with_end_conference_on_exit_hangs_up_while_customer_held(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, twilio_client: Client
) -> None:
    d = desk(voicesim, voicesim_clock, app, twilio_client)
    customer, agent = await talking(d, end_conference_on_exit=True)
    d.update(customer, hold=True, hold_url=f"{BASE}/loop")
    await d.clock.advance(5)
    voicesim.hang_up(agent)
    await d.clock.advance(1)
    action = app.to("/after")[0].params
    assert (action["DialCallStatus"], action["CallSid"]) == ("answered", customer)
    assert "DialCallSid" not in action and "DialCallDuration" not in action
    assert d.heard(customer)[-2:] == [(10, 15, "play", "hold", ()), (15, None, "speech", "", ())]
    await d.clock.run_until_idle()
    assert voicesim.calls.by_sid[customer].status == "completed"  # the action's TwiML ran out
    assert twilio_client.conferences(d.conference_sid).fetch().reason_conference_ended == (
        "participant-with-end-conference-on-exit-left"
    )
