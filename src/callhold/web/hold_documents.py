"""The TwiML documents Twilio fetches during a hold: the held customer's music and reminders, the
agent's music and notices, the per-hold queue and its dequeue, and what each side is told when the
other leaves. Routes of :data:`callhold.web.routers.router` (signature checked first, see
:class:`~callhold.web.deps.WebhookRoute`), installed with the rest by
:func:`callhold.web.webhooks.install`.
"""

from __future__ import annotations

import logging

from fastapi import Response

from callhold.domain import events as ev
from callhold.domain import paths
from callhold.domain.errors import NotFound
from callhold.domain.model import Call, CallState, Hold, HoldEndReason, HoldState, Strategy, queue_name_for
from callhold.domain.policies import AgentHangupPolicy
from callhold.twiml import HoldMusic, TwimlBuilder
from callhold.web.app import Services
from callhold.web.deps import Webhook, twiml_fallback
from callhold.web.routers import BOTH, router, twiml_response

__all__: list[str] = []

_log = logging.getLogger("callhold.hold_documents")


def _hold(services: Services, hold_id: str) -> Hold:
    hold = services.store.get_hold(hold_id)
    if hold is None:
        raise NotFound("hold", hold_id)
    return hold


def _call(services: Services, call_id: str) -> Call:
    call = services.store.get_call(call_id)
    if call is None:
        raise NotFound("call", call_id)
    return call


# What each hold document answers when callhold cannot reach its records, its retries spent (see
# ``twiml_fallback``): the held party stays where it is -- on music, or in its queue.
def _customer_music(hook: Webhook) -> str:
    return hook.services.twiml.music_loop(paths.conference_hold_music(hook.path("hold_id")), "GET")


def _agent_music(hook: Webhook) -> str:
    return hook.services.twiml.music_loop(paths.legs_hold_music(hook.path("hold_id")) + "?again=1", "POST")


def _into_the_holds_queue(hook: Webhook) -> str:
    hold_id = hook.path("hold_id")
    # The customer's own Call SID is the call's id.
    return hook.services.twiml.enqueue_held(queue_name_for(hold_id), hold_id, hook.text("CallSid"))


def _quiet(_hook: Webhook) -> str:
    return TwimlBuilder.empty()


@router.api_route("/twiml/conference/hold-music/{hold_id}", methods=BOTH)
@twiml_fallback(_customer_music)
async def customer_hold_music(hook: Webhook) -> Response:
    """The held customer's audio (conference HoldUrl, legs Enqueue waitUrl): music + reminders.

    Query ``since``: how long the hold had lasted when the previous loop was fetched (absent on the
    first); ``music``: what that loop played (:class:`~callhold.twiml.HoldMusic`).
    """
    services = hook.services
    since = hook.query_float("since")
    played = hook.query_enum("music", HoldMusic, HoldMusic.REQUESTED)
    hold = _hold(services, hook.path("hold_id"))
    if not hold.is_open:
        # Legs: this is the held customer's waitUrl, so the customer is still in the hold's queue
        # though the hold is over -- the command that should have moved it was lost (Twilio
        # unreachable, an instance died). It leaves the queue: the <Enqueue> action then takes it
        # where the record says (the next agent, say). Conference: HoldUrl cannot <Leave>.
        if hold.strategy is Strategy.LEGS:
            return twiml_response(services.twiml.leave_queue())
        return twiml_response(services.twiml.empty())
    elapsed = hold.duration(services.service.clock.now()).total_seconds()
    came_back_after = None if since is None else elapsed - since
    music = played.after(hold, came_back_after, retry=services.twiml.interval_passed(elapsed, since))
    if music is not played and music is not HoldMusic.REQUESTED:
        failed = hold.music_url if played is HoldMusic.REQUESTED and hold.music_url else services.twiml.music
        _log.warning(
            "hold %s: the music %s did not play (its loop came back at once); now playing: %s",
            hold.id,
            failed,
            music.value,
        )
    return twiml_response(
        services.twiml.customer_hold_music(hold, elapsed, since if since is not None else 0.0, music)
    )


