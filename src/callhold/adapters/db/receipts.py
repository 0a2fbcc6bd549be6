"""Callback deduplication: each callback's key recorded once, and forgotten once Twilio is done retrying.

``CallbackReceipts`` is the part of :class:`~callhold.adapters.db.store.SqlHoldStore` that keeps
the keys; ``SqlHoldStore.transact_once`` records one in the transaction of the callback's decision.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine

from callhold.adapters.db.statements import Statements
from callhold.adapters.db.transaction import insert_new

__all__ = ["CallbackReceipts"]


class CallbackReceipts:
    """The callback keys over SQLAlchemy Core (part of ``SqlHoldStore``)."""

    engine: Engine
    sql: Statements

    def record_callback(self, key: str, at: datetime) -> bool:
        """Remember a callback by a unique key; ``False`` if it was recorded before (a duplicate).

        One ``INSERT ... ON CONFLICT DO NOTHING``: a duplicate costs no exception and no rollback.
        """
        with self.engine.begin() as conn:
            return self._record(conn, key, at)

    def prune_callbacks(self, before: datetime) -> int:
        """Forget the callbacks recorded before ``before`` (Twilio retries a webhook within minutes,
        so old keys only take space); returns how many."""
        with self.engine.begin() as conn:
            return conn.execute(self.sql.receipts_prune, {"before": before}).rowcount

    def _record(self, conn: Connection, key: str, at: datetime) -> bool:
        values = {"key": key, "received_at": at}
        return insert_new(conn, self.sql.receipt_insert, self.sql.receipts.insert(), values)
