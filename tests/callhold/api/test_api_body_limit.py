"""The JSON API's body limit reads ``Content-Length`` strictly: an odd value is a 413, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from tests.callhold.api.conftest import ADMIN, Desk


@pytest.mark.parametrize("declared", ["²", "9" * 5000, "-1", "1e3", "99999999999999999999"])
async def test_an_unreadable_content_length_is_refused_with_413(api: Desk, declared: str) -> None:
    # httpx will not send such headers: the ASGI request is built by hand.
    body = b'{"name": "Alice", "endpoint": "client:alice"}'
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/agents",
        "raw_path": b"/api/v1/agents",
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
    assert sent[0]["status"] == 413
    assert (await api.request("GET", "/agents")).json() == []  # nothing created
