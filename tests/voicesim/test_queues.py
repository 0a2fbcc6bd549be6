"""voicesim.queues: ``<Enqueue>``, the waitUrl loop, ``<Leave>``, every QueueResult (reference §4.1)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.webhook_app import BASE, WebhookApp
from voicesim import Emulator, PhoneScript, Source, VirtualClock
from voicesim.calls import Call
from voicesim.twiml import DEFAULT_HOLD_MUSIC_URL

NUMBER = "+15550000001"
EPOCH = VirtualClock().now()


@dataclass
class World:
    """The emulator, its clock and the webhook app; callers are told apart by their number."""

    clock: VirtualClock
    emu: Emulator
    app: WebhookApp
    answers: dict[str, str] = field(default_factory=dict)

    def call_in(self, from_: str, twiml: str, script: PhoneScript | None = None) -> Call:
        """An inbound call from ``from_``; the VoiceUrl answers it with ``twiml``."""
        self.answers[from_] = twiml
        self.app.dynamic("/voice", lambda r: self.answers[r.params["From"]])
        return self.emu.inbound_call(from_, NUMBER, script)

    def to(self, path: str) -> list[dict[str, str]]:
        """The parameters of every request made to ``path``, in order."""
        return [r.params for r in self.app.to(path)]

    def heard(self, call: Call) -> list[tuple[float, float | None, str, str, str]]:
        """(start, end, kind, detail, context), times in seconds from the clock's epoch."""
        return [
            (
                round(s.start - EPOCH, 3),
                None if s.end is None else round(s.end - EPOCH, 3),
                s.kind,
                s.detail,
                s.context,
            )
            for s in self.emu.media.segments(call.sid)
        ]


def make_world(voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp) -> World:
    """A :class:`World` whose number answers every caller with its own TwiML."""
    voicesim.buy_number(NUMBER, voice_url=f"{BASE}/voice")
    return World(voicesim_clock, voicesim, app)


@pytest.fixture
def world(voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp) -> World:
    return make_world(voicesim, voicesim_clock, app)


def enqueue(name: str = "support", **attrs: str) -> str:
    attributes = " ".join(f'{k}="{v}"' for k, v in attrs.items())
    return f"<Enqueue {attributes}>{name}</Enqueue>"


# -- the Queue record and the waitUrl loop --------------------------------------------------------
async def test_first_enqueue_creates_the_queue_with_twilio_defaults(world: World) -> None:
    call = world.call_in("+15551110001", enqueue("support", waitUrl="/wait"))
    world.app.twiml("/wait", '<Play loop="1">https://api.twilio.com/cowbell.mp3</Play>')
    await world.clock.advance(5)
    queue = world.emu.queues.find("support")
    assert queue is not None
    assert queue.sid.startswith("QU") and queue.max_size == 1000 and queue.current_size == 1
    assert queue.members[0].call is call
    assert world.emu.queues.member_of(call) is queue.members[0]


async def test_wait_url_params_and_positions_for_two_callers(world: World) -> None:
    world.app.twiml("/wait", "<Pause length='10'/>")
    first = world.call_in("+15551110001", enqueue("support", waitUrl=f"{BASE}/wait"))
    await world.clock.advance(4)
    second = world.call_in("+15551110002", enqueue("support", waitUrl=f"{BASE}/wait"))
    await world.clock.advance(0)
    mine = next(f for f in world.to("/wait") if f["CallSid"] == second.sid)
    queue = world.emu.queues.find("support")
    assert queue is not None
    assert mine["QueuePosition"] == "2"
    assert mine["QueueSid"] == queue.sid
    assert mine["QueueTime"] == "0"
    assert mine["CurrentQueueSize"] == "2"
    assert mine["MaxQueueSize"] == "1000"
    assert mine["AvgQueueTime"] == "2"  # (4 + 0) / 2 at the moment of the request
    firsts = [f for f in world.to("/wait") if f["CallSid"] == first.sid]
    assert firsts[0]["QueuePosition"] == "1" and firsts[0]["CurrentQueueSize"] == "1"


async def test_wait_url_is_requested_again_when_its_twiml_runs_out(world: World) -> None:
    world.app.twiml("/wait", "<Say>Please hold</Say><Pause length='8'/><Redirect>/wait2</Redirect>")
    world.app.twiml("/wait2", "<Pause length='5'/>")
    call = world.call_in("+15551110001", enqueue("support", waitUrl=f"{BASE}/wait"))
    await world.clock.advance(50)
    paths = [r.path for r in world.app.received if r.params.get("CallSid") == call.sid and "/wait" in r.path]
    # Say 1 s + Pause 8 s, Redirect -> /wait2 (5 s), then back to waitUrl: every 14 s.
    assert paths[:6] == ["/wait", "/wait2", "/wait", "/wait2", "/wait", "/wait2"]
    times = [s for s in world.heard(call) if s[2] == "speech"]
    assert [t[0] for t in times[:3]] == [0.0, 14.0, 28.0]
    assert all(s[4] == "queue-wait" for s in world.heard(call) if s[0] >= 0)
    assert call.status == "in-progress"


