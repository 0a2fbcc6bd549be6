"""How long the TwiML webhook being answered may still spend asking Twilio's REST API.

Twilio waits 15 s in all for a webhook's answer, connecting included, then fails the request
(error 11205), tries the number's fallback URL if any, else plays its application error and hangs up
(reference: twilio.com/docs/api/errors/11205). ``/twiml/voice`` and ``/twiml/connect`` dial the agent
(Participants create) before they answer, and may try up to three agents, each request up to
``CALLHOLD_TWILIO_TIMEOUT`` (10 s) and a look-up after a request that got no answer: far more than 15 s.

So those routes run inside :func:`spending` (:data:`TWIML_BUDGET`): every REST request made meanwhile
is given at most the time left (:class:`~callhold.adapters.http.RebasedAsyncHttpClient`), none is
sent with less than :data:`MIN_REQUEST` left (:class:`BudgetSpent`, a refusal: nothing was sent), and
no further agent is tried (:meth:`~callhold.desk.AgentDesk.connect_agent`): the caller waits in line
instead, and the next free agent takes them. The deadline is a context variable: each request's
task has its own, and work outside a webhook (the JSON API, timers) has none.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["MIN_REQUEST", "TWIML_BUDGET", "BudgetSpent", "remaining", "spending", "spent"]

TWIML_BUDGET = 11.0
"""Seconds a TwiML webhook may spend on Twilio's REST API: Twilio's 15 s, less up to 2 s of its
connecting to callhold, callhold's own work and the network back."""

MIN_REQUEST = 1.0
"""Seconds left below which no REST request is sent: it would most likely get no answer in time,
and an unanswered request leaves its outcome unknown."""

_DEADLINE: ContextVar[float | None] = ContextVar("callhold_twilio_deadline", default=None)


class BudgetSpent(Exception):
    """No time left in the webhook's budget to send a REST request (it was not sent)."""


@contextmanager
def spending(seconds: float) -> Iterator[None]:
    """Requests to Twilio made inside must all be done within ``seconds`` from now (nested: the
    earlier deadline stands)."""
    deadline = time.monotonic() + seconds
    outer = _DEADLINE.get()
    token = _DEADLINE.set(deadline if outer is None else min(outer, deadline))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def remaining() -> float | None:
    """Seconds left in the budget being spent, or ``None`` outside :func:`spending`."""
    deadline = _DEADLINE.get()
    return None if deadline is None else deadline - time.monotonic()


def spent() -> bool:
    """Too little time left for one more REST request (always ``False`` outside :func:`spending`)."""
    left = remaining()
    return left is not None and left < MIN_REQUEST
