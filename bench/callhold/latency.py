"""Part 1: hold + resume latency, through callhold's API and as the bare SDK calls callhold makes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

from bench.callhold.constants import ADMIN
from bench.callhold.polling import until
from bench.callhold.scenario import Pair, connect_bare, connect_callhold
from bench.callhold.simulator import Voicesim, all_of, any_event, legs_held, participant_event, webhook_seen

T = TypeVar("T")


@dataclass
class Latencies:
    hold: list[float] = field(default_factory=list)
    resume: list[float] = field(default_factory=list)

    def both(self) -> list[float]:
        return [h + r for h, r in zip(self.hold, self.resume, strict=True)]


@dataclass
class Part1:
    """One strategy's cycles: the latencies on each side, callhold's call (for part 2), the number of
    measured cycles, and callhold's server-side times per request kind (``/__bench/times``)."""

    strategy: str
    callhold: Latencies
    bare: Latencies
    relay: Latencies
    pair: Pair
    cycles: int
    times: dict[str, list[list[float]]]


class Side:
    """One side's call: ``hold()`` and ``resume()`` return the time of the operation itself; each then
    waits (untimed) until the call has settled."""

    def __init__(self, vs: Voicesim, strategy: str, pair: Pair) -> None:
        self.vs, self.strategy, self.pair = vs, strategy, pair

    def timed(self, send: Callable[[], T]) -> tuple[int, float, T]:
        """``send()``, timed: the event log's mark before it, the seconds it took, and its result."""
        mark = self.vs.mark()
        t0 = time.perf_counter()
        result = send()
        return mark, time.perf_counter() - t0, result

    def hold(self) -> float:
        raise NotImplementedError

    def resume(self) -> float:
        raise NotImplementedError


class CallholdSide(Side):
    """Hold and resume through callhold's JSON API."""

    def __init__(self, vs: Voicesim, base: str, strategy: str) -> None:
        self.api = httpx.Client(base_url=base, headers={"authorization": f"Bearer {ADMIN}"}, timeout=30)
        super().__init__(vs, strategy, connect_callhold(vs, self.api, base, strategy))

    def hold(self) -> float:
        customer = self.pair.customer
        mark, elapsed, reply = self.timed(
            lambda: self.api.post(f"/api/v1/calls/{customer}/hold", json={"reason": "bench"})
        )
        if reply.status_code != 200 or reply.json()["state"] != "held":
            raise SystemExit(f"CORRECTNESS CHECK FAILED: callhold hold: {reply.status_code} {reply.text}")
        hold_id = reply.json()["id"]
        if self.strategy == "conference":
            music = any_event(webhook_seen(f"/twiml/conference/hold-music/{hold_id}"))
            held = participant_event("/webhooks/conference", "participant-hold", customer)
            self.vs.wait(mark, all_of(music, held), "callhold's conference hold to settle")
        else:
            settled = legs_held(customer, self.pair.agent, f"/twiml/legs/hold-music/{hold_id}")
            self.vs.wait(mark, settled, "callhold's legs hold to settle")
        return elapsed

    def resume(self) -> float:
        customer = self.pair.customer
        mark, elapsed, reply = self.timed(lambda: self.api.post(f"/api/v1/calls/{customer}/resume"))
        expected = "ended" if self.strategy == "conference" else "resuming"
        if reply.status_code != 200 or reply.json()["state"] not in (expected, "ended"):
            raise SystemExit(f"CORRECTNESS CHECK FAILED: callhold resume: {reply.status_code} {reply.text}")
        if self.strategy == "conference":
            unheld = participant_event("/webhooks/conference", "participant-unhold", customer)
            self.vs.wait(mark, unheld, "callhold's conference resume to settle")
            return elapsed
        self.vs.wait(mark, any_event(webhook_seen("/twiml/legs/bridged/")), "callhold's <Queue url> fetch")
        for _ in until(10, 0.002):
            hold = self.api.get(f"/api/v1/calls/{customer}").json()["hold"]
            if hold["state"] == "ended":
                return elapsed
        raise SystemExit(f"CORRECTNESS CHECK FAILED: callhold legs resume never ended: {hold}")


