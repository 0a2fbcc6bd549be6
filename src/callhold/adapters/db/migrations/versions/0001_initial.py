"""Initial schema: agents, calls, legs, holds, callback_receipts.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_HOLD = "state <> 'ended'"


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create every table."""
    op.create_table(
        "agents",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("endpoint", sa.String(length=200), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
    )
    op.create_table(
        "callback_receipts",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("received_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_callback_receipts")),
    )
    op.create_table(
        "calls",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("strategy", sa.String(length=16), nullable=False),
        sa.Column("customer_call_sid", sa.String(length=34), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("conference_name", sa.String(length=128), nullable=True),
        sa.Column("conference_sid", sa.String(length=34), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("ended_at", _when(), nullable=True),
        sa.CheckConstraint("status IN ('active', 'ended')", name=op.f("ck_calls_status")),
        sa.CheckConstraint("strategy IN ('conference', 'legs')", name=op.f("ck_calls_strategy")),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_calls_agent_id_agents"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint("conference_sid", name=op.f("uq_calls_conference_sid")),
        sa.UniqueConstraint("customer_call_sid", name=op.f("uq_calls_customer_call_sid")),
    )
    op.create_index(op.f("ix_calls_agent_id"), "calls", ["agent_id"], unique=False)
    op.create_index(op.f("ix_calls_conference_name"), "calls", ["conference_name"], unique=False)
    op.create_index(op.f("ix_calls_created_at"), "calls", ["created_at"], unique=False)
    op.create_table(
        "holds",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("strategy", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("music_url", sa.String(length=2000), nullable=True),
        sa.Column("queue_name", sa.String(length=64), nullable=True),
        sa.Column("started_at", _when(), nullable=False),
        sa.Column("confirmed_at", _when(), nullable=True),
        sa.Column("ended_at", _when(), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("agent_call_sid", sa.String(length=34), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.CheckConstraint("(state = 'ended') = (ended_at IS NOT NULL)", name=op.f("ck_holds_ended_at")),
        sa.CheckConstraint("state IN ('holding', 'held', 'resuming', 'ended')", name=op.f("ck_holds_state")),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_holds_call_id_calls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
        sa.UniqueConstraint("queue_name", name=op.f("uq_holds_queue_name")),
    )
    op.create_index(op.f("ix_holds_agent_id"), "holds", ["agent_id"], unique=False)
    op.create_index(op.f("ix_holds_call_id"), "holds", ["call_id"], unique=False)
    op.create_index(op.f("ix_holds_started_at"), "holds", ["started_at"], unique=False)
    op.create_index(
        "uq_holds_one_open_per_call",
        "holds",
        ["call_id"],
        unique=True,
        sqlite_where=sa.text(OPEN_HOLD),
        postgresql_where=sa.text(OPEN_HOLD),
    )
    op.create_table(
        "legs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_sid", sa.String(length=34), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_rank", sa.Integer(), nullable=False),
        sa.Column("sequence_number", sa.Integer(), nullable=False),
        sa.Column("status_at", _when(), nullable=True),
        sa.Column("muted", sa.Boolean(), nullable=False),
        sa.Column("on_hold", sa.Boolean(), nullable=False),
        sa.Column("participant_sequence_number", sa.Integer(), nullable=False),
        sa.Column("parent_call_sid", sa.String(length=34), nullable=True),
        sa.CheckConstraint("status_rank BETWEEN 0 AND 4", name=op.f("ck_legs_status_rank")),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_legs_call_id_calls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legs")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_legs_call_sid")),
    )
    op.create_index(op.f("ix_legs_call_id"), "legs", ["call_id"], unique=False)


def downgrade() -> None:
    """Drop every table."""
    op.drop_table("legs")
    op.drop_table("holds")
    op.drop_table("calls")
    op.drop_table("callback_receipts")
    op.drop_table("agents")
