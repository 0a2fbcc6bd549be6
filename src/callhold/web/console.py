"""``/console``: the agent console, a single page that works a shift through the JSON API.

The page (``static/console.html``) and its script and style sheet are served as files, with no
template and no data in them: the browser fetches everything with the agent's bearer token, and
renders it with DOM APIs. Every response carries a strict ``Content-Security-Policy`` (scripts and
styles from callhold only, nothing inline, requests to callhold only, no form posted anywhere), so
a value that slipped through as markup could still not run.
"""

from __future__ import annotations

import functools
from pathlib import Path

from fastapi import APIRouter, Response

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


@functools.cache
def _file(name: str) -> bytes:
    """The file ``static/<name>`` next to this module, read once (it ships with the package)."""
    return (Path(__file__).parent / "static" / name).read_bytes()


def _static(name: str, media_type: str) -> Response:
    """The file ``static/<name>`` next to this module, with the console's headers."""
    return Response(_file(name), media_type=media_type, headers=_HEADERS)


@router.get(CONSOLE_PATH)
def console_page() -> Response:
    """The console page (it signs in with a token kept in the tab's ``sessionStorage``)."""
    return _static("console.html", "text/html; charset=utf-8")


@router.get(CONSOLE_PATH + "/console.js")
def console_script() -> Response:
    """The console's script."""
    return _static("console.js", "text/javascript; charset=utf-8")


@router.get(CONSOLE_PATH + "/console.css")
def console_style() -> Response:
    """The console's style sheet."""
    return _static("console.css", "text/css; charset=utf-8")
