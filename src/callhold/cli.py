"""The ``callhold`` command: demo, serve, calls, hold, resume, db upgrade.

``calls``, ``hold`` and ``resume`` talk to a running ``callhold serve`` over its JSON API
(``--url`` / ``CALLHOLD_API_URL``, ``--token`` / ``CALLHOLD_API_TOKEN``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

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


def _api(url: str, token: str, method: str, path: str, **kwargs: Any) -> Any:
    try:
        reply = httpx.request(
            method, url.rstrip("/") + path, headers={"Authorization": f"Bearer {token}"}, timeout=20, **kwargs
        )
    except httpx.HTTPError as exc:
        console.print(f"[red]cannot reach callhold at {url}: {exc}[/red]")
        raise typer.Exit(2) from exc
    if reply.status_code >= 400:
        try:
            detail = reply.json().get("detail", reply.text)
        except ValueError:
            detail = reply.text
        console.print(f"[red]{reply.status_code}: {detail}[/red]")
        raise typer.Exit(1)
    return reply.json() if reply.content else None


@app.command()
def calls(url: UrlOpt = "http://127.0.0.1:8000", token: TokenOpt = "change-me-admin") -> None:
    """List calls."""
    doc = _api(url, token, "GET", "/api/v1/calls")
    items = doc.get("calls", doc) if isinstance(doc, dict) else doc
    table = Table("call", "strategy", "agent", "status", "hold")
    for call in items:
        hold = call.get("hold") or {}
        table.add_row(
            call.get("id", ""),
            call.get("strategy", ""),
            str(call.get("agent_id") or "-"),
            call.get("status", ""),
            str(hold.get("state") or "-"),
        )
    console.print(table)


@app.command()
def hold(
    sid: Annotated[str, typer.Argument(help="The call's SID (customer or any leg)")],
    reason: Annotated[str | None, typer.Option(help="Why (kept on the record)")] = None,
    music_url: Annotated[str | None, typer.Option(help="Hold music URL (MP3/WAV)")] = None,
    url: UrlOpt = "http://127.0.0.1:8000",
    token: TokenOpt = "change-me-admin",
) -> None:
    """Put a call on hold."""
    body = {k: v for k, v in {"reason": reason, "music_url": music_url}.items() if v is not None}
    doc = _api(url, token, "POST", f"/api/v1/calls/{sid}/hold", json=body)
    console.print(doc)


@app.command()
def resume(
    sid: Annotated[str, typer.Argument(help="The call's SID")],
    url: UrlOpt = "http://127.0.0.1:8000",
    token: TokenOpt = "change-me-admin",
) -> None:
    """Resume a held call."""
    console.print(_api(url, token, "POST", f"/api/v1/calls/{sid}/resume"))


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
