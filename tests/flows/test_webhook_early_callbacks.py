"""Status callbacks that arrive before the create request that made the call has returned.

On real Twilio a new participant's or outbound call's first status callbacks can beat the Participants
or Calls create response carrying its Call SID. They used to be dropped (the leg was unknown, and the
callback's dedup key recorded, so nothing could apply it). Now the callback URL says whose leg it is,
and the leg is recorded from the callback itself; the create's own bookkeeping then finds it known.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest

from callhold.adapters.telephony import participant_status_path
from callhold.domain.commands import AddParticipant
from callhold.domain.model import Agent, CallState, LegRole, LegStatus
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.flows.callhold_signed import send
from voicesim import Emulator, VirtualClock

NEW_LEG = "CA" + "7" * 32


@pytest.fixture
def h(voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path) -> Harness:
    return make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")


async def status(h: Harness, path: str, call_sid: str, call_status: str, sequence: int) -> int:
    form = {"CallSid": call_sid, "CallStatus": call_status, "SequenceNumber": str(sequence)}
    response = await send(h.app, BASE + path, form, auth_token=h.emu.auth_token)
    return response.status_code


async def test_a_participants_callback_before_the_create_returned_records_the_leg(h: Harness) -> None:
    h.add_agent()
    call = await h.call_in()
    conference = h.view(call.sid).call.conference_name
    assert conference is not None
    path = participant_status_path(AddParticipant(conference=conference, to="+15557770001", from_="+1"))

    assert await status(h, path, NEW_LEG, "ringing", 1) == 204
    leg = h.view(call.sid).leg(NEW_LEG)
    assert leg is not None and (leg.role, leg.status) == (LegRole.THIRD_PARTY, LegStatus.RINGING)
    # The create returns: what callhold records then does not undo what the callback told.
    await h.services.service.join_agent_leg(call.sid, NEW_LEG, None, role=LegRole.THIRD_PARTY)
    assert h.view(call.sid).leg(NEW_LEG) == leg
    assert await status(h, path, NEW_LEG, "ringing", 1) == 204  # a retry: applied once
    assert await status(h, path, NEW_LEG, "completed", 3) == 204
    leg = h.view(call.sid).leg(NEW_LEG)
    assert leg is not None and leg.status is LegStatus.COMPLETED
    assert h.view(call.sid).call.status is CallState.ACTIVE  # a third party leaving ends nothing


async def test_an_outbound_calls_callback_before_the_create_returned_adopts_the_call(h: Harness) -> None:
    h.services.store.save_agent(Agent(id="bob", name="Bob", endpoint="client:bob"))
    since = h.services.service.clock.now()
    assert h.services.store.claim_for_outbound("bob", "+15557770000", since)
    path = f"/webhooks/call-status?{urlencode({'agent': 'bob', 'placed': since.isoformat()})}"
    assert await status(h, path, NEW_LEG, "initiated", 0) == 204
    view = h.view(NEW_LEG)
    assert view.call.agent_id == "bob" and view.customer_leg is not None
    assert view.customer_leg.status is LegStatus.INITIATED  # the callback itself was applied
    # The create returns and callhold adopts the call: the same call, nothing duplicated.
    assert h.services.service.adopt(NEW_LEG, agent_id="bob", status=LegStatus.QUEUED) == view.call
    assert await status(h, path, NEW_LEG, "ringing", 1) == 204
    customer = h.view(NEW_LEG).customer_leg
    assert customer is not None and customer.status is LegStatus.RINGING


@pytest.mark.parametrize(
    "path",
    [
        "/webhooks/call-status",  # says nothing about whose it is
        "/webhooks/call-status?conference=callhold-CAnobody&role=agent",  # no such conference
        "/webhooks/call-status?agent=nobody",  # no such agent
        "/webhooks/call-status?conference=x&role=admin",  # no such role
    ],
)
async def test_a_callback_for_a_call_that_is_not_ours_changes_nothing(h: Harness, path: str) -> None:
    assert await status(h, path, NEW_LEG, "ringing", 1) == 204
    assert h.services.store.find_call(call_sid=NEW_LEG) is None
    assert h.services.store.list_calls() == []


async def test_a_caller_who_hangs_up_before_the_voice_webhook_is_answered_is_not_connected(
    h: Harness,
) -> None:
    # The caller hangs up while /twiml/voice is in flight; its "completed" callback is handled
    # (here, or by another instance) before the voice webhook adopts the call.
    h.add_agent()
    sid = "CA" + "5" * 32
    form = {"CallSid": sid, "CallStatus": "completed", "SequenceNumber": "1", "Direction": "inbound"}
    reply = await send(h.app, BASE + "/webhooks/call-status", form, auth_token=h.emu.auth_token)
    assert reply.status_code == 204
    assert h.view(sid).call.status is CallState.ENDED
    voice = {"CallSid": sid, "CallStatus": "ringing", "Direction": "inbound", "From": "+15551230001"}
    reply = await send(h.app, BASE + "/twiml/voice", voice, auth_token=h.emu.auth_token)
    assert reply.status_code == 200 and "<Dial" not in reply.text  # no agent dialled for no one
    view = h.view(sid)
    assert view.call.status is CallState.ENDED and view.call.agent_id is None
    alice = h.services.store.get_agent("alice")
    assert alice is not None and alice.available


async def test_an_unknown_calls_callback_that_is_not_an_inbound_caller_records_nothing(h: Harness) -> None:
    sid = "CA" + "6" * 32
    form = {"CallSid": sid, "CallStatus": "completed", "SequenceNumber": "1", "Direction": "outbound-api"}
    reply = await send(h.app, BASE + "/webhooks/call-status", form, auth_token=h.emu.auth_token)
    assert reply.status_code == 204
    assert h.services.store.get_call(sid) is None
