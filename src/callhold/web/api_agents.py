"""``/api/v1/agents``: the agent directory and agents' API tokens.

The admin creates, changes and deletes agents and rotates their tokens; an agent may read itself and
set its own availability (becoming available hands it the longest-waiting customer, if any).
"""

from __future__ import annotations

import logging
import secrets
import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from callhold.domain.errors import Conflict, Forbidden, NotFound, TelephonyError
from callhold.domain.model import Agent
from callhold.web.deps import ServicesDep
from callhold.web.routing import LimitedRoute, Me, problems, require_admin, require_self
from callhold.web.schemas import (
    AGENT_ID_PATTERN,
    AgentCreate,
    AgentCreated,
    AgentOut,
    AgentToken,
    AgentUpdate,
)
from callhold.web.security import hash_token

__all__ = ["router"]

_log = logging.getLogger("callhold.api.agents")

router = APIRouter(prefix="/agents", tags=["agents"], route_class=LimitedRoute)

AgentPath = Annotated[str, Path(pattern=AGENT_ID_PATTERN, max_length=64, description="The agent's id")]


def _agent(services: ServicesDep, agent_id: str) -> Agent:
    agent = services.store.get_agent(agent_id)
    if agent is None:
        raise NotFound("agent", agent_id)
    return agent


def _issue_token(services: ServicesDep, agent_id: str) -> str:
    token = secrets.token_urlsafe(32)
    services.store.set_agent_token(agent_id, hash_token(token))
    return token


_ENDPOINT_TAKEN = "The id is taken, or another agent has this endpoint (one endpoint rings one agent)"


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=AgentCreated,
    responses=problems(403, 409, 413, meaning={409: _ENDPOINT_TAKEN}),
)
async def create_agent(body: AgentCreate, me: Me, services: ServicesDep, response: Response) -> AgentCreated:
    """Add an agent (admin). The response carries the agent's API token, shown only this once.

    409 if the id is taken, or if another agent has the endpoint: callhold would ring one phone for
    two agents, and whoever answered would take the other's customers."""
    require_admin(me)
    agent_id = body.id or uuid.uuid4().hex[:12]
    # Stored busy first, then made available the one way that also hands it the longest-waiting
    # customer: an agent created available while customers wait must not sit idle.
    # One created unavailable is away: callhold never makes it available on its own.
    away = not body.available
    services.store.insert_agent(
        Agent(id=agent_id, name=body.name, endpoint=body.endpoint, available=False, away=away)
    )
    token = _issue_token(services, agent_id)
    if body.available:
        try:
            await services.service.agent_available(agent_id)
        except TelephonyError as exc:  # the customer waits on; the agent exists and is available
            _log.warning("new agent %s could not take a waiting customer: %r", agent_id, exc)
    response.headers["Location"] = f"/api/v1/agents/{agent_id}"
    return AgentCreated(**AgentOut.of(_agent(services, agent_id)).model_dump(), token=token)


@router.get("", response_model=list[AgentOut], responses=problems())
async def list_agents(me: Me, services: ServicesDep) -> list[AgentOut]:
    """Every agent (admin); an agent sees only itself."""
    if me.agent_id is not None:
        return [AgentOut.of(_agent(services, me.agent_id))]
    return [AgentOut.of(agent) for agent in services.store.list_agents()]


@router.get("/{agent_id}", response_model=AgentOut, responses=problems(403, 404))
async def get_agent(agent_id: AgentPath, me: Me, services: ServicesDep) -> AgentOut:
    """One agent (admin, or the agent itself)."""
    require_self(me, agent_id)
    return AgentOut.of(_agent(services, agent_id))


@router.patch(
    "/{agent_id}",
    response_model=AgentOut,
    responses=problems(403, 404, 409, 413, 502, meaning={409: "Another agent has this endpoint"}),
)
async def update_agent(agent_id: AgentPath, body: AgentUpdate, me: Me, services: ServicesDep) -> AgentOut:
    """Change an agent (admin); an agent may only set its own ``available``.

    ``available: false`` makes the agent ``away``: no customer is handed to it, and -- said during a
    call -- none when that call ends, until it sets ``available: true`` again.

    ``available: true`` ends its being away and connects the longest-waiting customer to it (it then
    shows as not available: it has a call). An agent on an active call is not handed a second
    customer: it stays unavailable (``away: false``) and is made available when the call ends.

    An ``endpoint`` another agent has is refused (409), and nothing is changed.
    """
    require_self(me, agent_id)
    if not me.is_admin and (body.name is not None or body.endpoint is not None):
        raise Forbidden("an agent may only change its own availability")
    _agent(services, agent_id)  # 404 before anything else
    # Name and endpoint only: writing ``available`` back from an earlier read could undo a claim
    # (a customer handed to the agent) made in between.
    services.store.update_agent(agent_id, name=body.name, endpoint=body.endpoint)
    if body.available is True:
        await services.service.agent_available(agent_id)
    elif body.available is False:
        services.store.set_agent_available(agent_id, False)
    return AgentOut.of(_agent(services, agent_id))


@router.delete(
    "/{agent_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problems(403, 404, 409),
)
async def delete_agent(agent_id: AgentPath, me: Me, services: ServicesDep) -> Response:
    """Remove an agent (admin); refused (409) while it has an active call, or one is being placed
    for it. Its records stay."""
    require_admin(me)
    # One atomic check-and-delete in the store: a call handed to the agent meanwhile keeps it.
    if not services.store.delete_agent(agent_id):
        agent = _agent(services, agent_id)  # 404 if there was no such agent
        if agent.placing_to is not None:
            raise Conflict(f"agent {agent_id}: a call to {agent.placing_to} is being placed for it")
        raise Conflict(f"agent {agent_id} has an active call")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{agent_id}/token", response_model=AgentToken, responses=problems(403, 404))
async def rotate_token(agent_id: AgentPath, me: Me, services: ServicesDep) -> AgentToken:
    """Issue the agent a new API token (admin); the previous one stops working at once."""
    require_admin(me)
    _agent(services, agent_id)
    return AgentToken(agent_id=agent_id, token=_issue_token(services, agent_id))