async def test_default_wait_url_is_builtin_music_and_not_fetched(world: World) -> None:
    call = world.call_in("+15551110001", enqueue("support"))
    await world.clock.advance(600)
    assert world.heard(call)[-1] == (0.0, None, "music", DEFAULT_HOLD_MUSIC_URL, "queue-wait")
    assert [r.path for r in world.app.received] == ["/voice"]


async def test_empty_wait_url_means_silence(world: World) -> None:
    call = world.call_in("+15551110001", enqueue("support", waitUrl=""))
    await world.clock.advance(60)
    assert world.heard(call)[-1] == (0.0, None, "silence", "", "queue-wait")


async def test_wait_twiml_that_takes_no_time_is_silence_not_a_busy_loop(world: World) -> None:
    world.app.twiml("/wait", "")
    call = world.call_in("+15551110001", enqueue("support", waitUrl="/wait"))
    await world.clock.advance(60)
    assert len(world.to("/wait")) == 1
    assert world.heard(call)[-1][2:] == ("silence", "", "queue-wait")


# -- leaving: <Leave>, queue-full, error ----------------------------------------------------------
async def test_leave_requests_the_action_at_once_and_runs_its_twiml(world: World) -> None:
    world.app.twiml("/wait", "<Say>One moment</Say><Leave/>")
    world.app.twiml("/after", "<Say>Leaving a message</Say>")
    call = world.call_in("+15551110001", enqueue("support", waitUrl="/wait", action="/after"))
    await world.clock.advance(30)
    (form,) = world.to("/after")
    assert form["QueueResult"] == "leave"
    assert form["QueueTime"] == "1" and form["QueueSid"].startswith("QU")
    assert call.status == "completed"
    assert [s[2:4] for s in world.heard(call)][-2:] == [
        ("speech", "One moment"),
        ("speech", "Leaving a message"),
    ]
    queue = world.emu.queues.find("support")
    assert queue is not None and queue.current_size == 0


async def test_leave_without_action_goes_to_the_next_verb(world: World) -> None:
    world.app.twiml("/wait", "<Leave/>")
    call = world.call_in("+15551110001", enqueue("support", waitUrl="/wait") + "<Say>Next verb</Say>")
    await world.clock.advance(30)
    assert ("speech", "Next verb") in [s[2:4] for s in world.heard(call)]


async def test_queue_full_is_refused_without_queue_sid(world: World) -> None:
    world.app.twiml("/after", "<Say>Sorry, we are busy</Say>")
    twiml = enqueue("tiny", waitUrl="", action="/after", maxQueueSize="1")
    world.call_in("+15551110001", twiml)
    await world.clock.advance(0)
    second = world.call_in("+15551110002", twiml)
    await world.clock.advance(10)
    (form,) = world.to("/after")
    assert form["CallSid"] == second.sid
    assert form["QueueResult"] == "queue-full"
    assert "QueueSid" not in form and "QueueTime" not in form
    queue = world.emu.queues.find("tiny")
    assert queue is not None and queue.max_size == 1 and queue.current_size == 1


@pytest.mark.parametrize(
    ("wait", "code"),
    [
        ("<Dial>+15550001111</Dial>", 12200),  # a verb not allowed in waitUrl TwiML
        (None, 11200),  # the waitUrl answers 404
    ],
)
async def test_bad_wait_twiml_leaves_with_error_and_an_alert(
    world: World, wait: str | None, code: int
) -> None:
    if wait is not None:
        world.app.twiml("/wait", wait)
    world.app.twiml("/after", "<Say>Something went wrong</Say>")
    call = world.call_in("+15551110001", enqueue("support", waitUrl="/wait", action="/after"))
    await world.clock.advance(30)
    (form,) = world.to("/after")
    assert form["QueueResult"] == "error" and "QueueSid" in form
    assert [a.error_code for a in world.emu.alerts] == [code]
    assert world.emu.alerts[0].call_sid == call.sid


