"""Hold statistics per call or per agent: count, total and longest hold time.

``HoldStatistics`` is the part of :class:`~callhold.adapters.db.store.SqlHoldStore` that reads them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Engine, Table, func, select

from callhold.adapters.db.statements import Statements
from callhold.domain.model import HoldState, HoldStats

__all__ = ["HoldStatistics", "hold_stats"]

_ENDED = HoldState.ENDED.value


def hold_stats(
    engine: Engine,
    holds: Table,
    now: datetime,
    column: str,
    *,
    call_id: str | None = None,
    agent_id: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[HoldStats]:
    """Per value of ``holds.column`` (``call_id`` or ``agent_id``): the number of holds, their total
    and longest seconds, counting only the holds of ``call_id`` and of ``agent_id``, started at or
    after ``since`` (each if given). Ended holds count their recorded duration (summed by the
    database); open ones count up to ``now``.

    By value with no ``limit``; with one, at most ``limit`` values, those held most recently first (by
    their latest hold's start) -- picked by the database, so a long history costs no more rows.
    """
    key = holds.c[column]
    where: list[ColumnElement[bool]] = [key.is_not(None)]
    if call_id is not None:
        where.append(holds.c.call_id == call_id)
    if agent_id is not None:
        where.append(holds.c.agent_id == agent_id)
    if since is not None:
        where.append(holds.c.started_at >= since)
    totals: dict[str, tuple[int, float, float]] = {}
    newest: list[str] | None = None
    # One connection, so one snapshot on SQLite (it begins a transaction on the first read).
    with engine.connect() as conn:
        if limit is not None:
            if limit <= 0:
                return []
            latest = func.max(holds.c.started_at)
            pick = select(key).where(*where).group_by(key).order_by(latest.desc(), key).limit(limit)
            newest = [str(subject) for subject in conn.scalars(pick)]
            if not newest:
                return []
            where.append(key.in_(newest))
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
        for subject, count, total, longest in conn.execute(ended):
            totals[subject] = (int(count), float(total), float(longest))
        for subject, started_at in conn.execute(still_open):
            count, total, longest = totals.get(subject, (0, 0.0, 0.0))
            held = max((now - started_at).total_seconds(), 0.0)
            totals[subject] = (count + 1, total + held, max(longest, held))
    order = newest if newest is not None else sorted(totals)
    rows = ((subject, totals[subject]) for subject in order if subject in totals)
    return [
        HoldStats(subject=subject, holds=count, total_seconds=total, longest_seconds=longest)
        for subject, (count, total, longest) in rows
    ]


class HoldStatistics:
    """Hold statistics over SQLAlchemy Core (part of ``SqlHoldStore``)."""

    engine: Engine
    sql: Statements

    def stats_per_call(
        self,
        now: datetime,
        *,
        call_id: str | None = None,
        agent_id: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[HoldStats]:
        """Holds count, total and longest seconds per call (open holds count up to ``now``); with
        ``agent_id``, of that agent's holds only (a call it held counts only its own holds); with
        ``since``, of the holds started then or later. By call id; with ``limit``, at most that many
        calls, the most recently held first."""
        holds = self.sql.holds
        return hold_stats(
            self.engine, holds, now, "call_id", call_id=call_id, agent_id=agent_id, since=since, limit=limit
        )

    def stats_per_agent(
        self,
        now: datetime,
        *,
        agent_id: str | None = None,
        call_id: str | None = None,
        since: datetime | None = None,
    ) -> list[HoldStats]:
        """Holds count, total and longest seconds per agent (the call's agent when it was held), by
        agent id; with ``call_id`` or ``since``, of that call's holds, or those started then or later."""
        holds = self.sql.holds
        return hold_stats(
            self.engine, holds, now, "agent_id", call_id=call_id, agent_id=agent_id, since=since
        )
