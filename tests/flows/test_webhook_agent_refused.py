"""Twilio refuses to dial the agent (conference strategy): the customer waits for the next agent.

``/twiml/voice`` (a new call) and ``/twiml/connect`` (a waiting customer's turn) dial the claimed
agent into the customer's conference. If Twilio refuses the participant create, the customer must
still get TwiML -- an error status would make Twilio play its "application error" and hang up -- so
the next free agent is tried and, failing that, they go to the waiting queue, released from the
agent, and the next agent to become available gets them. An agent whose endpoint Twilio refuses
(4xx) is made unavailable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pytest

from callhold.adapters.telephony import TwilioTelephony
from callhold.domain.model import Agent
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.twilio_refusals import RefusingTransport, telephony_over
from voicesim import Emulator, VirtualClock
from voicesim.twiml.interpreter import APPLICATION_ERROR_TEXT

BUSY = ("speech", "", "All of our agents are busy. Please hold for the next available agent.")
WAITING = ("play", "queue-wait", f"{BASE}/media/hold-music.wav")
PARTICIPANT_CREATE = re.compile(r"/Conferences/[^/]+/Participants\.json$")


def refusing_to_dial_carol(emu: Emulator) -> RefusingTransport:
    """voicesim's SDK transport, with Twilio refusing (400, code 21211: invalid 'To') every
    participant create that dials ``client:carol``; bob and everyone else are dialled as usual."""

    def dials_carol(method: str, url: str, data: Mapping[str, object]) -> bool:
        return (
            method == "POST"
            and PARTICIPANT_CREATE.search(url) is not None
            and data.get("To") == "client:carol"
        )

    message = "The phone number you are attempting to call, client:carol, is not valid."
    return RefusingTransport(emu, dials_carol, status=400, code=21211, message=message)


@pytest.fixture
def h(voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path) -> Harness:
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")
    h.services.service.telephony = telephony_over(voicesim, refusing_to_dial_carol(voicesim), BASE)
    # bob exists but is away; he becomes available later in each test.
    h.services.store.save_agent(Agent(id="bob", name="Bob", endpoint="client:bob", available=False))
    return h


def transport(h: Harness) -> RefusingTransport:
    telephony = h.services.service.telephony
    assert isinstance(telephony, TwilioTelephony)
    refusing = telephony.client.http_client
    assert isinstance(refusing, RefusingTransport)
    return refusing


def refused(h: Harness) -> int:
    """How many participant creates Twilio refused."""
    return len(transport(h).refused)


def agent_available(h: Harness, agent_id: str) -> bool:
    agent = h.services.store.get_agent(agent_id)
    assert agent is not None
    return agent.available


async def set_available(h: Harness, agent_id: str) -> None:
    response = await h.api("PATCH", f"/agents/{agent_id}", {"available": True})
    assert response.status_code == 200, response.text


def webhook_statuses(h: Harness, path: str) -> list[int]:
    """The HTTP status callhold answered each of voicesim's requests to ``path`` with."""
    return [
        int(e.data["status"])
        for e in h.emu.events
        if e.type == "webhook" and str(e.data["url"]).startswith(BASE + path)
    ]


async def assert_waits_then_bob_takes_the_call(h: Harness, customer: str) -> None:
    """The customer waits, hearing the waiting music, with no agent; bob becomes available and gets them."""
    view = h.view(customer)
    assert view.call.agent_id is None and view.agent_leg is None
    assert [c.id for c in h.services.service.waiting_calls()] == [customer]
    await h.clock.advance(30)
    h.clock.raise_errors()
    heard = h.heard(customer)
    assert heard[-2:] == [BUSY, WAITING]  # still waiting, 30 s later: the line did not drop
    assert not any(APPLICATION_ERROR_TEXT in detail for _, _, detail in heard)
    assert h.emu.calls.get(customer).status == "in-progress"  # type: ignore[union-attr]

    await set_available(h, "bob")
    await h.clock.advance(10)
    h.clock.raise_errors()
    view = h.view(customer)
    assert view.call.agent_id == "bob" and not agent_available(h, "bob")
    assert view.agent_leg is not None
    assert h.emu.calls.get(view.agent_leg.call_sid).to == "client:bob"  # type: ignore[union-attr]
    assert h.heard(customer)[-1] == ("conference", "", view.agent_leg.call_sid)
    assert h.emu.alerts == []


