"""Twilio refusing chosen requests: voicesim's in-process SDK transport, except that the requests a
predicate selects get Twilio's error answer. For tests of what callhold does when Twilio says no."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import twilio.rest
from twilio.http import AsyncHttpClient
from twilio.http.response import Response

from callhold.adapters.telephony import TwilioTelephony
from voicesim import Emulator
from voicesim.sdk import AsyncInProcessHttpClient

#: Selects the requests to refuse: (method, URL, form data).
Selector = Callable[[str, str, Mapping[str, object]], bool]


#: The arguments of one SDK request, as ``AsyncHttpClient.request`` takes them.
Sent = tuple[str, str, Any, Any, Any, Any, Any, bool]

#: ``RefusingTransport`` keywords for a refusal, Twilio having done nothing: 429 (20429), "never
#: processed" (docs/api/errors/20429), as it reaches the domain once callhold's retries are spent
#: (:func:`telephony_over` makes none). The default, 503 (20503, "temporarily unavailable"), is a
#: refusal too (``callhold.adapters.telephony.RETRIED_STATUSES``); a 500 is not: callhold takes the
#: request as possibly carried out (``uncertain``, ``UNCERTAIN_STATUSES``).
REFUSED: dict[str, Any] = {"status": 429, "code": 20429, "message": "Too many requests"}


class InterceptingTransport(AsyncHttpClient):  # type: ignore[misc]
    """voicesim's SDK transport with a say in each request: :meth:`intercept` gets it (``inner``
    sends it on to voicesim) and whether ``selects`` picks it."""

    def __init__(self, emu: Emulator, selects: Selector, logger: str) -> None:
        super().__init__(logging.getLogger(logger), is_async=True)
        self.inner = AsyncInProcessHttpClient(emu)
        self.selects = selects

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """:meth:`intercept` the request."""
        sent: Sent = (method, url, params, data, headers, auth, timeout, allow_redirects)
        return await self.intercept(sent, self.selects(method, url, data or {}))

    async def intercept(self, sent: Sent, selected: bool) -> Response:
        """Answer the request ``sent`` (``selected``: ``selects`` picked it)."""
        raise NotImplementedError


class RefusingTransport(InterceptingTransport):
    """voicesim's SDK transport answering each request ``selects`` picks as Twilio answers a
    refusal: ``status`` with Twilio's error JSON (``code``, ``message``, ``more_info``, ``status``).

    ``refused`` lists each refused request (``url`` and its form fields). ``limit``: more refusals
    than that raise, for a test that must catch callhold retrying a refused command in a loop.
    ``status`` and ``code`` may be changed between requests.
    """

    def __init__(
        self,
        emu: Emulator,
        selects: Selector,
        *,
        status: int = 503,
        code: int = 20503,
        message: str | None = None,
        limit: int | None = None,
    ) -> None:
        super().__init__(emu, selects, "tests.refusing_twilio")
        self.status, self.code = status, code
        self.message, self.limit = message, limit
        self.refused: list[dict[str, Any]] = []

    async def intercept(self, sent: Sent, selected: bool) -> Response:
        """Refuse the request if selected, else send it to voicesim."""
        if not selected:
            return await self.inner.request(*sent)
        _, url, _, data, *_ = sent
        self.refused.append({"url": url, **(data or {})})
        if self.limit is not None and len(self.refused) > self.limit:
            raise RuntimeError("callhold retries a refused command in a loop")
        body = {
            "code": self.code,
            "message": self.message or f"Refused ({self.code})",
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
        return Response(self.status, json.dumps(body), {"Content-Type": "application/json"})


def telephony_over(emu: Emulator, transport: AsyncHttpClient, public_base_url: str) -> TwilioTelephony:
    """callhold's telephony adapter with the SDK sending through ``transport``; a 429 is not sent
    again (as if the retries were spent: ``tests/callhold/adapters/test_telephony_rate_limit.py``
    tests them)."""
    client = twilio.rest.Client(emu.account_sid, emu.auth_token, http_client=transport)
    return TwilioTelephony(client, public_base_url, rate_limit_delays=())


class ServerError(InterceptingTransport):
    """voicesim's SDK transport, except that the first request ``selects`` picks is carried out by
    voicesim and then answered with Twilio's server error: ``status`` (500, 20500 by default) and
    Twilio's error JSON -- what Twilio's 20500 page warns of ("if you get a 500 ... and you retry the
    request, it is possible for a customer to receive multiple ... calls", docs/api/errors/20500).
    ``failed`` lists the URL of the request so answered."""

    def __init__(self, emu: Emulator, selects: Selector, *, status: int = 500, code: int = 20500) -> None:
        super().__init__(emu, selects, "tests.twilio_server_error")
        self.status, self.code = status, code
        self.failed: list[str] = []

    async def intercept(self, sent: Sent, selected: bool) -> Response:
        """Send to voicesim; if selected and the first, answer with the server error instead."""
        answer = await self.inner.request(*sent)
        if not selected or self.failed:
            return answer
        self.failed.append(sent[1])
        body = {
            "code": self.code,
            "message": "Internal Server Error" if self.status == 500 else f"Server error {self.status}",
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
        return Response(self.status, json.dumps(body), {"Content-Type": "application/json"})
