"""``/Queues`` and ``/Queues/{QueueSid}/Members``: create, list, fetch, update, delete; dequeue (§4.4).

Thin handlers over :class:`voicesim.queues.Queues`: parse the form, call the engine (which raises
:class:`~voicesim.queues.QueueError` with Twilio's code for bad input), render Twilio's JSON.
"""

from __future__ import annotations

from typing import Any

from voicesim.emulator import Emulator
from voicesim.queues import CallQueue, Member
from voicesim.rest.app import API_PREFIX, Reply, Request
from voicesim.rest.errors import InvalidParameter
from voicesim.rest.params import Params
from voicesim.rest.render import account_uri, date, page

__all__ = ["ROUTES", "member_json", "queue_json"]


def queue_json(emu: Emulator, queue: CallQueue) -> dict[str, Any]:
    """A Queue resource (reference §4.4; the OAI ``api.v2010.account.queue`` schema)."""
    now = emu.clock.now()
    return {
        "account_sid": queue.account_sid,
        "average_wait_time": queue.average_wait_time(now),
        "current_size": queue.current_size,
        "date_created": date(emu, queue.date_created),
        "date_updated": date(emu, queue.date_updated),
        "friendly_name": queue.friendly_name,
        "max_size": queue.max_size,
        "sid": queue.sid,
        "uri": f"{account_uri(emu)}/Queues/{queue.sid}.json",
    }


def member_json(emu: Emulator, member: Member) -> dict[str, Any]:
    """A Member resource: the waiting call, its position (1 = front) and seconds waited."""
    queue = member.queue
    return {
        "call_sid": member.call.sid,
        "date_enqueued": date(emu, member.date_enqueued),
        "position": queue.position(member),
        "queue_sid": queue.sid,
        "uri": f"{account_uri(emu)}/Queues/{queue.sid}/Members/{member.call.sid}.json",
        "wait_time": member.wait_time(emu.clock.now()),
    }


def _max_size(params: Params) -> int | None:
    raw = params.get("MaxSize")
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidParameter(f"MaxSize must be an integer, not {raw!r}") from None


def create_queue(emu: Emulator, request: Request) -> Reply:
    """``POST /Queues.json``: FriendlyName (required, unique, ≤ 64), MaxSize (1..5000, default 1000)."""
    params = request.form
    queue = emu.queues.create(params.get("FriendlyName"), _max_size(params))
    return Reply(201, queue_json(emu, queue))


def list_queues(emu: Emulator, request: Request) -> Reply:
    """``GET /Queues.json``."""
    return Reply(200, page(emu, request, "queues", emu.queues.all(), queue_json))


def fetch_queue(emu: Emulator, request: Request) -> Reply:
    """``GET /Queues/{Sid}.json``."""
    return Reply(200, queue_json(emu, emu.queues.fetch(request.path_params["Sid"])))


def update_queue(emu: Emulator, request: Request) -> Reply:
    """``POST /Queues/{Sid}.json``: FriendlyName and/or MaxSize."""
    params = request.form
    queue = emu.queues.update(request.path_params["Sid"], params.get("FriendlyName"), _max_size(params))
    return Reply(200, queue_json(emu, queue))


def delete_queue(emu: Emulator, request: Request) -> Reply:
    """``DELETE /Queues/{Sid}.json`` (204); a queue with callers in it is refused."""
    emu.queues.delete(request.path_params["Sid"])
    return Reply(204)


def list_members(emu: Emulator, request: Request) -> Reply:
    """``GET /Queues/{QueueSid}/Members.json``: front first."""
    members = emu.queues.members(request.path_params["QueueSid"])
    return Reply(200, page(emu, request, "queue_members", members, member_json))


def fetch_member(emu: Emulator, request: Request) -> Reply:
    """``GET /Queues/{QueueSid}/Members/{CallSid}.json``; ``Front`` is the head of the queue."""
    member = emu.queues.member(request.path_params["QueueSid"], request.path_params["CallSid"])
    return Reply(200, member_json(emu, member))


def update_member(emu: Emulator, request: Request) -> Reply:
    """``POST /Queues/{QueueSid}/Members/{CallSid}.json``: dequeue to ``Url`` (required), ``Method``."""
    params = request.form
    url = params.url("Url")
    if url is None:
        raise InvalidParameter("Missing required parameter Url", 21205)
    method = params.method("Method")
    member = emu.queues.dequeue(request.path_params["QueueSid"], request.path_params["CallSid"], url, method)
    return Reply(200, member_json(emu, member))


_BASE = f"{API_PREFIX}/Accounts/{{AccountSid}}/Queues"
ROUTES = [
    ("POST", f"{_BASE}.json", create_queue),
    ("GET", f"{_BASE}.json", list_queues),
    ("GET", f"{_BASE}/{{Sid}}.json", fetch_queue),
    ("POST", f"{_BASE}/{{Sid}}.json", update_queue),
    ("DELETE", f"{_BASE}/{{Sid}}.json", delete_queue),
    ("GET", f"{_BASE}/{{QueueSid}}/Members.json", list_members),
    ("GET", f"{_BASE}/{{QueueSid}}/Members/{{CallSid}}.json", fetch_member),
    ("POST", f"{_BASE}/{{QueueSid}}/Members/{{CallSid}}.json", update_member),
]