@pytest.mark.parametrize(
    ("twiml", "code"),
    [
        (enqueue("x" * 65), 14205),  # Enqueue: queue name too long
        (enqueue(""), 14204),  # Enqueue: queue name too short
        ("<Dial><Queue>" + "x" * 65 + "</Queue></Dial>", 14213),  # Dial->Queue: queue name too long
    ],
)
async def test_bad_queue_names_are_alerts_and_an_application_error(
    world: World, twiml: str, code: int
) -> None:
    call = world.call_in("+15551110001", twiml)
    await world.clock.advance(30)
    assert [a.error_code for a in world.emu.alerts] == [code]
    assert call.status == "completed"
    assert ("speech", "An application error has occurred.") in [s[2:4] for s in world.heard(call)]
    assert world.emu.queues.all() == []


# -- hang-ups and redirects while queued ----------------------------------------------------------
async def test_caller_hangs_up_while_queued(world: World) -> None:
    world.app.twiml("/after", "<Say>never run</Say>")
    script = PhoneScript(hang_up_after=20)
    call = world.call_in("+15551110001", enqueue("support", waitUrl="", action="/after"), script)
    await world.clock.advance(60)
    (form,) = world.to("/after")
    assert form["QueueResult"] == "hangup" and form["QueueTime"] == "20"
    assert form["CallStatus"] == "completed"
    assert call.status == "completed"
    queue = world.emu.queues.find("support")
    assert queue is not None and queue.current_size == 0
    assert world.heard(call)[-1] == (0.0, 20.0, "silence", "", "queue-wait")


async def test_hangup_verb_in_wait_twiml_ends_the_call(world: World) -> None:
    world.app.twiml("/wait", "<Say>Goodbye</Say><Hangup/>")
    world.app.twiml("/after", "<Say>never run</Say>")
    call = world.call_in("+15551110001", enqueue("support", waitUrl="/wait", action="/after"))
    await world.clock.advance(30)
    assert call.status == "completed"
    assert [f["QueueResult"] for f in world.to("/after")] == ["hangup"]
    assert ("speech", "never run") not in [s[2:4] for s in world.heard(call)]


async def test_digits_pressed_in_a_wait_url_gather(world: World) -> None:
    world.app.twiml("/wait", '<Gather numDigits="1" action="/menu"><Say>Press 1 to leave</Say></Gather>')
    world.app.dynamic("/menu", lambda r: "<Leave/>" if r.params.get("Digits") == "1" else "")
    world.app.twiml("/after", "<Say>Leave a message</Say>")
    script = PhoneScript(presses=((30.0, "1"),))
    call = world.call_in("+15551110001", enqueue("support", waitUrl="/wait", action="/after"), script)
    await world.clock.advance(60)
    (menu,) = [f for f in world.to("/menu") if f.get("Digits")]
    assert menu["Digits"] == "1" and menu["QueuePosition"] == "1" and menu["QueueTime"] == "30"
    assert [f["QueueResult"] for f in world.to("/after")] == ["leave"]
    assert ("speech", "Leave a message") in [s[2:4] for s in world.heard(call)]


async def test_member_dequeue_redirects_and_fires_the_action_with_redirected(world: World) -> None:
    world.app.twiml("/after", "<Say>discarded</Say>")
    world.app.twiml("/elsewhere", "<Say>Transferred</Say>")
    call = world.call_in("+15551110001", enqueue("support", waitUrl="", action="/after"))
    await world.clock.advance(10)
    queue = world.emu.queues.find("support")
    assert queue is not None
    member = world.emu.queues.dequeue(queue.sid, call.sid, f"{BASE}/elsewhere")
    assert member.call is call and queue.position(member) == 1 and member.wait_time(0) == 10
    assert queue.current_size == 0
    await world.clock.advance(10)
    (form,) = world.to("/after")
    assert form["QueueResult"] == "redirected" and form["QueueTime"] == "10"
    assert [s[2:4] for s in world.heard(call)][-1] == ("speech", "Transferred")
    assert ("speech", "discarded") not in [s[2:4] for s in world.heard(call)]
    order = [r.path for r in world.app.received]
    assert order.index("/after") < order.index("/elsewhere")


async def test_calls_api_redirect_while_queued_is_redirected_too(world: World) -> None:
    world.app.twiml("/after", "<Say>discarded</Say>")
    call = world.call_in("+15551110001", enqueue("support", waitUrl="", action="/after"))
    await world.clock.advance(10)
    world.emu.calls.redirect(call, Source(twiml="<Response><Say>Moved</Say></Response>"))
    await world.clock.advance(10)
    assert [f["QueueResult"] for f in world.to("/after")] == ["redirected"]
    assert world.emu.queues.member_of(call) is None
    assert [s[2:4] for s in world.heard(call)][-1] == ("speech", "Moved")
