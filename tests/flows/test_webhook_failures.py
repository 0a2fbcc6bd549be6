"""The failure policy of Twilio's webhooks (``WebhookRoute``): when callhold itself fails.

A TwiML route answers TwiML whatever happens on callhold's side -- an error status would have Twilio
play its "application error" message and drop the caller: it has Twilio retry the same URL (signed
like any other) after a pause, twice, then apologises and hangs up (only apologises in a document
played inside a conference or queue, where ``<Hangup>`` is not allowed). A status callback answers an
error (503 when the database does not answer). Domain errors (an unknown hold...) keep their problem JSON.

The failure is real: one of callhold's tables is renamed away under it by another SQLite connection
("no such table"), and renamed back to recover.
"""

from __future__ import annotations

import contextlib
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from callhold.web.deps import TWIML_APOLOGY
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.flows.callhold_signed import Form, send, signature
from voicesim import Emulator, VirtualClock


@contextlib.contextmanager
def table_away(tmp_path: Path, table: str) -> Iterator[None]:
    """``table`` of the harness's database is missing until the block ends."""
    database = tmp_path / "callhold.db"
    with contextlib.closing(sqlite3.connect(database)) as db:
        db.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
        db.commit()
    try:
        yield
    finally:
        with contextlib.closing(sqlite3.connect(database)) as db:
            db.execute(f"ALTER TABLE {table}_away RENAME TO {table}")
            db.commit()


def inbound_form(h: Harness, call_sid: str, **extra: str) -> dict[str, str]:
    """The parameters of a webhook about an inbound call ``call_sid``."""
    return {
        "AccountSid": h.emu.account_sid,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "CallStatus": "in-progress",
        "Direction": "inbound",
        "From": "+15551230001",
        "To": "+15550001000",
        **extra,
    }


async def deliver(h: Harness, url: str, form: Form = (), *, method: str = "POST") -> httpx.Response:
    """A webhook signed for ``url`` as Twilio signs it; callhold's exceptions come back as a 500."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    pairs = list(form.items()) if not isinstance(form, Sequence) else list(form)
    headers = {"X-Twilio-Signature": signature(h.emu.auth_token, url, pairs if method == "POST" else ())}
    transport = httpx.ASGITransport(app=h.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        if method == "GET":
            return await client.get(target, headers=headers)
        return await client.post(target, data=dict(pairs), headers=headers)


def verbs(response: httpx.Response) -> list[tuple[str, dict[str, str], str]]:
    """(tag, attributes, text) of each verb of a TwiML answer (which must be 200 ``text/xml``)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml"), response.headers
    root = ET.fromstring(response.text)
    assert root.tag == "Response"
    return [(verb.tag, dict(verb.attrib), (verb.text or "").strip()) for verb in root]


def retry_of(response: httpx.Response) -> tuple[str, str]:
    """The (URL, method) a retry answer redirects to, after its pause."""
    (pause, attrs, _), (redirect, redirect_attrs, url) = verbs(response)
    assert (pause, attrs) == ("Pause", {"length": "1"})
    assert redirect == "Redirect"
    return url, redirect_attrs["method"]


