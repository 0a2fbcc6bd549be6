"""A callhold app wired to an embedded voicesim on a virtual clock, plus helpers to drive calls."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from callhold.config import Settings
from callhold.domain.model import Agent, CallView, LegStatus, Strategy
from callhold.web.app import Services, create_app
from voicesim import Call, Emulator, VirtualClock

BASE = "http://callhold.test"
NUMBER, CUSTOMER = "+15550001000", "+15551230001"
ADMIN = {"Authorization": "Bearer change-me-admin"}  # the default admin token's header


def heard(emu: Emulator, call_sid: str) -> list[tuple[str, str, str]]:
    """(kind, context, detail or voices) of each segment ``call_sid`` heard, for compact assertions."""
    out = []
    for seg in emu.media.segments(call_sid):
        detail = ",".join(seg.voices) if seg.kind in ("conference", "call") else seg.detail
        out.append((seg.kind, seg.context, detail))
    return out


@dataclass
class Harness:
    """The emulator, its clock, the callhold app and its services."""

    emu: Emulator
    clock: VirtualClock
    app: FastAPI
    services: Services

    def add_agent(self, agent_id: str = "alice", endpoint: str = "client:alice") -> Agent:
        agent = Agent(id=agent_id, name=agent_id.title(), endpoint=endpoint, available=True)
        self.services.store.save_agent(agent)
        return agent

    async def call_in(self, seconds: float = 20, customer: str = CUSTOMER) -> Call:
        call = self.emu.inbound_call(customer, NUMBER)
        await self.clock.advance(seconds)
        self.clock.raise_errors()
        return call

    async def connected(self) -> tuple[str, str]:
        """alice (added now) takes a new customer's call: (customer SID, agent leg SID)."""
        self.add_agent()
        call = await self.call_in()
        agent = self.view(call.sid).agent_leg
        assert agent is not None
        return call.sid, agent.call_sid

    async def held(self) -> tuple[str, str]:
        """:meth:`connected`, then the customer put on hold by alice (5 s ago)."""
        customer, agent = await self.connected()
        await self.services.service.hold(customer, by="alice", agent_id="alice")
        await self.clock.advance(5)
        return customer, agent

    def view(self, ref: str) -> CallView:
        return self.services.service.view(ref)

    def assert_talking_to(self, customer: str, agent_id: str) -> None:
        """The customer's call is ``agent_id``'s, whose leg is up, and the customer hears that leg (in
        the conference, or bridged by the legs strategy's ``<Dial>``)."""
        view = self.view(customer)
        assert view.call.agent_id == agent_id
        agent = view.agent_leg
        assert agent is not None and agent.status is LegStatus.IN_PROGRESS
        assert self.emu.calls.get(agent.call_sid).to == f"client:{agent_id}"  # type: ignore[union-attr]
        kind, _, voices = self.heard(customer)[-1]
        heard_as = "conference" if view.call.strategy is Strategy.CONFERENCE else "call"
        assert (kind, voices) == (heard_as, agent.call_sid)

    def status_callbacks(self, call_sid: str, status: str) -> list[dict[str, Any]]:
        """The status callbacks voicesim delivered for ``call_sid`` reporting ``status`` (each with
        its ``url`` and ``params``), in order."""
        return [
            e.data
            for e in self.emu.events
            if e.type == "webhook"
            and e.data["purpose"] == "status-callback"
            and e.data["params"]["CallSid"] == call_sid
            and e.data["params"]["CallStatus"] == status
        ]

    def heard(self, call_sid: str) -> list[tuple[str, str, str]]:
        """(kind, context, detail or voices) of each segment, for compact assertions."""
        return heard(self.emu, call_sid)

    async def api(self, method: str, path: str, body: dict[str, object] | None = None) -> httpx.Response:
        """``method /api/v1{path}`` (JSON ``body``, if any) as the admin."""
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=BASE) as client:
            return await client.request(method, f"/api/v1{path}", json=body, headers=ADMIN)

    def spans(self, call_sid: str) -> list[tuple[str, str, float]]:
        """(kind, context, seconds) of each finished segment."""
        return [
            (s.kind, s.context, round((s.end or self.clock.now()) - s.start, 1))
            for s in self.emu.media.segments(call_sid)
        ]


def make_harness(emu: Emulator, clock: VirtualClock, tmp_path: Path, **settings: object) -> Harness:
    config = Settings(
        database_url=f"sqlite:///{tmp_path}/callhold.db",
        public_base_url=BASE,
        **settings,  # type: ignore[arg-type]
    )
    app = create_app(config, emulator=emu, seed=0)
    emu.buy_number(NUMBER, voice_url=f"{BASE}/twiml/voice", status_callback=f"{BASE}/webhooks/call-status")
    return Harness(emu, clock, app, app.state.services)
