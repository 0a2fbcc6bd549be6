"""REST over HTTP: call fetch and call update on a real voicesim server, beside a bare FastAPI endpoint.

    /work/venv/bin/python -m bench.bench_rest_http                 # ~60 s
    /work/venv/bin/python -m bench.bench_rest_http --seconds 2     # quicker, noisier

Two servers run in subprocesses, both ``uvicorn`` with one worker, no access log, ``loop``/``http``
"auto" (uvloop + httptools when installed, else asyncio + h11; ``--loop asyncio --http h11`` forces
the pure-Python stack), on 127.0.0.1:

* **voicesim**: ``voicesim.server.build_app`` on an Emulator with a ``RealtimeClock`` (so flows run,
  as under ``python -m voicesim``). The TwiML the calls fetch is served by a tiny ASGI app mounted
  in process with ``emu.webhooks.mount`` (no third server).
* **bare**: a FastAPI app whose ``async def`` endpoints answer ``GET`` and ``POST`` on the same path
  as voicesim's Call resource (``/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json``) with a small
  JSON -- so the very same client code (even the twilio SDK) can be pointed at either.

Set-up: ``CALLS`` outbound calls are created through the SDK with ``Url`` = a long ``<Pause>``; the
callee answers at once, so every call is ``in-progress`` and stays so. Then, for each client, each
operation, voicesim and bare back to back:

* (a) **fetch**  -- ``client.calls(sid).fetch()`` / ``GET .../Calls/{Sid}.json``
* (b) **update** -- ``client.calls(sid).update(url=...)`` / ``POST .../Calls/{Sid}.json`` with ``Url``:
  a real redirect -- the REST handler interrupts the call's ``<Pause>``, and the flow fetches the
  TwiML again (signed webhook through httpx) and pauses anew.

Clients: the twilio SDK (sync, ``voicesim.sdk.client(base_url=...)``, one client per thread),
a raw ``httpx.Client`` loop (one per thread), and ``wrk`` when installed (``apt-get install -y wrk``). Python
clients share the 2 cores with the servers and are themselves the bottleneck at a few thousand
requests/s; ``wrk`` is what measures the server. Figures: requests/s, p50/p99 latency, and the ratio
voicesim / bare. Target (issue #2): voicesim >= 50% of the bare endpoint's throughput.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.wrk import parse_report
from voicesim import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from voicesim.sdk import client as sdk_client

CALLS = 16
TWIML_BASE = "http://twiml.bench"
HOLD_URL = f"{TWIML_BASE}/hold"
AGENT, FROM = "+15550002000", "+15550001000"
AUTH = "Basic " + base64.b64encode(f"{DEFAULT_ACCOUNT_SID}:{DEFAULT_AUTH_TOKEN}".encode()).decode()
CALLS_PATH = f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Calls"

VOICESIM_SERVER = """
import sys, uvicorn
from voicesim import Emulator, RealtimeClock
from voicesim.server import build_app

HOLD = b'<?xml version="1.0" encoding="UTF-8"?><Response><Pause length="3600"/></Response>'

async def twiml(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/xml")]})
    await send({"type": "http.response.body", "body": HOLD})

port, loop, http, twiml_base, agent = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
emu = Emulator(RealtimeClock())
emu.webhooks.mount(twiml_base, twiml)
emu.phones.script(agent, answer_after=0.0)
uvicorn.run(
    build_app(emu), host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on",
    loop=loop, http=http,
)
"""

BARE_SERVER = """
import sys, uvicorn
from fastapi import FastAPI

app = FastAPI()

@app.get("/2010-04-01/Accounts/{account}/Calls/{sid}.json")
async def fetch(account: str, sid: str):
    return {"sid": sid, "status": "in-progress"}

@app.post("/2010-04-01/Accounts/{account}/Calls/{sid}.json")
async def update(account: str, sid: str):
    return {"sid": sid, "status": "in-progress"}

uvicorn.run(
    app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False,
    loop=sys.argv[2], http=sys.argv[3],
)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    base: str
    proc: subprocess.Popen[bytes]
    log: str


@contextlib.contextmanager
def server(name: str, code: str, *args: str) -> Iterator[Server]:
    port = free_port()
    fd, log = tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".log")
    proc = subprocess.Popen([sys.executable, "-c", code, str(port), *args], stdout=fd, stderr=fd)
    os.close(fd)
    srv = Server(name, f"http://127.0.0.1:{port}", proc, log)
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"{name} server exited: {Path(log).read_text()}")
            try:
                httpx.get(srv.base + "/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{name} server did not start: {Path(log).read_text()}") from None
                time.sleep(0.1)
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        os.unlink(log)


# -- measurements ------------------------------------------------------------------------------------
@dataclass
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int = 0


