"""The ``callhold`` command: demo, serve, calls, hold, resume, db upgrade, db prune.

``calls``, ``hold`` and ``resume`` talk to a running ``callhold serve`` over its JSON API
(``--url`` / ``CALLHOLD_API_URL``, ``--token`` / ``CALLHOLD_API_TOKEN``); ``hold`` and ``resume``
print the API's reply as JSON (for ``jq``). Errors and notes go to stderr, one line each: exit code 2
for a usage or configuration mistake (a bad ``CALLHOLD_*`` value, a database that cannot be opened,
callhold unreachable), 1 for an operation that failed.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import httpx
import typer
from rich.console import Console
from rich.table import Table

from callhold import __version__
from callhold.logs import LogLevel
from callhold.startup import StartupError
from callhold.web.schemas import CALL_SID_PATTERN

__all__ = ["app", "main"]

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Hold and resume Twilio calls without dropping anyone."
)
db_app = typer.Typer(no_args_is_help=True, help="Database migrations and retention.")
app.add_typer(db_app, name="db")
console = Console()
err_console = Console(stderr=True)

UrlOpt = Annotated[str, typer.Option("--url", envvar="CALLHOLD_API_URL", help="callhold's base URL")]
TokenOpt = Annotated[str, typer.Option("--token", envvar="CALLHOLD_API_TOKEN", help="API bearer token")]


def _version(value: bool) -> None:
    """``--version``: print the version and stop."""
    if value:
        typer.echo(f"callhold {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit")
    ] = False,
) -> None:
    """Hold and resume Twilio calls without dropping anyone."""


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Where to write the timeline picture (HTML)")] = Path(
        "callhold-demo.html"
    ),
    strategy: Annotated[list[str] | None, typer.Option(help="conference and/or legs (default: both)")] = None,
) -> None:
    """Run a customer call, a hold with music and a reminder, a resume and a hang-up (embedded voicesim).

    Reads no CALLHOLD_* setting: its own settings, a temporary database, a virtual clock (same every run).
    """
    from callhold.demo import run_demo
    from callhold.startup import check_writable

    chosen = tuple(strategy or ("conference", "legs"))
    bad = [s for s in chosen if s not in ("conference", "legs")]
    if bad:
        raise typer.BadParameter(f"unknown strategy {bad[0]!r}; use conference or legs")
    try:
        check_writable(out)
    except StartupError as exc:
        raise _fail_startup(exc) from exc
    asyncio.run(run_demo(out, console, chosen))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port")] = 8000,
    log_level: Annotated[
        LogLevel,
        typer.Option(envvar="CALLHOLD_LOG_LEVEL", case_sensitive=False, help="callhold's and uvicorn's"),
    ] = LogLevel.INFO,
) -> None:
    """Serve the API and webhooks (real-time clock; embedded voicesim unless Twilio credentials are set).

    Reads the CALLHOLD_* settings (see the README); a bad one, or a database it cannot open, stops it.
    Logs on stderr, one line per record; the access log leaves out query strings (Twilio puts the
    caller's number in those of its GET requests).
    """
    import uvicorn

    from callhold import logs
    from callhold.startup import build_app, load_settings, serve_banner

    try:
        settings = load_settings()
        logs.configure(log_level)  # before the migrations, so that they are logged too
        application = build_app(settings)
    except StartupError as exc:
        raise _fail_startup(exc) from exc
    banner, note = serve_banner(settings, application, host, port)
    console.print(banner, markup=False, highlight=False, soft_wrap=True)
    if note is not None:
        _note(note)
    # log_config=None: keep the logging configured above (uvicorn's own would log full URLs).
    uvicorn.run(application, host=host, port=port, log_config=None, log_level=log_level.value)


def _say(message: str, style: str) -> None:
    """Print ``message`` on stderr in ``style``, as plain text (no Rich markup) on one line."""
    err_console.print(message, style=style, markup=False, highlight=False, soft_wrap=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` in red on stderr and return the exit to raise."""
    _say(message, "red")
    return typer.Exit(code)


def _note(message: str) -> None:
    """Print ``message`` in yellow on stderr: worth knowing, not an error."""
    _say(message, "yellow")


def _fail_startup(error: StartupError) -> typer.Exit:
    """Print each line of a configuration mistake (in red on stderr) and return the exit to raise (its
    code: 2 as a rule)."""
    for line in error.lines or [str(error)]:
        _say(line, "red")
    return typer.Exit(error.code)


def _check_target(url: str, token: str) -> None:
    """Refuse a ``--token`` that cannot go into a header and a ``--url`` that is not an http(s) URL,
    before any request (exit 2): neither is callhold being unreachable."""
    if not token.strip():
        raise _fail("invalid --token: it is empty (--token or CALLHOLD_API_TOKEN)", 2)
    if token != token.strip():
        raise _fail("invalid --token: it starts or ends with whitespace", 2)
    if any(not " " <= char <= "~" for char in token):
        raise _fail("invalid --token: it may hold only printable ASCII characters (a pasted smart quote?)", 2)
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise _fail(f"invalid --url {url!r}: {exc}", 2) from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise _fail(f"invalid --url {url!r}: expected http(s)://host[:port]", 2)


def _api(url: str, token: str, method: str, path: str, **kwargs: Any) -> Any:
    """``method path`` on callhold's JSON API: the decoded JSON reply (``None`` if empty). Exits 2 when
    callhold cannot be reached, 1 on an error status or a reply that is not JSON -- with a message,
    never a traceback."""
    _check_target(url, token)
    where = url.rstrip("/") + path
    try:
        reply = httpx.request(
            method, where, headers={"Authorization": f"Bearer {token}"}, timeout=20, **kwargs
        )
    except httpx.TransportError as exc:
        raise _fail(f"cannot reach callhold at {url}: {exc}", 2) from exc
    except httpx.InvalidURL as exc:
        raise _fail(f"invalid --url {url!r}: {exc}", 2) from exc
    except httpx.HTTPError as exc:  # reached, but the reply could not be read (a bad encoding, say)
        raise _fail(f"{method} {where} failed: {exc}") from exc
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
    """What an error reply says: a problem's ``detail`` (else ``title``) and its ``errors`` (a 422's
    fields: ``music_url: URL scheme should be ...``), else the start of its body."""
    try:
        body = reply.json()
    except ValueError:
        return _excerpt(reply) or reply.reason_phrase
    if isinstance(body, dict):
        fields = _field_errors(body.get("errors"))
        for key in ("detail", "title"):
            text = body.get(key)
            if isinstance(text, str) and text:
                return f"{text} {fields}" if fields else text
        if fields:
            return fields
    return _excerpt(reply) or reply.reason_phrase


def _field_errors(errors: Any) -> str:
    """A problem's ``errors`` list (``[{"loc": ["body", "music_url"], "msg": ...}]``) on one line:
    ``music_url: ...; reason: ...`` (empty if there is none, or it has another shape)."""
    if not isinstance(errors, list):
        return ""
    shown = []
    for error in errors:
        if not isinstance(error, dict) or not isinstance(error.get("msg"), str):
            continue
        loc = [str(part) for part in error.get("loc", ())] if isinstance(error.get("loc"), list) else []
        if len(loc) > 1 and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:]
        shown.append(f"{'.'.join(loc) or 'request'}: {' '.join(error['msg'].split())}")
    return "; ".join(shown)


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
        metavar="SID",
        help="The call's SID (customer or any leg): CA + 32 lowercase hex digits",
        callback=_call_sid,
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
    """Put a call on hold and print the hold (JSON).

    Idempotent: holding a held call keeps its hold as it is (a note on stderr if the reason differs).
    """
    body = {k: v for k, v in {"reason": reason, "music_url": music_url}.items() if v is not None}
    doc = _api(url, token, "POST", _call_path(sid, "hold"), json=body)
    _print_json(doc)
    if reason is not None and isinstance(doc, dict) and doc.get("reason") != reason:
        _note(
            f"note: call {sid} was already on hold (hold {doc.get('id')}, since {doc.get('started_at')}, "
            f"reason {doc.get('reason')!r}); it is unchanged: resume it first to hold it for another reason"
        )


