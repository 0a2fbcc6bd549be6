"""Listings: pages of calls (alone, with their hold's state, or as views), waiting calls, and holds.

``CallListings`` is the part of :class:`~callhold.adapters.db.store.SqlHoldStore` that reads many
rows at once: each listing is one statement, or two for the views (their legs).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, overload

from sqlalchemy import Engine, Select, func, select

from callhold.adapters.db.records import call_of, hold_of
from callhold.adapters.db.statements import Statements
from callhold.adapters.db.tables import OPEN_HOLD
from callhold.adapters.db.transaction import load_views, row
from callhold.domain.model import Call, CallState, CallView, Hold, HoldState

__all__ = ["CallListings"]


class CallListings:
    """Calls and holds listed over SQLAlchemy Core (part of ``SqlHoldStore``)."""

    engine: Engine
    sql: Statements

    @overload
    def list_calls(
        self,
        *,
        status: CallState | None = None,
        agent_id: str | None = None,
        limit: int = 100,
        with_hold: Literal[False] = False,
    ) -> list[Call]: ...

    @overload
    def list_calls(
        self,
        *,
        status: CallState | None = None,
        agent_id: str | None = None,
        limit: int = 100,
        with_hold: Literal[True],
    ) -> list[tuple[Call, HoldState | None]]: ...

    def list_calls(
        self,
        *,
        status: CallState | None = None,
        agent_id: str | None = None,
        limit: int = 100,
        with_hold: bool = False,
    ) -> list[Call] | list[tuple[Call, HoldState | None]]:
        """Calls, newest first. ``with_hold``: each with the state of its open hold, else of its latest
        (``None``: never held), read by the same statement.

        The hold is picked as ``Statements.view`` picks it: the open one (a call has at most one),
        else the latest by start -- not "the latest, which is the open one", as instances' clocks
        may disagree about ``started_at``.
        """
        calls, holds = self.sql.calls, self.sql.holds
        query = select(calls)
        if with_hold:
            # Each through an index: the open hold's (the partial unique index), else the latest's.
            open_state = select(holds.c.state).where(holds.c.call_id == calls.c.id, OPEN_HOLD)
            latest_state = (
                select(holds.c.state)
                .where(holds.c.call_id == calls.c.id)
                .order_by(holds.c.started_at.desc(), holds.c.id.desc())
                .limit(1)
            )
            hold_state = func.coalesce(
                open_state.correlate(calls).scalar_subquery(),
                latest_state.correlate(calls).scalar_subquery(),
            )
            query = select(calls, hold_state.label("hold_state"))
        with self.engine.connect() as conn:
            found = conn.execute(self._page(query, status, agent_id, limit)).all()
        if not with_hold:
            return [call_of(row(r)) for r in found]
        return [(call_of(row(r)), None if r.hold_state is None else HoldState(r.hold_state)) for r in found]

    def list_waiting(self, *, limit: int = 1000) -> list[Call]:
        """Active calls with no agent, oldest first (through the active calls' partial index, so
        the oldest are found however many calls are active or on record)."""
        calls = self.sql.calls
        query = (
            select(calls)
            .where(calls.c.status == CallState.ACTIVE.value, calls.c.agent_id.is_(None))
            .order_by(calls.c.created_at, calls.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [call_of(row(r)) for r in conn.execute(query).all()]

    def list_views(
        self, *, status: CallState | None = None, agent_id: str | None = None, limit: int = 100
    ) -> list[CallView]:
        """Calls as :meth:`list_calls` lists them, each with its legs and its open hold, else its
        latest (as :meth:`load_view` gives one): two statements for the whole page."""
        query = self._page(self.sql.views, status, agent_id, limit)
        with self.engine.connect() as conn:
            return load_views(self.sql, conn, query)

    def _page(
        self, query: Select[Any], status: CallState | None, agent_id: str | None, limit: int
    ) -> Select[Any]:
        """``query`` over calls, filtered, newest first, at most ``limit``."""
        calls = self.sql.calls
        query = query.order_by(calls.c.created_at.desc(), calls.c.id).limit(limit)
        if status is not None:
            query = query.where(calls.c.status == status.value)
        if agent_id is not None:
            query = query.where(calls.c.agent_id == agent_id)
        return query

    def list_holds(
        self,
        *,
        call_id: str | None = None,
        agent_id: str | None = None,
        state: HoldState | None = None,
        since: datetime | None = None,
        limit: int | None = 1000,
        newest_first: bool = False,
    ) -> list[Hold]:
        """Holds by start time, oldest first (``newest_first``: newest first, so a small ``limit``
        gives the latest), filtered by call, agent, state and start (``since`` inclusive); ``limit``
        None: all of them."""
        holds = self.sql.holds
        by_start = (
            [holds.c.started_at.desc(), holds.c.id.desc()]
            if newest_first
            else [holds.c.started_at, holds.c.id]
        )
        query = select(holds).order_by(*by_start).limit(limit)
        if call_id is not None:
            query = query.where(holds.c.call_id == call_id)
        if agent_id is not None:
            query = query.where(holds.c.agent_id == agent_id)
        if state is not None:
            query = query.where(holds.c.state == state.value)
        if since is not None:
            query = query.where(holds.c.started_at >= since)
        with self.engine.connect() as conn:
            return [hold_of(row(r)) for r in conn.execute(query)]
