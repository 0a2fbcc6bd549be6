"""``agents.away`` (not null, false): the agent set itself unavailable.

Until this column, availability was one flag that callhold also cleared to claim an agent for a call;
an agent who said "not available" during a call was made available again when the call ended, and
handed the next customer. Existing agents unavailable with no active call are away.

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
    """Add the column in place (as 0005). An agent unavailable with no active call had set itself
    so (or never answered, or its endpoint was refused): it is away. One unavailable on a call is
    not: the call's end makes it available, as before."""
    op.add_column("agents", sa.Column("away", sa.Boolean(), nullable=False, server_default=sa.false()))
    agents = sa.table(
        "agents", sa.column("id"), sa.column("available", sa.Boolean), sa.column("away", sa.Boolean)
    )
    calls = sa.table("calls", sa.column("agent_id"), sa.column("status"))
    on_a_call = sa.exists().where(calls.c.agent_id == agents.c.id, calls.c.status == "active")
    op.execute(agents.update().where(agents.c.available.is_(False), ~on_a_call).values(away=True))


def downgrade() -> None:
    """Drop the column in place (SQLite 3.35 or later)."""
    op.drop_column("agents", "away")
