"""Assertions shared by the API tests."""

from __future__ import annotations

from typing import Any

import httpx

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    """``response`` is RFC 9457 problem JSON of ``status`` and type ``.../problems/<kind>``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["type"] == f"https://callhold.dev/problems/{kind}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body
