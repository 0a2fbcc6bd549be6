"""Index the active calls (``calls (created_at) WHERE status = 'active'``) and the ended ones by
their end (``calls (ended_at) WHERE status = 'ended'``).

Every dispatch sweep of every instance reads the active calls (newest first), and the waiting ones
(oldest first). Without an index on ``status`` the database read the whole history of calls for
them, each sweep costing more as the history grew (a sequential scan of 400,000 calls: ~50 ms on
PostgreSQL, on the event loop). The partial index holds the active calls only: it stays as small as
the live traffic, and serves both orders. ``callhold db prune`` deletes the calls that ended before a
cut-off, oldest first, in batches: the second index hands each batch over without sorting the whole
history.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text("status = 'active'")
ENDED = sa.text("status = 'ended'")


def upgrade() -> None:
    """Create the partial indexes."""
    op.create_index(
        "ix_calls_active_created_at",
        "calls",
        ["created_at"],
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )
    op.create_index(
        "ix_calls_ended_ended_at",
        "calls",
        ["ended_at"],
        sqlite_where=ENDED,
        postgresql_where=ENDED,
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_calls_ended_ended_at", table_name="calls")
    op.drop_index("ix_calls_active_created_at", table_name="calls")
