"""A customer on hold in a queue hangs up (reference §4.1: ``QueueResult=hangup``).

The Enqueue action is still requested (its TwiML cannot run: the call is over), the member is gone
from the queue at once, and an agent who then tries to resume with ``<Dial><Queue>`` waits out the
Dial timeout and gets ``no-answer`` -- the agent's call itself carries on.
"""

from __future__ import annotations

from twilio.rest import Client

from tests.webhook_app import BASE, WebhookApp
from voicesim import Emulator, PhoneScript, VirtualClock

NUMBER, CUSTOMER = "+15550001000", "+15551230001"
MUSIC = "http://com.twilio.sounds.music.s3.amazonaws.com/MARKOVICHAMP-Borghestral.mp3"


async def test_customer_hangs_up_while_queued_and_the_agent_resume_finds_nobody(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, twilio_client: Client
) -> None:
    app.twiml("/voice", '<Dial action="/dial-after"><Client>alice</Client></Dial><Redirect>/keep</Redirect>')
    app.twiml("/dial-after", "<Hangup/>")
    app.twiml("/agent-hold", f'<Play loop="0">{MUSIC}</Play>')
    app.twiml("/customer-hold", '<Enqueue waitUrl="/wait" action="/queue-after">hold-1</Enqueue>')
    app.twiml("/wait", f"<Play>{MUSIC}</Play>")
    app.twiml("/queue-after", "<Say>never heard</Say>")
    app.twiml("/agent-resume", '<Dial timeout="15" action="/agent-after"><Queue>hold-1</Queue></Dial>')
    app.twiml("/agent-after", '<Say>The customer has left</Say><Pause length="60"/>')
    voicesim.buy_number(NUMBER, voice_url=f"{BASE}/voice")
    customer = voicesim.inbound_call(CUSTOMER, NUMBER, PhoneScript(hang_up_after=45))
    await voicesim_clock.advance(20)
    (agent,) = [c for c in voicesim.calls.all() if c.parent_call_sid == customer.sid]
    twilio_client.calls(agent.sid).update(url=f"{BASE}/agent-hold")
    twilio_client.calls(customer.sid).update(url=f"{BASE}/customer-hold")
    await voicesim_clock.advance(20)
    (queue,) = twilio_client.queues.list()
    assert [m.call_sid for m in twilio_client.queues(queue.sid).members.list()] == [customer.sid]

    await voicesim_clock.advance(10)  # the customer hung up at t=45, 25 s into the queue
    (after,) = app.to("/queue-after")
    assert after.params["QueueResult"] == "hangup"
    assert after.params["QueueSid"] == queue.sid and after.params["QueueTime"] == "25"
    assert after.params["CallStatus"] == "completed"
    assert twilio_client.calls(customer.sid).fetch().status == "completed"
    assert twilio_client.queues(queue.sid).members.list() == []
    assert twilio_client.queues(queue.sid).fetch().current_size == 0
    assert [s.kind for s in voicesim.media.segments(customer.sid)][-1] == "play"
    assert voicesim.media.segments(customer.sid)[-1].end == voicesim.clock.now() - 5

    twilio_client.calls(agent.sid).update(url=f"{BASE}/agent-resume")
    await voicesim_clock.advance(20)
    (resume,) = app.to("/agent-after")
    assert resume.params["DialCallStatus"] == "no-answer" and resume.params["DialBridged"] == "false"
    assert resume.params["QueueSid"] == queue.sid
    assert twilio_client.calls(agent.sid).fetch().status == "in-progress"
    assert [(s.kind, s.detail) for s in voicesim.media.segments(agent.sid)][-2:] == [
        ("speech", "The customer has left"),
        ("silence", ""),
    ]
    voicesim_clock.raise_errors()
