"""``calls.given_at`` (nullable): when the call was last handed to its agent.

A hand-over (the call given to an agent, then its customer moved to that agent) whose second step
never happened -- the instance died in between, or Twilio never answered the move -- left the customer
waiting for ever with an agent who was never dialled. The dispatch sweep finds such calls by this
stamp (``callhold.handovers``). Existing calls have none: they are not looked at.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# In place, as 0005: batch mode would recreate ``calls`` and, on SQLite with foreign keys on,
# cascade-delete every leg and hold.


def upgrade() -> None:
    """Add the column in place."""
    op.add_column("calls", sa.Column("given_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop the column in place (SQLite 3.35 or later)."""
    op.drop_column("calls", "given_at")
