"""``callhold db prune --older-than DAYS``: retention of ended calls (nothing else deleted them)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.callhold.cli.cli_runs import invoke, lines_of

from callhold.adapters.db import SqlHoldStore, make_engine
from callhold.adapters.db.migrate import upgrade
from callhold.domain.model import Call, CallState, Hold, HoldEndReason, HoldState, Strategy


def _call(store: SqlHoldStore, n: int, *, ended_days_ago: float | None) -> Call:
    now = datetime.now(UTC)
    started = now - timedelta(days=(ended_days_ago or 0) + 1)
    sid = f"CA{n:032d}"
    call = Call(id=sid, strategy=Strategy.LEGS, customer_call_sid=sid, agent_id=None, created_at=started)
    if ended_days_ago is not None:
        ended = now - timedelta(days=ended_days_ago)
        store.save_call(call)
        hold = Hold(id=f"hold-{n}", call_id=call.id, state=HoldState.ENDED, strategy=Strategy.LEGS,
                    requested_by="alice", started_at=started, ended_at=started + timedelta(minutes=1),
                    end_reason=HoldEndReason.RESUMED)  # fmt: skip
        store.save_hold(hold)
        call = replace(call, status=CallState.ENDED, ended_at=ended)
    store.save_call(call)
    return call


def test_prune_deletes_the_calls_that_ended_before_the_cut_off_and_nothing_else(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/callhold.db"
    upgrade(url)
    store = SqlHoldStore(make_engine(url))
    old = [_call(store, n, ended_days_ago=40 + n) for n in range(3)]
    recent = _call(store, 10, ended_days_ago=5)
    live = _call(store, 11, ended_days_ago=None)
    result = invoke(["db", "prune", "--older-than", "30", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "deleted 3 calls that ended before" in result.stdout
    assert all(
        store.get_call(call.id) is None and store.get_hold(f"hold-{n}") is None for n, call in enumerate(old)
    )
    assert store.get_call(recent.id) is not None and store.get_call(live.id) is not None
    again = invoke(["db", "prune", "--older-than", "30", "--database-url", url])
    assert "deleted 0 calls" in again.stdout


def test_prune_refuses_less_than_a_day_and_a_database_it_cannot_run_on(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/never-migrated.db"
    assert invoke(["db", "prune", "--older-than", "0", "--database-url", url]).exit_code == 2
    lines = lines_of(invoke(["db", "prune", "--older-than", "30", "--database-url", url]), 2)
    assert len(lines) == 1 and "run `callhold db upgrade` first" in lines[0]
