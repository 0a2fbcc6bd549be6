"""Part 2's load generators: httpx in threads, and wrk with a Lua script. Each posts a target's signed
bodies in turn for a while and returns its figures."""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time

import httpx

from bench.callhold.constants import FORM
from bench.callhold.figures import Figures, summarise
from bench.callhold.webhooks import Bodies, form_headers
from bench.wrk import parse_report


def run_httpx(base: str, path: str, bodies: Bodies, threads: int, seconds: float) -> Figures:
    """``threads`` threads, each with its own ``httpx.Client``, posting the bodies in turn (strided)."""
    requests = [(body, form_headers(sig)) for body, sig in bodies.pairs]
    results: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    start = threading.Barrier(threads + 1)
    stop_at = [0.0]

    def worker(k: int) -> None:
        http = httpx.Client(base_url=base, timeout=30)
        post = http.post
        lat, i, n = results[k], k, len(requests)
        perf = time.perf_counter
        http.get("/")  # open the connection (404)
        start.wait()
        while True:
            t0 = perf()
            if t0 >= stop_at[0]:
                return
            body, headers = requests[i % n]
            try:
                ok = post(path, content=body, headers=headers).is_success
            except httpx.HTTPError:
                ok = False
            lat.append(perf() - t0)
            errors[k] += not ok
            i += threads

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    stop_at[0] = time.perf_counter() + 0.3 + seconds
    start.wait()
    t0 = time.perf_counter()
    for t in pool:
        t.join()
    return summarise([x for r in results for x in r], time.perf_counter() - t0, sum(errors))


WRK_SCRIPT = """
local prefix, suffix, first = %(prefix)s, %(suffix)s, %(first)d
local sigs = {%(sigs)s}
local n = #sigs
local i, stride, counter = 0, 1, 0
function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end
function init(args)
  i = offset
  stride = %(threads)d
end
request = function()
  local k = i %% n
  i = i + stride
  local body = prefix
  if first >= 0 then body = prefix .. (first + k) .. suffix end
  local headers = {["Content-Type"] = "%(form)s", ["X-Twilio-Signature"] = sigs[k + 1]}
  return wrk.format("POST", "%(path)s", headers, body)
end
"""


def _lua(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_wrk(base: str, path: str, bodies: Bodies, seconds: float, connections: int) -> Figures:
    script = WRK_SCRIPT % {
        "prefix": _lua(bodies.prefix),
        "suffix": _lua(bodies.suffix),
        "first": -1 if bodies.first is None else bodies.first,
        "sigs": ",".join(_lua(sig) for _, sig in bodies.pairs),
        "threads": 2,
        "path": path,
        "form": FORM,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        cmd = [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            f.name,
            base,
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
    finally:
        os.unlink(f.name)
    return Figures(*parse_report(out))
