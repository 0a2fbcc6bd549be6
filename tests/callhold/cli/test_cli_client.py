"""The CLI's API client: whatever a server (or something in its place) answers, a message, no traceback.

The server here is an ``httpx.MockTransport`` handler standing in for whatever answers at ``--url``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from typer.testing import CliRunner, Result

from callhold import cli

URL = "http://callhold.test"
SID = "CA" + "0" * 32


def run(
    monkeypatch: pytest.MonkeyPatch,
    handler: Callable[[httpx.Request], httpx.Response],
    *args: str,
    url: str = URL,
    token: str = "t",
) -> Result:
    """``callhold *args`` against ``handler``."""
    client = httpx.Client(transport=httpx.MockTransport(handler))
    monkeypatch.setattr(cli.httpx, "request", client.request)
    try:
        return CliRunner().invoke(cli.app, [*args, "--url", url, "--token", token], env={"COLUMNS": "200"})
    finally:
        client.close()


def assert_clean_exit(result: Result, code: int) -> str:
    """The command exited with ``code`` by itself (not an uncaught exception); its one-line output."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return " ".join(result.output.split())


@pytest.mark.parametrize("command", [["calls"], ["hold", SID], ["resume", SID]])
def test_a_2xx_reply_that_is_not_json_is_reported(
    monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, text="<html>Sign in to the proxy</html>", headers={"content-type": "text/html"}
        )

    output = assert_clean_exit(run(monkeypatch, handler, *command), 1)
    assert "answered 200 with a body that is not JSON (text/html)" in output
    assert "<html>Sign in to the proxy</html>" in output


def test_a_2xx_reply_that_is_not_utf8_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"\xff\xfe{", headers={"content-type": "application/json"})

    assert "not JSON" in assert_clean_exit(run(monkeypatch, handler, "calls"), 1)


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        (b'["upstream", "down"]', '502: ["upstream", "down"]'),
        (b"null", "502: null"),
        (b'"bad gateway"', '502: "bad gateway"'),
        (b'{"detail": ["not", "text"], "title": "Bad Gateway"}', "502: Bad Gateway"),
        (b"<h1>502</h1>", "502: <h1>502</h1>"),
        (b"", "502: Bad Gateway"),
    ],
)
def test_an_error_reply_of_any_shape_is_reported(
    monkeypatch: pytest.MonkeyPatch, body: bytes, shown: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, content=body, headers={"content-type": "application/json"})

    assert shown in assert_clean_exit(run(monkeypatch, handler, "resume", SID), 1)


def test_a_problems_detail_is_printed_as_is(monkeypatch: pytest.MonkeyPatch) -> None:
    detail = "call [bold]x[/nope] is not held"  # Rich markup would fail on it, or eat it

    def handler(request: httpx.Request) -> httpx.Response:
        problem = {"type": "about:blank", "title": "Conflict", "status": 409, "detail": detail}
        return httpx.Response(409, json=problem, headers={"content-type": "application/problem+json"})

    assert f"409: {detail}" in assert_clean_exit(run(monkeypatch, handler, "resume", SID), 1)


@pytest.mark.parametrize("doc", [{"calls": "many"}, [1, 2], "calls", None])
def test_a_call_list_of_another_shape_is_reported(monkeypatch: pytest.MonkeyPatch, doc: object) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=doc)

    assert "unexpected reply to GET /api/v1/calls" in assert_clean_exit(run(monkeypatch, handler, "calls"), 1)


def test_an_unreachable_server_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    output = assert_clean_exit(run(monkeypatch, handler, "calls"), 2)
    assert f"cannot reach callhold at {URL}: connection refused" in output


@pytest.mark.parametrize(
    "sid",
    [
        "../agents/alice/token?",
        "CA" + "0" * 31 + "/",
        "CA" + "A" * 32,
        "CA" + "0" * 33,
        "CA" + "0" * 31 + "%",
        " CA" + "0" * 32,
        "CF" + "0" * 32,
        "",
    ],
)
@pytest.mark.parametrize("command", ["hold", "resume"])
def test_a_malformed_sid_is_refused_before_any_request(
    monkeypatch: pytest.MonkeyPatch, command: str, sid: str
) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    result = run(monkeypatch, handler, command, sid)
    assert result.exit_code == 2 and sent == [], result.output
    output = " ".join(result.output.split())
    assert "Invalid value for 'SID'" in output and "is not a Call SID" in output


