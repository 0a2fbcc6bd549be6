"""``callhold serve`` run in process configures logging (``callhold.logs.configure``): each test
here gets the loggers it touches back as they were, so that later tests (and their ``caplog``) see
the logging pytest set up."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

SERVE_LOGGERS = ("callhold", "alembic", "uvicorn", "uvicorn.access", "uvicorn.error")


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in SERVE_LOGGERS]
    saved = [
        (logger.handlers[:], logger.filters[:], logger.level, logger.propagate, logger.disabled)
        for logger in loggers
    ]
    yield
    for logger, (handlers, filters, level, propagate, disabled) in zip(loggers, saved, strict=True):
        logger.handlers[:], logger.filters[:] = handlers, filters
        logger.setLevel(level)
        logger.propagate, logger.disabled = propagate, disabled


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What ``uvicorn.run`` was asked to serve (it is not run)."""
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append({"app": app, **kwargs}))
    return calls
