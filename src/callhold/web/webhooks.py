"""Twilio-facing endpoints: TwiML documents, actions, status callbacks, conference events.

Every route validates ``X-Twilio-Signature`` (403 otherwise). TwiML routes accept GET and POST
(Twilio fetches HoldUrl with GET by default). Callbacks are deduplicated by their own keys and
fed to the domain, which ignores anything stale, so retried or out-of-order callbacks never move a
record backwards.
"""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime

from fastapi import APIRouter, Response
from starlette.datastructures import FormData

from callhold.domain import events as ev
from callhold.domain.errors import NotFound
from callhold.domain.model import AgentHangupPolicy, Call, Hold, HoldState, LegRole, LegStatus
from callhold.web.deps import ServicesDep, SignedForm

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_LEG_STATUSES = frozenset(s.value for s in LegStatus)
TWIML = "text/xml"
BOTH = ["GET", "POST"]


def _xml(body: str) -> Response:
    return Response(body, media_type=TWIML)


def _when(form: FormData, services: ServicesDep) -> datetime:
    raw = form.get("Timestamp")
    if isinstance(raw, str) and raw:
        parsed = email.utils.parsedate_to_datetime(raw)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return services.service.clock.now()


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def _hold(services: ServicesDep, hold_id: str) -> Hold:
    hold = services.store.get_hold(hold_id)
    if hold is None:
        raise NotFound("hold", hold_id)
    return hold


def _call(services: ServicesDep, call_id: str) -> Call:
    call = services.store.get_call(call_id)
    if call is None:
        raise NotFound("call", call_id)
    return call


# -- calls coming in -------------------------------------------------------------------------
@router.post("/twiml/voice")
async def voice(form: SignedForm, services: ServicesDep) -> Response:
    """An inbound call: record it, claim an agent, connect by the configured strategy."""
    service = services.service
    call = service.adopt(_text(form, "CallSid"))
    agent = services.store.get_agent(call.agent_id) if call.agent_id else service.assign_agent(call)
    call = _call(services, call.id)
    if agent is not None and call.conference_name is not None:
        view = services.store.load_view(call.id)
        if view.agent_leg is None:
            await service.add_agent_participant(call, agent)
    return _xml(services.twiml.connect(call, agent))


@router.api_route("/twiml/connect/{call_id}", methods=BOTH)
async def connect(call_id: str, form: SignedForm, services: ServicesDep) -> Response:
    """A waiting customer whose turn came: connect them to the agent now assigned."""
    call = _call(services, call_id)
    agent = services.store.get_agent(call.agent_id) if call.agent_id else None
    if agent is not None and call.conference_name is not None:
        view = services.store.load_view(call.id)
        if view.agent_leg is None or view.agent_leg.status.is_terminal:
            await services.service.add_agent_participant(call, agent)
    return _xml(services.twiml.connect(call, agent, greet=False))


@router.api_route("/twiml/outbound", methods=BOTH)
async def outbound(form: SignedForm, services: ServicesDep) -> Response:
    """An outbound call we placed for an agent was answered: connect it to that agent.

    The call is found by its ``CallSid``: its SID (our call id) exists only once Twilio created it,
    after the URL was given.
    """
    return await connect(_text(form, "CallSid"), form, services)


@router.api_route("/twiml/wait-music", methods=BOTH)
async def wait_music(form: SignedForm, services: ServicesDep) -> Response:
    """Music while waiting for an agent."""
    return _xml(services.twiml.wait_music())


# -- actions: where a <Dial> or <Enqueue> continues ---------------------------------------------
@router.post("/twiml/action/{call_id}")
async def dial_action(call_id: str, form: SignedForm, services: ServicesDep) -> Response:
    """A ``<Dial>`` ended. Whether it was a hang-up or our own hold is decided from our records."""
    status = _text(form, "DialCallStatus") or "completed"
    event = ev.DialActionReceived(
        call_sid=_text(form, "CallSid"), dial_call_status=status, at=services.service.clock.now()
    )
    decision = await services.service.handle(call_id, event)
    return _xml(services.twiml.redirect(services.service.action_reply(decision)))


