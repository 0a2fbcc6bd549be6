"""Webhook inputs that are signed (so they get through) but odd: none is a 500, none changes records.

* ``SequenceNumber``: only 1 to 18 ASCII digits count (``"²"`` is a digit to ``str.isdigit`` but not
  to ``int``; 5000 digits pass Python's int-string limit; 30 digits overflow an INTEGER column).
* ``Timestamp``: one that parses but falls out of range in UTC counts as "now".
* ``CallSid`` (and ``ParentCallSid`` where used, ``ConferenceSid`` for a conference event): absent or
  malformed, nothing is recorded -- 204 for a callback, ``<Response/>`` for TwiML.
* A %-escaped path signed as Twilio requested it is accepted, behind a proxy too.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from callhold.config import Settings
from callhold.domain.model import LegStatus
from callhold.web.app import create_app
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.flows.callhold_signed import Form, send
from voicesim import Emulator, VirtualClock

EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'
MALFORMED_SIDS = ["", "x", "CA" + "1" * 31, "CA" + "g" * 32, "CF" + "1" * 32, "CA" + "1" * 32 + "\n"]


@pytest.fixture
async def h(voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path) -> Harness:
    """alice talking to a customer (conference strategy)."""
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")
    await h.connected()
    return h


async def post(h: Harness, path: str, form: Form) -> httpx.Response:
    return await send(h.app, BASE + path, form, auth_token=h.emu.auth_token)


def status_form(h: Harness, call_sid: str | None, **extra: str) -> list[tuple[str, str]]:
    form = {
        "AccountSid": h.emu.account_sid,
        "ApiVersion": "2010-04-01",
        "CallStatus": "in-progress",
        "Direction": "inbound",
        "From": "+15551230001",
        "To": "+15550001000",
        **extra,
    }
    if call_sid is not None:
        form["CallSid"] = call_sid
    return list(form.items())


def records(h: Harness) -> list[object]:
    """Every call and leg on record."""
    store = h.services.store
    return [(view.call, view.legs) for view in (h.view(c.id) for c in store.list_calls())]


# -- SequenceNumber, Timestamp ------------------------------------------------------------------
@pytest.mark.parametrize("sequence", ["\u00b2", "\u0663", "9" * 5000, "9" * 30, "9" * 19, "+5", " 5", "-1"])
async def test_a_sequence_number_that_is_no_number_is_ignored_not_a_500(h: Harness, sequence: str) -> None:
    call = h.services.store.list_calls()[0]
    form = status_form(h, call.customer_call_sid, CallStatus="in-progress", SequenceNumber=sequence)
    response = await post(h, "/webhooks/call-status", form)
    assert response.status_code == 204, response.text


async def test_an_eighteen_digit_sequence_number_is_a_number(h: Harness) -> None:
    customer = h.services.store.list_calls()[0].customer_call_sid
    form = status_form(h, customer, CallStatus="completed", SequenceNumber="9" * 18)
    assert (await post(h, "/webhooks/call-status", form)).status_code == 204
    leg = h.view(customer).leg(customer)
    assert leg is not None and leg.status is LegStatus.COMPLETED
    assert leg.sequence_number == int("9" * 18)


@pytest.mark.parametrize("sequence", ["\u00b2", "9" * 5000, "9" * 30])
async def test_a_conference_event_with_such_a_sequence_number_is_not_a_500(h: Harness, sequence: str) -> None:
    call = h.services.store.list_calls()[0]
    assert call.conference_sid is not None and call.conference_name is not None
    form = {
        "AccountSid": h.emu.account_sid,
        "ConferenceSid": call.conference_sid,
        "FriendlyName": call.conference_name,
        "StatusCallbackEvent": "participant-mute",
        "CallSid": call.customer_call_sid,
        "SequenceNumber": sequence,
        "Timestamp": "Thu, 1 Jun 2017 20:48:32 +0000",
    }
    assert (await post(h, "/webhooks/conference", form)).status_code == 204


@pytest.mark.parametrize(
    "timestamp", ["Fri, 31 Dec 9999 23:59:59 -0100", "Fri, 31 Dec 9999 23:00:00 -2359", "not a date"]
)
async def test_a_timestamp_out_of_range_in_utc_counts_as_now(h: Harness, timestamp: str) -> None:
    customer = h.services.store.list_calls()[0].customer_call_sid
    form = status_form(h, customer, CallStatus="completed", SequenceNumber="50", Timestamp=timestamp)
    response = await post(h, "/webhooks/call-status", form)
    assert response.status_code == 204, response.text
    view = h.view(customer)
    assert view.call.ended_at == h.services.service.clock.now()


# -- CallSid, ParentCallSid, ConferenceSid -------------------------------------------------------
@pytest.mark.parametrize("sid", [None, *MALFORMED_SIDS])
async def test_a_new_call_without_a_well_formed_call_sid_records_nothing(h: Harness, sid: str | None) -> None:
    before = records(h)
    response = await post(h, "/twiml/voice", status_form(h, sid))
    assert response.status_code == 200 and response.text == EMPTY
    assert records(h) == before


@pytest.mark.parametrize("sid", [None, *MALFORMED_SIDS])
async def test_an_early_child_callback_without_a_well_formed_call_sid_records_no_leg(
    h: Harness, sid: str | None
) -> None:
    call = h.services.store.list_calls()[0]
    before = records(h)
    form = status_form(h, sid, CallStatus="ringing", ParentCallSid=call.customer_call_sid)
    assert (await post(h, "/webhooks/call-status", form)).status_code == 204
    assert records(h) == before
    await h.services.service.hold(call.id, by="admin", agent_id=None)  # the call is as it was


@pytest.mark.parametrize("parent", MALFORMED_SIDS[1:])
async def test_a_malformed_parent_call_sid_records_no_leg(h: Harness, parent: str) -> None:
    before = records(h)
    form = status_form(h, "CA" + "5" * 32, CallStatus="ringing", ParentCallSid=parent)
    assert (await post(h, "/webhooks/call-status", form)).status_code == 204
    assert records(h) == before


@pytest.mark.parametrize(
    "path", ["/twiml/outbound", "/twiml/action/{call_id}", "/twiml/enqueue-action/{call_id}"]
)
@pytest.mark.parametrize("sid", [None, "", "CA" + "z" * 32])
async def test_other_twiml_routes_answer_an_empty_response_to_a_malformed_call_sid(
    h: Harness, path: str, sid: str | None
) -> None:
    call = h.services.store.list_calls()[0]
    before = records(h)
    form = status_form(h, sid, DialCallStatus="completed", QueueResult="hangup")
    response = await post(h, path.format(call_id=call.id), form)
    assert response.status_code == 200 and response.text == EMPTY
    assert records(h) == before


@pytest.mark.parametrize(
    ("field", "value"), [("CallSid", ""), ("CallSid", "CA1"), ("ConferenceSid", ""), ("ConferenceSid", "CF1")]
)
async def test_a_conference_event_with_a_malformed_sid_records_nothing(
    h: Harness, field: str, value: str
) -> None:
    call = h.services.store.list_calls()[0]
    assert call.conference_sid is not None and call.conference_name is not None
    before = records(h)
    form = {
        "AccountSid": h.emu.account_sid,
        "ConferenceSid": call.conference_sid,
        "FriendlyName": call.conference_name,
        "StatusCallbackEvent": "participant-leave",
        "ParticipantCallStatus": "completed",
        "CallSid": call.customer_call_sid,
        "SequenceNumber": "99",
        field: value,
    }
    assert (await post(h, "/webhooks/conference", form)).status_code == 204
    assert records(h) == before


# -- the URL as requested ------------------------------------------------------------------------
async def test_an_escaped_path_signed_as_twilio_requested_it_is_accepted(h: Harness) -> None:
    call = h.services.store.list_calls()[0]
    await h.services.service.hold(call.id, by="alice", agent_id="alice")
    hold = h.view(call.id).hold
    assert hold is not None
    url = f"{BASE}/twiml/announce/{hold.id}/agent%2Dreminder"  # '-' escaped: the same route
    form = status_form(h, call.customer_call_sid)
    response = await send(h.app, url, form, auth_token=h.emu.auth_token)
    assert response.status_code == 200 and "<Say>Reminder" in response.text
    decoded = url.replace("%2D", "-")
    refused = await send(h.app, url, form, auth_token=h.emu.auth_token, signed_url=decoded)
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "public_base_url", ["https://calls.example.com", "https://calls.example.com/callhold"]
)
async def test_behind_a_proxy_an_escaped_path_checks_against_the_public_url(
    voicesim: Emulator, tmp_path: Path, public_base_url: str
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/c.db", public_base_url=public_base_url)
    app = create_app(settings, emulator=voicesim, seed=0)
    public = f"{public_base_url}/webhooks/call%2Dstatus"
    form = {"CallSid": "CA" + "1" * 32, "CallStatus": "ringing", "SequenceNumber": "1"}

    async def status(signed_url: str) -> int:
        response = await send(
            app,
            public,
            form,
            auth_token=voicesim.auth_token,
            signed_url=signed_url,
            reach_at="http://internal:8000",
            path="/webhooks/call%2Dstatus",
        )
        return response.status_code

    assert await status(public) == 204
    assert await status(public.replace("%2D", "-")) == 403
    assert await status("http://internal:8000/webhooks/call%2Dstatus") == 403


@pytest.mark.parametrize(
    ("caller", "recorded"),
    [
        ("+15551239876", "+15551239876"),
        ("client:bob", "client:bob"),
        ("sip:bob@example.com", "sip:bob@example.com"),
        ("anonymous", "anonymous"),
        ("", None),
        ("+1555\x00123", None),  # PostgreSQL text refuses NUL
        ("+1555\u202e4321", None),  # a bidi override: the console would show another number
        ("9" * 201, None),  # longer than any address: not recorded rather than cut
    ],
)
async def test_the_callers_number_is_recorded_only_when_it_can_be_shown_as_it_is(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path, caller: str, recorded: str | None
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")
    call_sid = "CA" + "7" * 32
    form = [(key, value) for key, value in status_form(h, call_sid) if key != "From"]
    reply = await post(h, "/twiml/voice", [*form, ("From", caller)])
    assert reply.status_code == 200
    assert h.view(call_sid).call.customer_number == recorded
