"""The database tables (SQLAlchemy 2 declarative, typed). ``migrations/versions`` creates exactly these."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from callhold.domain.model import NUMBER_MAX, QUEUE_NAME_MAX, utc

__all__ = ["AgentRow", "Base", "CallRow", "CallbackReceiptRow", "HoldRow", "LegRow", "UTCDateTime"]

SID = 34  # two letters + 32 hex digits
ID = 64

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out. SQLite stores naive UTC text (which sorts and
    compares correctly); PostgreSQL stores ``timestamp with time zone``."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive values; convert to UTC (naive UTC for SQLite)."""
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware UTC")
        value = utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Always hand back timezone-aware UTC."""
        return None if value is None else utc(value)


class Base(DeclarativeBase):
    """Declarative base with a naming convention (stable constraint names for migrations)."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


class AgentRow(Base):
    """An agent."""

    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    endpoint: Mapped[str] = mapped_column(String(200))
    available: Mapped[bool] = mapped_column(Boolean)
    """Free to be handed a call now: set by the agent, cleared by callhold while it has one."""
    away: Mapped[bool] = mapped_column(Boolean, server_default=false())
    """The agent set itself unavailable: callhold does not make it available again on its own."""
    placing_to: Mapped[str | None] = mapped_column(String(NUMBER_MAX))
    """The number callhold is dialling for the agent, until the call is recorded (busy meanwhile)."""
    placing_since: Mapped[datetime | None]
    """When that outbound call was requested from Twilio."""
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    """SHA-256 hex of the agent's API token (the token itself is never stored)."""


ACTIVE_CALL = text("status = 'active'")
ENDED_CALL = text("status = 'ended'")


class CallRow(Base):
    """A customer call."""

    __tablename__ = "calls"
    __table_args__ = (
        CheckConstraint("strategy IN ('conference', 'legs')", name="strategy"),
        CheckConstraint("status IN ('active', 'ended')", name="status"),
        # The live calls only, for the dispatch sweeps (migration 0010): as small as the live traffic.
        Index(
            "ix_calls_active_created_at",
            "created_at",
            sqlite_where=ACTIVE_CALL,
            postgresql_where=ACTIVE_CALL,
        ),
        # The ended calls by their end, for ``callhold db prune``'s batches (migration 0010).
        Index("ix_calls_ended_ended_at", "ended_at", sqlite_where=ENDED_CALL, postgresql_where=ENDED_CALL),
    )

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    strategy: Mapped[str] = mapped_column(String(16))
    customer_call_sid: Mapped[str] = mapped_column(String(SID), unique=True)
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), index=True)
    conference_name: Mapped[str | None] = mapped_column(String(128), index=True)
    conference_sid: Mapped[str | None] = mapped_column(String(SID), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    conference_started_at: Mapped[datetime | None]
    customer_number: Mapped[str | None] = mapped_column(String(NUMBER_MAX))
    given_at: Mapped[datetime | None]
    """When the call was last handed to its agent (``HoldStore.give_call``)."""


class LegRow(Base):
    """One Twilio call of a call. ``status_rank`` mirrors ``LegStatus.rank`` for the monotonic UPDATE."""

    __tablename__ = "legs"
    __table_args__ = (CheckConstraint("status_rank BETWEEN 0 AND 4", name="status_rank"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_sid: Mapped[str] = mapped_column(String(SID), unique=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    status_rank: Mapped[int] = mapped_column(Integer)
    sequence_number: Mapped[int] = mapped_column(Integer)
    status_at: Mapped[datetime | None]
    muted: Mapped[bool] = mapped_column(Boolean)
    on_hold: Mapped[bool] = mapped_column(Boolean)
    participant_sequence_number: Mapped[int] = mapped_column(Integer)
    parent_call_sid: Mapped[str | None] = mapped_column(String(SID))


OPEN_HOLD = text("state <> 'ended'")


class HoldRow(Base):
    """One hold. At most one open hold per call: a partial unique index on ``call_id``."""

    __tablename__ = "holds"
    __table_args__ = (
        CheckConstraint("state IN ('holding', 'held', 'resuming', 'ended')", name="state"),
        CheckConstraint("(state = 'ended') = (ended_at IS NOT NULL)", name="ended_at"),
        Index(
            "uq_holds_one_open_per_call",
            "call_id",
            unique=True,
            sqlite_where=OPEN_HOLD,
            postgresql_where=OPEN_HOLD,
        ),
        # A call's latest hold without sorting all of them (``Statements.view``).
        Index("ix_holds_call_id_started_at", "call_id", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))
    strategy: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(ID))
    reason: Mapped[str | None] = mapped_column(String(500))
    music_url: Mapped[str | None] = mapped_column(String(2000))
    queue_name: Mapped[str | None] = mapped_column(String(QUEUE_NAME_MAX), unique=True)
    started_at: Mapped[datetime] = mapped_column(index=True)
    confirmed_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))
    agent_id: Mapped[str | None] = mapped_column(String(ID), index=True)
    agent_call_sid: Mapped[str | None] = mapped_column(String(SID))
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    state_since: Mapped[datetime | None]
    """When the hold entered its state (NULL: not recorded; the domain falls back, see ``Hold``)."""
    agent_reminded_at: Mapped[datetime | None]
    """When the agent reminder was given (once per hold, whatever the number of instances)."""
    max_hold_acted_at: Mapped[datetime | None]
    """When the maximum-hold action was last taken (duplicates within the retry interval are ignored)."""
    recovered_at: Mapped[datetime | None]
    """When a recovery last re-sent the commands of a holding/resuming hold."""


class CallbackReceiptRow(Base):
    """A callback already processed, by a unique key (for deduplication)."""

    __tablename__ = "callback_receipts"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    received_at: Mapped[datetime]
