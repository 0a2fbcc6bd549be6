"""An interrupted ``<Dial>`` makes the same lost requests whatever its noun (reference §3.3, Q2a, Q2b).

The call running the ``<Dial>`` (the agent) is redirected or hangs up mid-Dial, for each noun: a
``<Number>`` that answered, a ``<Conference>`` it joined, a ``<Queue>`` whose first caller it was
bridged to, and a ``<Queue>`` still empty (the Dial is still waiting).
"""

from __future__ import annotations

import pytest

from tests.voicesim.test_queues import World, enqueue, make_world
from tests.webhook_app import BASE, WebhookApp
from voicesim import Emulator, Source, VirtualClock
from voicesim.calls import Call

CUSTOMER, AGENT, CALLED = "+15551110007", "+15552220007", "+15553330007"
NOUNS = {
    "number": f"<Number>{CALLED}</Number>",
    "conference": "<Conference>room</Conference>",
    "queue": "<Queue>support</Queue>",
    "empty-queue": "<Queue>support</Queue>",
}


@pytest.fixture
def world(voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp) -> World:
    world = make_world(voicesim, voicesim_clock, app)
    app.twiml("/next", "<Say>discarded</Say>")
    app.twiml("/dial-after", "<Say>discarded</Say>")
    app.twiml("/new", '<Say>New task</Say><Pause length="30"/>')
    return world


async def agent_dials(world: World, noun: str, dial_attrs: str = "") -> Call:
    """The agent runs ``<Dial>noun</Dial><Redirect>/next</Redirect>``, in the Dial 10 s later."""
    if noun == "queue":
        world.call_in(CUSTOMER, enqueue("support", waitUrl=""))
    elif noun == "conference":
        world.call_in(CUSTOMER, "<Dial><Conference>room</Conference></Dial>")
    elif noun == "empty-queue":
        world.emu.queues.create("support")
    await world.clock.advance(1)
    dial = f'<Dial {dial_attrs} timeout="60">{NOUNS[noun]}</Dial>'
    agent = world.call_in(AGENT, f"{dial}<Redirect>/next</Redirect><Say>never</Say>")
    await world.clock.advance(10)
    return agent


def requested(world: World, agent: Call) -> list[str]:
    """The paths the agent's call requested after its first document, in order."""
    return [r.path for r in world.app.received if r.params.get("CallSid") == agent.sid][1:]


def said(world: World, agent: Call) -> list[str]:
    return [s[3] for s in world.heard(agent) if s[2] == "speech"]


@pytest.mark.parametrize("noun", list(NOUNS))
async def test_redirected_without_action_requests_the_next_redirect_and_discards_it(
    world: World, noun: str
) -> None:
    agent = await agent_dials(world, noun)
    world.emu.calls.redirect(agent, Source(url=f"{BASE}/new"))
    await world.clock.advance(5)
    assert requested(world, agent) == ["/next", "/new"]  # Q2a: requested first, its reply thrown away
    (lost,) = world.to("/next")
    assert lost["CallStatus"] == "in-progress" and "DialCallStatus" not in lost
    assert said(world, agent) == ["New task"]
    assert agent.status == "in-progress"


@pytest.mark.parametrize("noun", list(NOUNS))
async def test_an_empty_redirect_next_requests_the_document_again_and_discards_it(
    world: World, noun: str
) -> None:
    await agent_dials(world, noun)  # the customer's side, as for the others
    agent = world.call_in(AGENT.replace("7", "8"), f"<Dial>{NOUNS[noun]}</Dial><Redirect/>")
    await world.clock.advance(10)
    world.emu.calls.redirect(agent, Source(url=f"{BASE}/new"))
    await world.clock.advance(5)
    assert requested(world, agent) == ["/voice", "/new"]  # Q2a: <Redirect/> is this document again
    assert said(world, agent) == ["New task"]


@pytest.mark.parametrize("noun", list(NOUNS))
async def test_redirected_with_action_requests_only_the_action(world: World, noun: str) -> None:
    agent = await agent_dials(world, noun, 'action="/dial-after"')
    world.emu.calls.redirect(agent, Source(url=f"{BASE}/new"))
    await world.clock.advance(5)
    assert requested(world, agent) == ["/dial-after", "/new"]
    assert said(world, agent) == ["New task"]


@pytest.mark.parametrize("noun", list(NOUNS))
async def test_hang_up_without_action_requests_nothing(world: World, noun: str) -> None:
    agent = await agent_dials(world, noun)
    world.emu.hang_up(agent.sid)
    await world.clock.advance(5)
    assert requested(world, agent) == []  # Q2b: only an action is requested after a hang-up
    assert agent.status == "completed"


@pytest.mark.parametrize("noun", list(NOUNS))
async def test_hang_up_with_action_requests_the_action_and_discards_it(world: World, noun: str) -> None:
    agent = await agent_dials(world, noun, 'action="/dial-after"')
    world.emu.hang_up(agent.sid)
    await world.clock.advance(5)
    assert requested(world, agent) == ["/dial-after"]  # Q2b
    assert said(world, agent) == []
