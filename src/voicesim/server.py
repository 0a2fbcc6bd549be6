"""``python -m voicesim``: the emulator over HTTP, on a real-time clock or a virtual one.

python -m voicesim --port 8765 --speed 1
python -m voicesim --virtual-clock          # time moves only through POST /_voicesim/clock/...
python -m voicesim --api-key SK...:secret   # also accept this API key (repeatable)
python -m voicesim demo            # an inbound call, a Dial, a redirect; prints the timelines
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from voicesim.clock import RealtimeClock, Scheduler, VirtualClock
from voicesim.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, Emulator
from voicesim.keys import check_key_sid
from voicesim.rest.app import make_asgi_app

__all__ = ["build_app", "emulator_for", "main", "parse_args"]

ASGIApp = Callable[[dict[str, Any], Callable[..., Any], Callable[..., Any]], Awaitable[None]]


def build_app(emu: Emulator) -> ASGIApp:
    """The ASGI app; on a real-time clock its lifespan runs the scheduler."""
    inner = make_asgi_app(emu)

    async def app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "lifespan" or not isinstance(emu.clock, RealtimeClock):
            await inner(scope, receive, send)
            return
        task: asyncio.Task[None] | None = None
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                task = asyncio.get_running_loop().create_task(emu.clock.run())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                emu.close()
                await emu.webhooks.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    return app


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m voicesim", description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", choices=["serve", "demo"], default="serve")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any free port)")
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID, help="the account SID clients use")
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN, help="the auth token clients use")
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        type=_api_key,
        metavar="SID:SECRET",
        help="an API key clients may use instead of the auth token (repeatable)",
    )
    parser.add_argument("--speed", type=float, default=1.0, help="virtual seconds per real second")
    parser.add_argument(
        "--virtual-clock",
        action="store_true",
        help="a clock that moves only when told to (POST /_voicesim/clock/advance or "
        "/_voicesim/clock/run-until-idle), for tests driven over HTTP; not with --speed",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed for SIDs, for the same SIDs on every start (default: random -- an application's "
        "database outlives this server, and would meet the SIDs of its first run again)",
    )
    return parser


def _api_key(value: str) -> tuple[str, str]:
    """``SK...:secret`` as (SID, secret)."""
    sid, sep, secret = value.partition(":")
    try:
        check_key_sid(sid)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not sep or not secret:
        raise argparse.ArgumentTypeError("an API key is given as SID:SECRET")
    return sid, secret


def emulator_for(args: argparse.Namespace) -> Emulator:
    """The emulator ``python -m voicesim`` serves, as its command line says."""
    clock: Scheduler = VirtualClock() if args.virtual_clock else RealtimeClock(args.speed)
    return Emulator(
        clock,
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        seed=args.seed,
        api_keys=dict(args.api_key),
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """``python -m voicesim``'s command line."""
    return _parser().parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m voicesim`` and the ``voicesim`` script."""
    args = _parser().parse_args(argv)
    if args.speed <= 0:
        _parser().error("--speed must be positive")
    if args.virtual_clock and args.speed != 1.0:
        _parser().error("--speed sets a real-time clock's pace; a --virtual-clock has none")
    if args.command == "demo":
        from voicesim.demo import run_demo

        return run_demo(speed=args.speed if args.speed != 1.0 else 20.0)
    import uvicorn

    emu = emulator_for(args)
    # Bind first, so that the line printed names the real port (``--port 0`` picks a free one) and a
    # client that reads it can connect at once (the socket is listening before uvicorn starts).
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.create_server((args.host, args.port), family=family)
    port = sock.getsockname()[1]
    pace = "virtual clock" if args.virtual_clock else f"speed {args.speed:g}x"
    print(f"voicesim on http://{args.host}:{port}  account {args.account_sid}  {pace}", flush=True)
    config = uvicorn.Config(build_app(emu), log_level="warning", lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])
    return 0
