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
from pathlib import Path

from fastapi import APIRouter, HTTPException, Response, status

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
_MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
"""The assets served under ``/console/``, by suffix: the page itself is served at ``/console`` only."""


@functools.cache
def _assets() -> dict[str, str]:
    """The console's scripts and style sheets: file name -> media type (the files ship with the
    package, and are listed once). Only these names are served: nothing else in or out of
    ``static/`` can be asked for."""
    return {
        path.name: _MEDIA_TYPES[path.suffix]
        for path in _STATIC.iterdir()
        if path.is_file() and path.suffix in _MEDIA_TYPES
    }


@functools.cache
def _file(name: str) -> bytes:
    """The file ``static/<name>`` next to this module, read once (it ships with the package)."""
    return (_STATIC / name).read_bytes()


def _static(name: str, media_type: str) -> Response:
    """The file ``static/<name>`` next to this module, with the console's headers."""
    return Response(_file(name), media_type=media_type, headers=_HEADERS)


@router.get(CONSOLE_PATH)
def console_page() -> Response:
    """The console page (it signs in with a token kept in the tab's ``sessionStorage``)."""
    return _static("console.html", "text/html; charset=utf-8")


@router.get(CONSOLE_PATH + "/{name}")
def console_asset(name: str) -> Response:
    """One of the console's script modules or its style sheet; 404 for any other name."""
    media_type = _assets().get(name)
    if media_type is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "The console has no such file.")
    return _static(name, media_type)
