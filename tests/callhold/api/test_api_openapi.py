"""The OpenAPI document is real (models, bearer security, problem responses), and schemathesis,
generating requests from it, finds no server error -- with the admin token and with an agent's token."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from schemathesis import GenerationMode

OPERATIONS = {
    ("post", "/api/v1/agents"),
    ("get", "/api/v1/agents"),
    ("get", "/api/v1/agents/{agent_id}"),
    ("patch", "/api/v1/agents/{agent_id}"),
    ("delete", "/api/v1/agents/{agent_id}"),
    ("post", "/api/v1/agents/{agent_id}/token"),
    ("get", "/api/v1/calls"),
    ("post", "/api/v1/calls"),
    ("get", "/api/v1/calls/{sid}"),
    ("post", "/api/v1/calls/{sid}/hold"),
    ("post", "/api/v1/calls/{sid}/resume"),
    ("post", "/api/v1/calls/{sid}/mute"),
    ("post", "/api/v1/calls/{sid}/unmute"),
    ("post", "/api/v1/calls/{sid}/participants"),
    ("delete", "/api/v1/calls/{sid}/participants/{call_sid}"),
    ("get", "/api/v1/holds"),
    ("get", "/api/v1/stats"),
    ("get", "/api/v1/me"),
}


async def test_the_openapi_documents_every_operation_with_models_and_problems(api) -> None:
    response = await api.client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    operations = {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if path.startswith("/api/")
    }
    assert operations == OPERATIONS
    assert not any(path.startswith(("/twiml", "/webhooks")) for path in document["paths"])
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "The admin token (sees everything) or an agent's API token (its own calls only).",
    }
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation["security"] == [{"bearer": []}], (method, path)
            responses = operation["responses"]
            for status in ("401", "422", "503"):
                (media_type, content), *others = responses[status]["content"].items()
                assert media_type == "application/problem+json" and others == []
                assert content["schema"]["title"] == "Problem"
                assert content["schema"]["required"] == ["type", "title", "status", "detail"]
                assert "$ref" not in str(content["schema"])  # self-contained
            # Every operation reads the database: its outage is documented where a client looks.
            assert "database-unavailable" in responses["503"]["description"], (method, path)
            assert responses["503"]["headers"]["Retry-After"]["schema"]["type"] == "integer"
            success = next(s for s in responses if s.startswith("2"))
            if success != "204":
                assert "$ref" in str(responses[success]["content"]["application/json"]["schema"]), (
                    method,
                    path,
                )
    hold = document["paths"]["/api/v1/calls/{sid}/hold"]["post"]
    assert set(hold["responses"]) == {
        "200", "400", "401", "403", "404", "409", "413", "422", "502", "503", "504"
    }  # fmt: skip
    # Operations that read no body answer neither 413 nor 400 for one.
    for path, method in [
        ("/api/v1/calls/{sid}/resume", "post"),
        ("/api/v1/calls/{sid}/participants/{call_sid}", "delete"),
        ("/api/v1/calls/{sid}", "get"),
    ]:
        assert not {"400", "413"} & set(document["paths"][path][method]["responses"]), (method, path)
    assert hold["parameters"][0]["schema"]["pattern"] == "^CA[0-9a-f]{32}$"
    update_agent = document["paths"]["/api/v1/agents/{agent_id}"]["patch"]
    # availability on an active call is no 409 (it waits for the call's end); an endpoint taken is
    assert update_agent["responses"]["409"]["description"] == "Another agent has this endpoint"
    assert "active call" in update_agent["description"]
    call_out = document["components"]["schemas"]["CallOut"]
    assert "hold_state" in call_out["required"]
    assert call_out["properties"]["hold_state"]["anyOf"] == [
        {"$ref": "#/components/schemas/HoldState"},
        {"type": "null"},
    ]
    assert (await api.client.get("/docs")).status_code == 200


@dataclass
class Target:
    """The app under fuzzing, its live call (alice's, on hold) and the token to fuzz with."""

    desk: Any
    sid: str
    token: str


@pytest.fixture
async def target(request: pytest.FixtureRequest, make_desk) -> Target:
    """The admin's token, or alice's (``request.param``: "admin" or "agent")."""
    desk = make_desk()
    sid, alice = await desk.live_call("alice")
    assert (await desk.request("POST", f"/calls/{sid}/hold", alice)).status_code == 200
    return Target(desk, sid, desk.admin["Authorization"] if request.param == "admin" else f"Bearer {alice}")


@pytest.mark.parametrize(
    ("target", "mode"),
    # Invalid data is refused before any ownership rule, so the admin's negative run covers it.
    [
        ("admin", "positive"),
        ("admin", "negative"),
        ("admin", "live"),
        ("agent", "positive"),
        ("agent", "live"),
    ],
    indirect=["target"],
)
def test_schemathesis_finds_no_server_error(target: Target, mode: str) -> None:
    """Every operation, 20 generated requests each, checked by all of schemathesis' checks (no
    server error, documented status codes, content types and response schemas, valid data accepted,
    invalid data rejected). ``live``: valid data aimed at the live call and at alice."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", target.desk.app)  # type: ignore[attr-defined]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {(op.method.lower(), op.path) for op in operations} == OPERATIONS
    generation = GenerationMode.NEGATIVE if mode == "negative" else GenerationMode.POSITIVE
    seen: Counter[int] = Counter()
    for operation in operations:
        known = {"sid": target.sid, "agent_id": "alice"} if mode == "live" else {}
        path_parameters = {name: value for name, value in known.items() if f"{{{name}}}" in operation.path}

        @hypothesis.given(
            case=operation.as_strategy(generation_mode=generation, path_parameters=path_parameters)
        )
        @hypothesis.settings(
            max_examples=20,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        )
        def check(case: schemathesis.Case) -> None:
            response = case.call_and_validate(headers={"Authorization": target.token})
            seen[response.status_code] += 1
            assert response.status_code < 500

        check()
    assert sum(seen.values()) > 150 and not any(status >= 500 for status in seen)
    if mode != "negative":
        assert any(200 <= status < 300 for status in seen)
