"""``/api/v1/me``: whom the bearer token belongs to -- the admin, or an agent and its availability.

A client holding only a token (the agent console, say) asks this once to know whether it acts as the
admin or as an agent, and which one.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from callhold.domain.errors import NotFound
from callhold.web.deps import ServicesDep
from callhold.web.routing import LimitedRoute, Me, problems
from callhold.web.schemas import AgentOut

__all__ = ["Whoami", "router"]

router = APIRouter(prefix="/me", tags=["agents"], route_class=LimitedRoute)


class Whoami(BaseModel):
    """The token's owner: the admin (``agent`` null), or the agent the token was issued to."""

    admin: bool = Field(description="True for the admin token (sees and acts on everything)")
    agent: AgentOut | None = Field(description="The agent whose token this is; null for the admin")


@router.get("", response_model=Whoami, responses=problems(404))
async def whoami(me: Me, services: ServicesDep) -> Whoami:
    """Who the bearer token belongs to: ``{"admin": true, "agent": null}`` for the admin token, else
    ``{"admin": false, "agent": {...}}`` with the agent as ``GET /agents/{id}`` shows it."""
    if me.agent_id is None:
        return Whoami(admin=True, agent=None)
    agent = services.store.get_agent(me.agent_id)
    if agent is None:  # deleted since its token was checked
        raise NotFound("agent", me.agent_id)
    return Whoami(admin=False, agent=AgentOut.of(agent))
