"""What ``verify_twilio_signature`` reads, and which URL it checks.

* The body: at most ``MAX_WEBHOOK_BODY_BYTES`` (64 KiB), refused with 413 by its ``Content-Length``
  or, streamed, as soon as more arrived -- before any signature is computed (a forged signature on a
  huge body is a 413, and the rest of the body is never read).
* The URL: the public base URL + the path *as requested* (the ASGI ``raw_path``, %-escapes and all)
  + the query, as Twilio signs it; the decoded path only when the server gives no ``raw_path``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from starlette.datastructures import FormData, ImmutableMultiDict
from starlette.exceptions import HTTPException
from starlette.requests import Request
from tests.callhold.api.conftest import BASE, Desk
from twilio.request_validator import RequestValidator

from callhold.web.security import MAX_WEBHOOK_BODY_BYTES, public_url, verify_twilio_signature

TOKEN = "0123456789abcdef0123456789abcdef"
PUBLIC = "https://calls.example.com"
FORM = "application/x-www-form-urlencoded"
PAIRS = [("CallSid", "CA" + "1" * 32), ("CallStatus", "ringing")]


def sign(url: str, pairs: Sequence[tuple[str, str]] = ()) -> str:
    signed: str = RequestValidator(TOKEN).compute_signature(url, ImmutableMultiDict(list(pairs)))
    return signed


class Body:
    """An ASGI ``receive`` for ``chunks`` (a streamed body), counting the bytes handed out."""

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self.chunks = list(chunks)
        self.read = 0

    async def __call__(self) -> dict[str, Any]:
        if not self.chunks:
            return {"type": "http.disconnect"}
        chunk = self.chunks.pop(0)
        self.read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks)}


def request(
    body: Body,
    *,
    signature: str,
    content_length: str | None = None,
    path: str = "/webhooks/call-status",
    raw_path: bytes | None = None,
    query: bytes = b"",
    method: str = "POST",
) -> Request:
    headers = [(b"host", b"internal:8000"), (b"content-type", FORM.encode())]
    headers.append((b"x-twilio-signature", signature.encode()))
    if content_length is not None:
        headers.append((b"content-length", content_length.encode()))
    scope: dict[str, Any] = {
        "type": "http",
        "app": None,
        "method": method,
        "scheme": "http",
        "path": path,
        "query_string": query,
        "headers": headers,
        "server": ("internal", 8000),
    }
    if raw_path is not None:
        scope["raw_path"] = raw_path
    return Request(scope, body)


async def verify(req: Request) -> FormData:
    return await verify_twilio_signature(req, PUBLIC, TOKEN)


# -- the body limit -------------------------------------------------------------------------------
async def test_a_body_up_to_the_limit_is_read_and_checked() -> None:
    filler = "x" * (MAX_WEBHOOK_BODY_BYTES - len(urlencode([*PAIRS, ("Pad", "")])))
    pairs = [*PAIRS, ("Pad", filler)]
    body = urlencode(pairs).encode()
    assert len(body) == MAX_WEBHOOK_BODY_BYTES
    url = PUBLIC + "/webhooks/call-status"
    half = len(body) // 2
    streamed = Body([body[:half], body[half:]])
    form = await verify(request(streamed, signature=sign(url, pairs)))
    assert form["Pad"] == filler
    declared = Body([body])
    form = await verify(request(declared, signature=sign(url, pairs), content_length=str(len(body))))
    assert form["CallStatus"] == "ringing"


@pytest.mark.parametrize(
    ("content_length", "status"),
    [
        (str(MAX_WEBHOOK_BODY_BYTES + 1), 413),
        ("9" * 5000, 413),
        ("\u00b2", 400),
        ("-1", 400),
        ("1e9", 400),
        ("", 400),
    ],
)
async def test_a_declared_length_past_the_limit_or_malformed_is_refused_unread(
    content_length: str, status: int
) -> None:
    body = Body([b"CallSid=CA1"])
    with pytest.raises(HTTPException) as refused:
        await verify(request(body, signature="forged", content_length=content_length))
    assert refused.value.status_code == status
    assert body.read == 0


async def test_a_streamed_body_is_not_read_past_the_limit_and_no_signature_is_computed() -> None:
    """32 chunks of 16 KiB, the signature forged: 413 (not 403) once past 64 KiB, the rest unread."""
    chunk = b"A=" + b"x" * (16 * 1024 - 3) + b"&"
    body = Body([chunk] * 32)
    with pytest.raises(HTTPException) as refused:
        await verify(request(body, signature="forged"))
    assert refused.value.status_code == 413
    assert MAX_WEBHOOK_BODY_BYTES < body.read <= MAX_WEBHOOK_BODY_BYTES + len(chunk)


async def test_the_app_answers_problem_json_413_before_it_reads_a_huge_body(api: Desk) -> None:
    sent = 0

    async def huge() -> Any:
        nonlocal sent
        for _ in range(64):  # 64 MiB, if it were all read
            sent += 1024 * 1024
            yield b"A=" + b"x" * (1024 * 1024 - 3) + b"&"

    headers = {"X-Twilio-Signature": "forged", "Content-Type": FORM}
    response = await api.client.post("/webhooks/call-status", content=huge(), headers=headers)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert sent <= 2 * 1024 * 1024
    declared = await api.client.post(
        "/twiml/voice", content=b"x" * (MAX_WEBHOOK_BODY_BYTES + 1), headers=headers
    )
    assert declared.status_code == 413


# -- the URL the signature covers -----------------------------------------------------------------
async def test_the_path_is_checked_as_requested_with_its_escapes() -> None:
    """Twilio signs ``.../agent%2Dreminder`` as it requested it; the decoded path names the same
    resource by another URL, which is not what was signed."""
    escaped = PUBLIC + "/twiml/announce/H1/agent%2Dreminder"
    body = urlencode(PAIRS).encode()

    def req(signature: str) -> Request:
        return request(
            Body([body]),
            signature=signature,
            path="/twiml/announce/H1/agent-reminder",
            raw_path=b"/twiml/announce/H1/agent%2Dreminder",
        )

    assert public_url(req(""), PUBLIC) == escaped
    assert (await verify(req(sign(escaped, PAIRS))))["CallStatus"] == "ringing"
    with pytest.raises(HTTPException) as refused:
        await verify(req(sign(PUBLIC + "/twiml/announce/H1/agent-reminder", PAIRS)))
    assert refused.value.status_code == 403


def test_the_query_and_a_raw_path_holding_one_are_taken_once() -> None:
    # Some servers (older httpx) put the query in raw_path too: it is taken from query_string only.
    req = request(
        Body([]), signature="", raw_path=b"/twiml/x%20y?since=20", query=b"since=20", path="/twiml/x y"
    )
    assert public_url(req, PUBLIC + "/") == PUBLIC + "/twiml/x%20y?since=20"


def test_without_raw_path_the_decoded_path_is_used_as_before() -> None:
    req = request(Body([]), signature="", path="/webhooks/call-status", query=b"agent=alice")
    assert public_url(req, PUBLIC) == PUBLIC + "/webhooks/call-status?agent=alice"


def test_a_path_that_is_not_utf8_is_403() -> None:
    req = request(Body([]), signature="", raw_path=b"/twiml/\xff")
    with pytest.raises(HTTPException) as refused:
        public_url(req, PUBLIC)
    assert refused.value.status_code == 403


async def test_an_escaped_path_signed_as_requested_reaches_its_route(api: Desk) -> None:
    """Through the app (httpx passes the path as given, like an HTTP server)."""
    path = "/twiml/wait%2Dmusic"
    headers = {"X-Twilio-Signature": RequestValidator(api.emu.auth_token).compute_signature(BASE + path, {})}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url=BASE) as client:
        ok = await client.get(path, headers=headers)
        assert ok.status_code == 200 and "<Play" in ok.text
        decoded = RequestValidator(api.emu.auth_token).compute_signature(BASE + "/twiml/wait-music", {})
        refused = await client.get(path, headers={"X-Twilio-Signature": decoded})
        assert refused.status_code == 403
