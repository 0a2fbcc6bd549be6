"""``agents.away`` (not null, false): the agent set itself unavailable.

Until this column, availability was one flag that callhold also cleared to claim an agent for a call;
an agent who said "not available" during a call was made available again when the call ended, and
handed the next customer. Existing agents are not away.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column in place (as 0005; a default fills the existing rows)."""
    op.add_column("agents", sa.Column("away", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    """Drop the column in place (SQLite 3.35 or later)."""
    op.drop_column("agents", "away")
