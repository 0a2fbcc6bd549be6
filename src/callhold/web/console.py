"""``/console``: the agent console, a single page that works a shift through the JSON API.

The page (``static/console.html``), its script (native ES modules: ``static/*.js``, the entry point
``console.js`` importing the others) and its style sheet are served as files, with no template and
no data in them: the browser fetches everything with the agent's bearer token, and renders it with
DOM APIs. Every response carries a strict ``Content-Security-Policy`` (scripts and styles from
callhold only, nothing inline, requests to callhold only, no form posted anywhere), so a value that
slipped through as markup could still not run.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response, status

__all__ = ["CONSOLE_PATH", "CONTENT_SECURITY_POLICY", "router"]

CONSOLE_PATH = "/console"
"""Where the console is served."""

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
"""The policy of every console response: only callhold's own script, styles and API."""

_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


_STATIC = Path(__file__).parent / "static"
_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
_PAGE = "console.html"


@dataclass(frozen=True)
class _Asset:
    body: bytes
    media_type: str
    etag: str


@functools.cache
def _assets() -> dict[str, _Asset]:
    """The page, its script modules and its style sheet, by file name: all read together on first
    use, so a process serves one release's files even if a newer one is installed over them before
    it restarts (mixed modules would fail to import). Only these names are served: nothing else in
    or out of ``static/`` can be asked for. Each has a strong ETag (a digest of its content)."""
    assets = {}
    for path in sorted(_STATIC.iterdir()):
        if path.is_file() and not path.name.startswith(".") and path.suffix in _MEDIA_TYPES:
            body = path.read_bytes()
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            assets[path.name] = _Asset(body, _MEDIA_TYPES[path.suffix], etag)
    return assets


def _static(request: Request, name: str) -> Response:
    """The file ``static/<name>`` with the console's headers; 304 when the browser has it already
    (``If-None-Match``: ``no-cache`` makes it ask each time, and this answer costs no body)."""
    asset = _assets()[name]
    headers = {**_HEADERS, "ETag": asset.etag}
    if asset.etag in _etags(request.headers.get("if-none-match", "")):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


def _etags(header: str) -> set[str]:
    """The entity tags an ``If-None-Match`` lists (a weak one matches its strong twin, RFC 9110
    §13.1.2; ``*`` matches any)."""
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
    if "*" in tags:
        return {asset.etag for asset in _assets().values()}
    return tags


# HEAD as well as GET (FastAPI answers HEAD on a GET route with 405): monitors probe the page so.
_READ = ["GET", "HEAD"]


@router.api_route(CONSOLE_PATH, methods=_READ)
def console_page(request: Request) -> Response:
    """The console page (it signs in with a token kept in the tab's ``sessionStorage``)."""
    return _static(request, _PAGE)


@router.api_route(CONSOLE_PATH + "/{name}", methods=_READ)
def console_asset(request: Request, name: str) -> Response:
    """One of the console's script modules or its style sheet; 404 for any other name (the page
    itself is served at ``/console`` only)."""
    if name == _PAGE or name not in _assets():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "The console has no such file.")
    return _static(request, name)
