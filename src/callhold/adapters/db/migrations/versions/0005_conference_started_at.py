"""``calls.conference_started_at`` (nullable): when the call's latest conference started.

A requeued customer joins a new conference under the same name; the start of the earlier one,
delivered late, must not replace it (``callhold.domain.machine``). Existing calls have no stamp: the
next conference start sets it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Not in batch mode: SQLite would recreate ``calls``, and dropping the old table, with foreign keys
# on, would delete every leg and hold of every call (ON DELETE CASCADE). Plain ALTER TABLE adds and
# (SQLite 3.35 and later) drops a column in place.


def upgrade() -> None:
    """Add the column in place."""
    op.add_column("calls", sa.Column("conference_started_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop the column in place (a late conference start can again replace the live conference)."""
    op.drop_column("calls", "conference_started_at")