def summarise(latencies: list[float], seconds: float, errors: int = 0) -> Figures:
    latencies.sort()
    n = len(latencies)
    if n == 0:
        return Figures(0.0, float("nan"), float("nan"), 0, errors)
    return Figures(
        n / seconds, latencies[n // 2] * 1000, latencies[min(n - 1, int(n * 0.99))] * 1000, n, errors
    )


def run_threads(
    make_call: Callable[[int], Callable[[str], bool]], sids: list[str], threads: int, seconds: float
) -> Figures:
    """``threads`` threads, each calling its own ``make_call(k)(sid)`` in a loop for ``seconds``."""
    results: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    start = threading.Barrier(threads + 1)
    stop_at = [0.0]

    def worker(k: int) -> None:
        call = make_call(k)
        call(sids[k % len(sids)])  # warm the connection
        start.wait()
        lat, i = results[k], k
        perf = time.perf_counter
        while True:
            t0 = perf()
            if t0 >= stop_at[0]:
                return
            try:
                ok = call(sids[i % len(sids)])
            except Exception:
                ok = False
            lat.append(perf() - t0)
            errors[k] += not ok
            i += threads

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    stop_at[0] = time.perf_counter() + 0.5 + seconds  # set before releasing the barrier
    start.wait()
    t0 = time.perf_counter()
    for t in pool:
        t.join()
    wall = time.perf_counter() - t0
    return summarise([x for r in results for x in r], wall, sum(errors))


def run_sdk(base: str, op: str, sids: list[str], threads: int, seconds: float) -> Figures:
    """The twilio SDK (sync), one ``twilio.rest.Client`` per thread."""

    def make_call(_k: int) -> Callable[[str], bool]:
        twilio = sdk_client(base_url=base, account_sid=DEFAULT_ACCOUNT_SID, auth_token=DEFAULT_AUTH_TOKEN)
        if op == "fetch":
            return lambda sid: twilio.calls(sid).fetch().status == "in-progress"
        return lambda sid: twilio.calls(sid).update(url=HOLD_URL).status == "in-progress"

    return run_threads(make_call, sids, threads, seconds)


def run_httpx(base: str, op: str, sids: list[str], threads: int, seconds: float) -> Figures:
    """A raw ``httpx.Client`` per thread (httpx's async pool degrades badly past ~8 concurrent
    requests -- httpcore's connection assignment is O(connections x requests) -- so it is not used)."""
    get_headers = {"authorization": AUTH}
    post_headers = {**get_headers, "content-type": "application/x-www-form-urlencoded"}
    body = f"Url={HOLD_URL}".encode()

    def make_call(_k: int) -> Callable[[str], bool]:
        http = httpx.Client(base_url=base, timeout=30)
        if op == "fetch":
            return lambda sid: http.get(f"{CALLS_PATH}/{sid}.json", headers=get_headers).status_code == 200
        return lambda sid: (
            http.post(f"{CALLS_PATH}/{sid}.json", content=body, headers=post_headers).status_code == 200
        )

    return run_threads(make_call, sids, threads, seconds)


WRK_SCRIPT = """
local sids = {%s}
local i = 0
local method = "%s"
local body = "Url=%s"
local headers = {["Authorization"] = "%s", ["Content-Type"] = "application/x-www-form-urlencoded"}
request = function()
  i = i + 1
  local path = "%s/" .. sids[i %% #sids + 1] .. ".json"
  if method == "GET" then
    return wrk.format("GET", path, {["Authorization"] = headers["Authorization"]})
  end
  return wrk.format("POST", path, headers, body)
end
"""


def run_wrk(base: str, op: str, sids: list[str], seconds: float, connections: int) -> Figures:
    script = WRK_SCRIPT % (
        ", ".join(f'"{s}"' for s in sids),
        "GET" if op == "fetch" else "POST",
        HOLD_URL,
        AUTH,
        CALLS_PATH,
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        cmd = [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-s",
            f.name,
            base,
        ]
        subprocess.run([*cmd[:3], "-d1s", *cmd[4:]], capture_output=True, check=True)  # warm
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(f.name)
    return Figures(*parse_report(out))


# -- the run -------------------------------------------------------------------------------------------
def set_up_calls(base: str) -> list[str]:
    twilio = sdk_client(base_url=base, account_sid=DEFAULT_ACCOUNT_SID, auth_token=DEFAULT_AUTH_TOKEN)
    sids = [twilio.calls.create(to=AGENT, from_=FROM, url=HOLD_URL).sid for _ in range(CALLS)]
    deadline = time.monotonic() + 15
    while any(twilio.calls(s).fetch().status != "in-progress" for s in sids):
        if time.monotonic() > deadline:
            raise SystemExit("set-up calls never reached in-progress")
        time.sleep(0.1)
    return sids


def check_voicesim(base: str, sids: list[str], updates: int) -> str:
    """After the run: every call still in progress, no alerts, and the redirects really ran flows."""
    headers = {"authorization": AUTH}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        statuses = {http.get(f"{CALLS_PATH}/{s}.json").json()["status"] for s in sids}
        alerts = http.get("/_voicesim/alerts").json()["alerts"]
        redirected = len(http.get("/_voicesim/events", params={"type": "call.redirected"}).json()["events"])
        fetched = sum(
            1
            for e in http.get("/_voicesim/events", params={"type": "webhook"}).json()["events"]
            if e["url"] == HOLD_URL
        )
    problems = []
    if statuses != {"in-progress"}:
        problems.append(f"call statuses {statuses}")
    if alerts:
        problems.append(f"{len(alerts)} alerts, first: {alerts[0]['message']}")
    if redirected < updates:
        problems.append(f"{redirected} redirects logged for {updates} successful updates")
    if fetched < CALLS + 1:
        problems.append(f"only {fetched} TwiML fetches")
    if problems:
        raise SystemExit("CORRECTNESS CHECK FAILED: " + "; ".join(problems))
    return (
        f"checked: {len(sids)} calls still in-progress, 0 alerts, {redirected} redirects logged, "
        f"{fetched} TwiML fetches by the flows (a redirect arriving while the previous one's fetch is "
        f"still in flight supersedes it, so fetches <= redirects)"
    )


def row(client: str, op: str, vs: Figures, bare: Figures) -> str:
    ratio = vs.rps / bare.rps if bare.rps else float("nan")
    errs = f"  errors {vs.errors}/{bare.errors}" if vs.errors or bare.errors else ""
    return (
        f"  {client:<16}{op:<7}{vs.rps:9.0f} {vs.p50_ms:7.2f} {vs.p99_ms:7.2f}   "
        f"{bare.rps:9.0f} {bare.p50_ms:7.2f} {bare.p99_ms:7.2f}   {ratio:6.0%}  "
        f"{'met' if ratio >= 0.5 else 'NOT met'}{errs}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each measurement (default 4)")
    parser.add_argument("--threads", type=int, default=8, help="SDK / httpx client threads (default 8)")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections (default 50, 2 threads)")
    parser.add_argument("--no-wrk", action="store_true", help="skip wrk even if installed")
    parser.add_argument(
        "--loop", default="auto", choices=["auto", "asyncio", "uvloop"], help="uvicorn --loop"
    )
    parser.add_argument("--http", default="auto", choices=["auto", "h11", "httptools"], help="uvicorn --http")
    args = parser.parse_args(argv)
    if args.seconds > 10:
        parser.error("keep each measurement <= 10 s")

    stack = (
        args.loop if args.loop != "auto" else ("uvloop" if importlib.util.find_spec("uvloop") else "asyncio")
    )
    proto = (
        args.http
        if args.http != "auto"
        else ("httptools" if importlib.util.find_spec("httptools") else "h11")
    )
    wrk = None if args.no_wrk else shutil.which("wrk")
    started = time.monotonic()
    print(
        f"voicesim REST-over-HTTP bench (python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f})"
    )
    print(
        f"servers: uvicorn, 1 worker, no access log, loop={stack}, http={proto}; "
        f"voicesim on a RealtimeClock (flows run)"
    )

    uv = (stack, proto)
    with (
        server("voicesim", VOICESIM_SERVER, *uv, TWIML_BASE, AGENT) as vs,
        server("bare", BARE_SERVER, *uv) as bare,
    ):
        sids = set_up_calls(vs.base)
        print(
            f"set-up: {len(sids)} outbound calls in progress on <Pause length=3600>; "
            f"update = redirect Url to that TwiML (fetched again by the flow)\n"
        )
        print(
            f"  {'client':<16}{'op':<7}{'voicesim req/s   p50    p99 ms':>30}   "
            f"{'bare req/s   p50    p99 ms':>27}   ratio  target>=50%"
        )
        updates = 0
        plans: list[tuple[str, Callable[[str, str], Figures]]] = [
            (f"sdk x{args.threads} thr", lambda b, op: run_sdk(b, op, sids, args.threads, args.seconds)),
            (f"httpx x{args.threads} thr", lambda b, op: run_httpx(b, op, sids, args.threads, args.seconds)),
        ]
        if wrk:
            plans.append(
                (
                    f"wrk -t2 -c{args.connections}",
                    lambda b, op: run_wrk(b, op, sids, args.seconds, args.connections),
                )
            )
        for label, measure in plans:
            for op in ("fetch", "update"):
                v = measure(vs.base, op)
                b = measure(bare.base, op)
                if op == "update":
                    updates += v.requests - v.errors
                print(row(label, op, v, b), flush=True)
        if not wrk:
            print("  (wrk skipped or not installed -- apt-get install -y wrk -- so no server-bound figures)")
        print()
        print(check_voicesim(vs.base, sids, updates))
    print(f"total bench time {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
