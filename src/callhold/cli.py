"""The ``callhold`` command: demo, serve, calls, hold, resume, db upgrade.

``calls``, ``hold`` and ``resume`` talk to a running ``callhold serve`` over its JSON API
(``--url`` / ``CALLHOLD_API_URL``, ``--token`` / ``CALLHOLD_API_TOKEN``).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import httpx
import typer
from rich.console import Console
from rich.table import Table

from callhold.web.schemas import CALL_SID_PATTERN

__all__ = ["app", "main"]

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Hold and resume Twilio calls without dropping anyone."
)
db_app = typer.Typer(no_args_is_help=True, help="Database migrations.")
app.add_typer(db_app, name="db")
console = Console()

UrlOpt = Annotated[str, typer.Option("--url", envvar="CALLHOLD_API_URL", help="callhold's base URL")]
TokenOpt = Annotated[str, typer.Option("--token", envvar="CALLHOLD_API_TOKEN", help="API bearer token")]


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Where to write the timeline picture (HTML)")] = Path(
        "callhold-demo.html"
    ),
    strategy: Annotated[list[str] | None, typer.Option(help="conference and/or legs (default: both)")] = None,
) -> None:
    """Run a customer call, a hold with music and a reminder, a resume and a hang-up (embedded voicesim)."""
    from callhold.demo import run_demo

    chosen = tuple(strategy or ("conference", "legs"))
    bad = [s for s in chosen if s not in ("conference", "legs")]
    if bad:
        raise typer.BadParameter(f"unknown strategy {bad[0]!r}; use conference or legs")
    asyncio.run(run_demo(out, console, chosen))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
) -> None:
    """Serve the API and webhooks (real-time clock; embedded voicesim unless Twilio credentials are set)."""
    import uvicorn

    from callhold.config import Settings
    from callhold.web.app import create_app

    settings = Settings()
    where = (
        "Twilio" if settings.uses_real_twilio else f"embedded voicesim ({settings.public_base_url}/voicesim)"
    )
    console.print(f"callhold on http://{host}:{port} -> {where}; database {settings.database_url}")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


def _fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` in red (as plain text: no Rich markup) and return the exit to raise."""
    console.print(message, style="red", markup=False, highlight=False)
    return typer.Exit(code)


def _api(url: str, token: str, method: str, path: str, **kwargs: Any) -> Any:
    """``method path`` on callhold's JSON API: the decoded JSON reply (``None`` if empty). Exits 2 when
    callhold cannot be reached, 1 on an error status or a reply that is not JSON -- with a message,
    never a traceback."""
    where = url.rstrip("/") + path
    try:
        reply = httpx.request(
            method, where, headers={"Authorization": f"Bearer {token}"}, timeout=20, **kwargs
        )
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach callhold at {url}: {exc}", 2) from exc
    if not reply.is_success:
        raise _fail(f"{reply.status_code}: {_error_detail(reply)}")
    if not reply.content:
        return None
    try:
        return reply.json()
    except ValueError as exc:  # not JSON (or not UTF-8): a proxy's page, or not callhold at all
        content_type = reply.headers.get("content-type", "no content type")
        raise _fail(
            f"{method} {where} answered {reply.status_code} with a body that is not JSON "
            f"({content_type}): {_excerpt(reply)}"
        ) from exc


def _error_detail(reply: httpx.Response) -> str:
    """What an error reply says: a problem's ``detail`` (and ``title``), else the start of its body."""
    try:
        body = reply.json()
    except ValueError:
        return _excerpt(reply) or reply.reason_phrase
    if isinstance(body, dict):
        detail = body.get("detail")
        if isinstance(detail, str) and detail:
            return detail
        title = body.get("title")
        if isinstance(title, str) and title:
            return title
    return _excerpt(reply) or reply.reason_phrase


def _excerpt(reply: httpx.Response, limit: int = 200) -> str:
    """The start of a reply's body, on one line."""
    text = " ".join(reply.text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def _call_sid(sid: str) -> str:
    """A Call SID argument, checked against the API's pattern before it goes into a URL path."""
    if re.fullmatch(CALL_SID_PATTERN, sid) is None:
        raise typer.BadParameter(f"{sid!r} is not a Call SID (CA followed by 32 lowercase hex digits)")
    return sid


def _call_path(sid: str, action: str) -> str:
    """The API path of an action on a call (the SID is checked, and escaped all the same)."""
    return f"/api/v1/calls/{quote(sid, safe='')}/{action}"


SidArg = Annotated[
    str,
    typer.Argument(
        metavar="SID", help="The call's SID (customer or any leg): CA + 32 hex digits", callback=_call_sid
    ),
]


@app.command()
def calls(url: UrlOpt = "http://127.0.0.1:8000", token: TokenOpt = "change-me-admin") -> None:
    """List calls, with the state of each one's open (else latest) hold."""
    doc = _api(url, token, "GET", "/api/v1/calls")
    if not isinstance(doc, list) or not all(isinstance(call, dict) for call in doc):
        raise _fail(f"unexpected reply to GET /api/v1/calls: {str(doc)[:200]}")
    table = Table()
    table.add_column("call", no_wrap=True)  # whole, to copy into hold/resume
    for column in ("strategy", "agent", "status", "hold"):
        table.add_column(column)
    for call in doc:
        hold = call.get("hold") if isinstance(call.get("hold"), dict) else {}
        table.add_row(
            str(call.get("id", "")),
            str(call.get("strategy", "")),
            str(call.get("agent_id") or "-"),
            str(call.get("status", "")),
            str(call.get("hold_state") or hold.get("state") or "-"),
        )
    console.print(table)


@app.command()
def hold(
    sid: SidArg,
    reason: Annotated[str | None, typer.Option(help="Why (kept on the record)")] = None,
    music_url: Annotated[str | None, typer.Option(help="Hold music URL (MP3/WAV)")] = None,
    url: UrlOpt = "http://127.0.0.1:8000",
    token: TokenOpt = "change-me-admin",
) -> None:
    """Put a call on hold."""
    body = {k: v for k, v in {"reason": reason, "music_url": music_url}.items() if v is not None}
    console.print(_api(url, token, "POST", _call_path(sid, "hold"), json=body))


@app.command()
def resume(
    sid: SidArg,
    url: UrlOpt = "http://127.0.0.1:8000",
    token: TokenOpt = "change-me-admin",
) -> None:
    """Resume a held call."""
    console.print(_api(url, token, "POST", _call_path(sid, "resume")))


@db_app.command("upgrade")
def db_upgrade(
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Default: CALLHOLD_DATABASE_URL")
    ] = None,
) -> None:
    """Apply every migration to the database."""
    from callhold.adapters.db.migrate import upgrade
    from callhold.config import Settings

    target = database_url or Settings().database_url
    upgrade(target)
    console.print(f"database at {target} is up to date")


def main() -> None:
    """Entry point of the ``callhold`` script."""
    app()


if __name__ == "__main__":
    main()
