"""Every outbound HTTP request voicesim makes: signed, timed out, redirect-limited, logged.

Twilio signs each request with ``X-Twilio-Signature`` (HMAC-SHA1 over the URL and the sorted POST
parameters, keyed with the account's auth token; reference §6.2). voicesim signs every request it
makes -- TwiML fetches, actions, wait/hold/announce URLs, media, status callbacks and conference
events (Q15) -- with the twilio SDK's own ``RequestValidator``, so what validates against
voicesim validates against Twilio.

The transport is injected: by default a real ``httpx`` transport; URLs under a *mounted* base go
to an in-process ASGI app instead (no sockets), which is how tests run a webhook server and
voicesim in one event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from twilio.request_validator import RequestValidator

__all__ = ["WebhookRequest", "WebhookResponse", "Webhooks"]

#: Twilio fails a request whose whole response takes longer than this (reference §6.3).
RESPONSE_TIMEOUT = 15.0
#: Twilio follows at most this many HTTP redirects, then fails with 11215 (reference §6.1).
MAX_REDIRECTS = 10


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """One request to make. ``params`` keep their order; a key may repeat."""

    url: str
    method: str = "POST"
    params: Sequence[tuple[str, str]] = ()
    purpose: str = "twiml"
    call_sid: str | None = None


@dataclass(slots=True)
class WebhookResponse:
    """What came back, or the Twilio error code that the failure maps to."""

    status: int = 0
    content_type: str = ""
    body: bytes = b""
    url: str = ""
    error_code: int | None = None
    error: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return self.error_code is None and 200 <= self.status < 300

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (errors replaced)."""
        return self.body.decode("utf-8", "replace")


def signed_url_and_body(
    url: str, method: str, params: Sequence[tuple[str, str]]
) -> tuple[str, Mapping[str, str] | None]:
    """Where the parameters go: the query string for GET, a form body for POST."""
    if method == "GET":
        parts = urlsplit(url)
        query = parts.query + ("&" if parts.query and params else "") + urlencode(list(params))
        return urlunsplit(parts._replace(query=query)), None
    return url, dict(params)


class Webhooks:
    """Sends :class:`WebhookRequest`\\ s for one emulator."""

    def __init__(
        self,
        token_for: Callable[[], str],
        on_exchange: Callable[[WebhookRequest, WebhookResponse], None] | None = None,
    ) -> None:
        self._token_for = token_for
        self._on_exchange = on_exchange
        self._mounts: dict[str, httpx.AsyncBaseTransport] = {}
        self._default: httpx.AsyncBaseTransport | None = None
        self._client: httpx.AsyncClient | None = None

    def mount(self, base_url: str, app: Any) -> None:
        """Send requests whose URL starts with ``base_url`` to the ASGI ``app``, in process."""
        self._mounts[base_url.rstrip("/")] = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._client = None

    def use_transport(self, transport: httpx.AsyncBaseTransport | None) -> None:
        """Replace the transport for every unmounted URL (None: real network)."""
        self._default = transport
        self._client = None

    def _client_for(self) -> httpx.AsyncClient:
        if self._client is None:
            mounts: dict[str, httpx.AsyncBaseTransport | None] = {
                base + "/": t for base, t in self._mounts.items()
            }
            self._client = httpx.AsyncClient(
                transport=self._default,
                mounts=mounts,
                timeout=httpx.Timeout(RESPONSE_TIMEOUT, connect=10.0),
                follow_redirects=False,
            )
        return self._client

    def sign(self, url: str, params: Mapping[str, str] | None) -> str:
        """The ``X-Twilio-Signature`` value for a request to ``url`` with form ``params``."""
        return str(RequestValidator(self._token_for()).compute_signature(url, params or {}))

    async def send(self, request: WebhookRequest) -> WebhookResponse:
        """Make the request and map any failure to Twilio's error code."""
        response = await self._send(request)
        if self._on_exchange is not None:
            self._on_exchange(request, response)
        return response

    async def _send(self, request: WebhookRequest) -> WebhookResponse:
        method = request.method.upper()
        url = request.url
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return WebhookResponse(url=url, error_code=11100, error=f"invalid URL {url!r}")
        client = self._client_for()
        params = list(request.params)
        for _ in range(MAX_REDIRECTS + 1):
            target, form = signed_url_and_body(url, method, params)
            headers = {
                "X-Twilio-Signature": self.sign(target, form),
                "User-Agent": "TwilioProxy/1.1",
                "Accept": "*/*",
            }
            try:
                reply = await client.request(method, target, data=form, headers=headers)
            except httpx.TimeoutException as exc:
                return WebhookResponse(url=target, error_code=11205, error=f"timed out: {exc}")
            except (httpx.TransportError, OSError, ValueError) as exc:
                return WebhookResponse(url=target, error_code=11205, error=f"connection failed: {exc}")
            if reply.is_redirect and "location" in reply.headers:
                url = str(httpx.URL(target).join(reply.headers["location"]))
                if reply.status_code in (301, 302, 303):
                    method, params = "GET", []
                continue
            ctype = reply.headers.get("content-type", "").split(";")[0].strip().lower()
            response = WebhookResponse(
                status=reply.status_code,
                content_type=ctype,
                body=reply.content,
                url=target,
                headers=dict(reply.headers),
            )
            if not 200 <= reply.status_code < 300:
                response.error_code = 11200
                response.error = f"HTTP {reply.status_code} from {target}"
            return response
        return WebhookResponse(url=url, error_code=11215, error="too many HTTP redirects")

    async def aclose(self) -> None:
        """Close pooled connections."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
