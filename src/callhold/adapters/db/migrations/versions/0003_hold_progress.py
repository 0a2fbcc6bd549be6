"""Hold progress stamps: ``holds.state_since``, ``agent_reminded_at``, ``max_hold_acted_at``,
``recovered_at`` (all nullable).

They make the scheduled events idempotent across service instances (see
``callhold.domain.scheduled``). ``state_since`` of the existing holds is filled in from what they do
record, exactly as the domain's fallback (``Hold.in_state_since``) would: ``ended_at`` for an ended
hold, ``started_at`` for a holding one, else ``confirmed_at`` (or ``started_at``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("state_since", "agent_reminded_at", "max_hold_acted_at", "recovered_at")

BACKFILL = """
UPDATE holds SET state_since = CASE
    WHEN state = 'ended' THEN ended_at
    WHEN state = 'holding' THEN started_at
    ELSE COALESCE(confirmed_at, started_at)
END
WHERE state_since IS NULL
"""


def upgrade() -> None:
    """Add the four columns (batch mode: SQLite recreates the table), then fill in ``state_since``."""
    with op.batch_alter_table("holds") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.execute(BACKFILL)


def downgrade() -> None:
    """Drop the four columns (timers and recovery are no longer idempotent across instances)."""
    with op.batch_alter_table("holds") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
