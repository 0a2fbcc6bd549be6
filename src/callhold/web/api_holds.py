"""``/api/v1/holds`` and ``/api/v1/stats``: the hold records and their totals.

An agent's token sees only its own holds (those requested while it was the call's agent) and the
totals of its own holds, per call too; the admin sees everything.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from callhold.web.api_queries import HoldFilters, StatsFilters
from callhold.web.deps import ServicesDep
from callhold.web.routing import LimitedRoute, Me, problems, require_self
from callhold.web.schemas import AgentStats, CallStats, HoldOut, Stats

__all__ = ["router"]

router = APIRouter(tags=["holds"], route_class=LimitedRoute)


def _agent_filter(me: Me, agent_id: str | None) -> str | None:
    """The agent to filter by: the agent's own id for an agent token (403 for another's)."""
    if agent_id is not None:
        require_self(me, agent_id)
    return agent_id if me.is_admin else me.agent_id


@router.get("/holds", response_model=list[HoldOut], responses=problems(403))
async def list_holds(
    me: Me, services: ServicesDep, filters: Annotated[HoldFilters, Query()]
) -> list[HoldOut]:
    """Holds by start time, oldest first (``order=desc``: newest first), filtered by call, agent,
    state and start time."""
    holds = services.store.list_holds(
        call_id=filters.call_id,
        agent_id=_agent_filter(me, filters.agent_id),
        state=filters.state,
        since=filters.since,  # in UTC already (``HoldFilters``)
        limit=filters.limit,
        newest_first=filters.order == "desc",
    )
    now = services.service.clock.now()
    return [HoldOut.of(hold, now) for hold in holds]


@router.get("/stats", response_model=Stats, responses=problems(403))
async def stats(me: Me, services: ServicesDep, filters: Annotated[StatsFilters, Query()]) -> Stats:
    """Holds count, total and longest hold seconds, per call and per agent (open holds count up to
    now). With ``agent_id`` (always, for an agent's token: its own) only that agent's holds count,
    per call too: a call handed on to another agent does not show that agent's holds, as ``/holds``
    does not. With ``call_id`` only that call's holds count, per agent too; a call with no holds
    (unknown, or not the agent's) has none: both lists are empty. With ``since``, only the holds
    started then or later.

    ``calls`` has at most ``limit`` calls (100 by default), those held most recently first --
    ``limit=0`` for none; ``agents`` has every agent's totals, summed by the database."""
    store, now = services.store, services.service.clock.now()
    only_agent = _agent_filter(me, filters.agent_id)
    per_call = store.stats_per_call(
        now, call_id=filters.call_id, agent_id=only_agent, since=filters.since, limit=filters.limit
    )
    per_agent = store.stats_per_agent(now, agent_id=only_agent, call_id=filters.call_id, since=filters.since)
    return Stats(
        as_of=now,
        calls=[CallStats.of(entry) for entry in per_call],
        agents=[AgentStats.of(entry) for entry in per_agent],
    )
