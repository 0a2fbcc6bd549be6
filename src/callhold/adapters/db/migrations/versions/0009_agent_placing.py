"""``agents.placing_to`` / ``agents.placing_since`` (nullable): an outbound call being placed.

Until these columns, an agent claimed for an outbound call (``POST /api/v1/calls``) had no call on
record until Twilio returned its SID. An agent who set itself available meanwhile was made available
and could be handed a waiting customer, then the outbound call too; and when Twilio's answer was lost,
the agent stayed claimed for ever. The placement is now on record from before the request until the
call is recorded (``callhold.placements``). Existing agents have none.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# In place, as 0005 and 0007.


def upgrade() -> None:
    """Add the columns in place."""
    op.add_column("agents", sa.Column("placing_to", sa.String(200), nullable=True))
    op.add_column("agents", sa.Column("placing_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop the columns in place (SQLite 3.35 or later)."""
    op.drop_column("agents", "placing_since")
    op.drop_column("agents", "placing_to")
