"""Part 2: signed webhook throughput, callhold against the bare endpoint and bare + signature check."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.callhold.figures import Figures
from bench.callhold.loadgen import run_httpx, run_wrk
from bench.callhold.report import part2_row
from bench.callhold.scenario import Pair
from bench.callhold.webhooks import Bodies, Load, form_headers, sign_all, status_params, voice_params


def receipts(db: Path) -> int:
    """How many callbacks callhold has recorded (its callback receipts table)."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        table = next(
            name
            for (name,) in conn.execute("select name from sqlite_master where type='table'")
            if "callback" in name
        )
        return int(conn.execute(f"select count(*) from {table}").fetchone()[0])


def check_targets(callhold: str, bare: str, loads: list[Load]) -> None:
    """Unsigned and wrongly signed requests are refused; every target accepts a correctly signed one."""
    first = sign_all(callhold + loads[0].path, loads[0]).pairs[0]
    probe = httpx.post(callhold + "/twiml/wait-music", content=first[0], headers=form_headers())
    wrong_signature = sign_all(callhold + "/twiml/voice", loads[1]).pairs[0][1]
    wrong = httpx.post(
        callhold + "/twiml/wait-music", content=first[0], headers=form_headers(wrong_signature)
    )
    if probe.status_code != 403 or wrong.status_code != 403:
        raise SystemExit(
            "CORRECTNESS CHECK FAILED: unsigned/wrongly signed webhook got "
            f"{probe.status_code}/{wrong.status_code}"
        )
    for load in loads:
        for base, path in ((callhold, load.path), (bare, load.bare_path), (bare, load.bare_path + "-signed")):
            body, sig = sign_all(base + path, load).pairs[0]
            r = httpx.post(base + path, content=body, headers=form_headers(sig))
            if not r.is_success:
                raise SystemExit(
                    f"CORRECTNESS CHECK FAILED: {base}{path} answered {r.status_code}: {r.text[:200]}"
                )


def part2(
    callhold: str,
    bare: str,
    db: Path,
    pair: Pair,
    number: str,
    *,
    seconds: float,
    threads: int,
    connections: int,
    unique_bodies: int,
    wrk: bool,
) -> list[str]:
    """Each load against callhold, bare and bare+sig, with httpx and (if ``wrk``) wrk; the table rows."""

    def voice(_k: int) -> dict[str, str]:
        return voice_params(pair.customer, number)

    loads = [
        Load("twiml/wait-music", "/twiml/wait-music", "/bare/twiml", voice),
        Load("twiml/voice (retry)", "/twiml/voice", "/bare/twiml", voice),
        Load(
            "status dup",
            "/webhooks/call-status",
            "/bare/status",
            lambda _k: status_params(pair.agent, pair.customer, number, 999),
        ),
    ]
    check_targets(callhold, bare, loads)
    # callhold as it runs in production: without the bench's per-request timing wrapper
    httpx.post(callhold + "/__bench/breakdown/off").raise_for_status()

    rows: list[str] = []
    receipts_before = receipts(db)
    sent_unique = 0
    plans: list[tuple[str, Callable[[str, str, Bodies], Figures]]] = [
        (f"httpx x{threads}", lambda b, path, bodies: run_httpx(b, path, bodies, threads, seconds)),
    ]
    if wrk:
        plans.append(
            (f"wrk -c{connections}", lambda b, path, bodies: run_wrk(b, path, bodies, seconds, connections))
        )
    for n, (label, measure) in enumerate(plans):
        base_seq = 1000 + n * 10_000_000

        def sequenced(k: int, base_seq: int = base_seq) -> dict[str, str]:
            return status_params(pair.agent, pair.customer, number, base_seq + k)

        unique = Load(
            "status unique", "/webhooks/call-status", "/bare/status", sequenced, unique_bodies, base_seq
        )
        for load in [*loads, unique]:
            mine = sign_all(callhold + load.path, load)
            c = measure(callhold, load.path, mine)
            b = measure(bare, load.bare_path, mine)
            s = measure(bare, load.bare_path + "-signed", sign_all(bare + load.bare_path + "-signed", load))
            if load is unique:
                if c.requests > load.count:
                    rows.append(
                        f"  ({label}: {c.requests} requests for {load.count} unique bodies: "
                        "the rest were duplicates)"
                    )
                sent_unique += min(c.requests - c.errors, load.count)
            rows.append(part2_row(label, load.name, c, b, s))
            if c.errors or b.errors or s.errors:
                raise SystemExit("CORRECTNESS CHECK FAILED (errors):\n" + "\n".join(rows))
    recorded = receipts(db) - receipts_before
    if recorded < sent_unique:
        raise SystemExit(
            f"CORRECTNESS CHECK FAILED: {recorded} callback receipts for {sent_unique} unique callbacks"
        )
    rows.append(
        f"  checked: unsigned and wrongly signed requests refused (403); every request 2xx; "
        f"{recorded} new callback receipts for >= {sent_unique} unique status callbacks"
    )
    return rows
