"""Signed webhooks for callhold's flow tests: send one as Twilio would, or delay voicesim's own.

* :func:`signature` / :func:`send` -- sign ``url`` + form with the SDK's ``RequestValidator`` (repeated
  keys count, as Twilio signs them) and send it to an ASGI app, reached at any origin (a proxy's
  internal address, say) whatever URL was signed.
* :class:`Courier` -- sits between voicesim and callhold: requests matching a rule are answered
  ``204`` at once and kept, to be delivered later, unchanged (same body, same signature): a callback
  that arrives late, out of order, or twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import RequestValidator

Form = Mapping[str, str] | Sequence[tuple[str, str]]
ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


def _pairs(form: Form) -> list[tuple[str, str]]:
    return list(form.items()) if isinstance(form, Mapping) else list(form)


def signature(auth_token: str, url: str, form: Form = ()) -> str:
    """``X-Twilio-Signature`` for a request to ``url`` with ``form`` (GET: no form)."""
    signed: str = RequestValidator(auth_token).compute_signature(url, ImmutableMultiDict(_pairs(form)))
    return signed


async def send(
    app: Any,
    url: str,
    form: Form = (),
    *,
    auth_token: str | None,
    method: str = "POST",
    signed_url: str | None = None,
    signed_form: Form | None = None,
    reach_at: str | None = None,
    path: str | None = None,
) -> httpx.Response:
    """Send a webhook for ``url`` to ``app``.

    ``auth_token`` None sends no signature; ``signed_url`` / ``signed_form`` sign another URL or form
    than the ones sent (a forgery); ``reach_at`` is the origin the request really reaches
    (``http://internal:8000`` behind a proxy) and ``path`` the path it reaches there (a proxy may strip
    a prefix).
    """
    parts = urlsplit(url)
    origin = reach_at or f"{parts.scheme}://{parts.netloc}"
    target = (path or parts.path) + (f"?{parts.query}" if parts.query else "")
    pairs = _pairs(form)
    headers = {}
    if auth_token is not None:
        signed = pairs if signed_form is None else signed_form
        headers["X-Twilio-Signature"] = signature(auth_token, signed_url or url, signed)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=origin) as client:
        if method == "GET":
            return await client.get(target, headers=headers)
        return await client.request(
            method,
            target,
            content=urlencode(pairs).encode(),
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
        )


@dataclass
class Kept:
    """A request the courier answered for the app, to deliver later."""

    method: str
    path: str
    query: str
    headers: list[tuple[bytes, bytes]]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        """The form (last value of each key)."""
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


@dataclass
class Courier:
    """An ASGI app in front of ``app`` that keeps back the requests ``rules`` pick."""

    app: Any
    rules: list[Callable[[str, dict[str, str]], bool]] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)
    delivered: list[Kept] = field(default_factory=list)

    def keep_back(self, rule: Callable[[str, dict[str, str]], bool]) -> None:
        """Keep back every request for which ``rule(path, form)`` is true (until :meth:`deliver`)."""
        self.rules.append(rule)

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        request = Kept(
            scope["method"], scope["path"], scope["query_string"].decode(), list(scope["headers"]), body
        )
        if any(rule(request.path, request.form) for rule in self.rules):
            self.kept.append(request)
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        self.delivered.append(request)
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def deliver(self, request: Kept, base_url: str) -> httpx.Response:
        """Deliver ``request`` to the app now, exactly as it was sent (body and signature)."""
        headers = [(k.decode(), v.decode()) for k, v in request.headers if k.lower() != b"content-length"]
        url = request.path + (f"?{request.query}" if request.query else "")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=base_url) as c:
            return await c.request(request.method, url, content=request.body, headers=headers)

    def stop_keeping(self) -> None:
        """Let every later request through."""
        self.rules.clear()
