"""Starting and stopping the subprocesses: voicesim, callhold (one per strategy) and the bare app."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.callhold.apps import BARE_SERVER, CALLHOLD_SERVER
from bench.callhold.constants import ACCOUNT_SID, ADMIN, AUTH_TOKEN, CALLHOLD_NUMBER
from bench.callhold.polling import until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Uvicorn:
    """uvicorn's ``--loop`` and ``--http`` for the callhold and bare servers."""

    loop: str
    http: str

    @classmethod
    def resolve(cls, loop: str, http: str) -> Uvicorn:
        """``auto``: uvloop and httptools when installed, else asyncio and h11."""
        if loop == "auto":
            loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
        if http == "auto":
            http = "httptools" if importlib.util.find_spec("httptools") else "h11"
        return cls(loop, http)


@dataclass
class Server:
    name: str
    base: str
    proc: subprocess.Popen[bytes]
    log: str


@contextlib.contextmanager
def spawn(name: str, argv: list[str], port: int, env: dict[str, str] | None = None) -> Iterator[Server]:
    """Start ``argv`` (a server on 127.0.0.1:``port``), wait until it answers, stop it afterwards; then
    ``log`` is the text it logged."""
    fd, log = tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".log")
    proc = subprocess.Popen(argv, stdout=fd, stderr=fd, env={**os.environ, **(env or {})})
    os.close(fd)
    srv = Server(name, f"http://127.0.0.1:{port}", proc, log)
    try:
        for _ in until(30, 0.1):
            if proc.poll() is not None:
                raise SystemExit(f"{name} server exited: {Path(log).read_text()}")
            with contextlib.suppress(httpx.TransportError):
                httpx.get(srv.base + "/", timeout=1)
                break
        else:
            raise SystemExit(f"{name} server did not start: {Path(log).read_text()}")
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        text = Path(log).read_text(errors="replace")
        os.unlink(log)
        srv.log = text


def start_voicesim(speed: float) -> contextlib.AbstractContextManager[Server]:
    port = free_port()
    argv = [
        "--port",
        str(port),
        "--speed",
        str(speed),
        "--account-sid",
        ACCOUNT_SID,
        "--auth-token",
        AUTH_TOKEN,
    ]
    return spawn("voicesim", [sys.executable, "-m", "voicesim", *argv], port)


def start_bare(uv: Uvicorn, voicesim: str) -> contextlib.AbstractContextManager[Server]:
    """The bare app; its relay endpoints send the SDK calls to ``voicesim``."""
    port = free_port()
    argv = [sys.executable, "-c", BARE_SERVER, str(port), uv.loop, uv.http, AUTH_TOKEN, voicesim, ACCOUNT_SID]
    return spawn("bare", argv, port)


def callhold_db(tmp: Path, strategy: str) -> Path:
    return tmp / f"callhold-{strategy}.db"


def callhold_env(strategy: str, port: int, voicesim: str, tmp: Path) -> dict[str, str]:
    return {
        "CALLHOLD_DATABASE_URL": f"sqlite:///{callhold_db(tmp, strategy)}",
        "CALLHOLD_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "CALLHOLD_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "CALLHOLD_TWILIO_API_BASE_URL": voicesim,
        "CALLHOLD_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "CALLHOLD_STRATEGY": strategy,
        "CALLHOLD_ADMIN_TOKEN": ADMIN,
        "CALLHOLD_CALLER_ID": CALLHOLD_NUMBER[strategy],
        # nothing fires during the bench: holds are short
        "CALLHOLD_AGENT_REMINDER_AFTER": "3600",
        "CALLHOLD_MAX_HOLD": "7200",
    }


def start_callhold(
    strategy: str, voicesim: str, tmp: Path, uv: Uvicorn, profile: str, breakdown: bool
) -> contextlib.AbstractContextManager[Server]:
    """callhold for ``strategy`` on a free port, its SDK pointed at ``voicesim``, its database in
    ``tmp``; ``profile``: where cProfile's stats go (``-``: nowhere); ``breakdown``: the timing wrapper."""
    port = free_port()
    argv = [
        sys.executable,
        "-c",
        CALLHOLD_SERVER,
        str(port),
        uv.loop,
        uv.http,
        profile,
        "1" if breakdown else "0",
    ]
    return spawn(f"callhold-{strategy}", argv, port, callhold_env(strategy, port, voicesim, tmp))


def log_problems(text: str) -> str | None:
    """What a server's log shows worth reporting: None, a one-line note, or its last 40 lines.

    ``ClientDisconnect`` tracebacks are expected: wrk closes its connections at the end of a run while
    callhold still has requests queued (uvicorn logs each as "Exception in ASGI application")."""
    if not re.search(r"Traceback|ERROR|Exception", text):
        return None
    errors = re.findall(r"^(\w[\w.]*(?:Error|Exception|Disconnect)\b.*)$", text, re.MULTILINE)
    if errors and all("ClientDisconnect" in e for e in errors):
        return (
            f"{len(errors)} ClientDisconnect tracebacks (wrk closing connections with requests still queued)"
        )
    return "\n".join(text.splitlines()[-40:])
