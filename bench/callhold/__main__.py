"""The bench's options and its run: ``python -m bench.callhold --help``."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import bench.callhold
from bench.callhold.constants import CALLHOLD_NUMBER
from bench.callhold.latency import part1
from bench.callhold.report import Report
from bench.callhold.scenario import set_up_phones
from bench.callhold.servers import (
    Uvicorn,
    callhold_db,
    log_problems,
    start_bare,
    start_callhold,
    start_voicesim,
)
from bench.callhold.simulator import Voicesim
from bench.callhold.throughput import part2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    prog = "python -m bench.callhold" if Path(sys.argv[0]).name == "__main__.py" else None
    parser = argparse.ArgumentParser(prog=prog, description=(bench.callhold.__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--holds", type=int, default=200, help="hold+resume cycles per strategy and side (200)"
    )
    parser.add_argument("--hold-seconds", type=float, default=30.0, help="time limit per strategy (30 s)")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each load measurement (3 s)")
    parser.add_argument("--threads", type=int, default=8, help="httpx client threads (8)")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections (50, 2 threads)")
    parser.add_argument(
        "--unique-bodies", type=int, default=10_000, help="signed unique status bodies per client"
    )
    parser.add_argument("--speed", type=float, default=1.0, help="voicesim --speed (1: real time)")
    parser.add_argument("--strategies", default="conference,legs")
    parser.add_argument("--no-wrk", action="store_true", help="skip wrk even if installed")
    parser.add_argument("--no-load", action="store_true", help="skip part 2")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile callhold during part 1; print the top"
    )
    parser.add_argument(
        "--no-breakdown", action="store_true", help="run callhold without the timing instrumentation"
    )
    parser.add_argument(
        "--loop", default="auto", choices=["auto", "asyncio", "uvloop"], help="uvicorn --loop"
    )
    parser.add_argument("--http", default="auto", choices=["auto", "h11", "httptools"], help="uvicorn --http")
    args = parser.parse_args(argv)
    if args.seconds > 10 or args.hold_seconds > 60:
        parser.error("keep each measurement <= 10 s and each strategy <= 60 s")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    strategies = [s for s in args.strategies.split(",") if s]
    uv = Uvicorn.resolve(args.loop, args.http)
    wrk = not args.no_wrk and shutil.which("wrk") is not None
    started = time.monotonic()
    print(
        f"callhold bench (python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}); uvicorn 1 worker, no access log, loop={uv.loop}, "
        f"http={uv.http}; voicesim --speed {args.speed:g}"
    )
    report = Report()
    with (
        tempfile.TemporaryDirectory(prefix="bench-callhold-") as tmpdir,
        start_voicesim(args.speed) as vsrv,
        start_bare(uv, vsrv.base) as bare,
    ):
        tmp = Path(tmpdir)
        vs = Voicesim(vsrv.base)
        set_up_phones(vs)
        for n, strategy in enumerate(strategies):
            prof = (
                str(Path(tempfile.gettempdir()) / f"bench-callhold-{strategy}.prof") if args.profile else "-"
            )
            with start_callhold(strategy, vsrv.base, tmp, uv, prof, not args.no_breakdown) as ch:
                result = part1(vs, ch.base, bare.base, strategy, args.holds, args.hold_seconds, args.profile)
                report.add_part1(result)
                print(f"part 1 {strategy}: done ({len(result.callhold.hold)} cycles per side)", flush=True)
                if n == len(strategies) - 1 and not args.no_load and not args.profile:
                    report.part2 = part2(
                        ch.base,
                        bare.base,
                        callhold_db(tmp, strategy),
                        result.pair,
                        CALLHOLD_NUMBER[strategy],
                        seconds=args.seconds,
                        threads=args.threads,
                        connections=args.connections,
                        unique_bodies=args.unique_bodies,
                        wrk=wrk,
                    )
            note = log_problems(ch.log)
            if note:
                print(f"callhold-{strategy} log: {note}")
            if args.profile:
                report.profiles.append(prof)
        report.print_tables(args.seconds)
    print(f"total bench time {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
