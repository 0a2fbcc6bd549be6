"""Index ``holds (call_id, started_at)`` in place of ``holds (call_id)``.

Every read-decide-write cycle loads the call's latest hold. With only ``call_id`` indexed, the
database sorted all of the call's holds to find it; the composite index hands it over directly (and
serves every lookup by ``call_id`` the old one did).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the composite index, then drop the one it replaces."""
    op.create_index("ix_holds_call_id_started_at", "holds", ["call_id", "started_at"])
    op.drop_index("ix_holds_call_id", table_name="holds")


def downgrade() -> None:
    """Back to the single-column index."""
    op.create_index("ix_holds_call_id", "holds", ["call_id"])
    op.drop_index("ix_holds_call_id_started_at", table_name="holds")
