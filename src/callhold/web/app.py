"""The composition root: settings -> store, telephony, clock, timers -> service -> FastAPI app.

Nothing here runs at import time. ``create_app(settings)`` builds everything; with no Twilio
credentials it embeds a voicesim emulator (real-time clock, sped up by ``voicesim_speed``) and
mounts callhold's own app inside it, so the two talk in process. Tests pass their own emulator
(on a virtual clock) through ``emulator=``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from twilio.rest import Client

from callhold.adapters.db.engine import make_engine
from callhold.adapters.db.migrate import upgrade
from callhold.adapters.db.store import SqlHoldStore
from callhold.adapters.telephony import TwilioTelephony
from callhold.config import Settings
from callhold.domain import paths
from callhold.domain.model import Strategy
from callhold.domain.policies import AgentHangupPolicy, HoldPolicy, MaxHoldPolicy
from callhold.service import CallService, HoldTimings
from callhold.timers import AsyncioTimers, SchedulerClock, SchedulerTimers, SystemClock, Timers
from callhold.twiml import TwimlBuilder
from callhold.web import problems

__all__ = ["Services", "buy_callhold_number", "create_app"]


@dataclass
class Services:
    """Everything a request handler may need (stored on ``app.state.services``)."""

    settings: Settings
    service: CallService
    store: SqlHoldStore
    twiml: TwimlBuilder
    auth_token: str
    emulator: Any = None

    @property
    def webhook_shared_key(self) -> str | None:
        """The secret of the SharedKey a Twilio Webhook Rule signs callhold's webhooks with, if any."""
        key = self.settings.twilio_webhook_shared_key
        return key.get_secret_value() if key is not None else None


def _seeded_ids(seed: int) -> Callable[[], str]:
    rng = random.Random(seed)
    return lambda: f"{rng.getrandbits(128):032x}"


def buy_callhold_number(emulator: Any, settings: Settings) -> None:
    """Give a voicesim emulator callhold's number (``caller_id``), configured as it would be on
    Twilio (README, "On real Twilio"): voice webhook and status callback under the public base URL."""
    base = settings.public_base_url.rstrip("/")
    emulator.buy_number(
        settings.caller_id,
        voice_url=f"{base}/twiml/voice",
        voice_method="POST",
        status_callback=f"{base}{paths.CALL_STATUS}",
        status_callback_method="POST",
    )


def build_services(settings: Settings, *, emulator: Any = None, seed: int | None = None) -> Services:
    """Wire the service. ``emulator``: a voicesim Emulator to use instead of Twilio. The schema is
    brought to this release's head first, unless ``migrate_on_start`` is false (the runtime role may
    have no DDL rights: ``callhold serve`` has then checked it is at head)."""
    if settings.migrate_on_start:
        upgrade(settings.database_url)
    store = SqlHoldStore(make_engine(settings.database_url))
    timers: Timers
    if settings.uses_real_twilio and emulator is None:
        assert settings.twilio_account_sid and settings.twilio_auth_token
        from callhold.adapters.http import RebasedAsyncHttpClient

        token = settings.twilio_auth_token.get_secret_value()
        http = RebasedAsyncHttpClient(settings.twilio_api_base_url, timeout=settings.twilio_timeout)
        client = Client(settings.twilio_account_sid, token, http_client=http)
        clock: Any = SystemClock()
        timers = AsyncioTimers()
    else:
        if emulator is None:
            from voicesim import Emulator, RealtimeClock

            # SIDs from the OS's entropy: the database outlives this process, and a seeded
            # sequence would hand the first caller after a restart the SID of a call on record.
            emulator = Emulator(RealtimeClock(settings.voicesim_speed), seed=None)
            buy_callhold_number(emulator, settings)  # so that a test call to it reaches us
        from voicesim.sdk import client as voicesim_client

        token = emulator.auth_token
        client = voicesim_client(emulator, asynchronous=True)
        clock = SchedulerClock(emulator.clock)
        timers = SchedulerTimers(emulator.clock)
    timings = HoldTimings(settings.agent_reminder_after, settings.max_hold)
    policy = HoldPolicy(
        max_hold_retry_after=timedelta(seconds=timings.retry_after),
        agent_hangup=AgentHangupPolicy(settings.agent_hangup_policy),
        max_hold=MaxHoldPolicy.AUTO_RESUME
        if settings.max_hold_action == "resume"
        else MaxHoldPolicy.ANNOUNCE,
    )
    service = CallService(
        store,
        TwilioTelephony(client, settings.public_base_url),
        clock,
        timers,
        policy=policy,
        timings=timings,
        strategy=Strategy(settings.strategy),
        caller_id=settings.caller_id,
        new_id=_seeded_ids(seed) if seed is not None else None,
    )
    builder = TwimlBuilder(
        settings.public_base_url,
        settings.hold_music_url,
        settings.reminder_interval,
        settings.agent_reminder_after,
    )
    return Services(settings, service, store, builder, token, emulator)


async def _prune_callbacks(services: Services, every: float = 3600.0) -> None:
    """Forget old callback keys now and then every ``every`` seconds, while the app runs."""
    while True:
        try:
            services.service.prune_callbacks()
        except Exception:  # the database away for a moment: try again next time
            logging.getLogger("callhold.app").exception("pruning callback keys failed")
        await asyncio.sleep(every)


def create_app(settings: Settings | None = None, *, emulator: Any = None, seed: int | None = None) -> FastAPI:
    """The callhold ASGI app: JSON API, signed Twilio webhooks, TwiML, the agent console."""
    settings = settings or Settings()
    services = build_services(settings, emulator=emulator, seed=seed)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services.service.rearm_timers()
        sweeping = services.service.keep_dispatching(timedelta(seconds=settings.dispatch_every))
        pruning = asyncio.get_running_loop().create_task(_prune_callbacks(services))
        clock_task = None
        emu = services.emulator
        if emu is not None and hasattr(emu.clock, "run"):
            clock_task = asyncio.get_running_loop().create_task(emu.clock.run())
        try:
            yield
        finally:
            sweeping.cancel()
            pruning.cancel()
            if clock_task is not None:
                clock_task.cancel()
                with contextlib.suppress(BaseException):
                    await clock_task

    app = FastAPI(
        title="callhold",
        version="0.1.0",
        summary="Hold and resume Twilio calls without dropping anyone.",
        lifespan=lifespan,
    )
    app.state.services = services
    problems.install(app)
    from callhold.web import api, console, health, media, webhooks

    webhooks.install(app)
    app.include_router(media.router)
    app.include_router(api.router)
    app.include_router(health.router)
    app.include_router(console.router)
    if services.emulator is not None:
        # Embedded voicesim: its webhooks reach this app in process, and its REST and control
        # API are served under /voicesim (to place test calls: /voicesim/_voicesim/inbound-calls).
        from voicesim.rest.app import make_asgi_app

        services.emulator.webhooks.mount(settings.public_base_url, app)
        app.mount("/voicesim", make_asgi_app(services.emulator))
    return app
