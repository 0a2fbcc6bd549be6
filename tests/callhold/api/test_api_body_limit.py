"""The JSON API's body limit reads ``Content-Length`` strictly: a huge one is a 413, one that is not a
number a 400, never a 500; a route that reads no body ignores it (its body is never read)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.callhold.api.conftest import ADMIN, Desk


async def raw(api: Desk, method: str, path: str, declared: str, body: bytes = b"") -> int:
    """Send a request with ``Content-Length: declared`` (httpx will not send such headers)."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"callhold.test"),
            (b"content-type", b"application/json"),
            (b"content-length", declared.encode()),
            (b"authorization", f"Bearer {ADMIN}".encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("callhold.test", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await api.app(scope, receive, send)
    status: int = sent[0]["status"]
    return status


@pytest.mark.parametrize(
    ("declared", "status"), [("²", 400), ("9" * 5000, 413), ("-1", 400), ("1e3", 400), ("9" * 20, 413)]
)
async def test_an_unreadable_content_length_is_refused(api: Desk, declared: str, status: int) -> None:
    body = b'{"name": "Alice", "endpoint": "client:alice"}'
    assert await raw(api, "POST", "/api/v1/agents", declared, body) == status
    assert (await api.request("GET", "/agents")).json() == []  # nothing created


async def test_a_route_that_reads_no_body_ignores_its_content_length(api: Desk) -> None:
    assert await raw(api, "GET", "/api/v1/holds", "sxRk") == 200
