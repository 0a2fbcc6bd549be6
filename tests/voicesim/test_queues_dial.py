"""voicesim ``<Dial><Queue>``: first member, empty queue, url TwiML, how the bridge ends (§4.2, §4.3)."""

from __future__ import annotations

import pytest

from tests.voicesim.test_queues import World, enqueue, make_world
from tests.webhook_app import WebhookApp
from voicesim import Emulator, Source, VirtualClock

CUSTOMER, AGENT = "+15551110001", "+15552220001"


@pytest.fixture
def world(voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp) -> World:
    return make_world(voicesim, voicesim_clock, app)


def dial_queue(name: str = "support", url: str | None = None, **attrs: str) -> str:
    attributes = " ".join(f'{k}="{v}"' for k, v in attrs.items())
    noun = f'<Queue url="{url}">{name}</Queue>' if url else f"<Queue>{name}</Queue>"
    return f"<Dial {attributes}>{noun}</Dial>"


async def test_unknown_queue_posts_failed_to_the_dial_action(world: World) -> None:
    world.app.twiml("/agent-after", "<Say>No such queue</Say>")
    agent = world.call_in(AGENT, dial_queue("nobody", action="/agent-after"))
    await world.clock.advance(5)
    (form,) = world.to("/agent-after")
    assert form["DialCallStatus"] == "failed" and form["DialBridged"] == "false"
    assert "QueueSid" not in form
    assert agent.status == "completed"


async def test_empty_queue_waits_until_the_dial_timeout(world: World) -> None:
    world.emu.queues.create("support")
    world.app.twiml("/agent-after", "<Say>Nobody waiting</Say>")
    world.call_in(AGENT, dial_queue(action="/agent-after", timeout="10"))
    await world.clock.advance(9)
    assert world.to("/agent-after") == []
    await world.clock.advance(2)
    (form,) = world.to("/agent-after")
    assert form["DialCallStatus"] == "no-answer" and form["DialBridged"] == "false"


async def test_empty_queue_bridges_whoever_joins_before_the_timeout(world: World) -> None:
    world.emu.queues.create("support")
    agent = world.call_in(AGENT, dial_queue(timeout="30"))
    await world.clock.advance(12)
    customer = world.call_in(CUSTOMER, enqueue("support"))
    await world.clock.advance(1)
    assert world.heard(agent)[-2:] == [
        (0.0, 12.0, "ringback", "", ""),
        (12.0, None, "call", customer.sid, ""),
    ]
    assert world.heard(customer)[-1] == (12.0, None, "call", agent.sid, "")


async def test_url_twiml_runs_on_the_dequeued_caller_before_the_bridge(world: World) -> None:
    world.app.twiml("/whisper", "<Say>You are being connected to an agent</Say>")
    world.app.twiml("/agent-after", "<Say>Wrap up</Say>")
    world.app.twiml("/customer-after", "<Say>Thanks for calling</Say>")
    customer = world.call_in(CUSTOMER, enqueue("support", action="/customer-after"))
    await world.clock.advance(20)
    agent = world.call_in(AGENT, dial_queue(url="/whisper", action="/agent-after"))
    await world.clock.advance(30)
    (whisper,) = world.to("/whisper")
    assert whisper["CallSid"] == customer.sid and whisper["DequeingCallSid"] == agent.sid
    assert whisper["QueueTime"] == "20" and whisper["QueueSid"].startswith("QU")
    assert world.heard(customer)[-2:] == [
        (20.0, 22.8, "speech", "You are being connected to an agent", "dial-leg"),  # 7 words at 0.4 s
        (22.8, None, "call", agent.sid, ""),
    ]
    assert world.heard(agent)[-2:] == [
        (20.0, 22.8, "ringback", "", ""),
        (22.8, None, "call", customer.sid, ""),
    ]
    # The agent hangs up: the customer continues with its action (QueueResult=bridged), never dropped.
    world.emu.hang_up(agent.sid)
    await world.clock.advance(5)
    (after,) = world.to("/customer-after")
    assert after["QueueResult"] == "bridged" and after["QueueTime"] == "20"
    assert [s[2:4] for s in world.heard(customer)][-2:] == [
        ("call", agent.sid),
        ("speech", "Thanks for calling"),
    ]
    assert world.to("/agent-after")[0]["DialCallStatus"] == "completed"


async def test_member_hangs_up_during_the_bridge(world: World) -> None:
    world.app.twiml("/agent-after", "<Say>Wrap up</Say>")
    world.app.twiml("/customer-after", "<Say>never run</Say>")
    customer = world.call_in(CUSTOMER, enqueue("support", waitUrl="", action="/customer-after"))
    await world.clock.advance(15)
    agent = world.call_in(AGENT, dial_queue(action="/agent-after"))
    await world.clock.advance(40)
    world.emu.hang_up(customer.sid)
    await world.clock.advance(5)
    (form,) = world.to("/agent-after")
    assert form["DialCallStatus"] == "completed" and form["DialBridged"] == "true"
    assert form["DialCallSid"] == customer.sid and form["DialCallDuration"] == "40"
    assert form["QueueSid"].startswith("QU") and form["QueueTime"] == "15"
    assert form["DequeingCallSid"] == agent.sid
    assert [f["QueueResult"] for f in world.to("/customer-after")] == ["bridged"]
    assert customer.status == "completed" and agent.status == "completed"
    assert [s[2:4] for s in world.heard(agent)][-2:] == [("call", customer.sid), ("speech", "Wrap up")]


