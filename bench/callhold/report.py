"""The bench's output: part 1's latency and breakdown rows, part 2's throughput rows, the tables."""

from __future__ import annotations

import io
import pstats
import re
from dataclasses import dataclass, field

from bench.callhold.figures import Figures, pct_ms
from bench.callhold.latency import Part1

BREAKDOWN_HEAD = (
    "callhold server side during the cycles, per request kind, ms: requests per cycle; p50 in the app; p50\n"
    "awaiting the SDK (calls per request); p50 the rest; SQL statements per request; p50 in SqlHoldStore\n"
    "(part of the rest); app time per cycle. Webhooks voicesim sends during an API request share the event\n"
    "loop with it, and SQLite/SQLAlchemy calls are synchronous, so their time shows in the API's own time.\n"
    f"  {'strategy':<11}{'request':<34}{'/cyc':>5}  {'app':>6}  {'sdk':>6}      {'rest':>6} {'SQL':>4} "
    f"{'store':>6}  {'ms/cyc':>6}"
)


def breakdown(strategy: str, times: dict[str, list[list[float]]], cycles: int) -> list[str]:
    """callhold's server-side time per request kind during the measured cycles (see BREAKDOWN_HEAD)."""
    rows = []
    for kind, entries in sorted(times.items(), key=lambda kv: (not kv[0].startswith("api"), kv[0])):
        app = [e[0] for e in entries]
        sdk = [e[1] for e in entries]
        own = [e[0] - e[1] for e in entries]
        calls = sum(e[2] for e in entries) / len(entries)
        sql = sum(e[3] for e in entries) / len(entries)
        store = [e[4] for e in entries]
        per_cycle = len(entries) / max(cycles, 1)
        rows.append(
            f"  {strategy:<11}{kind:<34}{per_cycle:5.1f}  {pct_ms(app, 0.5):6.2f}  "
            f"{pct_ms(sdk, 0.5):6.2f} ({calls:.0f})  {pct_ms(own, 0.5):6.2f} {sql:4.0f} "
            f"{pct_ms(store, 0.5):6.2f}  {sum(app) / max(cycles, 1) * 1000:6.2f}"
        )
    return rows


def part1_rows(result: Part1) -> list[str]:
    """Per op: callhold and bare p50/p99 and their ratios (the target), then the relay's p50, its ratio
    to bare (what one HTTP hop costs) and callhold's ratio to it (what callhold adds to the hop)."""
    strategy, ch, bare, relay = result.strategy, result.callhold, result.bare, result.relay
    rows = []
    for op, a, b, r in (
        ("hold", ch.hold, bare.hold, relay.hold),
        ("resume", ch.resume, bare.resume, relay.resume),
        ("hold+resume", ch.both(), bare.both(), relay.both()),
    ):
        r50, r99 = pct_ms(a, 0.5) / pct_ms(b, 0.5), pct_ms(a, 0.99) / pct_ms(b, 0.99)
        verdict = ("met" if r50 <= 1.3 else "NOT met") if op == "hold+resume" else ""
        relay50 = pct_ms(r, 0.5)
        rows.append(
            f"  {strategy:<11}{op:<12}{len(a):>4}   {pct_ms(a, 0.5):7.2f} {pct_ms(a, 0.99):7.2f}   "
            f"{pct_ms(b, 0.5):7.2f} {pct_ms(b, 0.99):7.2f}   {r50:5.2f}x {r99:5.2f}x  {verdict:<8}"
            f"{relay50:7.2f} {relay50 / pct_ms(b, 0.5):5.2f}x {pct_ms(a, 0.5) / relay50:5.2f}x"
        )
    return rows


def part2_row(client: str, name: str, ch: Figures, bare: Figures, signed_bare: Figures) -> str:
    ratio = ch.rps / bare.rps if bare.rps else float("nan")
    ratio_signed = ch.rps / signed_bare.rps if signed_bare.rps else float("nan")
    errs = (
        f"  errors {ch.errors}/{bare.errors}/{signed_bare.errors}"
        if ch.errors or bare.errors or signed_bare.errors
        else ""
    )
    return (
        f"  {client:<10}{name:<20}{ch.rps:6.0f} {ch.p50_ms:6.2f} {ch.p99_ms:7.2f}  "
        f"{bare.rps:6.0f} {bare.p50_ms:5.2f} {bare.p99_ms:6.2f}  {ratio:4.0%} "
        f"{'met' if ratio >= 0.6 else 'NOT'}  "
        f"{signed_bare.rps:6.0f} {signed_bare.p50_ms:5.2f} {signed_bare.p99_ms:6.2f}  "
        f"{ratio_signed:4.0%}{errs}"
    )


def print_profile(path: str, top: int) -> None:
    """callhold's own functions by cumulative time, then everything by internal time. (cProfile counts
    every resumption of a coroutine as a call: ncalls of ``async def`` functions are inflated.)"""
    out = io.StringIO()
    stats = pstats.Stats(path, stream=out)
    stats.sort_stats("cumulative").print_stats(r"src/callhold/", top)
    stats.sort_stats("tottime").print_stats(top)
    print(re.sub(r"\n{2,}", "\n", out.getvalue()))


@dataclass
class Report:
    """The rows gathered during the run, printed at the end."""

    part1: list[str] = field(default_factory=list)
    breakdown: list[str] = field(default_factory=list)
    part2: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)

    def add_part1(self, result: Part1) -> None:
        self.part1 += part1_rows(result)
        self.breakdown += breakdown(result.strategy, result.times, result.cycles)

    def print_tables(self, seconds: float) -> None:
        """The tables; ``seconds``: the length of each part 2 measurement."""
        print(
            "\nPart 1: hold/resume latency, ms (callhold API vs the bare SDK calls, same voicesim); "
            "target hold+resume p50 <= 1.3x.\nrelay: the same SDK calls behind a bare FastAPI endpoint "
            "(one HTTP hop, callhold's SDK transport, no database): its p50, relay/bare, callhold/relay"
        )
        print(
            f"  {'strategy':<11}{'op':<12}{'n':>4}   {'callhold p50   p99':>17}   {'bare p50    p99':>15}   "
            f"{'p50':>6} {'p99':>6}  {'':<8}{'relay':>7} {'/bare':>6} {'ch/rl':>6}"
        )
        print("\n".join(self.part1))
        if self.breakdown:
            print("\n" + BREAKDOWN_HEAD)
            print("\n".join(self.breakdown))
        if self.part2:
            print(
                f"\nPart 2: signed webhooks, req/s and p50/p99 ms, {seconds:g} s each: callhold vs a "
                "bare FastAPI endpoint (target >= 60%), and vs bare + form parse + signature check"
            )
            print(
                f"  {'client':<10}{'route':<20}{'callhold/s p50    p99':>21}  {'bare/s  p50    p99':>18}  "
                f"{'ratio':>8}  {'bare+sig/s p50  p99':>20}  ratio"
            )
            print("\n".join(self.part2))
        for prof in self.profiles:
            print(f"\ncProfile of callhold during the cycles ({prof}):")
            print_profile(prof, 25)
