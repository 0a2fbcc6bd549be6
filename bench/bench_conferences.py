"""Conference hold at scale, in process on a virtual clock.

    /work/venv/bin/python -m bench.bench_conferences                 # both benches
    /work/venv/bin/python -m bench.bench_conferences --conferences 20 --sizes 10,50

**(1) 100 conferences x 10 participants**, 30 virtual minutes. Every participant is added with
``POST /Participants`` (the official twilio SDK on voicesim's in-process transport; FriendlyName
``room-<c>``, each phone answers after 3 s), then held and resumed 5 times -- hold at
``60 + 340 k + 3 i`` s (``k`` = 0..4, ``i`` = the participant's index), resume 120 s later. The hold
URL is TwiML ``<Play loop="0">hold.wav</Play>`` served by a Starlette app mounted with
``emu.webhooks.mount`` (fetched with GET on every hold; the WAV is cached once fetched). Every
conference subscribes to all its events (signed webhooks to the same app). At 1800 s each
conference is completed through the API, so its participants hang up (Q4). The run is checked: every
participant heard exactly 5 ``hold`` stretches of 120 s, every call completed, 10 holds per
conference were reported as ``participant-hold``. Figures: wall time, virtual seconds per wall
second, emulator events/s, scheduler callbacks/s, webhooks/s.

**(2) One conference of N participants** (10, 50, 250 -- Twilio's maximum), 50 holds toggled (hold,
then resume: 100 updates) through the Python API with Twilio's default music (no webhooks), so the
cost measured is the engine's: what the participant hears and the conference mix (who hears whom).
Reported per update, against a naive baseline that recomputes every listener's set of voices on every
update (O(N^2) per event). ``media.segments()`` for all N participants (expanding who heard whom) is
timed separately: its output itself is O(N) voices per segment per participant.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from voicesim import Emulator, VirtualClock
from voicesim.sdk import client as sdk_client

BASE = "http://bench.test"
NUMBER = "+15550001000"
HOLDS, HOLD_SECONDS, HOLD_EVERY, FIRST_HOLD, END_AT = 5, 120.0, 340.0, 60.0, 1800.0


def _wav(seconds: float) -> bytes:
    import io
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(8000)
        out.writeframes(b"\x80" * int(8000 * seconds))
    return buf.getvalue()


def make_app(hits: Counter[str]) -> Starlette:
    """Hold TwiML, the hold WAV, and a sink for conference events."""
    loop = f'<?xml version="1.0"?><Response><Play loop="0">{BASE}/hold.wav</Play></Response>'.encode()
    wav = _wav(30)

    async def serve(request: Request) -> Response:
        path = request.url.path
        hits[path] += 1
        await request.body()
        if path == "/hold":
            return Response(loop, media_type="text/xml")
        if path == "/hold.wav":
            return Response(wav, media_type="audio/wav")
        return Response(b"", status_code=204)

    return Starlette(routes=[Route("/{path:path}", serve, methods=["GET", "POST"])])


class CountingClock(VirtualClock):
    """A VirtualClock that counts the callbacks it runs."""

    def __init__(self) -> None:
        super().__init__()
        self.callbacks = 0

    def _run_due(self, until: float) -> int:
        ran = super()._run_due(until)
        self.callbacks += ran
        return ran


@dataclass
class FleetResult:
    conferences: int
    participants: int
    wall: float
    virtual: float
    events: int
    callbacks: int
    webhooks: int
    updates: int


async def fleet(conferences: int, size: int) -> FleetResult:
    """Bench (1): ``conferences`` x ``size`` participants, each held and resumed 5 times."""
    clock = CountingClock()
    emu = Emulator(clock, seed=0)
    hits: Counter[str] = Counter()
    emu.webhooks.mount(BASE, make_app(hits))
    twilio = sdk_client(emu)
    members: dict[str, list[str]] = {}
    updates = 0

    def add(c: int, i: int) -> None:
        created = twilio.conferences(f"room-{c}").participants.create(
            from_=NUMBER,
            to=f"+1556{c:03d}{i:04d}",
            label=f"p{i}",
            conference_status_callback=f"{BASE}/events",
            conference_status_callback_event=["start", "end", "join", "leave", "hold"],
        )
        members.setdefault(created.conference_sid, []).append(created.call_sid)

    def hold(conference_sid: str, call_sid: str, on: bool) -> None:
        nonlocal updates
        participant = twilio.conferences(conference_sid).participants(call_sid)
        participant.update(hold=True, hold_url=f"{BASE}/hold") if on else participant.update(hold=False)
        updates += 1

    def end(conference_sid: str) -> None:
        twilio.conferences(conference_sid).update(status="completed")

    def plan() -> None:
        for conference_sid, calls in members.items():
            for i, call_sid in enumerate(calls):
                for k in range(HOLDS):
                    at = FIRST_HOLD + HOLD_EVERY * k + 3 * i
                    clock.call_at(clock.now() + at, hold, conference_sid, call_sid, True)
                    clock.call_at(clock.now() + at + HOLD_SECONDS, hold, conference_sid, call_sid, False)
            clock.call_at(clock.now() + END_AT, end, conference_sid)

    for c in range(conferences):
        for i in range(size):
            clock.call_later(0.01 * i, add, c, i)
    clock.call_later(1.0, plan)

    gc.collect()
    t0 = time.perf_counter()
    virtual = await clock.run_until_idle(limit=3600)
    wall = time.perf_counter() - t0
    clock.raise_errors()
    verify_fleet(emu, members, hits, conferences, size)
    result = FleetResult(
        conferences,
        conferences * size,
        wall,
        virtual,
        len(emu.events),
        clock.callbacks,
        sum(hits.values()),
        updates,
    )
    await emu.webhooks.aclose()
    return result


def verify_fleet(
    emu: Emulator, members: dict[str, list[str]], hits: Counter[str], conferences: int, size: int
) -> None:
    """Fail loudly if the run did not do what the bench says."""
    problems: list[str] = []
    if len(members) != conferences or any(len(calls) != size for calls in members.values()):
        sizes = sorted({len(v) for v in members.values()})
        problems.append(f"{len(members)} conferences formed, sizes {sizes}")
    statuses = Counter(call.status for call in emu.calls.by_sid.values())
    if statuses != Counter({"completed": conferences * size}):
        problems.append(f"call statuses {dict(statuses)}")
    for calls in members.values():
        for call_sid in calls:
            holds = [s for s in emu.media.segments(call_sid) if s.context == "hold"]
            spans = sorted({(round(s.start), round(s.end or 0)) for s in holds})
            merged = [b - a for a, b in _merge(spans)]
            if merged != [HOLD_SECONDS] * HOLDS:
                problems.append(f"{call_sid} hold stretches {merged}")
                break
    held = Counter(
        e.data["conference_sid"]
        for e in emu.events
        if e.type == "conference.event" and e.data["event"] == "participant-hold"
    )
    if set(held.values()) != {size * HOLDS}:
        problems.append(f"participant-hold per conference {set(held.values())}")
    # The WAV is cached once fetched; holds at the very same instant may each fetch it first.
    if hits["/hold"] != conferences * size * HOLDS or not 1 <= hits["/hold.wav"] <= conferences:
        problems.append(f"hold fetches {hits['/hold']}, wav fetches {hits['/hold.wav']}")
    if problems:
        raise SystemExit("bench (1) is wrong:\n  " + "\n  ".join(problems[:10]))


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in spans:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


@dataclass
class SizeResult:
    size: int
    updates: int
    update_wall: float
    naive_wall: float
    segments_wall: float


async def big_conference(size: int, toggles: int = 50) -> SizeResult:
    """Bench (2): one conference of ``size``; ``toggles`` holds toggled through the Python API."""
    clock = VirtualClock()
    emu = Emulator(clock, seed=0)
    parts = emu.conferences.participants
    calls = [parts.create("big", from_=NUMBER, to=f"+1557000{i:04d}").call_sid for i in range(size)]
    await clock.advance(5)
    conference = emu.conferences.active("big")
    assert conference is not None and len(conference.connected()) == size
    targets = [calls[(7 * k) % size] for k in range(toggles)]

    gc.collect()
    t0 = time.perf_counter()
    for call_sid in targets:
        parts.update(conference.sid, call_sid, hold=True)
        await clock.advance(1)
        parts.update(conference.sid, call_sid, hold=False)
        await clock.advance(1)
    update_wall = time.perf_counter() - t0

    naive_wall = _naive(calls, targets)

    t1 = time.perf_counter()
    heard: Any = [emu.media.segments(call_sid) for call_sid in calls]
    segments_wall = time.perf_counter() - t1
    held = targets[0]
    voices_seen = {v for seg in heard[1] for v in seg.voices}
    assert held in voices_seen or calls[1] == held
    return SizeResult(size, 2 * toggles, update_wall, naive_wall, segments_wall)


def _naive(calls: list[str], targets: list[str]) -> float:
    """Who hears whom recomputed for every listener on every update: O(N^2) per event."""
    held: set[str] = set()
    t0 = time.perf_counter()
    for call_sid in targets:
        for change in (held.add, held.discard):
            change(call_sid)
            _ = {
                me: frozenset(o for o in calls if o != me and o not in held) for me in calls if me not in held
            }
    return time.perf_counter() - t0


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conferences", type=int, default=100)
    parser.add_argument("--participants", type=int, default=10)
    parser.add_argument("--sizes", default="10,50,250")
    args = parser.parse_args()

    r = await fleet(args.conferences, args.participants)
    print(f"(1) {r.conferences} conferences x {args.participants} participants, {HOLDS} holds each")
    print(f"    wall {r.wall:.2f} s for {r.virtual:.0f} virtual s ({r.virtual / r.wall:.0f}x real time)")
    print(f"    {r.updates} participant updates (REST, in process), {r.webhooks} webhooks")
    print(f"    emulator events {r.events} -> {r.events / r.wall:,.0f} events/s")
    print(f"    scheduler callbacks {r.callbacks} -> {r.callbacks / r.wall:,.0f} callbacks/s")

    print("(2) one conference, 50 holds toggled (100 updates), who hears whom")
    print("    N     per update     per update/N   naive O(N^2)/update   segments() all N")
    base: SizeResult | None = None
    for size in (int(s) for s in args.sizes.split(",")):
        s = await big_conference(size)
        per = s.update_wall / s.updates
        base = base or s
        print(
            f"    {s.size:<5} {per * 1e6:9.1f} us   {per / s.size * 1e6:9.2f} us    "
            f"{s.naive_wall / s.updates * 1e6:12.1f} us       {s.segments_wall * 1e3:9.1f} ms"
        )
    if base is not None and size != base.size:
        growth = (s.update_wall / base.update_wall) / (s.size / base.size)
        cost, more = s.update_wall / base.update_wall, s.size / base.size
        print(f"    per-update cost grew {cost:.1f}x for {more:.0f}x the participants")
        print(f"    ({growth:.2f}x of linear; quadratic would be {more:.0f}x of linear)")


if __name__ == "__main__":
    asyncio.run(main())
