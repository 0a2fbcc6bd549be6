"""The ``callhold`` CLI (``calls``, ``hold``, ``resume``) against the real JSON API, in process.

The CLI is synchronous: it runs in a worker thread while its HTTP requests are served by the app on
the test's event loop (the same loop the emulator's virtual clock runs on).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from tests.callhold.api.conftest import ADMIN, BASE, Desk
from typer.testing import CliRunner, Result

from callhold import cli


async def run_cli(api: Desk, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[Result, list[str]]:
    """``callhold *args --url BASE --token ADMIN``; with the requests it sent (method and raw path)."""
    loop = asyncio.get_running_loop()
    sent: list[str] = []

    def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
        sent.append(f"{method} {httpx.URL(url).raw_path.decode()}")
        reply = asyncio.run_coroutine_threadsafe(api.client.request(method, url, **kwargs), loop)
        return reply.result(timeout=60)

    monkeypatch.setattr(cli.httpx, "request", request)
    invoke = CliRunner().invoke
    argv = [*args, "--url", BASE, "--token", ADMIN]
    result = await asyncio.to_thread(invoke, cli.app, argv, env={"COLUMNS": "200"})
    return result, sent


def row_of(output: str, sid: str) -> list[str]:
    """The cells of the table row of call ``sid``."""
    line = next(line for line in output.splitlines() if sid in line)
    return [cell.strip() for cell in line.strip("│┃ ").split("│")]


async def test_calls_shows_each_calls_hold_state(api: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    sid, alice = await api.live_call()
    listed, _ = await run_cli(api, monkeypatch, "calls")
    assert listed.exit_code == 0, listed.output
    assert row_of(listed.output, sid) == [sid, "conference", "alice", "active", "-"]  # never held

    assert (await api.request("POST", f"/calls/{sid}/hold", alice)).json()["state"] == "held"
    listed, sent = await run_cli(api, monkeypatch, "calls")
    assert listed.exit_code == 0, listed.output
    assert row_of(listed.output, sid) == [sid, "conference", "alice", "active", "held"]
    assert sent == ["GET /api/v1/calls"]


async def test_hold_and_resume_a_call_by_its_sid(api: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    sid, _ = await api.live_call()
    held, sent = await run_cli(api, monkeypatch, "hold", sid, "--reason", "checking")
    assert held.exit_code == 0, held.output
    assert sent == [f"POST /api/v1/calls/{sid}/hold"]
    hold = (await api.request("GET", f"/calls/{sid}")).json()["hold"]
    assert (hold["state"], hold["reason"]) == ("held", "checking")
    resumed, sent = await run_cli(api, monkeypatch, "resume", sid)
    assert resumed.exit_code == 0 and sent == [f"POST /api/v1/calls/{sid}/resume"], resumed.output
    again, _ = await run_cli(api, monkeypatch, "resume", sid)
    assert again.exit_code == 1 and "409" in again.output and "Traceback" not in again.output


@pytest.mark.parametrize("command", ["hold", "resume"])
async def test_a_sid_naming_another_resource_changes_nothing(
    api: Desk, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """``../agents/alice/token?`` once made ``hold`` POST to ``/api/v1/agents/alice/token``."""
    alice = await api.agent("alice")
    result, sent = await run_cli(api, monkeypatch, command, "../agents/alice/token?")
    assert result.exit_code == 2 and sent == [], result.output
    assert "is not a Call SID" in result.output
    assert (await api.request("GET", "/agents/alice", alice)).status_code == 200  # token not rotated
