"""Hold and resume in ``<Dial>``-bridge mode, the seed's recipe (reference §0, §3.3, §4.2).

A customer calls in and is bridged by ``<Dial action=...><Client>alice</Client></Dial><Redirect>``
to the agent. Hold = two REST redirects at the same instant: the agent leg (the child) to hold
music, then the customer leg (the parent) to ``<Enqueue waitUrl>`` of a queue of its own. Resume =
the agent leg redirected to ``<Dial><Queue>``. The customer's Enqueue action then fires once, with
``QueueResult=bridged``, when the bridge finally ends -- and the customer is never disconnected.
"""

from __future__ import annotations

from twilio.rest import Client

from tests.webhook_app import BASE, WebhookApp
from voicesim import Emulator, VirtualClock
from voicesim.calls import Call

NUMBER, CUSTOMER = "+15550001000", "+15551230001"
MUSIC = "http://com.twilio.sounds.music.s3.amazonaws.com/MARKOVICHAMP-Borghestral.mp3"


def serve(app: WebhookApp) -> None:
    app.twiml("/voice", '<Dial action="/dial-after"><Client>alice</Client></Dial><Redirect>/keep</Redirect>')
    app.twiml("/dial-after", "<Say>Goodbye</Say><Hangup/>")  # requested on hold, its TwiML thrown away
    app.twiml("/keep", '<Pause length="600"/>')
    app.twiml("/agent-hold", f'<Play loop="0">{MUSIC}</Play>')
    app.dynamic(
        "/customer-hold",
        lambda r: f'<Enqueue waitUrl="/wait" action="/queue-after">hold-{r.params["CallSid"]}</Enqueue>',
    )
    app.twiml("/wait", f"<Play>{MUSIC}</Play>")  # re-requested whenever it runs out: loops
    app.dynamic(
        "/agent-resume",
        lambda r: f'<Dial action="/agent-after"><Queue>hold-{r.params["ParentCallSid"]}</Queue></Dial>',
    )
    app.twiml("/agent-after", "<Hangup/>")
    app.twiml("/queue-after", "<Say>Thank you for holding</Say>")


def heard(emu: Emulator, call: Call, origin: float) -> list[tuple[float, float | None, str, str, str]]:
    return [
        (
            round(s.start - origin, 3),
            None if s.end is None else round(s.end - origin, 3),
            s.kind,
            s.detail,
            s.context,
        )
        for s in emu.media.segments(call.sid)
    ]


async def test_hold_and_resume_independent_legs_through_a_queue(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, twilio_client: Client
) -> None:
    serve(app)
    origin = voicesim_clock.now()
    voicesim.buy_number(NUMBER, voice_url=f"{BASE}/voice")
    customer = voicesim.inbound_call(CUSTOMER, NUMBER)
    await voicesim_clock.advance(20)
    (agent,) = [c for c in voicesim.calls.all() if c.parent_call_sid == customer.sid]
    assert agent.to == "client:alice" and customer.status == agent.status == "in-progress"

    # Hold: the child first (its parent's <Dial> must not hang it up), then the parent.
    twilio_client.calls(agent.sid).update(url=f"{BASE}/agent-hold")
    twilio_client.calls(customer.sid).update(url=f"{BASE}/customer-hold")
    await voicesim_clock.advance(30)
    voicesim_clock.raise_errors()
    assert twilio_client.calls(customer.sid).fetch().status == "in-progress"
    assert twilio_client.calls(agent.sid).fetch().status == "in-progress"
    (queue,) = twilio_client.queues.list()
    assert queue.friendly_name == f"hold-{customer.sid}" and queue.current_size == 1
    (member,) = twilio_client.queues(queue.sid).members.list()
    assert member.call_sid == customer.sid and member.position == 1 and member.wait_time == 30
    wait = app.to("/wait")[0].params
    assert (wait["QueuePosition"], wait["QueueSid"], wait["CurrentQueueSize"]) == ("1", queue.sid, "1")

    # Resume at t=80: the agent leg dequeues the customer.
    await voicesim_clock.advance(30)
    twilio_client.calls(agent.sid).update(url=f"{BASE}/agent-resume")
    await voicesim_clock.advance(60)
    assert twilio_client.queues(queue.sid).fetch().current_size == 0
    assert app.to("/queue-after") == []  # fires only when the bridge ends (reference §4.1)
    assert customer.status == "in-progress"

    # The agent hangs up at t=140: the customer's Enqueue action fires once, with bridged.
    voicesim.hang_up(agent.sid)
    await voicesim_clock.advance(10)
    voicesim_clock.raise_errors()
    (after,) = app.to("/queue-after")
    assert after.params["QueueResult"] == "bridged"
    assert after.params["QueueSid"] == queue.sid and after.params["QueueTime"] == "60"

    # What each party heard: nobody hears the other while held; no gap on the customer's side.
    assert heard(voicesim, customer, origin) == [
        (0.0, 3.0, "ringback", "", ""),
        (3.0, 20.0, "call", agent.sid, ""),
        (20.0, 80.0, "play", MUSIC, "queue-wait"),
        (80.0, 140.0, "call", agent.sid, ""),
        (140.0, 141.6, "speech", "Thank you for holding", ""),
    ]
    assert heard(voicesim, agent, origin)[-3:] == [
        (3.0, 20.0, "call", customer.sid, ""),
        (20.0, 80.0, "play", MUSIC, ""),
        (80.0, 140.0, "call", customer.sid, ""),
    ]
    # The customer was never disconnected: in progress until its own TwiML ended the call.
    assert customer.end_time is not None and round(customer.end_time - origin, 3) == 141.6
    assert [
        e.data["status"]
        for e in voicesim.events
        if e.type == "call.status" and e.data["call_sid"] == customer.sid
    ] == [
        "ringing",
        "in-progress",
        "completed",
    ]
    # The interrupted <Dial>'s action was requested (and thrown away); the <Redirect> never ran.
    assert [r.params["DialCallStatus"] for r in app.to("/dial-after")] == ["completed"]
    assert app.to("/keep") == []
