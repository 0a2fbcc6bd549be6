"""The JSON API, ``/api/v1``: agents, calls (hold, resume, mute, parties), holds and statistics.

Every route needs a bearer token (see :mod:`callhold.web.routing` for who may do what) and every
error is RFC 9457 problem JSON (:mod:`callhold.web.problems`). One router per resource:
:mod:`~callhold.web.api_me`, :mod:`~callhold.web.api_agents`, :mod:`~callhold.web.api_calls`,
:mod:`~callhold.web.api_holds`.
"""

from __future__ import annotations

from fastapi import APIRouter

from callhold.web import api_agents, api_calls, api_holds, api_me

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")
router.include_router(api_me.router)
router.include_router(api_agents.router)
router.include_router(api_calls.router)
router.include_router(api_holds.router)
