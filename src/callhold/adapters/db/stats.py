"""Hold statistics per call or per agent: count, total and longest hold time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Engine, Table, func, select

from callhold.domain.model import HoldState, HoldStats

__all__ = ["hold_stats"]

_ENDED = HoldState.ENDED.value


def hold_stats(
    engine: Engine, holds: Table, now: datetime, column: str, only: str | None, *, agent_id: str | None = None
) -> list[HoldStats]:
    """Per value of ``holds.column`` (``call_id`` or ``agent_id``; only ``only`` if given): the number
    of holds, their total and longest seconds, counting only ``agent_id``'s holds if given. Ended
    holds count their recorded duration (summed by the database); open ones count up to ``now``."""
    key = holds.c[column]
    where: list[ColumnElement[bool]] = [key.is_not(None)]
    if only is not None:
        where.append(key == only)
    if agent_id is not None:
        where.append(holds.c.agent_id == agent_id)
    seconds = holds.c.duration_seconds
    ended = (
        select(
            key,
            func.count(),
            func.coalesce(func.sum(seconds), 0.0),
            func.coalesce(func.max(seconds), 0.0),
        )
        .where(holds.c.state == _ENDED, *where)
        .group_by(key)
    )
    still_open = select(key, holds.c.started_at).where(holds.c.state != _ENDED, *where)
    totals: dict[str, tuple[int, float, float]] = {}
    with engine.connect() as conn:
        for subject, count, total, longest in conn.execute(ended):
            totals[subject] = (int(count), float(total), float(longest))
        for subject, started_at in conn.execute(still_open):
            count, total, longest = totals.get(subject, (0, 0.0, 0.0))
            held = max((now - started_at).total_seconds(), 0.0)
            totals[subject] = (count + 1, total + held, max(longest, held))
    return [
        HoldStats(subject=subject, holds=count, total_seconds=total, longest_seconds=longest)
        for subject, (count, total, longest) in sorted(totals.items())
    ]
