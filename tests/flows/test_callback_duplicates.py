"""A callback Twilio delivers again is applied once: answered from memory when this process committed
it, by the database when another instance did (or this one restarted)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from callhold.config import Settings
from callhold.domain import events as ev
from callhold.domain.model import LegStatus
from callhold.web.app import build_services
from tests.flows.callhold_harness import BASE, make_harness
from tests.flows.callhold_signed import send
from voicesim import Emulator, VirtualClock


def _statements(engine: Engine) -> list[str]:
    """Every SQL statement ``engine`` runs from now on."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    return seen


async def test_a_repeated_status_callback_changes_nothing_and_costs_no_statement(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path)
    customer, agent = await h.connected()
    before = h.view(customer)
    [answered] = h.status_callbacks(agent, "in-progress")
    statements = _statements(h.services.store.engine)
    for _ in range(3):
        reply = await send(h.app, answered["url"], answered["params"], auth_token=h.emu.auth_token)
        assert reply.status_code == 204
    assert statements == []  # answered from this process's memory of what it committed
    assert h.view(customer) == before


async def test_a_callback_another_instance_recorded_is_a_duplicate_here_too(
    voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path
) -> None:
    h = make_harness(voicesim, voicesim_clock, tmp_path)
    customer, agent = await h.connected()
    # A second instance on the same database, as after a restart or behind a load balancer.
    other = build_services(Settings(database_url=f"sqlite:///{tmp_path}/callhold.db", public_base_url=BASE))
    [answered] = h.status_callbacks(agent, "in-progress")
    params = answered["params"]
    key = f"status:{agent}:{params['SequenceNumber']}:in-progress"
    now = h.services.service.clock.now()
    late = ev.LegStatusChanged(call_sid=agent, status=LegStatus.RINGING, sequence_number=None, timestamp=now)
    # The same key with another event: were it applied, the leg would not change (ringing is
    # older), so the proof is in the answer -- None, a duplicate -- and the database read for it.
    statements = _statements(other.store.engine)
    assert await other.service.handle_once(key, agent, late) is None
    assert any("callback_receipts" in s for s in statements)  # asked the database, the authority
    leg = other.service.view(customer).leg(agent)
    assert leg is not None and leg.status is LegStatus.IN_PROGRESS
    # A key neither instance has seen is applied (by the store, once).
    fresh = ev.LegStatusChanged(call_sid=agent, status=LegStatus.COMPLETED, sequence_number=99, timestamp=now)
    assert await other.service.handle_once(f"status:{agent}:99:completed", agent, fresh) is not None
    assert await other.service.handle_once(f"status:{agent}:99:completed", agent, fresh) is None
    leg = h.view(customer).leg(agent)
    assert leg is not None and leg.status is LegStatus.COMPLETED
