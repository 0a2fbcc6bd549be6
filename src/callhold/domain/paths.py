"""The TwiML paths that the domain's commands and replies reference.

Each is a path on callhold's webhook base; the web layer must serve it (signed, GET and POST) and the
telephony adapter makes it absolute. What each must return:

* :func:`conference_hold_music` — HoldUrl of a held conference participant (the customer). Only
  ``<Play>``/``<Say>``/``<Pause>``/``<Redirect>``; it must loop on its own (end with ``<Redirect>`` to
  itself), with the periodic "thanks for holding" reminder. Twilio fetches HoldUrl with GET by default.
* :func:`legs_hold_music` — the agent's call while its customer is held (legs): music (and, if wanted,
  an agent reminder) ending with ``<Redirect>`` to itself.
* :func:`legs_enqueue` — the customer's call while held (legs):
  ``<Enqueue waitUrl=<customer hold audio> action=<enqueue action>>{hold.queue_name}</Enqueue>``; the
  waitUrl returns the same content as the conference hold music (Twilio re-requests it, so it loops).
* :func:`legs_dequeue` — the agent's call on resume (legs):
  ``<Dial action=<dial action>><Queue url=legs_bridged(hold)>{hold.queue_name}</Queue></Dial>``.
  The ``<Queue url>`` is how a legs resume is confirmed (event ``LegsBridged``); it must answer with an
  empty ``<Response/>`` (or a short ``<Say>``).
* :func:`legs_customer_left` — the agent's call when the held customer hung up: a message, then hang up.
* :func:`customer_agent_left` — the customer's call when the agent hung up during a hold (both
  strategies): a message, then per :class:`~callhold.domain.policies.AgentHangupPolicy` back into the
  waiting queue (requeue) or ``<Hangup/>``.
* :func:`announce` — conference AnnounceUrl for the agent (``<Say>`` only); ``kind`` is
  ``agent-reminder`` or ``max-hold``. For a legs hold the same kinds use :func:`legs_agent_notice`.
* :func:`legs_agent_notice` — legs, the agent's call: ``<Say>`` the notice, then ``<Redirect>`` back to
  :func:`legs_hold_music`.
"""

from __future__ import annotations

__all__ = [
    "AGENT_REMINDER",
    "CALL_STATUS",
    "MAX_HOLD",
    "announce",
    "conference_hold_music",
    "connect",
    "customer_agent_left",
    "legs_agent_notice",
    "legs_bridged",
    "legs_customer_left",
    "legs_dequeue",
    "legs_enqueue",
    "legs_hold_music",
]

AGENT_REMINDER = "agent-reminder"
"""Notice kind: the agent is reminded the customer is still on hold."""
MAX_HOLD = "max-hold"
"""Notice kind: the maximum hold time was reached."""
CALL_STATUS = "/webhooks/call-status"
"""Where every leg's status callbacks go. Its query may name whose leg a new call is (``agent`` for
an outbound call placed for that agent; ``conference`` and ``role`` for a participant callhold
dialled), for callbacks Twilio delivers before the create request returned the Call SID."""


def connect(call_id: str) -> str:
    """A waiting customer whose turn came: connects them to the agent now assigned to the call."""
    return f"/twiml/connect/{call_id}"


def conference_hold_music(hold_id: str) -> str:
    """Hold audio for a held conference participant."""
    return f"/twiml/conference/hold-music/{hold_id}"


def legs_hold_music(hold_id: str) -> str:
    """The agent leg's hold music (legs strategy)."""
    return f"/twiml/legs/hold-music/{hold_id}"


def legs_enqueue(hold_id: str) -> str:
    """The customer leg's ``<Enqueue>`` into the hold's own queue (legs strategy)."""
    return f"/twiml/legs/enqueue/{hold_id}"


def legs_dequeue(hold_id: str, *, paced: bool = False) -> str:
    """The agent leg's ``<Dial><Queue>`` of the hold's queue: reconnects exactly that customer.
    ``paced``: after a pause, for an agent whose previous try failed at once (the queue does not
    exist until the customer enters it, reference §4.3), so it tries about once a second."""
    return f"/twiml/legs/dequeue/{hold_id}" + ("?paced=1" if paced else "")


def legs_bridged(hold_id: str) -> str:
    """The ``<Queue url>`` of :func:`legs_dequeue`: requested on the customer just before the bridge."""
    return f"/twiml/legs/bridged/{hold_id}"


def legs_customer_left(call_id: str) -> str:
    """Tells the agent that the held customer hung up, then hangs up."""
    return f"/twiml/legs/customer-left/{call_id}"


def customer_agent_left(call_id: str) -> str:
    """Tells the customer the agent left, then requeues or hangs up (per the configured policy)."""
    return f"/twiml/customer/agent-left/{call_id}"


def announce(hold_id: str, kind: str) -> str:
    """A notice for the agent of a conference hold (AnnounceUrl)."""
    return f"/twiml/announce/{hold_id}/{kind}"


def legs_agent_notice(hold_id: str, kind: str) -> str:
    """A notice for the agent of a legs hold, which then goes back to the hold music."""
    return f"/twiml/legs/agent-notice/{hold_id}/{kind}"