def test_a_sid_goes_into_the_path_as_is(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.raw_path.decode()}")
        return httpx.Response(200, json={"state": "held"})

    assert run(monkeypatch, handler, "hold", SID).exit_code == 0
    assert run(monkeypatch, handler, "resume", SID).exit_code == 0
    assert sent == [f"POST /api/v1/calls/{SID}/hold", f"POST /api/v1/calls/{SID}/resume"]


@pytest.mark.parametrize(
    ("token", "shown"),
    [
        ("", "invalid --token: it is empty"),
        ("  ", "invalid --token: it is empty"),
        ("token ", "invalid --token: it starts or ends with whitespace"),
        ("t\u00f6k\u00e9n", "invalid --token: it may hold only printable ASCII characters"),
        ("\u201ctoken\u201d", "invalid --token: it may hold only printable ASCII characters"),
        ("tok\nen", "invalid --token: it may hold only printable ASCII characters"),
    ],
)
def test_a_token_that_cannot_be_sent_is_refused_before_any_request(
    monkeypatch: pytest.MonkeyPatch, token: str, shown: str
) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=[])

    output = assert_clean_exit(run(monkeypatch, handler, "calls", token=token), 2)
    assert output.startswith(shown) and "cannot reach" not in output
    assert sent == []


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://[::1", "invalid --url 'http://[::1': "),
        ("127.0.0.1:8000", "invalid --url '127.0.0.1:8000': expected http(s)://host[:port]"),
        ("ftp://callhold.test", "invalid --url 'ftp://callhold.test': expected http(s)://host[:port]"),
        ("http://", "invalid --url 'http://': expected http(s)://host[:port]"),
    ],
)
def test_a_malformed_url_is_refused_before_any_request(
    monkeypatch: pytest.MonkeyPatch, url: str, shown: str
) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=[])

    output = assert_clean_exit(run(monkeypatch, handler, "calls", url=url), 2)
    assert output.startswith(shown) and "cannot reach" not in output
    assert sent == []


def test_a_reply_that_cannot_be_read_is_not_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"not gzip", headers={"content-encoding": "gzip"})

    output = assert_clean_exit(run(monkeypatch, handler, "calls"), 1)
    assert output.startswith(f"GET {URL}/api/v1/calls failed: ") and "cannot reach" not in output


def test_a_422_shows_which_fields_are_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        problem = {
            "type": "https://callhold.dev/problems/invalid",
            "title": "Unprocessable Content",
            "status": 422,
            "detail": "The request is not valid.",
            "errors": [
                {"loc": ["body", "music_url"], "msg": "URL scheme should be 'http' or 'https'", "type": "x"},
                {"loc": ["body", "reason"], "msg": "String should have at most 500 characters", "type": "y"},
                {"loc": ["body"], "msg": "Field required", "type": "missing"},
                "not an error",
            ],
        }
        return httpx.Response(422, json=problem, headers={"content-type": "application/problem+json"})

    output = assert_clean_exit(run(monkeypatch, handler, "hold", SID, "--music-url", "ftp://x/y.mp3"), 1)
    assert output == (
        "422: The request is not valid. music_url: URL scheme should be 'http' or 'https'; "
        "reason: String should have at most 500 characters; body: Field required"
    )


HELD = {"id": "h1", "call_id": SID, "state": "held", "reason": "first", "music_url": None}


@pytest.mark.parametrize("command", [["hold", SID], ["hold", SID, "--reason", "first"], ["resume", SID]])
def test_hold_and_resume_print_the_reply_as_json(monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=HELD)

    done = run(monkeypatch, handler, *command)
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == HELD  # for jq: null stays null, no Python repr
    assert done.stderr == ""


def test_holding_a_held_call_for_another_reason_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={**HELD, "started_at": "2026-01-01T10:00:00Z"})

    done = run(monkeypatch, handler, "hold", SID, "--reason", "second")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["reason"] == "first"  # the API's answer, as it is
    assert " ".join(done.stderr.split()) == (
        f"note: call {SID} was already on hold (hold h1, since 2026-01-01T10:00:00Z, reason 'first'); "
        "it is unchanged: resume it first to hold it for another reason"
    )


def test_the_sid_help_says_what_is_accepted() -> None:
    done = CliRunner().invoke(cli.app, ["hold", "--help"], env={"COLUMNS": "200"})
    assert "CA + 32 lowercase hex digits" in done.output
