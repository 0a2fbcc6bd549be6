"""Logging for ``callhold serve``: one line per record, with time, level and logger name, on stderr;
uvicorn's access log without query strings.

Twilio appends its request parameters to the query of every GET it makes -- the hold-music loop's
``?Caller=%2B15551230001&From=...`` -- so an access log of full URLs is a log of callers' phone
numbers. Only the path is logged.

Only ``serve`` calls :func:`configure`: importing callhold configures nothing. It puts handlers on
the ``callhold``, ``alembic`` and ``uvicorn`` loggers, never on the root logger, and keeps them
propagating, so a root handler (pytest's ``caplog``, an embedding application's) still sees them.
"""

from __future__ import annotations

import logging
import logging.config
import sys
from enum import StrEnum
from typing import Any

__all__ = ["FORMAT", "LogLevel", "WithoutQueryString", "configure", "logging_config"]

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
"""One line per record: ``2026-03-01 12:00:00,123 INFO callhold.dispatch: ...``."""


class LogLevel(StrEnum):
    """The levels ``--log-level`` / ``CALLHOLD_LOG_LEVEL`` accept."""

    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    DEBUG = "debug"


class WithoutQueryString(logging.Filter):
    """Drop the query string from uvicorn's access-log records (and never drop a record).

    uvicorn logs ``'%s - "%s %s HTTP/%s" %d'`` with ``(client, method, path?query, version,
    status)`` as arguments; the third loses everything from its ``?``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record``'s path argument in place; keep the record."""
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler writing to whatever ``sys.stderr`` is when a record comes (not the one at start)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        """The current ``sys.stderr``."""
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        del value  # always sys.stderr


def logging_config(level: LogLevel) -> dict[str, Any]:
    """The :func:`logging.config.dictConfig` of ``serve`` at ``level``."""
    handled = {"handlers": ["stderr"], "level": level.upper(), "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,  # callhold's modules have their loggers already
        "formatters": {"line": {"format": FORMAT}},
        "filters": {"no_query": {"()": WithoutQueryString}},
        "handlers": {"stderr": {"()": _Stderr, "formatter": "line"}},
        "loggers": {
            "callhold": dict(handled),
            "alembic": dict(handled),  # "Running upgrade 0008 -> 0009" as serve starts
            "uvicorn": dict(handled),
            # Filtered on its own logger, before the record goes up to uvicorn's handler (a logger's
            # filters see only the records logged on it, and change them for every handler after).
            "uvicorn.access": {"level": level.upper(), "filters": ["no_query"], "propagate": True},
            "uvicorn.error": {"level": level.upper(), "propagate": True},
        },
    }


def configure(level: LogLevel = LogLevel.INFO) -> None:
    """Set up ``serve``'s logging (see the module docstring); calling it again replaces it."""
    logging.config.dictConfig(logging_config(level))
