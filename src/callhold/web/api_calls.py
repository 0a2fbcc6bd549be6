"""``/api/v1/calls``: list, read and place calls; hold, resume, mute, add and remove parties.

``{sid}`` is the call's id (the customer's Call SID) or the SID of any of its legs. Hold is
idempotent (a second hold reports the current one); resume when not held is a 409 ``not-held``
problem. Mute and parties need the conference strategy (409 ``wrong-strategy`` otherwise).

When Twilio refuses a command the service raises it once the domain has dealt with it (a hold undone,
a resume left held): 409 if it cannot apply to the call as it is (a label in use, a participant gone),
422 for a number Twilio finds invalid, 502 ``telephony-error`` otherwise, each with ``twilio_code``;
504 ``telephony-uncertain`` when Twilio never answered or answered a server error (500, 502, 504): it may
have been carried out.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from callhold.domain.errors import Conflict, NotHeld
from callhold.domain.model import CallView
from callhold.web.api_queries import CallFilters
from callhold.web.deps import ServicesDep
from callhold.web.routing import LimitedRoute, Me, by, problems, require_self
from callhold.web.schemas import (
    CALL_SID_PATTERN,
    CallCreate,
    CallDetail,
    CallOut,
    HoldOut,
    HoldRequest,
    LegOut,
    MuteRequest,
    ParticipantCreate,
)

__all__ = ["router"]

router = APIRouter(prefix="/calls", tags=["calls"], route_class=LimitedRoute)

SidPath = Annotated[
    str, Path(pattern=CALL_SID_PATTERN, description="The call id, or the Call SID of one of its legs")
]
LegSidPath = Annotated[str, Path(pattern=CALL_SID_PATTERN, description="The participant's Call SID")]


def _detail(services: ServicesDep, view: CallView) -> CallDetail:
    now = services.service.clock.now()
    return CallDetail(
        **CallOut.of(view.call, view.hold.state if view.hold is not None else None).model_dump(),
        legs=[LegOut.of(leg) for leg in view.legs],
        hold=HoldOut.of(view.hold, now) if view.hold is not None else None,
    )


def _hold_out(services: ServicesDep, view: CallView) -> HoldOut:
    if view.hold is None:  # a hold or resume that returns has a hold: the service raises otherwise
        raise NotHeld(f"call {view.call.id} has no hold")
    return HoldOut.of(view.hold, services.service.clock.now())


@router.get("", response_model=list[CallDetail] | list[CallOut], responses=problems())
async def list_calls(
    me: Me, services: ServicesDep, filters: Annotated[CallFilters, Query()]
) -> list[CallDetail] | list[CallOut]:
    """Calls, newest first: all of them (admin) or the agent's own, each with ``hold_state``: the
    state of its open hold, else of its latest (null if it was never held). With ``detail=true``
    each is a call detail (its legs and that hold), as ``GET /calls/{sid}`` gives it."""
    if filters.detail:
        views = services.store.list_views(status=filters.status, agent_id=me.agent_id, limit=filters.limit)
        return [_detail(services, view) for view in views]
    calls = services.store.list_calls(
        status=filters.status, agent_id=me.agent_id, limit=filters.limit, with_hold=True
    )
    return [CallOut.of(call, hold_state) for call, hold_state in calls]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CallDetail,
    responses=problems(403, 404, 409, 413, 502, 504),
)
async def place_call(body: CallCreate, me: Me, services: ServicesDep, response: Response) -> CallDetail:
    """Dial a customer for an agent: an agent token dials for itself; the admin names the agent in
    ``agent_id``, or gets the first available one.

    The agent must be available (409 otherwise); it is claimed for the call, and connected when the
    customer answers.
    """
    agent_id = body.agent_id if body.agent_id is not None else me.agent_id
    if agent_id is None:  # the admin named nobody: the first available agent
        available = services.store.list_agents(available=True)
        if not available:
            raise Conflict("no agent is available to take the call")
        agent_id = available[0].id
    require_self(me, agent_id)
    call = await services.service.place_outbound(agent_id, body.to)
    response.headers["Location"] = f"/api/v1/calls/{call.id}"
    return _detail(services, services.store.load_view(call.id))


@router.get("/{sid}", response_model=CallDetail, responses=problems(403, 404))
async def get_call(sid: SidPath, me: Me, services: ServicesDep) -> CallDetail:
    """A call with its legs and its current (or last) hold."""
    view = services.service.view(sid)
    services.service.authorize(view, me.agent_id)
    return _detail(services, view)


@router.post("/{sid}/hold", response_model=HoldOut, responses=problems(403, 404, 409, 413, 502, 504))
async def hold(sid: SidPath, me: Me, services: ServicesDep, body: HoldRequest | None = None) -> HoldOut:
    """Put the customer on hold, by the call's strategy. Idempotent: holding a held call reports the
        current hold. A Twilio failure midway is undone so nobody is left in silence, and reported (502; 409
    if the customer's call is already gone)."""
    options = body or HoldRequest()
    music_url = str(options.music_url) if options.music_url is not None else None
    view = await services.service.hold(
        sid,
        by=by(me),
        agent_id=me.agent_id,
        reason=options.reason,
        music_url=music_url,
        raise_on_failure=True,
    )
    return _hold_out(services, view)


# No 413 (nor 400): resume reads no body (``LimitedRoute`` checks only routes that do).
@router.post("/{sid}/resume", response_model=HoldOut, responses=problems(403, 404, 409, 502, 504))
async def resume(sid: SidPath, me: Me, services: ServicesDep) -> HoldOut:
    """Take the customer off hold (409 ``not-held`` if the call is not on hold). A Twilio failure
    leaves the hold in place (502); resume can be retried."""
    view = await services.service.resume(sid, by=by(me), agent_id=me.agent_id, raise_on_failure=True)
    return _hold_out(services, view)


@router.post("/{sid}/mute", response_model=CallDetail, responses=problems(403, 404, 409, 413, 502, 504))
async def mute(sid: SidPath, body: MuteRequest, me: Me, services: ServicesDep) -> CallDetail:
    """Mute one participant (conference strategy)."""
    return _detail(services, await services.service.mute(sid, body.call_sid, True, agent_id=me.agent_id))


@router.post("/{sid}/unmute", response_model=CallDetail, responses=problems(403, 404, 409, 413, 502, 504))
async def unmute(sid: SidPath, body: MuteRequest, me: Me, services: ServicesDep) -> CallDetail:
    """Unmute one participant (conference strategy)."""
    return _detail(services, await services.service.mute(sid, body.call_sid, False, agent_id=me.agent_id))


@router.post(
    "/{sid}/participants",
    status_code=status.HTTP_201_CREATED,
    response_model=CallDetail,
    responses=problems(403, 404, 409, 413, 502, 504),
)
async def add_participant(sid: SidPath, body: ParticipantCreate, me: Me, services: ServicesDep) -> CallDetail:
    """Dial a third party into the call's conference (conference strategy)."""
    view = await services.service.add_party(sid, body.to, label=body.label, agent_id=me.agent_id)
    return _detail(services, view)


@router.delete(
    "/{sid}/participants/{call_sid}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problems(403, 404, 409, 502, 504),
)
async def remove_participant(sid: SidPath, call_sid: LegSidPath, me: Me, services: ServicesDep) -> Response:
    """Remove a participant from the call's conference (conference strategy)."""
    await services.service.remove_party(sid, call_sid, agent_id=me.agent_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
