"""``callhold serve`` on the embedded voicesim (real-time clock), driven by the CLI over HTTP."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from callhold.cli import app
from voicesim import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from voicesim.sdk import client

ADMIN = "serve-test-admin"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _poll(check: object, what: str, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)  # bounded poll of a real server, not a fixed wait
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CALLHOLD_DATABASE_URL": f"sqlite:///{tmp_path}/serve.db",
        "CALLHOLD_PUBLIC_BASE_URL": base,
        "CALLHOLD_ADMIN_TOKEN": ADMIN,
        "CALLHOLD_VOICESIM_SPEED": "20",
        "CALLHOLD_STRATEGY": "legs",
    }
    # the embedded voicesim, whatever Twilio settings this machine has
    for twilio in ("ACCOUNT_SID", "AUTH_TOKEN", "API_BASE_URL"):
        env.pop(f"CALLHOLD_TWILIO_{twilio}", None)
    with (tmp_path / "serve.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "callhold.cli", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _poll(lambda: _up(base), "callhold serve to start")
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_serve_embeds_voicesim_and_the_cli_holds_and_resumes(server: str) -> None:
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10) as api:
        _scenario(server, api)


def _scenario(server: str, api: httpx.Client) -> None:
    assert (
        api.post(
            "/api/v1/agents",
            json={"id": "alice", "name": "Alice", "endpoint": "client:alice", "available": True},
        ).status_code
        == 201
    )
    twilio = client(
        base_url=f"{server}/voicesim", account_sid=DEFAULT_ACCOUNT_SID, auth_token=DEFAULT_AUTH_TOKEN
    )
    # callhold's number is there already, pointing at callhold, as it would be set up on Twilio.
    [number] = twilio.incoming_phone_numbers.list(phone_number="+15550001000")
    assert (number.voice_url, number.status_callback) == (
        f"{server}/twiml/voice",
        f"{server}/webhooks/call-status",
    )
    placed = httpx.post(
        f"{server}/voicesim/_voicesim/inbound-calls",
        data={"From": "+15551230001", "To": "+15550001000"},
        auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN),
    )
    sid = placed.json()["sid"]

    def agent_answered() -> bool:
        found = api.get(f"/api/v1/calls/{sid}")  # 404 until the voice webhook has recorded the call
        legs = found.json()["legs"] if found.status_code == 200 else []
        return any(leg["role"] == "agent" and leg["status"] == "in-progress" for leg in legs)

    _poll(agent_answered, "the agent to answer")

    cli, opts = CliRunner(), ["--url", server, "--token", ADMIN]
    listed = cli.invoke(app, ["calls", *opts])
    assert listed.exit_code == 0 and sid in listed.output
    held = cli.invoke(app, ["hold", sid, "--reason", "cli test", *opts])
    assert held.exit_code == 0, held.output
    _poll(lambda: api.get(f"/api/v1/calls/{sid}").json()["hold"]["state"] == "held", "the hold")
    resumed = cli.invoke(app, ["resume", sid, *opts])
    assert resumed.exit_code == 0, resumed.output
    _poll(lambda: api.get(f"/api/v1/calls/{sid}").json()["hold"]["state"] == "ended", "the resume")
    again = cli.invoke(app, ["resume", sid, *opts])
    assert again.exit_code == 1 and "409" in again.output  # not held any more
    assert twilio.calls(sid).fetch().status == "in-progress"


def test_serves_access_log_never_shows_the_callers_number(server: str, tmp_path: Path) -> None:
    """Twilio puts its parameters -- ``Caller``, ``From`` -- in the query of each GET it makes (every
    hold-music loop): the access log has the path only. Lines carry time, level and logger."""
    number = "%2B15557654321"
    assert httpx.get(f"{server}/healthz?Caller={number}&From={number}", timeout=10).status_code == 200
    log = (tmp_path / "serve.log").read_text()
    assert "7654321" not in log
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
    assert re.search(
        rf'^{stamp} INFO uvicorn\.access: 127\.0\.0\.1:\d+ - "GET /healthz HTTP/1\.1" 200$', log, re.M
    )
    assert re.search(
        rf"^{stamp} INFO callhold\.startup: database sqlite:///.* is at schema revision ", log, re.M
    )
