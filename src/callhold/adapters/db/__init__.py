"""The database adapter: engine, tables, the ``SqlHoldStore`` and Alembic migrations."""

from callhold.adapters.db.engine import make_engine
from callhold.adapters.db.migrate import upgrade
from callhold.adapters.db.store import SqlHoldStore

__all__ = ["SqlHoldStore", "make_engine", "upgrade"]
