"""``/Queues`` and ``/Members`` over HTTP: every response checked against Twilio's OpenAPI (§4.4)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.voicesim.contract import API, Api, Contract, asgi_api, spec
from tests.voicesim.test_queues import World, enqueue, make_world
from tests.webhook_app import WebhookApp
from voicesim import Emulator, VirtualClock

CUSTOMER, OTHER = "+15551110001", "+15551110002"


@pytest.fixture
def world(voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp) -> World:
    return make_world(voicesim, voicesim_clock, app)


QUEUES = f"{API}/Accounts/{{AccountSid}}/Queues.json"
QUEUE = f"{API}/Accounts/{{AccountSid}}/Queues/{{Sid}}.json"
MEMBERS = f"{API}/Accounts/{{AccountSid}}/Queues/{{QueueSid}}/Members.json"
MEMBER = f"{API}/Accounts/{{AccountSid}}/Queues/{{QueueSid}}/Members/{{CallSid}}.json"
QUEUE_OPERATIONS = {
    ("POST", QUEUES),
    ("GET", QUEUES),
    ("GET", QUEUE),
    ("POST", QUEUE),
    ("DELETE", QUEUE),
    ("GET", MEMBERS),
    ("GET", MEMBER),
    ("POST", MEMBER),
}


@pytest.fixture
def contract() -> Contract:
    spec()  # skip (or fail under CI) when Twilio's OpenAPI description is missing
    return Contract()


@pytest.fixture
async def api(voicesim: Emulator, contract: Contract) -> AsyncIterator[Api]:
    async with asgi_api(voicesim, contract) as driver:
        yield driver


async def test_queue_create_fetch_list_update_delete(api: Api, voicesim: Emulator) -> None:
    created = await api.post("Queues.json", {"FriendlyName": "support"})
    assert created.status_code == 201
    body = created.json()
    assert body["friendly_name"] == "support" and body["max_size"] == 1000 and body["current_size"] == 0
    assert body["sid"].startswith("QU") and body["average_wait_time"] == 0
    sid = body["sid"]
    fetched = await api.get(f"Queues/{sid}.json")
    assert fetched.json() == body
    listed = await api.get("Queues.json")
    assert [q["sid"] for q in listed.json()["queues"]] == [sid]
    updated = await api.post(f"Queues/{sid}.json", {"FriendlyName": "sales", "MaxSize": "5000"})
    assert updated.status_code == 200
    assert (updated.json()["friendly_name"], updated.json()["max_size"]) == ("sales", 5000)
    deleted = await api.delete(f"Queues/{sid}.json")
    assert deleted.status_code == 204
    assert (await api.get(f"Queues/{sid}.json")).status_code == 404
    assert voicesim.queues.all() == []


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({}, 20001),  # FriendlyName is required
        ({"FriendlyName": "x" * 65}, 20001),
        ({"FriendlyName": "taken"}, 22003),  # a queue with that name already exists
        ({"FriendlyName": "new", "MaxSize": "5001"}, 20001),
        ({"FriendlyName": "new", "MaxSize": "0"}, 20001),
        ({"FriendlyName": "new", "MaxSize": "ten"}, 20001),
    ],
)
async def test_queue_create_bad_input_changes_nothing(
    api: Api, voicesim: Emulator, form: dict[str, str], code: int
) -> None:
    voicesim.queues.create("taken")
    response = await api.post("Queues.json", form)
    assert response.status_code == 400 and response.json()["code"] == code
    assert [q.friendly_name for q in voicesim.queues.all()] == ["taken"]


async def test_queue_update_bad_input_changes_nothing(api: Api, voicesim: Emulator) -> None:
    voicesim.queues.create("other")
    queue = voicesim.queues.create("support", 10)
    for form, code in (({"FriendlyName": "other", "MaxSize": "20"}, 22003), ({"MaxSize": "9999"}, 20001)):
        response = await api.post(f"Queues/{queue.sid}.json", form)
        assert response.status_code == 400 and response.json()["code"] == code
    assert (queue.friendly_name, queue.max_size) == ("support", 10)
    missing = await api.post("Queues/QU" + "0" * 32 + ".json", {"MaxSize": "20"})
    assert missing.status_code == 404 and missing.json()["code"] == 20404


async def test_members_list_fetch_front_and_dequeue(api: Api, world: World) -> None:
    world.app.twiml("/after", "<Say>discarded</Say>")
    world.app.twiml("/transfer", '<Say>Transferred</Say><Pause length="30"/>')
    first = world.call_in(CUSTOMER, enqueue("support", waitUrl="", action="/after"))
    await world.clock.advance(30)
    second = world.call_in(OTHER, enqueue("support", waitUrl="", action="/after"))
    await world.clock.advance(10)
    queue = world.emu.queues.find("support")
    assert queue is not None
    fetched = (await api.get(f"Queues/{queue.sid}.json")).json()
    assert fetched["current_size"] == 2 and fetched["average_wait_time"] == 25
    members = (await api.get(f"Queues/{queue.sid}/Members.json")).json()["queue_members"]
    assert [(m["call_sid"], m["position"], m["wait_time"]) for m in members] == [
        (first.sid, 1, 40),
        (second.sid, 2, 10),
    ]
    front = (await api.get(f"Queues/{queue.sid}/Members/Front.json")).json()
    assert front["call_sid"] == first.sid and front["queue_sid"] == queue.sid
    one = (await api.get(f"Queues/{queue.sid}/Members/{second.sid}.json")).json()
    assert one["position"] == 2
    # Dequeue the second caller (by Call SID) to new TwiML.
    dequeued = await api.post(
        f"Queues/{queue.sid}/Members/{second.sid}.json", {"Url": "http://app.test/transfer", "Method": "POST"}
    )
    assert dequeued.status_code == 200 and dequeued.json()["call_sid"] == second.sid
    assert dequeued.json()["position"] == 2
    await world.clock.advance(5)
    assert [(f["CallSid"], f["QueueResult"]) for f in world.to("/after")] == [(second.sid, "redirected")]
    assert [f["CallSid"] for f in world.to("/transfer")] == [second.sid]
    assert [m.call for m in queue.members] == [first]
    # A queue with a caller in it cannot be deleted.
    refused = await api.delete(f"Queues/{queue.sid}.json")
    assert refused.status_code == 400 and world.emu.queues.get(queue.sid) is queue


@pytest.mark.parametrize(
    ("form", "code", "status"),
    [
        ({}, 21205, 400),  # Url is required
        ({"Url": "not a url"}, 21205, 400),
        ({"Url": "http://app.test/x", "Method": "PUT"}, 20001, 400),
    ],
)
async def test_dequeue_bad_input_changes_nothing(
    api: Api, world: World, form: dict[str, str], code: int, status: int
) -> None:
    call = world.call_in(CUSTOMER, enqueue("support", waitUrl=""))
    await world.clock.advance(5)
    queue = world.emu.queues.find("support")
    assert queue is not None
    response = await api.post(f"Queues/{queue.sid}/Members/{call.sid}.json", form)
    assert response.status_code == status and response.json()["code"] == code
    await world.clock.advance(5)
    assert [m.call for m in queue.members] == [call] and call.status == "in-progress"


async def test_unknown_members_and_queues_are_404_naming_the_path(api: Api, world: World) -> None:
    """Twilio's 20404 message names the request path, as voicesim's Calls did already (r2, F6)."""
    queue = world.emu.queues.create("empty")
    unknown_call = "CA" + "f" * 32
    base = f"{API}/Accounts/{world.emu.account_sid}"
    for path in (
        f"Queues/{queue.sid}/Members/Front.json",
        f"Queues/{queue.sid}/Members/{unknown_call}.json",
        "Queues/QU" + "0" * 32 + "/Members.json",
        "Queues/nonsense.json",
    ):
        response = await api.get(path)
        assert response.status_code == 404 and response.json()["code"] == 20404, path
        assert response.json()["message"] == f"The requested resource {base}/{path} was not found"
    for method, path in (
        ("POST", f"Queues/{queue.sid}/Members/{unknown_call}.json"),
        ("POST", "Queues/QU" + "0" * 32 + ".json"),
        ("DELETE", "Queues/QU" + "0" * 32 + ".json"),
    ):
        response = await api.request(
            method, path, data={"Url": "http://app.test/x"} if method == "POST" else None
        )
        assert response.status_code == 404, path
        assert response.json()["message"] == f"The requested resource {base}/{path} was not found"


async def test_every_queue_operation_answers_success_and_errors_per_the_spec(
    api: Api, world: World, contract: Contract
) -> None:
    call = world.call_in(CUSTOMER, enqueue("support", waitUrl=""))
    await world.clock.advance(5)
    queue = world.emu.queues.find("support")
    assert queue is not None
    other = (await api.post("Queues.json", {"FriendlyName": "spare", "MaxSize": "5"})).json()["sid"]
    assert (await api.post("Queues.json", {"FriendlyName": "spare"})).status_code == 400
    assert (await api.get("Queues.json", params={"PageSize": "1"})).json()["next_page_uri"] is not None
    assert (await api.get("Queues.json", params={"PageSize": "0"})).status_code == 400
    assert (await api.get(f"Queues/{queue.sid}.json")).status_code == 200
    assert (await api.post(f"Queues/{other}.json", {"MaxSize": "10"})).status_code == 200
    assert (await api.post(f"Queues/{other}.json", {"MaxSize": "0"})).status_code == 400
    assert (await api.get(f"Queues/{queue.sid}/Members.json")).status_code == 200
    assert (await api.get(f"Queues/{queue.sid}/Members.json", params={"Page": "x"})).status_code == 400
    assert (await api.get(f"Queues/{queue.sid}/Members/{call.sid}.json")).status_code == 200
    assert (await api.post(f"Queues/{queue.sid}/Members/Front.json", {})).status_code == 400
    assert (
        await api.post(f"Queues/{queue.sid}/Members/Front.json", {"Url": "http://app.test/x"})
    ).status_code == 200
    assert (await api.get(f"Queues/{queue.sid}/Members/Front.json")).status_code == 404
    assert (await api.delete(f"Queues/{other}.json")).status_code == 204
    assert (await api.delete(f"Queues/{other}.json")).status_code == 404
    assert (await api.get(f"Queues/{other}.json")).status_code == 404
    assert (await api.get("Queues.json", auth=(world.emu.account_sid, "wrong"))).status_code == 401
    for method, template in QUEUE_OPERATIONS:
        seen = {status for m, t, status in contract.seen if (m, t) == (method, template)}
        assert any(200 <= s < 300 for s in seen), (method, template)
        assert any(400 <= s < 500 for s in seen), (method, template)
