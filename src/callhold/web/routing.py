"""What every JSON API route shares: the caller (bearer token), ownership rules, the body size limit
and the documented problem responses.

Rules: the admin token may do anything; an agent's token sees and acts on its own calls and holds
only, may read itself and set its own availability. A missing or unknown token is 401 (with
``WWW-Authenticate: Bearer``), an agent reaching for what is not its own 403.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response, Security
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from callhold.domain.errors import Forbidden
from callhold.web.deps import Caller
from callhold.web.schemas import Problem
from callhold.web.security import Principal, limit_body

__all__ = [
    "MAX_BODY_BYTES",
    "LimitedRoute",
    "Me",
    "by",
    "problems",
    "require_admin",
    "require_self",
]

MAX_BODY_BYTES = 16 * 1024
"""The largest request body the API reads."""

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="The admin token (sees everything) or an agent's API token (its own calls only).",
)


async def _principal(
    caller: Caller, _: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
) -> Principal:
    """The caller; the ``Security`` parameter only documents the bearer scheme in the OpenAPI."""
    return caller


Me = Annotated[Principal, Depends(_principal)]
"""The authenticated caller of an API route."""


def require_admin(me: Principal) -> None:
    """Only the admin token may do this (403 for an agent)."""
    if not me.is_admin:
        raise Forbidden("this needs the admin token")


def require_self(me: Principal, agent_id: str) -> None:
    """The admin, or the agent ``agent_id`` itself (403 otherwise)."""
    if not me.is_admin and me.agent_id != agent_id:
        raise Forbidden(f"agent {me.agent_id} may not act for agent {agent_id}")


def by(me: Principal) -> str:
    """Who a hold or resume is recorded as requested by."""
    return me.agent_id if me.agent_id is not None else "admin"


class LimitedRoute(APIRoute):
    """An API route that refuses request bodies over :data:`MAX_BODY_BYTES` with 413 problem JSON,
    by the declared ``Content-Length`` or, for a streamed body, while reading it (400 for a
    ``Content-Length`` that is not a number). A route that reads no body is not checked: its
    request's body, if any, is never read."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, behind the size check."""
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def limited(request: Request) -> Response:
            return await handler(limit_body(request, MAX_BODY_BYTES))

        return limited


_DESCRIPTIONS = {
    400: "The body could not be read (not UTF-8 JSON)",
    401: "No bearer token, or an unknown one",
    403: "An agent acting on what is not its own",
    404: "No such call, agent or participant",
    409: "The call's state does not allow it (not held, ended, wrong strategy, not connected...)",
    413: "Request body too large",
    422: "Malformed SID, field or body",
    502: "Twilio refused a command (nothing was left half-applied)",
    503: "`database-unavailable`: the database could not serve the request (down, no connection free "
    "in time, a deadlock); nothing was changed by it -- try again after `Retry-After` seconds",
    504: "Twilio never answered, or answered a server error (500, 502, 504: `twilio_status`): the "
    "command may have been carried out (check before retrying)",
}


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 0},
    }
}


def problems(*statuses: int, meaning: dict[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` documenting problem JSON for ``statuses`` (401, 422 and 503 always -- every
    route reads the database -- and 400 with 413, which only routes that read a body answer);
    ``meaning``: a route's own description of a status."""
    schema = Problem.json_schema()
    if 413 in statuses:
        statuses = (400, *statuses)
    responses: dict[int | str, dict[str, Any]] = {
        status: {
            "description": (meaning or {}).get(status, _DESCRIPTIONS[status]),
            "content": {"application/problem+json": {"schema": schema}},
        }
        for status in sorted({401, 422, 503, *statuses})
    }
    responses[503]["headers"] = _RETRY_AFTER
    return responses