async def test_a_new_call_whose_agent_twilio_cannot_dial_waits_for_the_next_agent(h: Harness) -> None:
    h.add_agent("carol", endpoint="client:carol")
    customer = (await h.call_in()).sid
    assert refused(h) == 1
    assert webhook_statuses(h, "/twiml/voice") == [200]  # TwiML, not a 409 problem
    assert h.heard(customer) == [BUSY, WAITING]
    # Twilio refused carol's endpoint itself (400): she is made unavailable, so that the next
    # callers are not offered her first, until she (or the admin) sets her available again.
    assert not agent_available(h, "carol")
    carol = h.services.store.get_agent("carol")
    assert carol is not None and carol.away  # shown as away, not as on a call
    await assert_waits_then_bob_takes_the_call(h, customer)


async def test_a_new_call_whose_agent_twilio_cannot_dial_goes_to_the_next_free_agent(h: Harness) -> None:
    h.add_agent("carol", endpoint="client:carol")
    h.add_agent("dave", endpoint="client:dave")
    customer = (await h.call_in()).sid
    assert refused(h) == 1  # carol first (agents are offered calls in id order) ...
    view = h.view(customer)
    assert view.call.agent_id == "dave"  # ... then dave, in the same webhook
    assert view.agent_leg is not None
    assert h.emu.calls.get(view.agent_leg.call_sid).to == "client:dave"  # type: ignore[union-attr]
    assert h.heard(customer)[-1] == ("conference", "", view.agent_leg.call_sid)
    assert not agent_available(h, "carol") and not agent_available(h, "dave")
    assert h.services.service.waiting_calls() == [] and h.emu.alerts == []


@pytest.mark.parametrize(
    ("status", "code"),
    [(503, 20503), (429, 20429)],  # Twilio's own failure; its rate limit, once callhold's retries are spent
)
async def test_when_twilio_fails_to_dial_an_agent_the_next_free_agent_is_tried(
    h: Harness, status: int, code: int
) -> None:
    # Not carol's endpoint: she is not to blame, and stays available
    transport(h).status, transport(h).code = status, code
    h.add_agent("carol", endpoint="client:carol")
    h.add_agent("dave", endpoint="client:dave")
    customer = (await h.call_in()).sid
    assert refused(h) == 1  # carol once (not again: she was tried for this call) ...
    view = h.view(customer)
    assert view.call.agent_id == "dave" and view.agent_leg is not None  # ... then dave
    assert h.heard(customer)[-1] == ("conference", "", view.agent_leg.call_sid)
    assert agent_available(h, "carol") and not agent_available(h, "dave")


async def test_a_waiting_customer_whose_agent_twilio_cannot_dial_waits_again(h: Harness) -> None:
    h.services.store.save_agent(Agent(id="carol", name="Carol", endpoint="client:carol", available=False))
    customer = (await h.call_in()).sid
    assert h.heard(customer) == [BUSY, WAITING]
    # carol becomes available: the customer is sent to /twiml/connect, where dialling carol fails.
    await set_available(h, "carol")
    await h.clock.advance(10)
    h.clock.raise_errors()
    assert refused(h) == 1
    assert webhook_statuses(h, "/twiml/connect/") == [200]
    assert h.heard(customer) == [BUSY, WAITING, BUSY, WAITING]  # back in the line, not hung up
    assert not agent_available(h, "carol")
    await assert_waits_then_bob_takes_the_call(h, customer)
