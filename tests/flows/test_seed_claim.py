"""The seed's key claim, shown through call statuses and the audio timeline (reference §0, §3.3, §10).

With a plain ``<Dial>`` bridge and nothing after it, redirecting one leg through the REST API ends
the other party's call. With a ``<Redirect>`` (or an action) after the ``<Dial>``, the other party
keeps going.
"""

from __future__ import annotations

import itertools

from twilio.rest import Client

from tests.webhook_app import BASE, WebhookApp
from voicesim import Emulator, VirtualClock

NUMBER, CUSTOMER, AGENT = "+15550001000", "+15551230001", "+15559870002"


async def bridge(emu: Emulator, clock: VirtualClock, app: WebhookApp, voice: str) -> tuple[str, str]:
    app.twiml("/voice", voice)
    app.twiml("/music", '<Play loop="0">http://com.twilio.sounds.music.s3.amazonaws.com/hold.mp3</Play>')
    app.twiml("/keep", '<Say>Please hold while we reconnect you</Say><Pause length="60"/>')
    app.twiml("/elsewhere", '<Say>You left the call</Say><Pause length="60"/>')
    emu.buy_number(NUMBER, voice_url=f"{BASE}/voice")
    customer = emu.inbound_call(CUSTOMER, NUMBER)
    await clock.advance(20)
    (agent,) = [c for c in emu.calls.all() if c.parent_call_sid == customer.sid]
    assert customer.status == agent.status == "in-progress"
    return customer.sid, agent.sid


async def test_plain_dial_redirecting_the_agent_leg_drops_the_customer(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, twilio_client: Client
) -> None:
    customer, agent = await bridge(voicesim, voicesim_clock, app, f"<Dial><Number>{AGENT}</Number></Dial>")
    twilio_client.calls(agent).update(url=f"{BASE}/elsewhere")
    await voicesim_clock.advance(10)
    assert twilio_client.calls(customer).fetch().status == "completed"  # dropped
    assert twilio_client.calls(agent).fetch().status == "in-progress"
    heard = [s.kind for s in voicesim.media.segments(customer)]
    assert heard[-1] == "call" and voicesim.media.segments(customer)[-1].end == voicesim_clock.now() - 10


async def test_redirect_after_dial_keeps_the_customer(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, twilio_client: Client
) -> None:
    customer, agent = await bridge(
        voicesim, voicesim_clock, app, f"<Dial><Number>{AGENT}</Number></Dial><Redirect>/keep</Redirect>"
    )
    twilio_client.calls(agent).update(url=f"{BASE}/elsewhere")
    await voicesim_clock.advance(10)
    assert twilio_client.calls(customer).fetch().status == "in-progress"
    assert [(s.kind, s.detail) for s in voicesim.media.segments(customer)][-3:] == [
        ("call", agent),
        ("speech", "Please hold while we reconnect you"),
        ("silence", ""),
    ]
    assert [(s.kind, s.detail) for s in voicesim.media.segments(agent)][-2:] == [
        ("speech", "You left the call"),
        ("silence", ""),
    ]
    gaps = voicesim.media.segments(customer)
    assert all(a.end == b.start for a, b in itertools.pairwise(gaps))  # never silent-dropped


async def test_action_after_dial_keeps_the_customer_and_gets_q1_parameters(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, twilio_client: Client
) -> None:
    customer, agent = await bridge(
        voicesim, voicesim_clock, app, f'<Dial action="/keep"><Number>{AGENT}</Number></Dial>'
    )
    twilio_client.calls(agent).update(url=f"{BASE}/music")
    await voicesim_clock.advance(10)
    (action,) = app.to("/keep")
    # Q1: child redirected -> DialCallStatus=completed, DialBridged=true, no DialCallDuration.
    assert action.params["DialCallStatus"] == "completed"
    assert action.params["DialBridged"] == "true"
    assert action.params["DialCallSid"] == agent
    assert "DialCallDuration" not in action.params
    assert twilio_client.calls(customer).fetch().status == "in-progress"
    assert voicesim.media.segments(agent)[-1].kind == "play"


async def test_redirecting_the_parent_hangs_up_the_child_and_discards_the_action(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, twilio_client: Client
) -> None:
    app.twiml("/action", "<Say>this TwiML is ignored</Say>")
    customer, agent = await bridge(
        voicesim, voicesim_clock, app, f'<Dial action="/action"><Number>{AGENT}</Number></Dial>'
    )
    twilio_client.calls(customer).update(url=f"{BASE}/music")
    await voicesim_clock.advance(10)
    assert twilio_client.calls(agent).fetch().status == "completed"
    (action,) = app.to("/action")
    assert action.params["DialCallStatus"] == "completed"  # pitfall 7: same as a normal hang-up
    assert "DialCallDuration" in action.params
    order = [r.path for r in app.received]
    assert order[-2:] == ["/action", "/music"]  # action requested first, then the new TwiML runs
    assert voicesim.media.segments(customer)[-1].kind == "play"
    assert "this TwiML is ignored" not in [s.detail for s in voicesim.media.segments(customer)]


async def test_q2a_parent_redirected_without_action_requests_the_next_redirect_and_discards_it(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, twilio_client: Client
) -> None:
    customer, agent = await bridge(
        voicesim, voicesim_clock, app, f"<Dial><Number>{AGENT}</Number></Dial><Redirect>/keep</Redirect>"
    )
    twilio_client.calls(customer).update(url=f"{BASE}/music")
    await voicesim_clock.advance(10)
    assert [r.path for r in app.received][-2:] == ["/keep", "/music"]
    assert voicesim.media.segments(customer)[-1].kind == "play"
    assert twilio_client.calls(agent).fetch().status == "completed"


async def test_q2b_parent_hangs_up_mid_bridge_action_requested_twiml_ignored(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    app.twiml("/action", "<Say>ignored</Say>")
    customer, agent = await bridge(
        voicesim, voicesim_clock, app, f'<Dial action="/action"><Number>{AGENT}</Number></Dial>'
    )
    voicesim.hang_up(customer)
    await voicesim_clock.advance(5)
    assert voicesim.calls.by_sid[agent].status == "completed"
    assert len(app.to("/action")) == 1
    assert voicesim.media.segments(customer)[-1].kind == "call"