@router.post("/twiml/enqueue-action/{call_id}")
async def enqueue_action(call_id: str, form: SignedForm, services: ServicesDep) -> Response:
    """An ``<Enqueue>`` ended (QueueResult)."""
    event = ev.EnqueueActionReceived(
        call_sid=_text(form, "CallSid"),
        queue_result=_text(form, "QueueResult"),
        at=services.service.clock.now(),
    )
    decision = await services.service.handle(call_id, event)
    return _xml(services.twiml.redirect(services.service.action_reply(decision)))


# -- hold documents -----------------------------------------------------------------------------
@router.api_route("/twiml/conference/hold-music/{hold_id}", methods=BOTH)
async def customer_hold_music(
    hold_id: str, form: SignedForm, services: ServicesDep, since: float | None = None
) -> Response:
    """The held customer's audio (conference HoldUrl, legs Enqueue waitUrl): music + reminders."""
    hold = _hold(services, hold_id)
    if not hold.is_open:
        return _xml(services.twiml.empty())
    elapsed = hold.duration(services.service.clock.now()).total_seconds()
    return _xml(services.twiml.customer_hold_music(hold, elapsed, since if since is not None else 0.0))


@router.api_route("/twiml/legs/hold-music/{hold_id}", methods=BOTH)
async def agent_hold_music(hold_id: str, form: SignedForm, services: ServicesDep, again: int = 0) -> Response:
    """The agent's leg while the customer is held (legs)."""
    return _xml(services.twiml.agent_hold_music(_hold(services, hold_id), first=not again))


@router.api_route("/twiml/legs/enqueue/{hold_id}", methods=BOTH)
async def legs_enqueue(hold_id: str, form: SignedForm, services: ServicesDep) -> Response:
    """The customer's leg while held (legs): into this hold's own queue."""
    hold = _hold(services, hold_id)
    return _xml(services.twiml.enqueue_customer(hold, _call(services, hold.call_id)))


@router.api_route("/twiml/legs/dequeue/{hold_id}", methods=BOTH)
async def legs_dequeue(hold_id: str, form: SignedForm, services: ServicesDep) -> Response:
    """The agent's leg on resume (legs): ``<Dial><Queue>`` of exactly this hold's queue."""
    hold = _hold(services, hold_id)
    return _xml(services.twiml.dequeue_customer(hold, _call(services, hold.call_id)))


@router.api_route("/twiml/legs/bridged/{hold_id}", methods=BOTH)
async def legs_bridged(hold_id: str, form: SignedForm, services: ServicesDep) -> Response:
    """``<Queue url>``: the held customer is being bridged back to the agent -- the resume is done."""
    hold = _hold(services, hold_id)
    await services.service.handle(
        hold.call_id, ev.LegsBridged(hold_id=hold_id, at=services.service.clock.now())
    )
    return _xml(services.twiml.bridged())


@router.api_route("/twiml/announce/{hold_id}/{kind}", methods=BOTH)
async def announce(hold_id: str, kind: str, form: SignedForm, services: ServicesDep) -> Response:
    """A notice to the agent of a conference hold (AnnounceUrl)."""
    hold = _hold(services, hold_id)
    elapsed = hold.duration(services.service.clock.now()).total_seconds()
    return _xml(services.twiml.notice(kind, hold, elapsed, back_to_music=False))


@router.api_route("/twiml/legs/agent-notice/{hold_id}/{kind}", methods=BOTH)
async def legs_agent_notice(hold_id: str, kind: str, form: SignedForm, services: ServicesDep) -> Response:
    """A notice to the agent of a legs hold, then back to the music (if the hold goes on)."""
    hold = _hold(services, hold_id)
    elapsed = hold.duration(services.service.clock.now()).total_seconds()
    still_held = hold.state in (HoldState.HOLDING, HoldState.HELD)
    return _xml(services.twiml.notice(kind, hold, elapsed, back_to_music=still_held))


@router.api_route("/twiml/legs/customer-left/{call_id}", methods=BOTH)
async def customer_left(call_id: str, form: SignedForm, services: ServicesDep) -> Response:
    """Told to the agent when the held customer hung up."""
    return _xml(services.twiml.customer_left())


