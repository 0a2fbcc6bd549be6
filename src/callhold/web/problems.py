"""RFC 9457 problem details for every error the JSON API returns.

Domain errors map by class (see the tree in :mod:`callhold.domain.errors`); request validation
errors become 422 with the offending fields; nothing a client sends produces a 500. A database that
cannot serve the request (down, no connection free in time, a deadlock) is 503
``database-unavailable`` (with ``Retry-After``); a failure of callhold's own,
500 ``internal-error`` -- problem JSON either way.

A :class:`~callhold.domain.errors.TelephonyError` maps by Twilio's code: a refusal meaning the request
cannot apply to the call as it is now (a participant label in use, a participant or call already gone,
a full conference) is 409 ``conflict``, a number Twilio finds invalid 422 ``invalid``, anything else
(Twilio unreachable, callhold misconfigured, Twilio's rate limit...) 502 ``telephony-error``, and a
request Twilio never answered, or answered with a server error (500, 502, 504), which it may have carried out,
504 ``telephony-uncertain``. Each carries ``twilio_code`` and ``twilio_status`` (null when Twilio sent
none).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from callhold.domain import errors

__all__ = [
    "PROBLEM_TYPE_BASE",
    "TWILIO_CONFLICT_CODES",
    "TWILIO_INVALID_CODES",
    "install",
    "problem",
    "telephony_status",
]

PROBLEM_TYPE_BASE = "https://callhold.dev/problems/"
MEDIA_TYPE = "application/problem+json"

_log = logging.getLogger("callhold.web")

_STATUS: list[tuple[type[Exception], int, str]] = [
    (errors.Invalid, 422, "invalid"),
    (errors.NotFound, 404, "not-found"),
    (errors.Forbidden, 403, "forbidden"),
    (errors.NotHeld, 409, "not-held"),
    (errors.ConferenceNotStarted, 409, "conference-not-started"),
    (errors.NotConnected, 409, "not-connected"),
    (errors.CallEnded, 409, "call-ended"),
    (errors.WrongStrategy, 409, "wrong-strategy"),
    (errors.Conflict, 409, "conflict"),
]

#: Twilio codes meaning "not in the call's current state": 16020 conference full, 16025 participant
#: label in use, 20404 participant (or call) not found, 21220 call not in progress.
TWILIO_CONFLICT_CODES = frozenset({16020, 16025, 20404, 21220})
#: Twilio codes meaning "that number is not valid": 21211 invalid 'To'.
TWILIO_INVALID_CODES = frozenset({21211})
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def problem(
    status: int,
    kind: str,
    detail: str,
    instance: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """An ``application/problem+json`` response (with ``headers``, e.g. a 405's ``Allow``)."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + kind,
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    merged = dict(headers or {})
    if status == 401:
        merged.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=merged or None)


def telephony_status(error: errors.TelephonyError) -> tuple[int, str]:
    """The HTTP status and problem type a Twilio refusal is reported with: 504 ``telephony-uncertain``
    when Twilio never answered, or answered a server error (it may have done it: check before
    retrying)."""
    if error.uncertain:
        return 504, "telephony-uncertain"
    if error.code in TWILIO_INVALID_CODES:
        return 422, "invalid"
    if error.code in TWILIO_CONFLICT_CODES:
        return 409, "conflict"
    return 502, "telephony-error"


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem JSON."""

    @app.exception_handler(errors.CallholdError)
    async def domain_error(request: Request, exc: errors.CallholdError) -> JSONResponse:
        if isinstance(exc, errors.TelephonyError):
            status, kind = telephony_status(exc)
            path = request.url.path
            return problem(status, kind, str(exc), path, twilio_code=exc.code, twilio_status=exc.status)
        for cls, status, kind in _STATUS:
            if isinstance(exc, cls):
                return problem(status, kind, str(exc), request.url.path)
        return problem(400, "bad-request", str(exc), request.url.path)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in exc.errors()
        ]
        return problem(422, "invalid", "The request is not valid.", request.url.path, errors=fields)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(SQLAlchemyTimeoutError)
    async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The database went away (down, unreachable, its volume gone), no connection was free in
        # time, or it gave up on the transaction (a deadlock): the request may be retried.
        _log.exception("database error on %s %s", request.method, request.url.path)
        detail = f"The database could not serve the request ({type(exc).__name__}); try again shortly."
        response = problem(503, "database-unavailable", detail, request.url.path)
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        # A bug of callhold's: problem JSON, never a stack trace (Starlette logs the exception).
        return problem(500, "internal-error", "callhold failed to handle the request.", request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {
            401: "unauthorized",
            403: "forbidden",
            404: "not-found",
            405: "method-not-allowed",
            413: "payload-too-large",
        }.get(exc.status_code, "http-error")
        # The exception's headers go out too. A 405 must say which methods are allowed (``Allow``,
        # RFC 9110 section 15.5.6): Starlette's router names those of the first route on the path
        # only, so they are gathered from every route on it (GET /calls and POST /calls are two).
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed(request) or headers.get("Allow", "")
        return problem(exc.status_code, kind, str(exc.detail), request.url.path, headers=headers)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed(request: Request) -> str:
    """The methods the app would route for the request's path, as an ``Allow`` value: each asked of
    every route (FastAPI keeps an included router as one route, so its routes are not listed)."""
    allowed = [
        method
        for method in _METHODS
        if any(
            not isinstance(route, Mount)
            and route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]
    return ", ".join(allowed)
