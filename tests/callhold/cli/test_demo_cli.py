"""``callhold demo`` and the CLI: what a new user runs first."""

from __future__ import annotations

import itertools
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from callhold.cli import app
from callhold.demo import run_demo


async def test_demo_holds_and_resumes_on_both_strategies_and_draws_it(tmp_path: Path) -> None:
    out = tmp_path / "demo.html"
    console = Console(record=True, width=140)
    results = await run_demo(out, console, show_progress=False)
    assert [r.strategy for r in results] == ["conference", "legs"]
    for result in results:
        (hold,) = result.holds
        assert (hold["state"], hold["end_reason"], hold["reason"]) == (
            "ended",
            "resumed",
            "checking the order",
        )
        assert hold["duration_seconds"] == 50.0
        customer = result.timelines[result.customer_sid]
        held = [s for s in customer if 20 <= s["start"] < 70]
        assert {s["context"] for s in held} <= {"hold", "queue-wait"}
        assert any(s["kind"] == "speech" and "Thank you for holding" in s["detail"] for s in held)
        assert customer[-1]["voices"] == [result.agent_sid] and customer[-1]["end"] == 85.0
        assert all(a["end"] == b["start"] for a, b in itertools.pairwise(customer))  # never dropped
        agent = result.timelines[result.agent_sid]
        assert any("Reminder: your customer has been on hold" in s["detail"] for s in agent)
        assert not any(result.customer_sid in s["voices"] for s in agent if 20 < s["start"] < 70)
    text = console.export_text()
    assert "[hold] " in text and "[queue-wait] " in text
    page = out.read_text()
    assert page.count("<svg") == 2 and "Agent Alice" in page and "conference strategy" in page


def test_cli_demo_and_db_upgrade(tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(app, ["demo", "--strategy", "legs", "--out", str(tmp_path / "d.html")])
    assert done.exit_code == 0, done.output
    assert "legs strategy" in done.output and (tmp_path / "d.html").exists()
    bad = runner.invoke(app, ["demo", "--strategy", "bogus"])
    assert bad.exit_code != 0
    db = runner.invoke(app, ["db", "upgrade", "--database-url", f"sqlite:///{tmp_path}/x.db"])
    assert db.exit_code == 0 and "up" in db.output and (tmp_path / "x.db").exists()


def test_cli_reports_an_unreachable_service(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["calls", "--url", "http://127.0.0.1:9", "--token", "x"])
    assert done.exit_code == 2 and "cannot reach callhold" in done.output