@router.api_route("/twiml/legs/hold-music/{hold_id}", methods=BOTH)
@twiml_fallback(_agent_music)
async def agent_hold_music(hook: Webhook) -> Response:
    """The agent's leg while the customer is held (legs). Query ``again``: not the first fetch;
    ``since``: how long the hold had lasted when the previous loop was fetched."""
    again = hook.query_int("again", 0)
    since = hook.query_float("since")
    services = hook.services
    hold = _hold(services, hook.path("hold_id"))
    if hold.end_reason is HoldEndReason.CUSTOMER_HUNG_UP:
        # The music loops through here, so an agent whose customer is gone is told so even if the
        # command that should have taken it off the music was lost (Twilio unreachable, an
        # instance died) -- never left on music for no one.
        return twiml_response(services.twiml.customer_left())
    elapsed = hold.duration(services.service.clock.now()).total_seconds()
    return twiml_response(services.twiml.agent_hold_music(hold, elapsed, since, first=not again))


@router.api_route("/twiml/legs/enqueue/{hold_id}", methods=BOTH)
@twiml_fallback(_into_the_holds_queue)
async def legs_enqueue(hook: Webhook) -> Response:
    """The customer's leg while held (legs): into this hold's own queue."""
    services = hook.services
    hold = _hold(services, hook.path("hold_id"))
    return twiml_response(services.twiml.enqueue_customer(hold, _call(services, hold.call_id)))


@router.api_route("/twiml/legs/dequeue/{hold_id}", methods=BOTH)
async def legs_dequeue(hook: Webhook) -> Response:
    """The agent's leg on resume (legs): ``<Dial><Queue>`` of exactly this hold's queue. Query
    ``paced``: the previous try failed at once (the customer not in the queue yet): pause first."""
    services = hook.services
    hold = _hold(services, hook.path("hold_id"))
    call = _call(services, hold.call_id)
    return twiml_response(services.twiml.dequeue_customer(hold, call, paced=bool(hook.query_int("paced", 0))))


@router.api_route("/twiml/legs/bridged/{hold_id}", methods=BOTH)
@twiml_fallback(_quiet)
async def legs_bridged(hook: Webhook) -> Response:
    """``<Queue url>``: the held customer is being bridged back to the agent -- the resume is done."""
    services, hold_id = hook.services, hook.path("hold_id")
    hold = _hold(services, hold_id)
    await services.service.handle(
        hold.call_id, ev.LegsBridged(hold_id=hold_id, at=services.service.clock.now())
    )
    return twiml_response(services.twiml.bridged())


@router.api_route("/twiml/announce/{hold_id}/{kind}", methods=BOTH)
@twiml_fallback(_quiet)
async def announce(hook: Webhook) -> Response:
    """A notice to the agent of a conference hold (AnnounceUrl)."""
    services = hook.services
    hold = _hold(services, hook.path("hold_id"))
    elapsed = hold.duration(services.service.clock.now()).total_seconds()
    return twiml_response(services.twiml.notice(hook.path("kind"), hold, elapsed, back_to_music=False))


@router.api_route("/twiml/legs/agent-notice/{hold_id}/{kind}", methods=BOTH)
async def legs_agent_notice(hook: Webhook) -> Response:
    """A notice to the agent of a legs hold, then back to the music (if the hold goes on)."""
    services = hook.services
    hold = _hold(services, hook.path("hold_id"))
    elapsed = hold.duration(services.service.clock.now()).total_seconds()
    still_held = hold.state in (HoldState.HOLDING, HoldState.HELD)
    return twiml_response(services.twiml.notice(hook.path("kind"), hold, elapsed, back_to_music=still_held))


@router.api_route("/twiml/legs/customer-left/{call_id}", methods=BOTH)
async def customer_left(hook: Webhook) -> Response:
    """Told to the agent when the held customer hung up."""
    return twiml_response(hook.services.twiml.customer_left())


@router.api_route("/twiml/customer/agent-left/{call_id}", methods=BOTH)
async def agent_left(hook: Webhook) -> Response:
    """Told to the customer when the agent was disconnected: on to the next free agent, else back
    in line (requeue); or goodbye.

    Requeue connects a free agent here and now, as an inbound call does: in line, the customer
    would wait for the dispatch sweep (two sweeps, up to 30 s) however many agents are free --
    nothing else hands over a customer who joins the line while agents are free.
    """
    services = hook.services
    call = _call(services, hook.path("call_id"))
    requeue = services.service.policy.agent_hangup is AgentHangupPolicy.REQUEUE
    agent = None
    if requeue and call.status is CallState.ACTIVE:
        call, agent = await services.service.agent_for_waiting(call.id, after_agent_left=True)
    return twiml_response(services.twiml.agent_left(call, requeue, agent))