@router.api_route("/twiml/customer/agent-left/{call_id}", methods=BOTH)
async def agent_left(call_id: str, form: SignedForm, services: ServicesDep) -> Response:
    """Told to the customer when the agent was disconnected: requeue, or goodbye."""
    call = _call(services, call_id)
    requeue = services.service.policy.agent_hangup is AgentHangupPolicy.REQUEUE
    return _xml(services.twiml.agent_left(call, requeue))


# -- callbacks ---------------------------------------------------------------------------------
@router.post("/webhooks/call-status", status_code=204)
async def call_status(form: SignedForm, services: ServicesDep) -> Response:
    """A call status callback (any leg): monotonic, deduplicated."""
    service, store = services.service, services.store
    call_sid, parent = _text(form, "CallSid"), _text(form, "ParentCallSid") or None
    status_text, sequence = _text(form, "CallStatus"), _text(form, "SequenceNumber")
    if status_text not in _LEG_STATUSES:
        return Response(status_code=204)
    # Deduplicate first: a retried delivery costs one statement and touches nothing else.
    if not store.record_callback(f"status:{call_sid}:{sequence}:{status_text}", service.clock.now()):
        return Response(status_code=204)
    call = store.find_call(call_sid=call_sid) or (store.find_call(call_sid=parent) if parent else None)
    if call is None:
        return Response(status_code=204)
    if parent and store.get_leg(call_sid) is None:
        await service.join_agent_leg(call.id, call_sid, parent)
    event = ev.LegStatusChanged(
        call_sid=call_sid,
        status=LegStatus(status_text),
        sequence_number=int(sequence) if sequence.isdigit() else None,
        timestamp=_when(form, services),
    )
    await service.handle(call.id, event)
    leg = store.get_leg(call_sid)
    if leg is not None and leg.role is LegRole.CUSTOMER and leg.status.is_terminal:
        service.call_ended(call.id)
    return Response(status_code=204)


@router.post("/webhooks/conference", status_code=204)
async def conference_event(form: SignedForm, services: ServicesDep) -> Response:
    """A conference status callback: start/end, hold/unhold, mute/unmute, leave."""
    service, store = services.service, services.store
    kind = _text(form, "StatusCallbackEvent")
    call = store.find_call(conference=_text(form, "FriendlyName"))
    if call is None:
        return Response(status_code=204)
    key = f"conference:{_text(form, 'ConferenceSid')}:{_text(form, 'SequenceNumber')}"
    if not store.record_callback(key, service.clock.now()):
        return Response(status_code=204)
    at = _when(form, services)
    sequence = int(_text(form, "SequenceNumber") or 0)
    call_sid = _text(form, "CallSid")
    event: ev.Event | None = None
    if kind == "conference-start":
        event = ev.ConferenceStarted(conference_sid=_text(form, "ConferenceSid"), at=at)
    elif kind == "conference-end":
        event = ev.ConferenceEnded(conference_sid=_text(form, "ConferenceSid"), at=at)
    elif kind in ("participant-hold", "participant-unhold"):
        event = ev.ParticipantHoldChanged(
            call_sid=call_sid, hold=kind == "participant-hold", sequence_number=sequence, at=at
        )
    elif kind in ("participant-mute", "participant-unmute"):
        event = ev.ParticipantMuteChanged(
            call_sid=call_sid, muted=kind == "participant-mute", sequence_number=sequence, at=at
        )
    elif kind == "participant-leave":
        status = _text(form, "ParticipantCallStatus")
        if status in {s.value for s in LegStatus} and LegStatus(status).is_terminal:
            event = ev.LegStatusChanged(
                call_sid=call_sid, status=LegStatus(status), sequence_number=None, timestamp=at
            )
    if event is not None:
        await service.handle(call.id, event)
    if kind == "participant-leave" and call_sid == call.customer_call_sid:
        leg = store.get_leg(call_sid)
        if leg is not None and leg.status.is_terminal:
            service.call_ended(call.id)
    return Response(status_code=204)
