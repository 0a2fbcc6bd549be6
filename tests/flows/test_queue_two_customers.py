"""Several customers on hold in one queue (reference §4.3, §4.4), driven through the twilio SDK.

``<Dial><Queue>`` always takes the caller at the front; a Member update by Call SID takes a
specific caller out, whatever its position; the others move up, and their waitUrl requests say so.
"""

from __future__ import annotations

from twilio.rest import Client

from tests.webhook_app import BASE, WebhookApp
from voicesim import Emulator, VirtualClock

NUMBER = "+15550001000"
FIRST, SECOND, THIRD = "+15551230001", "+15551230002", "+15551230003"


def serve(app: WebhookApp) -> None:
    app.twiml("/voice", '<Enqueue waitUrl="/wait" action="/after">support</Enqueue>')
    app.twiml("/wait", '<Say>Your call is important to us</Say><Pause length="9"/>')  # 11 s a round
    app.twiml("/after", '<Say>Thank you</Say><Pause length="30"/>')
    app.twiml("/transfer", '<Say>Transferring you to billing</Say><Pause length="60"/>')
    app.twiml("/agent", '<Dial action="/agent-after"><Queue>support</Queue></Dial>')
    app.twiml("/agent-after", "<Hangup/>")


def positions(app: WebhookApp, call_sid: str) -> list[str]:
    return [r.params["QueuePosition"] for r in app.to("/wait") if r.params["CallSid"] == call_sid]


async def test_dial_queue_takes_the_front_and_a_member_update_takes_a_specific_caller(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, twilio_client: Client
) -> None:
    serve(app)
    voicesim.buy_number(NUMBER, voice_url=f"{BASE}/voice")
    first = voicesim.inbound_call(FIRST, NUMBER)
    await voicesim_clock.advance(10)
    second = voicesim.inbound_call(SECOND, NUMBER)
    await voicesim_clock.advance(10)
    third = voicesim.inbound_call(THIRD, NUMBER)
    await voicesim_clock.advance(10)
    (queue,) = twilio_client.queues.list()
    assert queue.current_size == 3 and queue.average_wait_time == 20
    members = twilio_client.queues(queue.sid).members.list()
    assert [(m.call_sid, m.position) for m in members] == [(first.sid, 1), (second.sid, 2), (third.sid, 3)]

    # t=30: a supervisor takes the second caller out, by Call SID, to billing.
    twilio_client.queues(queue.sid).members(second.sid).update(url=f"{BASE}/transfer", method="POST")
    await voicesim_clock.advance(1)
    (redirected,) = app.to("/after")
    assert redirected.params["CallSid"] == second.sid and redirected.params["QueueResult"] == "redirected"
    assert redirected.params["QueueTime"] == "20"
    assert [(s.kind, s.detail) for s in voicesim.media.segments(second.sid)][-1] == (
        "speech",
        "Transferring you to billing",
    )
    front = twilio_client.queues(queue.sid).members("Front").fetch()
    assert front.call_sid == first.sid

    # t=31: an agent's <Dial><Queue> takes the caller at the front.
    agent = twilio_client.calls.create(to="client:bob", from_=NUMBER, url=f"{BASE}/agent")
    await voicesim_clock.advance(10)
    assert [(s.kind, s.detail) for s in voicesim.media.segments(first.sid)][-1] == ("call", agent.sid)
    assert [(s.kind, s.detail) for s in voicesim.media.segments(agent.sid)][-1] == ("call", first.sid)
    (member,) = twilio_client.queues(queue.sid).members.list()
    assert member.call_sid == third.sid and member.position == 1
    await voicesim_clock.advance(20)
    # The third caller's waitUrl requests follow its position: 3, then 2 (after the transfer), then 1.
    assert positions(app, third.sid)[0] == "3" and positions(app, third.sid)[-1] == "1"
    assert "2" in positions(app, third.sid)
    assert third.status == "in-progress"
    assert {s.context for s in voicesim.media.segments(third.sid) if s.start > voicesim_clock.now() - 60} == {
        "queue-wait"
    }

    # The agent hangs up: the first caller's action fires with bridged.
    voicesim.hang_up(agent.sid)
    await voicesim_clock.advance(1)
    bridged = [r.params for r in app.to("/after") if r.params["CallSid"] == first.sid]
    assert [(p["QueueResult"], p["QueueTime"]) for p in bridged] == [("bridged", "34")]
    assert first.status == second.status == third.status == "in-progress"
    voicesim_clock.raise_errors()