def query_of(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


@pytest.fixture
async def h(voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path) -> Harness:
    return make_harness(voicesim, voicesim_clock, tmp_path, strategy="conference")


async def test_a_failing_twiml_route_is_retried_twice_then_apologises_and_hangs_up(
    h: Harness, tmp_path: Path
) -> None:
    form = inbound_form(h, "CA" + "7" * 32)
    with table_away(tmp_path, "calls"):
        first = await deliver(h, f"{BASE}/twiml/voice", form)
        url, method = retry_of(first)
        assert (url, method) == (f"{BASE}/twiml/voice?retry=1", "POST")
        second = await deliver(h, url, form)  # Twilio's signature over the retry URL checks out
        url, method = retry_of(second)
        assert (url, method) == (f"{BASE}/twiml/voice?retry=2", "POST")
        last = await deliver(h, url, form)
    assert verbs(last) == [("Say", {}, TWIML_APOLOGY), ("Hangup", {}, "")]
    # The retry URL is signed like any other: a forged or altered retry is refused.
    forged = await send(
        h.app,
        f"{BASE}/twiml/voice?retry=1",
        form,
        auth_token=h.emu.auth_token,
        signed_url=f"{BASE}/twiml/voice",
    )
    assert forged.status_code == 403


async def test_a_retry_after_the_database_is_back_answers_as_usual(h: Harness, tmp_path: Path) -> None:
    h.add_agent()
    form = inbound_form(h, "CA" + "7" * 32)
    with table_away(tmp_path, "calls"):
        url, _ = retry_of(await deliver(h, f"{BASE}/twiml/voice", form))
    answer = verbs(await deliver(h, url, form))
    assert [tag for tag, _, _ in answer] == ["Say", "Dial"]
    assert [c.customer_call_sid for c in h.services.store.list_calls()] == ["CA" + "7" * 32]


async def test_a_caller_is_connected_once_the_database_is_back_within_the_retries(
    h: Harness, tmp_path: Path
) -> None:
    """End to end: voicesim (as Twilio) follows the retry, signed, and the caller reaches the agent."""
    h.add_agent()
    with table_away(tmp_path, "calls"):
        call = h.emu.inbound_call("+15551230001", "+15550001000")
        await h.clock.advance(0.5)
    await h.clock.advance(20)
    voice = [e.data for e in h.emu.events if e.type == "webhook" and "/twiml/voice" in e.data["url"]]
    assert [(urlsplit(v["url"]).query, v["status"]) for v in voice] == [("", 200), ("retry=1", 200)]
    view = h.view(call.sid)
    assert view.agent_leg is not None
    assert not [a for a in h.emu.alerts if a.call_sid == call.sid]  # no "application error"


async def test_a_caller_hears_an_apology_when_the_database_stays_away(h: Harness, tmp_path: Path) -> None:
    h.add_agent()
    with table_away(tmp_path, "calls"):
        call = h.emu.inbound_call("+15551230001", "+15550001000")
        await h.clock.advance(10)
        assert call.status == "completed"
    said = [seg.detail for seg in h.emu.media.segments(call.sid) if seg.kind == "speech"]
    assert said == [TWIML_APOLOGY]
    assert h.services.store.list_calls() == []


async def test_a_failing_hold_document_retries_its_get_and_never_hangs_up(h: Harness, tmp_path: Path) -> None:
    """The retries keep the method and the query; the last answer keeps the customer on music (HoldUrl
    allows only Play/Say/Pause/Redirect: no apology telling a held caller to call again, no hang-up)
    and loops back to the document, which looks at the records again."""
    await h.held()
    hold = h.view(h.services.store.list_calls()[0].id).hold
    assert hold is not None
    params = "since=20&CallSid=CA" + "1" * 32
    with table_away(tmp_path, "holds"):
        first = await deliver(h, f"{BASE}/twiml/conference/hold-music/{hold.id}?{params}", method="GET")
        url, method = retry_of(first)
        assert method == "GET"
        assert query_of(url) == [("since", "20"), ("CallSid", "CA" + "1" * 32), ("retry", "1")]
        url, _ = retry_of(await deliver(h, url, method="GET"))
        assert query_of(url)[-1] == ("retry", "2")
        last = await deliver(h, url, method="GET")
    music = h.services.twiml.music
    again = f"{BASE}/twiml/conference/hold-music/{hold.id}"
    assert verbs(last) == [("Play", {}, music), ("Redirect", {"method": "GET"}, again)]


async def test_a_retried_dial_action_still_knows_how_the_dial_ended(h: Harness, tmp_path: Path) -> None:
    """A ``<Redirect>`` does not re-send ``DialCallStatus``: the retry URL carries it."""
    customer, _ = await h.connected()
    call_id = h.view(customer).call.id
    action = f"{BASE}/twiml/action/{call_id}"
    form = inbound_form(h, customer, DialCallStatus="no-answer")
    with table_away(tmp_path, "calls"):
        url, method = retry_of(await deliver(h, action, form))
    assert method == "POST"
    assert query_of(url) == [("DialCallStatus", "no-answer"), ("retry", "1")]
    plain = inbound_form(h, customer)  # what Twilio POSTs to a <Redirect>
    retried = verbs(await deliver(h, url, plain))
    assert retried == verbs(await deliver(h, action, form))
    assert retried != verbs(await deliver(h, action, plain))  # it did matter


async def test_a_failing_status_callback_is_still_an_error(h: Harness, tmp_path: Path) -> None:
    """Twilio logs a callback answered with an error in its Debugger (and may retry it)."""
    form = inbound_form(h, "CA" + "7" * 32, CallStatus="ringing", SequenceNumber="1")
    with table_away(tmp_path, "calls"):
        response = await deliver(h, f"{BASE}/webhooks/call-status", form)
    assert response.status_code == 503
    assert response.json()["type"].endswith("/database-unavailable")


async def test_a_domain_error_in_a_twiml_route_is_still_problem_json(h: Harness) -> None:
    response = await deliver(h, f"{BASE}/twiml/legs/enqueue/nope", inbound_form(h, "CA" + "7" * 32))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def failed_three_times(h: Harness, url: str, form: dict[str, str]) -> httpx.Response:
    """Deliver ``url`` and its two retries with callhold's holds table away; the last answer."""
    answer = await deliver(h, url, form)
    for _ in range(2):
        url, _method = retry_of(answer)
        answer = await deliver(h, url, form)
    return answer


async def test_legs_hold_documents_keep_each_party_on_hold_when_callhold_cannot_read_the_hold(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    # The agent's music and the customer's move into the hold's queue: neither leg is hung up nor
    # told to call again -- the agent stays on music, the customer goes into its hold's own queue
    # (named from the hold's id, its <Enqueue> action from its Call SID), as if nothing failed.
    h = make_harness(voicesim, voicesim_clock, tmp_path, strategy="legs")
    customer, agent = await h.held()
    hold = h.view(customer).hold
    assert hold is not None and hold.queue_name is not None
    with table_away(tmp_path, "holds"):
        music = await failed_three_times(
            h, f"{BASE}/twiml/legs/hold-music/{hold.id}?again=1", inbound_form(h, agent)
        )
        queue = await failed_three_times(h, f"{BASE}/twiml/legs/enqueue/{hold.id}", inbound_form(h, customer))
    again = f"{BASE}/twiml/legs/hold-music/{hold.id}?again=1"
    assert verbs(music) == [("Play", {}, h.services.twiml.music), ("Redirect", {"method": "POST"}, again)]
    (enqueue,) = ET.fromstring(queue.text)
    assert (enqueue.tag, (enqueue.text or "").strip()) == ("Enqueue", hold.queue_name)
    assert enqueue.attrib["action"] == f"{BASE}/twiml/enqueue-action/{customer}"
    assert enqueue.attrib["waitUrl"] == f"{BASE}/twiml/conference/hold-music/{hold.id}"
    # ... which is what the records give once they are back.
    assert (
        queue.text
        == (await deliver(h, f"{BASE}/twiml/legs/enqueue/{hold.id}", inbound_form(h, customer))).text
    )
