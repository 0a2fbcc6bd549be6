"""RFC 9457 problem details for every error the JSON API returns.

Domain errors map by class (see the tree in :mod:`callhold.domain.errors`); request validation
errors become 422 with the offending fields; nothing a client sends produces a 500.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from callhold.domain import errors

__all__ = ["PROBLEM_TYPE_BASE", "install", "problem"]

PROBLEM_TYPE_BASE = "https://callhold.dev/problems/"
MEDIA_TYPE = "application/problem+json"

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
    (errors.TelephonyError, 502, "telephony-error"),
]
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
}


def problem(status: int, kind: str, detail: str, instance: str | None = None, **extra: Any) -> JSONResponse:
    """An ``application/problem+json`` response."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + kind,
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem JSON."""

    @app.exception_handler(errors.CallholdError)
    async def domain_error(request: Request, exc: errors.CallholdError) -> JSONResponse:
        for cls, status, kind in _STATUS:
            if isinstance(exc, cls):
                extra: dict[str, Any] = {}
                if isinstance(exc, errors.TelephonyError):
                    extra = {"twilio_code": exc.code, "twilio_status": exc.status}
                return problem(status, kind, str(exc), request.url.path, **extra)
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

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {
            401: "unauthorized",
            403: "forbidden",
            404: "not-found",
            405: "method-not-allowed",
            413: "payload-too-large",
        }.get(exc.status_code, "http-error")
        return problem(exc.status_code, kind, str(exc.detail), request.url.path)
