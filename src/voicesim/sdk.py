"""HTTP clients that point the official ``twilio`` SDK at voicesim, unchanged.

* :class:`InProcessHttpClient` / :class:`AsyncInProcessHttpClient` call the emulator's route table
  directly: no sockets, no server (the SDK's own tests do the same with their "holodeck").
* :class:`ForwardingHttpClient` / :class:`AsyncForwardingHttpClient` send real HTTP to a running
  ``python -m voicesim``, rewriting the scheme and host of every Twilio URL (any subdomain, any
  edge or region).

``client(emu)`` builds a ready ``twilio.rest.Client``.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from twilio.http import AsyncHttpClient, HttpClient
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from voicesim.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, Emulator
from voicesim.rest.app import Request, Router, build_router, dispatch
from voicesim.rest.params import Params

__all__ = [
    "AsyncForwardingHttpClient",
    "AsyncInProcessHttpClient",
    "ForwardingHttpClient",
    "InProcessHttpClient",
    "client",
]

_log = logging.getLogger("voicesim.sdk")


def _pairs(values: dict[str, object] | None) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in (values or {}).items():
        items = value if isinstance(value, list | tuple) else [value]
        for item in items:
            if item is None:
                continue
            text = ("true" if item else "false") if isinstance(item, bool) else str(item)
            pairs.append((key, text))
    return pairs


def _to_request(
    method: str,
    url: str,
    params: dict[str, object] | None,
    data: dict[str, object] | None,
    headers: dict[str, str] | None,
    auth: tuple[str, str] | None,
) -> Request:
    parts = urlsplit(url)
    lower = {k.lower(): v for k, v in (headers or {}).items()}
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        lower["authorization"] = f"Basic {token}"
    # A followed page (``next_page_uri``) carries its query in the URL itself, not in ``params``.
    query = Params([*parse_qsl(parts.query, keep_blank_values=True), *_pairs(params)])
    return Request(method.upper(), parts.path, query, Params(_pairs(data)), lower)


class InProcessHttpClient(HttpClient):  # type: ignore[misc]
    """A synchronous SDK transport that dispatches straight into an :class:`Emulator`."""

    def __init__(self, emulator: Emulator, router: Router | None = None) -> None:
        super().__init__(_log, is_async=False)
        self.emulator = emulator
        self._router = router or build_router()

    def request(
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
        """Serve one SDK request."""
        reply = dispatch(self.emulator, self._router, _to_request(method, url, params, data, headers, auth))
        text = "" if reply.body is None else json.dumps(reply.body)
        return Response(reply.status, text, {"Content-Type": reply.content_type})


class AsyncInProcessHttpClient(AsyncHttpClient):  # type: ignore[misc]
    """The asynchronous twin of :class:`InProcessHttpClient`, for the SDK's ``*_async`` methods."""

    def __init__(self, emulator: Emulator, router: Router | None = None) -> None:
        super().__init__(_log, is_async=True)
        self._sync = InProcessHttpClient(emulator, router)

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
        """Serve one SDK request."""
        return self._sync.request(method, url, params, data, headers, auth, timeout, allow_redirects)

    async def close(self) -> None:
        """Nothing to close."""


def _rewrite(base_url: str, url: str) -> str:
    """Replace scheme and host with ``base_url``'s, and prefix its path (voicesim mounted under one)."""
    base, parts = urlsplit(base_url), urlsplit(url)
    return urlunsplit(
        (base.scheme, base.netloc, base.path.rstrip("/") + parts.path, parts.query, parts.fragment)
    )


class ForwardingHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """The SDK's own HTTP client, with every Twilio host replaced by ``base_url``."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        """Send the request to voicesim instead of api.twilio.com."""
        return super().request(method, _rewrite(self.base_url, url), *args, **kwargs)


class AsyncForwardingHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """The SDK's async HTTP client, with every Twilio host replaced by ``base_url``.

    Like the SDK's own async client, create it inside a running event loop and ``await close()``.
    """

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
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
        """Send the request to voicesim instead of api.twilio.com.

        Basic auth goes in a header: aiohttp deprecates its ``auth=`` (a DeprecationWarning that
        ``filterwarnings = error`` turns into a failure, attributed to aiohttp_retry, not twilio).
        """
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers = {**(headers or {}), "Authorization": f"Basic {token}"}
        return await super().request(
            method, _rewrite(self.base_url, url), params, data, headers, None, timeout, allow_redirects
        )


def client(
    emulator: Emulator | None = None,
    *,
    base_url: str | None = None,
    account_sid: str | None = None,
    auth_token: str | None = None,
    api_key: str | None = None,
    api_secret: str | None = None,
    asynchronous: bool = False,
) -> Client:
    """A ``twilio.rest.Client`` talking to ``emulator`` in process, or to a server at ``base_url``.

    The credentials default to the emulator's own; for a server, to the defaults of
    ``python -m voicesim`` (:data:`~voicesim.emulator.DEFAULT_ACCOUNT_SID` and
    :data:`~voicesim.emulator.DEFAULT_AUTH_TOKEN`): pass ``account_sid`` and ``auth_token`` when
    it was started with ``--account-sid`` / ``--auth-token``. With ``api_key`` and ``api_secret``
    it authenticates with that API key, as ``Client(api_key, api_secret, account_sid)`` does
    (:mod:`voicesim.keys`).
    """
    http: HttpClient
    if emulator is not None:
        account_sid = account_sid or emulator.account_sid
        auth_token = auth_token or emulator.auth_token
        http = AsyncInProcessHttpClient(emulator) if asynchronous else InProcessHttpClient(emulator)
    elif base_url is not None:
        account_sid = account_sid or DEFAULT_ACCOUNT_SID
        auth_token = auth_token or DEFAULT_AUTH_TOKEN
        http = AsyncForwardingHttpClient(base_url) if asynchronous else ForwardingHttpClient(base_url)
    else:
        raise ValueError("give an emulator or a base_url")
    if api_key is not None:
        return Client(api_key, api_secret, account_sid, http_client=http)
    return Client(account_sid, auth_token, http_client=http)