@app.command()
def resume(
    sid: SidArg,
    url: UrlOpt = "http://127.0.0.1:8000",
    token: TokenOpt = "change-me-admin",
) -> None:
    """Resume a held call and print the hold, now ended (JSON)."""
    _print_json(_api(url, token, "POST", _call_path(sid, "resume")))


def _print_json(doc: Any) -> None:
    """An API reply on stdout as indented JSON, for people and for ``jq``."""
    typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))


@db_app.command("upgrade")
def db_upgrade(
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Default: CALLHOLD_DATABASE_URL")
    ] = None,
) -> None:
    """Apply every migration to the database."""
    from callhold.startup import load_settings, redacted, upgrade_database

    try:
        target = database_url or load_settings().database_url
        upgrade_database(target)
    except StartupError as exc:
        raise _fail_startup(exc) from exc
    console.print(f"database at {redacted(target)} is up to date", markup=False, highlight=False)


PRUNE_BATCH = 500
"""Calls deleted per transaction by ``callhold db prune``: short locks, while instances serve."""


@db_app.command("prune")
def db_prune(
    older_than: Annotated[
        int,
        typer.Option(
            "--older-than",
            min=1,
            help="Delete the calls that ended more than this many days ago (at least 1)",
        ),
    ],
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Default: CALLHOLD_DATABASE_URL")
    ] = None,
) -> None:
    """Delete calls that ended long ago, with their legs and holds (retention). Live calls are never
    touched; safe while instances serve. A legs hold's Twilio queue that was not deleted yet is
    deleted by the dispatch sweeps all the same, once a day old (``callhold.hold_queues``)."""
    from datetime import UTC, datetime, timedelta

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from callhold.adapters.db import SqlHoldStore, make_engine
    from callhold.startup import check_database, check_schema, load_settings, redacted

    try:
        target = database_url or load_settings().database_url
        check_schema(target, check_database(target), migrating=False)
    except StartupError as exc:
        raise _fail_startup(exc) from exc
    before = datetime.now(UTC) - timedelta(days=older_than)
    engine = make_engine(target)
    store = SqlHoldStore(engine)
    deleted = 0
    try:
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        with Progress(*columns, console=err_console, transient=True) as progress:
            task = progress.add_task("deleting ended calls", total=None)
            while batch := store.delete_ended_calls(before, limit=PRUNE_BATCH):
                deleted += batch
                progress.update(task, description=f"deleted {deleted:,} ended calls")
    finally:
        engine.dispose()
    console.print(
        f"deleted {deleted:,} calls that ended before {before:%Y-%m-%d %H:%M} UTC "
        f"(with their legs and holds) from {redacted(target)}",
        markup=False,
        highlight=False,
    )


def main() -> None:
    """Entry point of the ``callhold`` script."""
    app()


if __name__ == "__main__":
    main()