async def test_member_redirected_during_the_bridge_is_redirected_from_bridged(world: World) -> None:
    world.app.twiml("/agent-after", "<Say>Wrap up</Say>")
    world.app.twiml("/customer-after", "<Say>discarded</Say>")
    customer = world.call_in(CUSTOMER, enqueue("support", waitUrl="", action="/customer-after"))
    await world.clock.advance(5)
    world.call_in(AGENT, dial_queue(action="/agent-after"))
    await world.clock.advance(10)
    world.emu.calls.redirect(customer, Source(twiml="<Response><Say>Survey</Say></Response>"))
    await world.clock.advance(5)
    assert [f["QueueResult"] for f in world.to("/customer-after")] == ["redirected-from-bridged"]
    (form,) = world.to("/agent-after")
    assert form["DialCallStatus"] == "completed" and "DialCallDuration" not in form  # Q1
    assert ("speech", "Survey") in [s[2:4] for s in world.heard(customer)]
    assert ("speech", "discarded") not in [s[2:4] for s in world.heard(customer)]


async def test_dequeuer_redirected_ends_the_bridge_and_the_member_carries_on(world: World) -> None:
    world.app.twiml("/agent-after", "<Say>discarded</Say>")
    world.app.twiml("/customer-after", '<Say>Still here</Say><Pause length="30"/>')
    customer = world.call_in(CUSTOMER, enqueue("support", waitUrl="", action="/customer-after"))
    await world.clock.advance(5)
    agent = world.call_in(AGENT, dial_queue(action="/agent-after"))
    await world.clock.advance(10)
    world.emu.calls.redirect(agent, Source(twiml="<Response><Say>Next task</Say></Response>"))
    await world.clock.advance(5)
    (dial_action,) = world.to("/agent-after")  # requested, TwiML thrown away (reference §3.3)
    assert dial_action["DialCallStatus"] == "completed" and dial_action["DialCallDuration"] == "10"
    assert ("speech", "Next task") in [s[2:4] for s in world.heard(agent)]
    assert ("speech", "discarded") not in [s[2:4] for s in world.heard(agent)]
    assert [f["QueueResult"] for f in world.to("/customer-after")] == ["bridged"]
    assert customer.status == "in-progress"
    assert world.heard(customer)[-2:] == [
        (15.0, 16.0, "speech", "Still here", ""),
        (16.0, None, "silence", "", ""),
    ]


async def test_member_hangs_up_during_the_url_twiml(world: World) -> None:
    world.app.twiml("/whisper", '<Say>Connecting</Say><Pause length="10"/>')
    world.app.twiml("/agent-after", "<Say>Gone</Say>")
    world.app.twiml("/customer-after", "<Say>never run</Say>")
    customer = world.call_in(CUSTOMER, enqueue("support", waitUrl="", action="/customer-after"))
    await world.clock.advance(5)
    world.call_in(AGENT, dial_queue(url="/whisper", action="/agent-after"))
    await world.clock.advance(4)
    world.emu.hang_up(customer.sid)
    await world.clock.advance(5)
    assert [f["QueueResult"] for f in world.to("/customer-after")] == ["hangup"]
    (form,) = world.to("/agent-after")
    assert form["DialCallStatus"] == "no-answer" and form["DialBridged"] == "false"


async def test_agent_hangs_up_during_the_url_twiml(world: World) -> None:
    world.app.twiml("/whisper", '<Pause length="10"/>')
    world.app.twiml("/customer-after", '<Say>Sorry</Say><Pause length="30"/>')
    customer = world.call_in(CUSTOMER, enqueue("support", waitUrl="", action="/customer-after"))
    await world.clock.advance(5)
    agent = world.call_in(AGENT, dial_queue(url="/whisper"))
    await world.clock.advance(4)
    world.emu.hang_up(agent.sid)
    await world.clock.advance(10)
    assert [f["QueueResult"] for f in world.to("/customer-after")] == ["bridging-in-process"]
    assert customer.status == "in-progress"


@pytest.mark.parametrize(("attr", "value"), [("timeLimit", "20"), ("hangupOnStar", "true")])
async def test_time_limit_and_hangup_on_star_end_the_bridge_not_the_member(
    world: World, attr: str, value: str
) -> None:
    world.app.twiml("/customer-after", '<Say>Back to you</Say><Pause length="30"/>')
    world.app.twiml("/agent-after", '<Pause length="30"/>')
    customer = world.call_in(CUSTOMER, enqueue("support", waitUrl="", action="/customer-after"))
    agent = world.call_in(AGENT, dial_queue(action="/agent-after", **{attr: value}))
    await world.clock.advance(10)
    if attr == "hangupOnStar":
        world.emu.press(agent.sid, "*")
    await world.clock.advance(15)
    assert [f["QueueResult"] for f in world.to("/customer-after")] == ["bridged"]
    assert world.to("/agent-after")[0]["DialCallStatus"] == "completed"
    assert customer.status == agent.status == "in-progress"
