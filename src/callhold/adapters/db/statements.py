"""The store's SQL, built once per store as SQLAlchemy Core statements with bound parameters.

Why Core and not the ORM here: a hold runs two locked read-decide-write cycles, and every webhook
at least one. The ORM's unit of work, identity map and per-call statement construction cost about
0.2-0.35 ms per statement; a prebuilt Core statement whose compiled form is cached by the engine
costs a few tens of microseconds (``bench/callhold``, "hot spots"). The tables are the ORM's
(``tables.py``), so Alembic and the schema stay one definition.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql import Delete, Insert, Select, Update

from callhold.adapters.db.tables import OPEN_HOLD, AgentRow, CallbackReceiptRow, CallRow, HoldRow, LegRow
from callhold.domain.model import TERMINAL_RANK

__all__ = ["Statements"]


def _table(row: Any) -> Table:
    table: Table = row.__table__
    return table


class Statements:
    """Every statement the store runs often, for one SQL dialect.

    Parameters are bound by name at execution time (``connection.execute(statement, {...})``), so
    the engine compiles each statement once and reuses it.
    """

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.agents = agents = _table(AgentRow)
        self.calls = calls = _table(CallRow)
        self.legs = legs = _table(LegRow)
        self.holds = holds = _table(HoldRow)
        self.receipts = _table(CallbackReceiptRow)

        # -- agents
        self.agent = select(agents).where(agents.c.id == bindparam("id"))
        self.agent_insert: Insert = insert(agents)
        self.agent_update: Update = update(agents).where(agents.c.id == bindparam("key"))
        self.agent_delete: Delete = delete(agents).where(agents.c.id == bindparam("id"))
        self.agent_for_token = select(agents.c.id).where(agents.c.token_hash == bindparam("token_hash"))
        self.agent_claim: Update = (
            update(agents)
            .where(agents.c.id == bindparam("key"), agents.c.available.is_(True))
            .values(available=False)
        )
        # the agent's own choice: available, or away (not to be made available by callhold)
        self.agent_choose: Update = (
            update(agents)
            .where(agents.c.id == bindparam("key"))
            .values(available=bindparam("value"), away=bindparam("away"))
        )
        # an available agent claimed for an outbound call, on record as placing it (callhold.placements)
        self.agent_claim_placing: Update = (
            update(agents)
            .where(agents.c.id == bindparam("key"), agents.c.available.is_(True))
            .values(available=False, placing_to=bindparam("to"), placing_since=bindparam("since"))
        )
        # the placement since ``since`` over
        self.agent_placement_over: Update = (
            update(agents)
            .where(agents.c.id == bindparam("key"), agents.c.placing_since == bindparam("since"))
            .values(placing_to=None, placing_since=None)
        )
        self.agents_placing = (
            select(agents)
            .where(agents.c.placing_since.is_not(None), agents.c.placing_since <= bindparam("before"))
            .order_by(agents.c.placing_since)
        )
        # callhold's release of an agent it claimed: available again, unless it said it is away or an
        # outbound call is being placed for it
        self.agent_free: Update = (
            update(agents)
            .where(
                agents.c.id == bindparam("key"),
                agents.c.away.is_(False),
                agents.c.placing_since.is_(None),
            )
            .values(available=True)
        )

        # -- calls; the call row is the lock of a read-decide-write cycle (FOR UPDATE on
        # PostgreSQL; SQLite renders no FOR UPDATE and holds BEGIN IMMEDIATE's write lock instead)
        self.call = select(calls).where(calls.c.id == bindparam("id"))
        self.call_insert: Insert = insert(calls)
        self.call_update: Update = update(calls).where(calls.c.id == bindparam("key"))
        self.call_by_conference = (
            select(calls)
            .where(
                or_(
                    calls.c.conference_sid == bindparam("conference"),
                    calls.c.conference_name == bindparam("conference"),
                )
            )
            .order_by(calls.c.created_at.desc())
            .limit(1)
        )

        # -- legs
        self.leg = select(legs).where(legs.c.call_sid == bindparam("call_sid"))
        self.leg_call_id = select(legs.c.call_id).where(legs.c.call_sid == bindparam("call_sid"))
        self.legs_of_call = select(legs).where(legs.c.call_id == bindparam("call_id")).order_by(legs.c.id)
        self.legs_of_calls = (
            select(legs)
            .where(legs.c.call_id.in_(bindparam("call_ids", expanding=True)))
            .order_by(legs.c.call_id, legs.c.id)
        )
        self.leg_insert: Insert = insert(legs)
        self.leg_flags: Update = (
            update(legs)
            .where(
                legs.c.call_sid == bindparam("key"),
                legs.c.participant_sequence_number <= bindparam("psn"),
            )
            .values(
                muted=bindparam("p_muted"),
                on_hold=bindparam("p_on_hold"),
                participant_sequence_number=bindparam("psn"),
                parent_call_sid=bindparam("p_parent"),
            )
        )
        # Under the call's lock the domain's leg is the truth (it applied the monotonic rule and the
        # conference-event ordering itself, and may reset flags for a new conference): written as is.
        self.leg_update: Update = (
            update(legs)
            .where(legs.c.call_sid == bindparam("key"))
            .values(
                status=bindparam("new_status"),
                status_rank=bindparam("rank"),
                sequence_number=bindparam("sequence"),
                status_at=bindparam("at", type_=legs.c.status_at.type),
                muted=bindparam("p_muted"),
                on_hold=bindparam("p_on_hold"),
                participant_sequence_number=bindparam("psn"),
                parent_call_sid=bindparam("p_parent"),
            )
        )
        self._leg_status: dict[tuple[bool, bool], Update] = {}

        # -- holds
        self.hold = select(holds).where(holds.c.id == bindparam("id"))
        self.hold_insert: Insert = insert(holds)
        self.hold_update: Update = update(holds).where(holds.c.id == bindparam("key"))

        # -- the view of one call in one statement: the call that ``ref`` names -- its id, else the
        # SID of one of its legs, else its customer's (whose leg row may not be written yet) -- with
        # its open hold, else its latest, as columns labelled ``hold_*`` (NULL: no hold yet). Its
        # legs are one more statement (``legs_of_call``). The lock is the call row's alone: every
        # change of a call's holds is made under it. On SQLite ``BEGIN IMMEDIATE`` already holds it;
        # elsewhere ``call_lock`` takes it first, and the view is read by a *later* statement --
        # under READ COMMITTED a statement that waited for a row lock re-reads that row but not
        # the rest of its snapshot, so one query would miss the hold the lock's holder just made.
        ref: BindParameter[str] = bindparam("ref", type_=String())
        call_id = func.coalesce(
            select(calls.c.id).where(calls.c.id == ref).correlate(None).scalar_subquery(),
            select(legs.c.call_id).where(legs.c.call_sid == ref).correlate(None).scalar_subquery(),
            select(calls.c.id).where(calls.c.customer_call_sid == ref).correlate(None).scalar_subquery(),
        )
        self.call_id_of_ref = select(calls.c.id).where(calls.c.id == call_id)
        self.call_by_ref = select(calls).where(calls.c.id == call_id)
        # The hold is the open one (there is at most one: the partial unique index serves this, its
        # predicate written literally so SQLite sees the index applies), else the latest -- not "the
        # latest, which is the open one": instances' clocks may disagree about started_at. The index
        # on (call_id, started_at) gives the latest without sorting the call's holds.
        hold = holds.alias("hold")
        open_id = select(holds.c.id).where(holds.c.call_id == calls.c.id, OPEN_HOLD).correlate(calls)
        latest_id = (
            select(holds.c.id)
            .where(holds.c.call_id == calls.c.id)
            .order_by(holds.c.started_at.desc(), holds.c.id.desc())
            .limit(1)
            .correlate(calls)
        )
        self.hold_columns = tuple(column.name for column in holds.c)
        views: Select[Any] = select(
            calls, *(column.label(f"hold_{column.name}") for column in hold.c)
        ).select_from(
            calls.outerjoin(
                hold, hold.c.id == func.coalesce(open_id.scalar_subquery(), latest_id.scalar_subquery())
            )
        )
        #: Calls with their holds, filtered and ordered by the caller (``SqlHoldStore.list_views``).
        self.views = views
        self.view = views.where(calls.c.id == call_id)
        self.call_lock: Select[Any] | None = None
        if dialect != "sqlite":
            self.call_lock = self.call_id_of_ref.with_for_update()

        # -- inserts that a duplicate turns into nothing (no exception, no rollback): callback
        # receipts, and a call two instances adopt at once
        self.receipt_insert = self._insert_new(self.receipts)
        self.receipts_prune: Delete = delete(self.receipts).where(
            self.receipts.c.received_at < bindparam("before", type_=self.receipts.c.received_at.type)
        )
        self.call_insert_new = self._insert_new(calls)

    def _insert_new(self, table: Table) -> Insert | None:
        """``INSERT ... ON CONFLICT DO NOTHING`` into ``table`` (``None`` if the dialect has none).
        The rowcount of an INSERT is kept only when asked for (SQLAlchemy 2's preserve_rowcount)."""
        if self.dialect not in ("sqlite", "postgresql"):
            return None
        dialect_insert: Any = sqlite_insert if self.dialect == "sqlite" else postgresql_insert
        statement: Insert = dialect_insert(table).on_conflict_do_nothing()
        return statement.execution_options(preserve_rowcount=True)

    def leg_status(self, *, with_sequence: bool, with_timestamp: bool) -> Update:
        """The monotonic status rule (``leg_status_advances``) as one conditional UPDATE.

        Atomic on SQLite; on PostgreSQL a concurrent UPDATE of the same row re-checks the WHERE
        clause after waiting for the other transaction, so no interleaving moves a leg backwards.
        Parameters: ``key`` (Call SID), ``new_status``, ``rank`` and, per variant, ``sequence`` and
        ``at``.
        """
        variant = (with_sequence, with_timestamp)
        cached = self._leg_status.get(variant)
        if cached is not None:
            return cached
        legs = self.legs
        conditions: list[ColumnElement[bool]] = [
            legs.c.call_sid == bindparam("key"),
            legs.c.status_rank < TERMINAL_RANK,
        ]
        values: dict[str, Any] = {"status": bindparam("new_status"), "status_rank": bindparam("rank")}
        if with_sequence:
            conditions += [
                legs.c.status_rank <= bindparam("rank"),
                legs.c.sequence_number < bindparam("sequence"),
            ]
            values["sequence_number"] = bindparam("sequence")
        else:
            conditions.append(legs.c.status_rank < bindparam("rank"))
        if with_timestamp:
            at = bindparam("at", type_=legs.c.status_at.type)
            conditions.append(or_(legs.c.status_at.is_(None), legs.c.status_at <= at))
            values["status_at"] = at
        statement = update(legs).where(*conditions).values(values)
        self._leg_status[variant] = statement
        return statement
