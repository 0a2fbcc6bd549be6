"""Methods: a 405 says which methods the resource allows, and the probes and the console answer HEAD."""

from __future__ import annotations

import pytest
from api_checks import assert_problem
from tests.callhold.api.conftest import Desk


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v1/calls", {"GET", "POST"}),
        ("DELETE", "/api/v1/stats", {"GET"}),
        ("POST", "/healthz", {"GET", "HEAD"}),
        ("PUT", "/console", {"GET", "HEAD"}),
    ],
)
async def test_a_405_names_the_allowed_methods(api: Desk, method: str, path: str, allowed: set[str]) -> None:
    """RFC 9110 section 15.5.6: a 405 MUST carry ``Allow``."""
    response = await api.client.request(method, path, headers=api.admin)
    assert_problem(response, 405, "method-not-allowed")
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/console", "/console/console.js"])
async def test_probes_and_the_console_answer_head_as_get_without_a_body(api: Desk, path: str) -> None:
    got = await api.client.get(path)
    head = await api.client.head(path)
    assert (head.status_code, got.status_code) == (200, 200)
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == got.headers["content-length"]
    assert head.content == b""


async def test_a_401_still_says_bearer(api: Desk) -> None:
    response = await api.client.get("/api/v1/calls")
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
