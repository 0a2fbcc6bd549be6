"""Probes for load balancers and orchestrators.

* ``GET /healthz``: the process serves requests (liveness). It touches nothing else, so a database
  outage does not get every instance restarted at once.
* ``GET /readyz``: the instance can do its work (readiness): the database answers, and its schema is
  at this release's migration head -- an instance of a newer release started before ``callhold db
  upgrade`` ran would otherwise take webhooks it cannot record. 503 problem JSON, saying which, if not.

Neither needs a token: they tell nothing about calls or agents. They are left out of the OpenAPI
document, which describes the bearer-token API under ``/api/v1``.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from callhold.adapters.db.migrate import SchemaState, current_revision, schema_head, schema_state
from callhold.web.app import Services
from callhold.web.problems import problem

__all__ = ["Health", "Readiness", "router"]

router = APIRouter(include_in_schema=False)


class Health(BaseModel):
    """The process is up."""

    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """The instance is ready: its database answers and has the schema this release needs."""

    status: Literal["ready"] = "ready"
    database: str = Field(description="The database backend (sqlite, postgresql)")
    schema_revision: str = Field(description="The database's migration revision (this release's head)")


# HEAD too: probes and load balancers often ask with HEAD, and FastAPI (unlike Starlette) does not
# answer it for a GET route on its own.
@router.api_route("/healthz", methods=["GET", "HEAD"], response_model=Health)
async def healthz() -> Health:
    """Liveness: 200 while the process serves requests."""
    return Health()


@router.api_route("/readyz", methods=["GET", "HEAD"], response_model=Readiness)
def readyz(request: Request) -> Readiness | JSONResponse:
    """Readiness: 200 when the database answers and its schema is at this release's head, else 503.

    A plain ``def``: FastAPI runs it in a worker thread, so a database that hangs does not hold the
    event loop while the probe waits.
    """
    services: Services = request.app.state.services
    engine = services.store.engine
    backend = engine.url.get_backend_name()
    try:
        with engine.connect() as connection:
            current = current_revision(connection)
    except SQLAlchemyError as exc:
        detail = f"the {backend} database does not answer ({type(exc).__name__})"
        return problem(503, "not-ready", detail, request.url.path)
    head = schema_head()
    state = schema_state(current)
    if state is SchemaState.UNKNOWN:  # a newer release migrated it: upgrading would not help
        detail = (
            f"the database schema is at revision {current}, newer than this release knows (its latest "
            f"is {head}): run the release that migrated it"
        )
        return problem(503, "not-ready", detail, request.url.path)
    if state is SchemaState.BEHIND:
        detail = (
            f"the database schema is at revision {current or 'none'}, this release needs {head}: "
            "run `callhold db upgrade`"
        )
        return problem(503, "not-ready", detail, request.url.path)
    return Readiness(database=backend, schema_revision=head)
