"""Twilio's REST errors: one class per error code, rendered as ``{code, message, more_info, status}``.

Any exception with integer ``code`` and ``status`` attributes and a ``message`` is rendered the
same way, so the conference and queue engines can raise their own typed errors.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthenticationError",
    "InvalidCallState",
    "InvalidParameter",
    "NotFound",
    "TwilioError",
    "error_body",
]


class TwilioError(Exception):
    """A REST error with Twilio's code and HTTP status."""

    code = 20001
    status = 400

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class AuthenticationError(TwilioError):
    """20003: wrong or missing credentials."""

    code, status = 20003, 401

    def __init__(self, message: str = "Authenticate") -> None:
        super().__init__(message)


class NotFound(TwilioError):
    """20404: no such resource."""

    code, status = 20404, 404

    def __init__(self, path: str) -> None:
        super().__init__(f"The requested resource {path} was not found")


class InvalidParameter(TwilioError):
    """A 400 for one parameter, with the code Twilio uses for it."""

    def __init__(self, message: str, code: int = 20001) -> None:
        super().__init__(message, code=code, status=400)


class InvalidCallState(TwilioError):
    """21220: the call is not in progress (reference §5.2)."""

    code, status = 21220, 400

    def __init__(self, message: str = "Call is not in-progress. Cannot redirect.") -> None:
        super().__init__(message)


def error_body(exc: Any) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body Twilio sends for ``exc``."""
    code = int(exc.code)
    return int(exc.status), {
        "code": code,
        "message": str(getattr(exc, "message", exc)),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": int(exc.status),
    }
