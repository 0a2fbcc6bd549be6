"""Agent API tokens: ``agents.token_hash`` (nullable, unique; SHA-256 hex of the bearer token).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the token hash column and its unique constraint (batch mode: SQLite recreates the table)."""
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("token_hash", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(op.f("uq_agents_token_hash"), ["token_hash"])


def downgrade() -> None:
    """Drop the token hash column (agents' tokens are forgotten)."""
    with op.batch_alter_table("agents") as batch:
        batch.drop_constraint(op.f("uq_agents_token_hash"), type_="unique")
        batch.drop_column("token_hash")
