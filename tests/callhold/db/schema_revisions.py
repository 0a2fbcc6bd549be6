"""The schema revision a database is at, read the way ``callhold`` reads it."""

from __future__ import annotations

from callhold.adapters.db import make_engine
from callhold.adapters.db.migrate import current_revision


def revision_of(url: str) -> str | None:
    """The database's Alembic revision (``None``: never migrated)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return current_revision(connection)
    finally:
        engine.dispose()
