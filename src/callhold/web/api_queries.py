"""The JSON API's query strings (pydantic 2): the filters of ``GET /calls``, ``/holds`` and ``/stats``.

Unknown parameters are refused (``extra="forbid"``), as in request bodies (:mod:`callhold.web.schemas`).
A date and time is ISO 8601, converted to UTC; a number is refused rather than read as seconds since
1970, as pydantic would.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from callhold.domain.model import CallState, HoldState, utc
from callhold.web.schemas import AgentId, CallSidStr

__all__ = ["CallFilters", "HoldFilters", "HoldOrder", "StatsFilters", "UtcDateTime"]


def _as_utc(value: datetime) -> datetime:
    """``value`` in UTC (naive: taken as UTC); a ``ValueError`` (so a 422) if UTC cannot hold it."""
    try:
        return utc(value)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00: before datetime.min once in UTC
        raise ValueError("date and time out of range once converted to UTC") from None


_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
"""A number, as pydantic would read one as a date and time (seconds since 1970)."""


def _iso_only(value: Any) -> Any:
    """Refuse a number where a date and time is wanted: pydantic would take ``0.5`` (or ``"0.5"``, all
    a query string can hold) for seconds since 1970 -- a typo that silently means "everything"."""
    if isinstance(value, (int, float)) or (isinstance(value, str) and _NUMBER.fullmatch(value.strip())):
        raise PydanticCustomError(
            "datetime_format", "Enter a date and time in ISO 8601 form, e.g. 2026-01-01T09:00:00Z"
        )
    return value


UtcDateTime = Annotated[datetime, BeforeValidator(_iso_only), AfterValidator(_as_utc)]
"""A date and time in a request, in ISO 8601 (not a number of seconds), converted to UTC (naive: taken
as UTC) -- refused if out of range."""


class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CallFilters(_Query):
    """``GET /calls`` filters."""

    status: CallState | None = Field(None, description="Only active or ended calls")
    limit: int = Field(100, ge=1, le=1000, description="At most this many, newest first")
    detail: bool = Field(
        False,
        description="Each call with its legs and its current (or last) hold, as GET /calls/{sid} "
        "gives it: one request for a page of calls, where a client would otherwise ask once per call",
    )


HoldOrder = Literal["asc", "desc"]
"""The order of ``GET /holds``: by start time, oldest (``asc``) or newest (``desc``) first."""


class HoldFilters(_Query):
    """``GET /holds`` filters."""

    call_id: CallSidStr | None = Field(None, description="Only this call's holds")
    agent_id: AgentId | None = Field(None, description="Only this agent's holds")
    state: HoldState | None = Field(None, description="Only holds in this state")
    since: UtcDateTime | None = Field(
        None,
        description="Only holds started at or after (ISO 8601; UTC if no offset; in UTC's range)",
    )
    order: HoldOrder = Field(
        "asc",
        description="By start time, oldest first (`asc`) or newest first (`desc`): `order=desc&limit=5` "
        "gives the five latest holds, however many there are",
    )
    limit: int = Field(1000, ge=1, le=1000, description="At most this many, the first in `order`")


class StatsFilters(_Query):
    """``GET /stats`` filters."""

    call_id: CallSidStr | None = Field(
        None,
        description="Only this call's totals: its own, and each agent's holds of this call. A call with "
        "no holds -- or unknown, or (for an agent's token) not held by that agent -- has no totals: "
        "`calls` and `agents` are empty, as `GET /holds?call_id=` lists nothing",
    )
    agent_id: AgentId | None = Field(
        None, description="Only this agent's holds count: its totals, and per call its own holds"
    )
    since: UtcDateTime | None = Field(
        None,
        description="Only holds started at or after this count, in `calls` and in `agents` (ISO 8601; "
        "UTC if no offset); all of them if omitted",
    )
    limit: int = Field(
        100,
        ge=0,
        le=1000,
        description="At most this many calls in `calls`: those held most recently first (by their "
        "latest hold's start). `0`: agents' totals only. `agents` always has every agent's totals",
    )
