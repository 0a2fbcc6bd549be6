"""A call locked for one read-decide-write cycle, over SQLAlchemy Core."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, CursorResult, Row, Select
from sqlalchemy.exc import IntegrityError

from callhold.adapters.db.records import call_of, call_values, hold_of, hold_values, leg_of
from callhold.adapters.db.statements import Statements
from callhold.domain.errors import Conflict, NotFound
from callhold.domain.model import NO_SEQUENCE, CallView, Leg, LegStatus

__all__ = [
    "SqlCallTransaction",
    "apply_status",
    "flag_values",
    "insert",
    "insert_new",
    "leg_values",
    "load_view",
    "row",
    "write_leg_status",
]


def row(result: Row[Any]) -> Any:
    """A Core row, for ``records``' converters (they read the same attributes as the ORM rows)."""
    return result


def leg_values(leg: Leg) -> dict[str, object]:
    """Column values of a new leg row (``status_rank`` mirrors ``LegStatus.rank``)."""
    return {
        "call_sid": leg.call_sid,
        "call_id": leg.call_id,
        "role": leg.role.value,
        "status": leg.status.value,
        "status_rank": leg.status.rank,
        "sequence_number": leg.sequence_number,
        "status_at": leg.status_at,
        "muted": leg.muted,
        "on_hold": leg.on_hold,
        "participant_sequence_number": leg.participant_sequence_number,
        "parent_call_sid": leg.parent_call_sid,
    }


def load_view(sql: Statements, conn: Connection, ref: str, *, lock: bool) -> CallView:
    """The call ``ref`` names (its id, or the SID of one of its legs), its legs (in joining order)
    and its open hold or else its latest; ``NotFound``. Two statements (``Statements.view``).

    ``lock``: first ``SELECT ... FOR UPDATE`` of the call row (PostgreSQL; SQLite's ``BEGIN
    IMMEDIATE`` holds the lock already); every change of a call's legs and holds goes through that
    lock, so it serializes them across service instances.
    """
    if lock and sql.call_lock is not None:
        locked = conn.execute(sql.call_lock, {"ref": ref}).first()
        if locked is None:
            raise NotFound("call", ref)
        ref = locked.id
    found = conn.execute(sql.view, {"ref": ref}).first()
    if found is None:
        raise NotFound("call", ref)
    legs = tuple(leg_of(row(r)) for r in conn.execute(sql.legs_of_call, {"call_id": found.id}))
    return _view_of(sql, found, legs)


def load_views(sql: Statements, conn: Connection, query: Select[Any]) -> list[CallView]:
    """The views of the calls ``query`` (``Statements.views``, filtered and ordered) finds, in its
    order: two statements, however many calls."""
    found = conn.execute(query).all()
    legs: dict[str, list[Leg]] = {r.id: [] for r in found}
    if legs:
        for r in conn.execute(sql.legs_of_calls, {"call_ids": list(legs)}):
            legs[r.call_id].append(leg_of(row(r)))
    return [_view_of(sql, r, tuple(legs[r.id])) for r in found]


def _view_of(sql: Statements, found: Row[Any], legs: tuple[Leg, ...]) -> CallView:
    """A ``Statements.view(s)`` row and the call's legs, as the domain's view."""
    hold = hold_of(_hold_part(sql, found)) if found.hold_id is not None else None
    return CallView(call=call_of(row(found)), legs=legs, hold=hold)


def _hold_part(sql: Statements, found: Row[Any]) -> Any:
    """The ``hold_*`` columns of a ``Statements.view`` row, as a row of the holds table."""
    mapping = found._mapping
    return SimpleNamespace(**{name: mapping[f"hold_{name}"] for name in sql.hold_columns})


def write_leg_status(sql: Statements, conn: Connection, leg: Leg) -> bool:
    """Apply ``leg``'s status by the monotonic rule; ``True`` if it was newer and applied."""
    sequence = None if leg.sequence_number == NO_SEQUENCE else leg.sequence_number
    return apply_status(sql, conn, leg.call_sid, leg.status, sequence, leg.status_at)


