"""``calls.customer_number`` (nullable): the customer's number, for agents to see who is calling.

Existing calls have none (the API shows ``null``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# In place, as 0005: batch mode would recreate ``calls`` and, on SQLite with foreign keys on,
# cascade-delete every leg and hold.


def upgrade() -> None:
    """Add the column in place."""
    op.add_column("calls", sa.Column("customer_number", sa.String(200), nullable=True))


def downgrade() -> None:
    """Drop the column in place (SQLite 3.35 or later)."""
    op.drop_column("calls", "customer_number")