class BareSide(Side):
    """The same SDK calls, straight to voicesim, on a call whose TwiML is the bare app's."""

    def __init__(self, vs: Voicesim, bare_base: str, strategy: str) -> None:
        self.bare = bare_base
        super().__init__(vs, strategy, connect_bare(vs, bare_base, strategy))

    def send_hold(self) -> None:
        """The SDK calls of a hold, straight to voicesim."""
        sdk, pair, bare = self.vs.sdk, self.pair, self.bare
        if self.strategy == "conference":
            assert pair.conference is not None
            sdk.conferences(pair.conference).participants(pair.customer).update(
                hold=True, hold_url=f"{bare}/s/music", hold_method="GET"
            )
        else:
            # the customer follows by its <Dial>/<Enqueue> action (the bare app's customer-after)
            sdk.calls(pair.agent).update(url=f"{bare}/s/agent-music", method="POST")

    def send_resume(self) -> None:
        """The SDK call of a resume, straight to voicesim."""
        sdk, pair, bare = self.vs.sdk, self.pair, self.bare
        if self.strategy == "conference":
            assert pair.conference is not None
            sdk.conferences(pair.conference).participants(pair.customer).update(hold=False)
        else:
            sdk.calls(pair.agent).update(url=f"{bare}/s/dequeue", method="POST")

    def hold(self) -> float:
        pair = self.pair
        mark, elapsed, _ = self.timed(self.send_hold)
        if self.strategy == "conference":
            music = any_event(webhook_seen("/s/music", CallSid=pair.customer))
            held = participant_event("/s/status", "participant-hold", pair.customer)
            self.vs.wait(mark, all_of(music, held), "the bare conference hold to settle")
        else:
            self.vs.wait(
                mark, legs_held(pair.customer, pair.agent, "/s/agent-music"), "the bare legs hold to settle"
            )
        return elapsed

    def resume(self) -> float:
        pair = self.pair
        mark, elapsed, _ = self.timed(self.send_resume)
        if self.strategy == "conference":
            unheld = participant_event("/s/status", "participant-unhold", pair.customer)
            self.vs.wait(mark, unheld, "the bare conference resume to settle")
        else:
            self.vs.wait(mark, any_event(webhook_seen("/s/bridged")), "the bare <Queue url> fetch")
        return elapsed


class RelaySide(BareSide):
    """The bare side's call and SDK calls, sent by the bare app's relay endpoint: one HTTP hop (httpx,
    as to callhold) in front of callhold's own SDK transport, with no database, auth or webhooks."""

    def __init__(self, vs: Voicesim, bare_base: str, strategy: str, pair: Pair) -> None:
        self.vs, self.strategy, self.pair, self.bare = vs, strategy, pair, bare_base
        self.http = httpx.Client(base_url=bare_base, timeout=30)
        if strategy == "conference":
            self.route = f"/relay/conference/{pair.conference}/{pair.customer}"
        else:
            self.route = f"/relay/legs/{pair.customer}/{pair.agent}"

    def send_hold(self) -> None:
        self.http.post(f"{self.route}/hold").raise_for_status()

    def send_resume(self) -> None:
        self.http.post(f"{self.route}/resume").raise_for_status()


def part1(
    vs: Voicesim, callhold_base: str, bare_base: str, strategy: str, holds: int, budget: float, profile: bool
) -> Part1:
    """Hold and resume ``holds`` times (within ``budget`` s) on each side, each side first in turn;
    then check every hold recorded and resumed, all four legs still up, no new alerts."""
    ch, bare = CallholdSide(vs, callhold_base, strategy), BareSide(vs, bare_base, strategy)
    relay = RelaySide(vs, bare_base, strategy, bare.pair)
    alerts_before = len(vs.alerts())
    sides: dict[str, Side] = {"callhold": ch, "bare": bare, "relay": relay}
    for _ in range(3):  # warm both paths (connections, caches)
        for side in sides.values():
            side.hold()
            side.resume()
    lat = {name: Latencies() for name in sides}
    httpx.get(callhold_base + "/__bench/times").raise_for_status()  # clear
    if profile:
        httpx.post(callhold_base + "/__bench/profile/start").raise_for_status()
    stop = time.monotonic() + budget
    i = 0
    while i < holds and time.monotonic() < stop:
        for name in list(sides)[i % 3 :] + list(sides)[: i % 3]:  # each side goes first in turn
            lat[name].hold.append(sides[name].hold())
            lat[name].resume.append(sides[name].resume())
        i += 1
    if profile:
        httpx.post(callhold_base + "/__bench/profile/stop").raise_for_status()
    times = httpx.get(callhold_base + "/__bench/times").json()
    holds_doc = ch.api.get("/api/v1/holds", params={"call_id": ch.pair.customer}).json()
    ended = [h for h in holds_doc if h["state"] == "ended" and h["end_reason"] == "resumed"]
    problems = []
    if len(ended) != i + 3 or len(holds_doc) != i + 3:
        problems.append(f"callhold recorded {len(holds_doc)} holds ({len(ended)} ended/resumed) for {i + 3}")
    legs = [ch.pair.customer, ch.pair.agent, bare.pair.customer, bare.pair.agent]
    statuses = {sid: vs.call_status(sid) for sid in legs}
    if set(statuses.values()) != {"in-progress"}:
        problems.append(f"leg statuses {statuses}")
    alerts = vs.alerts()[alerts_before:]
    if alerts:
        problems.append(f"{len(alerts)} new alerts, first: {alerts[0]['message']} ({alerts[0]['url']})")
    if problems:
        raise SystemExit(f"CORRECTNESS CHECK FAILED ({strategy}): " + "; ".join(problems))
    return Part1(strategy, lat["callhold"], lat["bare"], lat["relay"], ch.pair, i, times)
