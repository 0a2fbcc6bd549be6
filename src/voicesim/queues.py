"""Queues: the Queue and Member resources, and the entry points of ``<Enqueue>`` and ``<Dial><Queue>``.

A :class:`CallQueue` is Twilio's Queue resource (``QU...``): created by ``POST /Queues`` or by the first
``<Enqueue>`` naming it (reference §4.1), at most ``max_size`` members (default 1000, maximum 5000; §4.4).
Each waiting call is a :class:`Member`, first in first out. The flows that run while a call waits or is
bridged live in :mod:`voicesim.queue_flows`; this module holds the records, the Python API used by tests
and by ``rest/queues.py``, and the bookkeeping every flow shares (join, leave, take the first member).

Bad input raises :class:`QueueError` (``code``, ``status``, ``message``), which the REST layer renders as
Twilio's error body; a rejected request changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from voicesim.calls import Source
from voicesim.process import Signal
from voicesim.sids import is_sid

if TYPE_CHECKING:
    from voicesim.calls import Call
    from voicesim.emulator import Emulator
    from voicesim.queue_flows import QueueBridge
    from voicesim.twiml.interpreter import Session
    from voicesim.twiml.verbs import Dial, Enqueue, Queue, Verb

__all__ = [
    "DEFAULT_MAX_SIZE",
    "MAX_NAME_LENGTH",
    "MAX_SIZE_LIMIT",
    "CallQueue",
    "Member",
    "QueueError",
    "Queues",
]

#: A new queue holds up to 1000 calls; the REST API may raise that to 5000 (reference §4.4, Q8).
DEFAULT_MAX_SIZE = 1000
MAX_SIZE_LIMIT = 5000
#: Queue names (FriendlyName, the ``<Enqueue>`` body) are at most 64 characters (reference §4.1, §7).
MAX_NAME_LENGTH = 64
#: The Member path segment that names the head of the queue (reference §4.4, [GoClient]).
FRONT = "Front"


class QueueError(Exception):
    """Bad input to the Queue or Member API: Twilio's ``code``, the HTTP ``status`` and a ``message``."""

    def __init__(self, message: str, *, code: int, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


def _not_found(what: str) -> QueueError:
    return QueueError(f"The requested resource {what} was not found", code=20404, status=404)


@dataclass(eq=False)
class Member:
    """One call waiting in a queue (the Member resource), and how it left."""

    call: Call
    queue: CallQueue
    date_enqueued: float
    #: When it left the queue (dequeued, left, hung up); None while waiting.
    left_at: float | None = None
    #: Why it left: ``leave``, ``error``, ``hangup``, ``redirected`` or ``dequeued`` (by ``<Dial><Queue>``).
    result: str | None = None
    #: Set when a ``<Dial><Queue>`` took it; the flow then bridges it.
    bridge: QueueBridge | None = None
    #: Its position when it left (Member JSON of a dequeued call shows where it was).
    last_position: int = 0

    @property
    def call_sid(self) -> str:
        """The member's Call SID."""
        return self.call.sid

    def wait_time(self, now: float) -> int:
        """Whole seconds spent in the queue so far (or until it left)."""
        until = now if self.left_at is None else self.left_at
        return int(until - self.date_enqueued)


@dataclass(eq=False)
class CallQueue:
    """A Queue resource and its members in order."""

    sid: str
    account_sid: str
    friendly_name: str
    max_size: int
    date_created: float
    date_updated: float
    joined: Signal[None]
    members: list[Member] = field(default_factory=list)
    deleted: bool = False

    @property
    def current_size(self) -> int:
        """How many calls wait in the queue now."""
        return len(self.members)

    def position(self, member: Member) -> int:
        """1-based position of ``member`` (1 is the front); where it was, once it has left."""
        if member in self.members:
            return self.members.index(member) + 1
        return member.last_position

    def average_wait_time(self, now: float) -> int:
        """Average seconds the current members have waited, computed now (the OAI description)."""
        if not self.members:
            return 0
        return int(sum(now - m.date_enqueued for m in self.members) / len(self.members))

    def wait_params(self, member: Member, now: float) -> tuple[tuple[str, str], ...]:
        """The parameters of every waitUrl request (reference §4.1)."""
        return (
            ("QueuePosition", str(self.position(member))),
            ("QueueSid", self.sid),
            ("QueueTime", str(member.wait_time(now))),
            ("AvgQueueTime", str(self.average_wait_time(now))),
            ("CurrentQueueSize", str(self.current_size)),
            ("MaxQueueSize", str(self.max_size)),
        )


class Queues:
    """Every queue of the emulator: records, the Python API, and the TwiML entry points."""

    def __init__(self, emu: Emulator) -> None:
        self._emu = emu
        self.by_sid: dict[str, CallQueue] = {}

    # -- lookups -----------------------------------------------------------------------------
    def get(self, sid: str) -> CallQueue | None:
        """The queue ``sid``, unless unknown or deleted."""
        queue = self.by_sid.get(sid)
        return None if queue is None or queue.deleted else queue

    def find(self, friendly_name: str) -> CallQueue | None:
        """The queue named ``friendly_name`` (names are unique per account; 22003 otherwise)."""
        return next((q for q in self.all() if q.friendly_name == friendly_name), None)

    def all(self) -> list[CallQueue]:
        """Every queue not deleted, in the order they were created."""
        return [q for q in self.by_sid.values() if not q.deleted]

    def fetch(self, sid: str) -> CallQueue:
        """The queue ``sid``; 20404 if unknown."""
        queue = self.get(sid) if is_sid(sid, "QU") else None
        if queue is None:
            raise _not_found(f"Queue {sid}")
        return queue

    def member_of(self, call: Call) -> Member | None:
        """The queue membership of ``call``, if it is waiting in a queue."""
        for queue in self.by_sid.values():
            for member in queue.members:
                if member.call is call:
                    return member
        return None

    # -- the Queue resource ------------------------------------------------------------------
    def create(self, friendly_name: str | None, max_size: int | None = None) -> CallQueue:
        """``POST /Queues``: a new empty queue; FriendlyName required, unique, at most 64 characters."""
        name = self._check_name(friendly_name, exclude=None)
        size = self._check_size(max_size, DEFAULT_MAX_SIZE)
        return self._new(name, size)

    def update(self, sid: str, friendly_name: str | None = None, max_size: int | None = None) -> CallQueue:
        """``POST /Queues/{Sid}``: rename and/or resize (everything checked before anything changes)."""
        queue = self.fetch(sid)
        name = queue.friendly_name if friendly_name is None else self._check_name(friendly_name, queue)
        size = self._check_size(max_size, queue.max_size)
        queue.friendly_name, queue.max_size = name, size
        queue.date_updated = self._emu.clock.now()
        self._emu.log("queue.updated", queue_sid=queue.sid, friendly_name=name, max_size=size)
        return queue

    def delete(self, sid: str) -> None:
        """``DELETE /Queues/{Sid}``: only an empty queue can go.

        Chosen, sources silent: the spec documents no error for a queue with callers in it; like
        Twilio-compatible APIs (SignalWire: "Only empty queues can be deleted") it is refused with 400.
        """
        queue = self.fetch(sid)
        if queue.members:
            message = f"Queue {sid} still has {queue.current_size} members; it must be empty"
            raise QueueError(message, code=20001)
        queue.deleted = True
        self._emu.log("queue.deleted", queue_sid=sid)

    def _check_name(self, name: str | None, exclude: CallQueue | None) -> str:
        if name is None or not name.strip():
            raise QueueError("Missing required parameter FriendlyName", code=20001)
        if len(name) > MAX_NAME_LENGTH:
            raise QueueError(f"FriendlyName must be at most {MAX_NAME_LENGTH} characters", code=20001)
        existing = self.find(name)
        if existing is not None and existing is not exclude:
            # 22003 "A queue with this name already exists" (reference §5.5).
            raise QueueError(f"A queue with the name {name!r} already exists", code=22003)
        return name

    @staticmethod
    def _check_size(value: int | None, default: int) -> int:
        if value is None:
            return default
        if not 1 <= value <= MAX_SIZE_LIMIT:
            raise QueueError(f"MaxSize must be between 1 and {MAX_SIZE_LIMIT}, not {value}", code=20001)
        return value

    def _new(self, name: str, max_size: int) -> CallQueue:
        emu = self._emu
        now = emu.clock.now()
        queue = CallQueue(
            sid=emu.sids.new("QU"),
            account_sid=emu.account_sid,
            friendly_name=name,
            max_size=max_size,
            date_created=now,
            date_updated=now,
            joined=Signal(emu.clock),
        )
        self.by_sid[queue.sid] = queue
        emu.log("queue.created", queue_sid=queue.sid, friendly_name=name, max_size=max_size)
        return queue

    # -- the Member resource -----------------------------------------------------------------
    def members(self, queue_sid: str) -> list[Member]:
        """``GET /Queues/{Sid}/Members``: the waiting calls, front first."""
        return list(self.fetch(queue_sid).members)

    def member(self, queue_sid: str, call_sid: str) -> Member:
        """``GET /Queues/{Sid}/Members/{CallSid}``; ``Front`` is the head of the queue."""
        queue = self.fetch(queue_sid)
        if call_sid == FRONT:
            if not queue.members:
                raise _not_found(f"Member {FRONT} of empty queue {queue_sid}")
            return queue.members[0]
        found = next((m for m in queue.members if m.call.sid == call_sid), None)
        if found is None:
            raise _not_found(f"Member {call_sid} of queue {queue_sid}")
        return found

    def dequeue(self, queue_sid: str, call_sid: str, url: str | None, method: str = "POST") -> Member:
        """``POST /Queues/{Sid}/Members/{CallSid}``: the member leaves and runs the TwiML at ``url``.

        Its Enqueue action is requested at once with ``QueueResult=redirected`` and the TwiML that comes
        back is not run (reference §4.1, §4.4). Returns the member (its position is where it was).
        """
        if not url:
            raise QueueError("Missing required parameter Url", code=21205)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise QueueError(f"Url is not a valid URL: {url}", code=21205)
        if method not in ("GET", "POST"):
            raise QueueError(f"Method must be GET or POST, not {method!r}", code=20001)
        member = self.member(queue_sid, call_sid)
        self.leave(member, "redirected")
        self._emu.calls.redirect(member.call, Source(url=url, method=method), reason="dequeue")
        return member

    # -- shared bookkeeping for the flows ----------------------------------------------------
    def join(self, verb: Enqueue, call: Call) -> tuple[CallQueue, Member | None]:
        """Find or create the ``<Enqueue>``'s queue and add ``call``; no member when it is full."""
        emu = self._emu
        queue = self.find(verb.name) or self._new(verb.name, DEFAULT_MAX_SIZE)
        if verb.max_queue_size is not None and verb.max_queue_size != queue.max_size:
            queue.max_size = verb.max_queue_size  # maxQueueSize (PyTwiML builder) sets the queue's size
            queue.date_updated = emu.clock.now()
        if queue.current_size >= queue.max_size:
            emu.log("queue.full", queue_sid=queue.sid, call_sid=call.sid)
            return queue, None
        member = Member(call, queue, emu.clock.now())
        queue.members.append(member)
        emu.log("queue.enqueued", queue_sid=queue.sid, call_sid=call.sid, position=queue.current_size)
        joined, queue.joined = queue.joined, Signal(emu.clock)
        joined.fire(None)
        return queue, member

    def leave(self, member: Member, result: str) -> bool:
        """Take ``member`` out of its queue with ``result``; False if it had already left."""
        queue = member.queue
        if member not in queue.members:
            return False
        member.last_position = queue.position(member)
        queue.members.remove(member)
        member.left_at = self._emu.clock.now()
        member.result = result
        self._emu.log(
            "queue.left",
            queue_sid=queue.sid,
            call_sid=member.call.sid,
            result=result,
            queue_time=member.wait_time(member.left_at),
        )
        return True

    def call_ended(self, call: Call) -> None:
        """Hook from :meth:`Emulator.call_ended`: a waiting call that hangs up leaves at once."""
        member = self.member_of(call)
        if member is not None:
            self.leave(member, "hangup")

    # -- TwiML entry points ------------------------------------------------------------------
    async def enqueue(self, session: Session, verb: Enqueue) -> Source | None:
        """``<Enqueue>`` on the session's call (see :func:`voicesim.queue_flows.run_enqueue`)."""
        from voicesim.queue_flows import run_enqueue

        return await run_enqueue(self, session, verb)

    async def dial(
        self, session: Session, verb: Dial, noun: Queue, following: Verb | None = None
    ) -> Source | None:
        """``<Dial><Queue>`` on the session's call (see :func:`voicesim.queue_dial.run_dial_queue`)."""
        from voicesim.queue_dial import run_dial_queue

        return await run_dial_queue(self, session, verb, noun, following)
