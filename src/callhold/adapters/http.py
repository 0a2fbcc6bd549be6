"""The twilio SDK's async HTTP client, optionally sending every request to another base URL.

With no base URL it is exactly the SDK's client (real Twilio). With one (say a standalone
voicesim at ``http://127.0.0.1:8765``) the scheme and host of each Twilio URL are replaced and
nothing else changes: same paths, same auth, same bodies.

Every request has a timeout (:data:`DEFAULT_TIMEOUT` unless given): the SDK passes ``None`` when its
caller sets none, which aiohttp takes as *no* limit, so a connection Twilio never answers would hold
an API request, a webhook or a timer's work for ever. Getting a connection (from the pool, or a new
one) has its own, shorter limit, :data:`CONNECT_TIMEOUT`: aiohttp then raises
``ConnectionTimeoutError``, which says the request was never sent -- a plain refusal -- where a
single total limit would raise the same ``TimeoutError`` whether or not Twilio got the request
(``TwilioTelephony`` tells the two apart: an unanswered request's outcome is unknown).

The SDK's own ``request`` forwards only a number of seconds to aiohttp, so the request is sent here,
the way the SDK sends it (same arguments, logging and response object), with aiohttp's
``ClientTimeout``. Inside a TwiML webhook (:mod:`callhold.budget`) a request gets at most the time
left, and none is sent with too little left.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiohttp import ClientSession, ClientTimeout
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response

from callhold import budget

__all__ = ["CONNECT_TIMEOUT", "DEFAULT_TIMEOUT", "RebasedAsyncHttpClient"]

DEFAULT_TIMEOUT = 10.0
"""Seconds a request to Twilio's REST API may take in all (connecting, sending, the reply)."""

CONNECT_TIMEOUT = 5.0
"""Seconds to get a connection (waiting for the pool, connecting; at most half the total timeout)."""


class RebasedAsyncHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """``AsyncTwilioHttpClient`` with an optional base-URL override (create inside a running loop)."""

    def __init__(
        self, base_url: str | None = None, *, timeout: float | None = DEFAULT_TIMEOUT, **kwargs: Any
    ) -> None:
        # aiohttp sessions belong to an event loop: make the pooled session on first use.
        super().__init__(pool_connections=False, timeout=timeout, **kwargs)
        self.session: Any = None
        self.base_url = base_url

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
        """Send the request (to ``base_url`` when set), within ``timeout`` or else the client's.

        Credentials go in an ``Authorization`` header: aiohttp deprecates its ``auth=`` argument.
        """
        if timeout is None:
            timeout = self.timeout
        if budget.spent():  # inside a TwiML webhook: Twilio waits 15 s for its answer
            raise budget.BudgetSpent(f"under {budget.MIN_REQUEST} s left of the webhook's time: not sent")
        left = budget.remaining()
        if left is not None:
            timeout = left if timeout is None else min(timeout, left)
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers = {**(headers or {}), "Authorization": f"Basic {token}"}
        if self.session is None:
            self.session = ClientSession(trace_configs=self.trace_configs)
        if self.base_url:
            base, parts = urlsplit(self.base_url), urlsplit(url)
            path = base.path.rstrip("/") + parts.path
            url = urlunsplit((base.scheme, base.netloc, path, parts.query, parts.fragment))
        kwargs: dict[str, Any] = {
            "method": method.upper(),
            "url": url,
            "params": params,
            "data": data,
            "headers": headers,
            "allow_redirects": allow_redirects,
        }
        self.log_request(kwargs)
        limits = None
        if timeout is not None:
            # Shorter than the total, so that it fires first when no connection comes.
            limits = ClientTimeout(total=timeout, connect=min(CONNECT_TIMEOUT, timeout / 2))
        async with self.session.request(**kwargs, timeout=limits) as response:
            body = await response.text()
            self.log_response(response.status, response)
        self._test_only_last_response = Response(response.status, body, response.headers)
        return self._test_only_last_response
