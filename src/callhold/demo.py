"""``callhold demo``: the whole product on an embedded voicesim, once per strategy.

A customer calls in, agent Alice answers, is put on hold with music and a reminder, resumed, and
hangs up. Everything goes through callhold's real paths: signed webhooks from voicesim, the JSON
API with a bearer token, the twilio SDK back to voicesim. A virtual clock makes minutes of calls
take a fraction of a second, and the result is the same every run: the demo reads no ``CALLHOLD_*``
setting (:class:`~callhold.config.FixedSettings`) and uses a temporary database.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from callhold.config import FixedSettings
from callhold.picture import Lane, Segment, render_html
from callhold.web.app import buy_callhold_number, create_app

__all__ = ["DemoResult", "run_demo"]

BASE = "http://callhold.local"
NUMBER, CUSTOMER, AGENT = "+15550001000", "+15551230001", "client:alice"
ADMIN = "demo-admin-token"
#: (virtual second, what happens)
SCRIPT = (
    (0, "customer calls"),
    (20, "agent puts the customer on hold"),
    (70, "agent resumes"),
    (85, "customer hangs up"),
)


@dataclass
class DemoResult:
    """What one strategy's run produced."""

    strategy: str
    customer_sid: str
    agent_sid: str
    timelines: dict[str, list[dict[str, Any]]]
    holds: list[dict[str, Any]]
    stats: dict[str, Any]
    text: str


async def _scenario(strategy: str, workdir: Path, progress: Progress | None) -> DemoResult:
    from voicesim import Emulator, VirtualClock
    from voicesim.report import render_text

    clock = VirtualClock()
    emu = Emulator(clock, seed=0)
    settings = FixedSettings(  # never the environment: a server's settings are not the demo's
        database_url=f"sqlite:///{workdir}/demo-{strategy}.db",
        public_base_url=BASE,
        strategy=strategy,  # type: ignore[arg-type]
        admin_token=ADMIN,  # type: ignore[arg-type]
        reminder_interval=20,
        agent_reminder_after=30,
        max_hold=300,
    )
    app = create_app(settings, emulator=emu, seed=0)
    buy_callhold_number(emu, settings)
    emu.phones.script(AGENT, answer_after=3)
    task = progress.add_task(f"{strategy:>10} strategy", total=SCRIPT[-1][0] + 5) if progress else None
    headers = {"Authorization": f"Bearer {ADMIN}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE, headers=headers
    ) as api:
        reply = await api.post(
            "/api/v1/agents", json={"id": "alice", "name": "Alice", "endpoint": AGENT, "available": True}
        )
        reply.raise_for_status()
        customer = emu.inbound_call(CUSTOMER, NUMBER)
        now = 0.0

        async def until(t: float) -> None:
            nonlocal now
            while now < t:
                step = min(5.0, t - now)
                await clock.advance(step)
                now += step
                if progress is not None and task is not None:
                    progress.update(task, completed=now)
            clock.raise_errors()

        await until(20)
        (
            await api.post(f"/api/v1/calls/{customer.sid}/hold", json={"reason": "checking the order"})
        ).raise_for_status()
        await until(70)
        (await api.post(f"/api/v1/calls/{customer.sid}/resume")).raise_for_status()
        await until(85)
        emu.hang_up(customer.sid)
        await until(90)
        call = (await api.get(f"/api/v1/calls/{customer.sid}")).json()
        holds = (await api.get("/api/v1/holds")).json()
        stats = (await api.get("/api/v1/stats")).json()
    agent_sid = next(c.sid for c in emu.calls.all() if c.sid != customer.sid and c.to == AGENT)
    origin = customer.date_created
    timelines = {
        sid: [
            {
                "start": s.start - origin,
                "end": (s.end if s.end is not None else clock.now()) - origin,
                "kind": s.kind,
                "context": s.context,
                "detail": s.detail,
                "voices": list(s.voices),
            }
            for s in emu.media.segments(sid)
        ]
        for sid in (customer.sid, agent_sid)
    }
    emu.close()
    del call
    return DemoResult(
        strategy,
        customer.sid,
        agent_sid,
        timelines,
        _items(holds),
        stats,
        render_text(emu, [customer.sid, agent_sid]),
    )


