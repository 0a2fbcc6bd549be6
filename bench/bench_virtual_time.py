"""Virtual-time throughput: N concurrent inbound calls, Dial-bridged for 10 virtual minutes, 3 REST redirects.

    /work/venv/bin/python -m bench.bench_virtual_time            # 1,000 calls (the issue's figure)
    /work/venv/bin/python -m bench.bench_virtual_time --calls 200

Scenario, per customer ``i`` (start times staggered over the first 30 virtual seconds; every agent
leg rings ``+1555300iiii``, which answers after 3 s; the customer's phone hangs up 600 s after dialling):

* t=0    the customer calls the number; ``/voice`` answers
         ``<Dial action="/after"><Number>agent</Number></Dial>`` -> bridged with agent leg A1 at t=3.
* t=150  REST redirect #1 of the *child* leg A1 to ``/agent-hold`` (hold music, 2 loops = 240 s, then
         A1's TwiML ends and A1 completes at t=390). The customer's Dial ends (child redirected,
         Q1 parameters) and its action ``/after`` puts the customer on hold: ``<Say>`` + ``<Play loop="0">``.
* t=300  REST redirect #2 of the *parent* (customer) to ``/redial`` -> a new ``<Dial action="/after">``
         to the agent: bridged with A2 at t=303.
* t=450  REST redirect #3 of the parent, mid-Dial, to ``/redial`` again: A2 is hung up, ``/after`` is
         requested and its TwiML discarded (Q2), then the customer is bridged with A3 at t=453.
* t=600  the customer hangs up: A3 is hung up, ``/after`` requested, its TwiML ignored (Q2b).

The redirects go through the official twilio SDK on voicesim's in-process transport; webhooks are
served by a minimal Starlette app mounted with ``emu.webhooks.mount`` (no sockets). At the end the
bench checks that every call completed, every customer heard exactly 3 ``call`` segments (A1, A2, A3)
with no gap, every agent leg exactly one, and ``/after`` was requested 3 times per customer -- so a
fast but broken run fails loudly instead of printing figures.

Baselines measured in the same run: (a) the same number of bare scheduler callbacks on a
VirtualClock (the floor: what the heap alone costs), (b) the same number of bare in-process ASGI
webhook round trips through httpx.ASGITransport (what the transport alone costs), (c) the scenario at
N/10 calls (per-call cost should not grow with N).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from voicesim import Emulator, PhoneScript, VirtualClock
from voicesim.sdk import client as sdk_client

BASE = "http://bench.test"
NUMBER = "+15550001000"
HOLD_MP3 = "http://com.twilio.sounds.music.s3.amazonaws.com/ClockworkWaltz.mp3"
STAGGER = 30.0  # starts spread over this many virtual seconds
BRIDGE_SECONDS = 600.0  # the customer hangs up this long after dialling
REDIRECTS = (150.0, 300.0, 450.0)
EXPECTED_CALL_SEGMENTS = 3  # A1, A2, A3


def customer_number(i: int) -> str:
    return f"+1555200{i:04d}"


def agent_number(customer: str) -> str:
    return "+1555300" + customer[-4:]


# -- the webhook server ----------------------------------------------------------------------------
def _xml(inner: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>'.encode()


AGENT_HOLD = _xml(f'<Play loop="2">{HOLD_MP3}</Play>')
AFTER = _xml(f'<Say>Please hold, we are getting your agent back</Say><Play loop="0">{HOLD_MP3}</Play>')


def _dial(form: dict[str, str]) -> bytes:
    return _xml(f'<Dial action="/after"><Number>{agent_number(form["From"])}</Number></Dial>')


def make_webhook_app(hits: Counter[str]) -> Starlette:
    """A minimal Starlette app: form parsed with parse_qsl, TwiML bodies built per request."""
    static: dict[str, Callable[[dict[str, str]], bytes]] = {
        "/voice": _dial,
        "/redial": _dial,
        "/after": lambda _f: AFTER,
        "/agent-hold": lambda _f: AGENT_HOLD,
    }

    async def serve(request: Request) -> Response:
        path = request.url.path
        hits[path] += 1
        form = dict(parse_qsl((await request.body()).decode()))
        make = static.get(path)
        if make is None:
            return Response("not found", status_code=404, media_type="text/plain")
        return Response(make(form), media_type="text/xml")

    return Starlette(routes=[Route("/{path:path}", serve, methods=["GET", "POST"])])


# -- the scenario -----------------------------------------------------------------------------------
class CountingClock(VirtualClock):
    """A VirtualClock that counts the callbacks it runs (the scheduler's unit of work)."""

    def __init__(self) -> None:
        super().__init__()
        self.callbacks = 0

    def _run_due(self, until: float) -> int:
        ran = super()._run_due(until)
        self.callbacks += ran
        return ran


@dataclass
class Result:
    calls: int
    wall: float
    cpu: float
    virtual: float
    webhooks: int
    events: int
    callbacks: int
    redirects: int
    legs: int


async def run_scenario(n: int, *, check: bool = True) -> Result:
    clock = CountingClock()
    emu = Emulator(clock, seed=0)
    hits: Counter[str] = Counter()
    emu.webhooks.mount(BASE, make_webhook_app(hits))
    twilio = sdk_client(emu)
    emu.buy_number(NUMBER, voice_url=f"{BASE}/voice")
    children: dict[str, list[str]] = {}
    customers: list[str] = []
    redirects = 0

    def on_event(event: Any) -> None:
        if event.type == "call.created":
            parent = emu.calls.by_sid[event.data["call_sid"]].parent_call_sid
            if parent is not None:
                children.setdefault(parent, []).append(event.data["call_sid"])

    emu.subscribe(on_event)

    def redirect(customer_sid: str, which: int) -> None:
        nonlocal redirects
        if which == 0:  # the child leg A1 goes to hold music; the customer's Dial action runs
            twilio.calls(children[customer_sid][0]).update(url=f"{BASE}/agent-hold")
        else:  # the parent re-dials the agent (the second time mid-Dial)
            twilio.calls(customer_sid).update(url=f"{BASE}/redial")
        redirects += 1

    def start(i: int) -> None:
        caller = customer_number(i)
        call = emu.inbound_call(caller, NUMBER, PhoneScript(hang_up_after=BRIDGE_SECONDS))
        customers.append(call.sid)
        for which, at in enumerate(REDIRECTS):
            clock.call_later(at, redirect, call.sid, which)

    for i in range(n):
        clock.call_later(STAGGER * i / n, start, i)

    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    virtual = await clock.run_until_idle(limit=3600)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    clock.raise_errors()

    if check:
        verify(emu, customers, children, hits, n)
    result = Result(
        calls=n,
        wall=wall,
        cpu=cpu,
        virtual=virtual,
        webhooks=sum(hits.values()),
        events=len(emu.events),
        callbacks=clock.callbacks,
        redirects=redirects,
        legs=len(emu.calls.by_sid),
    )
    emu.close()
    await emu.webhooks.aclose()
    return result


def verify(
    emu: Emulator, customers: list[str], children: dict[str, list[str]], hits: Counter[str], n: int
) -> None:
    """Fail loudly if the run did not do what the scenario says."""
    problems: list[str] = []
    if len(customers) != n:
        problems.append(f"{len(customers)} customers started, expected {n}")
    statuses = Counter(c.status for c in emu.calls.by_sid.values())
    if statuses != Counter({"completed": 4 * n}):
        problems.append(f"call statuses {dict(statuses)}, expected {{'completed': {4 * n}}}")
    if emu.alerts:
        problems.append(f"{len(emu.alerts)} alerts, first: {emu.alerts[0].message}")
    expected_hits = {"/voice": n, "/after": 3 * n, "/agent-hold": n, "/redial": 2 * n}
    if dict(hits) != expected_hits:
        problems.append(f"webhook hits {dict(hits)}, expected {expected_hits}")
    for sid in customers:
        legs = children.get(sid, [])
        segs = emu.media.segments(sid)
        bridged = [s.detail for s in segs if s.kind == "call"]
        if bridged != legs or len(bridged) != EXPECTED_CALL_SEGMENTS:
            problems.append(f"{sid}: bridged to {bridged}, agent legs {legs}")
        elif any(a.end != b.start for a, b in itertools.pairwise(segs)):
            problems.append(f"{sid}: gap in timeline")
        elif segs[-1].end is None or round(segs[-1].end - segs[0].start) != BRIDGE_SECONDS:
            problems.append(f"{sid}: timeline spans {segs[0].start}..{segs[-1].end}")
        elif [s.kind for s in emu.media.segments(legs[0])] != ["call", "play"]:
            problems.append(f"{legs[0]} (A1) heard {[s.kind for s in emu.media.segments(legs[0])]}")
        elif any([s.kind for s in emu.media.segments(leg)] != ["call"] for leg in legs[1:]):
            problems.append(f"{sid}: A2/A3 did not hear just the customer")
        if len(problems) > 5:
            break
    if problems:
        raise SystemExit("CORRECTNESS CHECK FAILED:\n  " + "\n  ".join(problems[:6]))


# -- baselines ---------------------------------------------------------------------------------------
async def bare_scheduler(callbacks: int, span: float) -> float:
    """Wall seconds for ``callbacks`` no-op callbacks spread over ``span`` virtual seconds."""
    clock = VirtualClock()
    count = 0

    def tick() -> None:
        nonlocal count
        count += 1

    for i in range(callbacks):
        clock.call_later(span * i / callbacks, tick)
    t0 = time.perf_counter()
    await clock.run_until_idle()
    wall = time.perf_counter() - t0
    assert count == callbacks
    return wall


async def bare_asgi(requests: int, concurrency: int = 100) -> float:
    """Wall seconds for ``requests`` form POSTs to the same Starlette app over httpx.ASGITransport."""
    hits: Counter[str] = Counter()
    app = make_webhook_app(hits)
    form = {"From": customer_number(1), "CallSid": "CA" + "0" * 32, "CallStatus": "in-progress"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:

        async def worker(k: int) -> None:
            for _ in range(k):
                reply = await http.post("/after", data=form)
                assert reply.status_code == 200

        t0 = time.perf_counter()
        per, extra = divmod(requests, concurrency)
        await asyncio.gather(*(worker(per + (1 if j < extra else 0)) for j in range(concurrency)))
        wall = time.perf_counter() - t0
    assert hits["/after"] == requests
    return wall


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000, help="concurrent inbound calls (default 1000)")
    parser.add_argument("--target", type=float, default=10.0, help="wall-time target in seconds (default 10)")
    args = parser.parse_args(argv)
    n = args.calls
    small_n = max(1, n // 10)

    print(
        f"voicesim virtual-time bench: {n} inbound calls, Dial-bridged {BRIDGE_SECONDS:g} virtual s, "
        f"3 REST redirects each (python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f})"
    )
    await run_scenario(10)  # warm imports and code paths
    rss_before = peak_rss_mb()
    small = await run_scenario(small_n)
    big = await run_scenario(n)
    rss_peak = peak_rss_mb()
    bare_cb = await bare_scheduler(big.callbacks, big.virtual)
    bare_hooks = await bare_asgi(big.webhooks)

    def line(label: str, r: Result) -> None:
        print(
            f"  {label:<10} wall {r.wall:6.2f} s (cpu {r.cpu:6.2f} s)   virtual {r.virtual:7.1f} s   "
            f"speed-up {r.virtual / r.wall:8.1f}x   "
            f"webhooks/s {r.webhooks / r.wall:8.0f}   events/s {r.events / r.wall:8.0f}   "
            f"callbacks/s {r.callbacks / r.wall:8.0f}"
        )

    print()
    line(f"{n} calls", big)
    line(f"{small_n} calls", small)
    print(
        f"  {n} calls: {big.legs} call legs, {big.redirects} REST redirects, {big.webhooks} webhooks, "
        f"{big.events} events, {big.callbacks} scheduler callbacks; correctness checks passed"
    )
    print(f"  peak RSS {rss_peak:.0f} MB (before the runs: {rss_before:.0f} MB)")
    print()
    print("baselines (same run):")
    print(
        f"  bare scheduler, {big.callbacks} no-op callbacks     wall {bare_cb:7.3f} s  "
        f"-> scenario is {big.wall / bare_cb:6.1f}x the bare scheduler"
    )
    print(
        f"  bare ASGI webhooks, {big.webhooks} POSTs via httpx     wall {bare_hooks:7.3f} s  "
        f"-> {bare_hooks / big.wall:5.1%} of the scenario's wall time is the webhook transport + app alone"
    )
    per_big, per_small = big.wall / big.calls * 1000, small.wall / small.calls * 1000
    print(
        f"  per call: {per_big:.2f} ms at {n} calls vs {per_small:.2f} ms at {small_n} "
        f"-> ratio {per_big / per_small:.2f} (1.0 = linear scaling)"
    )
    print("  (cpu = process CPU time; on a shared machine it is the steadier figure)")
    met = big.wall <= args.target
    print()
    print(
        f"target: <= {args.target:g} s wall for {n} calls -> {big.wall:.2f} s: {'MET' if met else 'NOT MET'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