def apply_status(
    sql: Statements,
    conn: Connection,
    call_sid: str,
    status: LegStatus,
    sequence: int | None,
    at: datetime | None,
) -> bool:
    """The monotonic status rule (``Statements.leg_status``); ``True`` if the status was applied."""
    params: dict[str, object] = {"key": call_sid, "new_status": status.value, "rank": status.rank}
    if sequence is not None:
        params["sequence"] = sequence
    if at is not None:
        params["at"] = at
    statement = sql.leg_status(with_sequence=sequence is not None, with_timestamp=at is not None)
    result: CursorResult[Any] = conn.execute(statement, params)
    return result.rowcount == 1


def insert(conn: Connection, statement: Any, values: dict[str, object], what: str) -> None:
    """Execute an INSERT; a unique or check constraint refusing it is a domain ``Conflict``."""
    try:
        conn.execute(statement, values)
    except IntegrityError as error:
        raise Conflict(f"{what}: refused by the database ({error.orig})") from error


def insert_new(conn: Connection, if_new: Any, plain: Any, values: dict[str, object]) -> bool:
    """Insert a row unless its key exists; ``True`` if inserted. ``if_new`` is the dialect's
    ``INSERT ... ON CONFLICT DO NOTHING`` (a duplicate costs no exception and no rollback); without
    one, ``plain`` in a savepoint, a duplicate's error rolled back to it."""
    if if_new is not None:
        result: CursorResult[Any] = conn.execute(if_new, values)
        return result.rowcount == 1
    try:
        with conn.begin_nested():
            conn.execute(plain, values)
    except IntegrityError:
        return False
    return True


class SqlCallTransaction:
    """A call locked in an open transaction: ``view`` as loaded, ``save`` writes what changed.

    Only the rows that differ from the view are written, and without reading them again: the view
    was loaded under the lock, so it *is* the database's state, and what the domain decided from it
    is written as is (the monotonic rules were the domain's to apply: a terminal status with no
    SequenceNumber keeps the leg's last one, a new conference resets the participant flags).
    """

    def __init__(self, sql: Statements, conn: Connection, view: CallView) -> None:
        self._sql = sql
        self._conn = conn
        self._view = view

    @property
    def view(self) -> CallView:
        """The call, its legs and latest hold (as last saved in this transaction)."""
        return self._view

    def save(self, view: CallView) -> None:
        """Write the rows that differ from :attr:`view`; ``Conflict`` if the database refuses."""
        old, sql, conn = self._view, self._sql, self._conn
        if view.call.id != old.call.id:
            raise ValueError(f"transaction is for call {old.call.id}, not {view.call.id}")
        if view.call != old.call:
            values = call_values(view.call)
            values["key"] = values.pop("id")
            try:
                conn.execute(sql.call_update, values)
            except IntegrityError as error:  # an agent deleted meanwhile (the foreign key)
                raise Conflict(f"call {view.call.id}: refused by the database ({error.orig})") from error
        for leg in view.legs:
            before = old.leg(leg.call_sid)
            if before == leg:
                continue
            if before is None:
                insert(conn, sql.leg_insert, leg_values(leg), f"leg {leg.call_sid}")
                continue
            conn.execute(sql.leg_update, leg_update_values(leg))
        if view.hold is not None and view.hold != old.hold:
            values = hold_values(view.hold)
            if old.hold is not None and old.hold.id == view.hold.id:
                values["key"] = values.pop("id")
                conn.execute(sql.hold_update, values)
            else:
                what = f"hold {view.hold.id} (a call has at most one open hold)"
                insert(conn, sql.hold_insert, values, what)
        self._view = view


def leg_update_values(leg: Leg) -> dict[str, object]:
    """Parameters of ``Statements.leg_update``: every mutable column, as the domain left it."""
    return {
        **flag_values(leg),
        "new_status": leg.status.value,
        "rank": leg.status.rank,
        "sequence": leg.sequence_number,
        "at": leg.status_at,
    }


def flag_values(leg: Leg) -> dict[str, object]:
    """Parameters of ``Statements.leg_flags`` (applied unless a newer conference event was)."""
    return {
        "key": leg.call_sid,
        "psn": leg.participant_sequence_number,
        "p_muted": leg.muted,
        "p_on_hold": leg.on_hold,
        "p_parent": leg.parent_call_sid,
    }