def _items(doc: Any) -> list[dict[str, Any]]:
    if isinstance(doc, dict):
        for key in ("holds", "items", "data"):
            if isinstance(doc.get(key), list):
                return list(doc[key])
    return list(doc) if isinstance(doc, list) else []


def _label(item: dict[str, Any], names: dict[str, str]) -> str:
    kind = item["kind"]
    if kind in ("call", "conference"):
        who = ", ".join(names.get(v, v[:8]) for v in item["voices"]) or "nobody"
        return f"hears {who}"
    if kind == "speech":
        return f'"{item["detail"]}"'
    if kind in ("play", "music"):
        return "music" if "hold-music" in item["detail"] or "index.xml" in item["detail"] else item["detail"]
    return str(kind)


def _kind(item: dict[str, Any]) -> str:
    """Drawn as silence when a call is connected but hears nobody (its party is on hold)."""
    if item["kind"] in ("call", "conference") and not item["voices"]:
        return "silence"
    return str(item["kind"])


def _lanes(result: DemoResult) -> list[Lane]:
    names = {result.customer_sid: "customer", result.agent_sid: "Alice"}
    lanes = []
    for sid, title in ((result.customer_sid, f"Customer {CUSTOMER}"), (result.agent_sid, "Agent Alice")):
        segs = [
            Segment(i["start"], i["end"], _kind(i), i["context"], _label(i, names))
            for i in result.timelines[sid]
            if i["end"] - i["start"] >= 0.05
        ]
        lanes.append(Lane(title, sid, segs))
    return lanes


def _table(result: DemoResult, sid: str, title: str) -> Table:
    names = {result.customer_sid: "customer", result.agent_sid: "Alice"}
    table = Table(title=title, title_justify="left", show_lines=False)
    for col in ("from", "to", "hears"):
        table.add_column(col, justify="right" if col != "hears" else "left")
    for item in result.timelines[sid]:
        if item["end"] - item["start"] < 0.05:
            continue
        where = f"[{item['context']}] " if item["context"] else ""
        table.add_row(f"{item['start']:.1f}s", f"{item['end']:.1f}s", escape(where + _label(item, names)))
    return table


async def run_demo(
    out: Path,
    console: Console | None = None,
    strategies: tuple[str, ...] = ("conference", "legs"),
    show_progress: bool = True,
) -> list[DemoResult]:
    """Run the demo for each strategy, print the timelines and records, write the picture to ``out``."""
    console = console or Console()
    results: list[DemoResult] = []
    with (
        tempfile.TemporaryDirectory(prefix="callhold-demo-") as tmp,
        Progress(console=console, transient=True, disable=not show_progress) as progress,
    ):
        for strategy in strategies:
            results.append(await _scenario(strategy, Path(tmp), progress))
    for result in results:
        console.rule(f"[bold]{result.strategy} strategy")
        console.print("  " + "; ".join(f"t={t}s {what}" for t, what in SCRIPT))
        console.print(_table(result, result.customer_sid, f"Customer {CUSTOMER} ({result.customer_sid})"))
        console.print(_table(result, result.agent_sid, f"Agent Alice ({result.agent_sid})"))
        for hold in result.holds:
            console.print(
                f"  hold {hold.get('id')}: {hold.get('state')} ({hold.get('end_reason')}), "
                f"{hold.get('duration_seconds', '?')} s, by {hold.get('requested_by')}, "
                f"reason {hold.get('reason')!r}"
            )
    sections = [
        (f"{r.strategy} strategy", _lanes(r), " -> ".join(f"{t}s {w}" for t, w in SCRIPT)) for r in results
    ]
    out.write_text(render_html("callhold demo: hold and resume without dropping anyone", sections))
    console.print(f"\nPicture of the timelines: [bold]{out}[/bold]")
    return results
