"""``SqlHoldStore``: the domain's ``HoldStore`` over SQLAlchemy 2 (sync engine, SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Engine, Result, func, or_, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from callhold.adapters.db.engine import WRITE_LOCK
from callhold.adapters.db.records import (
    agent_of,
    call_of,
    call_values,
    hold_of,
    hold_values,
    leg_of,
    leg_row,
)
from callhold.adapters.db.tables import AgentRow, CallbackReceiptRow, CallRow, HoldRow, LegRow
from callhold.domain.errors import Conflict, NotFound
from callhold.domain.machine import Decision
from callhold.domain.model import (
    NO_SEQUENCE,
    TERMINAL_RANK,
    Agent,
    Call,
    CallState,
    CallView,
    Hold,
    HoldState,
    HoldStats,
    Leg,
    LegStatus,
)

__all__ = ["SqlCallTransaction", "SqlHoldStore"]

_ENDED = HoldState.ENDED.value


def _rowcount(result: Result[Any]) -> int:
    return cast("CursorResult[Any]", result).rowcount


def _apply_status(
    session: Session,
    call_sid: str,
    status: LegStatus,
    sequence_number: int | None,
    timestamp: datetime | None,
) -> bool:
    """The monotonic rule (``leg_status_advances``) as one conditional UPDATE: atomic on SQLite, and on
    PostgreSQL a concurrent UPDATE of the same row re-checks the WHERE clause after waiting for the
    other transaction, so no interleaving can move a leg backwards."""
    conditions: list[ColumnElement[bool]] = [LegRow.call_sid == call_sid, LegRow.status_rank < TERMINAL_RANK]
    values: dict[str, object] = {"status": status.value, "status_rank": status.rank}
    if sequence_number is None:
        conditions.append(LegRow.status_rank < status.rank)
    else:
        conditions += [LegRow.status_rank <= status.rank, LegRow.sequence_number < sequence_number]
        values["sequence_number"] = sequence_number
    if timestamp is not None:
        conditions.append(or_(LegRow.status_at.is_(None), LegRow.status_at <= timestamp))
        values["status_at"] = timestamp
    statement = update(LegRow).where(*conditions).values(values)
    result = session.execute(statement.execution_options(synchronize_session=False))
    return _rowcount(result) == 1


def _write_leg(session: Session, leg: Leg) -> None:
    """Insert a new leg; for a known one, the status by the monotonic rule and the participant flags
    unless a newer conference event was already applied."""
    known = session.scalar(select(LegRow.call_id).where(LegRow.call_sid == leg.call_sid))
    if known is None:
        session.add(leg_row(leg))
        _flush(session, f"leg {leg.call_sid}")
        return
    if known != leg.call_id:
        raise Conflict(f"leg {leg.call_sid} belongs to call {known}, not {leg.call_id}")
    sequence = None if leg.sequence_number == NO_SEQUENCE else leg.sequence_number
    _apply_status(session, leg.call_sid, leg.status, sequence, leg.status_at)
    flags = (
        update(LegRow)
        .where(
            LegRow.call_sid == leg.call_sid,
            LegRow.participant_sequence_number <= leg.participant_sequence_number,
        )
        .values(
            muted=leg.muted,
            on_hold=leg.on_hold,
            participant_sequence_number=leg.participant_sequence_number,
            parent_call_sid=leg.parent_call_sid,
        )
    )
    session.execute(flags.execution_options(synchronize_session=False))


def _write_hold(session: Session, hold: Hold) -> None:
    session.merge(HoldRow(**hold_values(hold)))
    _flush(session, f"hold {hold.id} (a call has at most one open hold)")


def _flush(session: Session, what: str) -> None:
    try:
        session.flush()
    except IntegrityError as error:
        raise Conflict(f"{what}: refused by the database ({error.orig})") from error


class SqlCallTransaction:
    """A call locked in an open transaction: ``view`` as loaded, ``save`` writes what changed."""

    def __init__(self, session: Session, view: CallView) -> None:
        self._session = session
        self._view = view

    @property
    def view(self) -> CallView:
        """The call, its legs and latest hold (as last saved in this transaction)."""
        return self._view

    def save(self, view: CallView) -> None:
        """Write the rows that differ from :attr:`view`."""
        if view.call.id != self._view.call.id:
            raise ValueError(f"transaction is for call {self._view.call.id}, not {view.call.id}")
        if view.call != self._view.call:
            values = call_values(view.call)
            self._session.execute(update(CallRow).where(CallRow.id == view.call.id).values(values))
        for leg in view.legs:
            if self._view.leg(leg.call_sid) != leg:
                _write_leg(self._session, leg)
        if view.hold is not None and view.hold != self._view.hold:
            _write_hold(self._session, view.hold)
        _flush(self._session, f"call {view.call.id}")
        self._view = view


class SqlHoldStore:
    """Durable records of agents, calls, legs and holds (implements ``callhold.domain.ports.HoldStore``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    # -- agents -----------------------------------------------------------------------------------

    def save_agent(self, agent: Agent) -> None:
        """Insert or update an agent."""
        with self._sessions.begin() as session:
            session.merge(
                AgentRow(id=agent.id, name=agent.name, endpoint=agent.endpoint, available=agent.available)
            )

    def get_agent(self, agent_id: str) -> Agent | None:
        """One agent, or ``None``."""
        with self._sessions() as session:
            row = session.get(AgentRow, agent_id)
            return agent_of(row) if row is not None else None

    def list_agents(self, *, available: bool | None = None) -> list[Agent]:
        """Agents by id, optionally only the (un)available ones."""
        query = select(AgentRow).order_by(AgentRow.id)
        if available is not None:
            query = query.where(AgentRow.available.is_(available))
        with self._sessions() as session:
            return [agent_of(row) for row in session.scalars(query)]

    def agent_for_token(self, token_hash: str) -> str | None:
        """The id of the agent whose API token hashes to ``token_hash``, or ``None``."""
        with self._sessions() as session:
            return session.scalar(select(AgentRow.id).where(AgentRow.token_hash == token_hash))

    def set_agent_token(self, agent_id: str, token_hash: str | None) -> None:
        """Store the hash of an agent's new API token (the old one stops working); ``NotFound``."""
        statement = update(AgentRow).where(AgentRow.id == agent_id).values(token_hash=token_hash)
        with self._sessions.begin() as session:
            if _rowcount(session.execute(statement)) != 1:
                raise NotFound("agent", agent_id)

    def delete_agent(self, agent_id: str) -> bool:
        """Delete an agent (its calls keep their records, with no agent); ``False`` if unknown."""
        with self._sessions.begin() as session:
            row = session.get(AgentRow, agent_id)
            if row is None:
                return False
            session.delete(row)
            return True

    def claim_agent(self, agent_id: str) -> bool:
        """Atomically mark an available agent unavailable; ``False`` if it was not available."""
        return self._set_available(agent_id, False, only_if=True)

    def set_agent_available(self, agent_id: str, available: bool) -> None:
        """Set an agent's availability; raises ``NotFound`` for an unknown agent."""
        if not self._set_available(agent_id, available, only_if=None):
            raise NotFound("agent", agent_id)

    def _set_available(self, agent_id: str, available: bool, *, only_if: bool | None) -> bool:
        statement = update(AgentRow).where(AgentRow.id == agent_id)
        if only_if is not None:
            statement = statement.where(AgentRow.available.is_(only_if))
        with self._sessions.begin() as session:
            return _rowcount(session.execute(statement.values(available=available))) == 1

    # -- calls ------------------------------------------------------------------------------------

    def save_call(self, call: Call) -> None:
        """Insert or update a call."""
        with self._sessions.begin() as session:
            session.merge(CallRow(**call_values(call)))
            _flush(session, f"call {call.id}")

    def get_call(self, call_id: str) -> Call | None:
        """One call by id, or ``None``."""
        with self._sessions() as session:
            row = session.get(CallRow, call_id)
            return call_of(row) if row is not None else None

    def find_call(self, *, call_sid: str | None = None, conference: str | None = None) -> Call | None:
        """The call that has the leg ``call_sid``, or the conference SID or name (newest first)."""
        if call_sid is None and conference is None:
            raise ValueError("find_call needs call_sid or conference")
        query = select(CallRow).order_by(CallRow.created_at.desc()).limit(1)
        if call_sid is not None:
            legs = select(LegRow.call_id).where(LegRow.call_sid == call_sid)
            query = query.where(or_(CallRow.customer_call_sid == call_sid, CallRow.id.in_(legs)))
        if conference is not None:
            query = query.where(
                or_(CallRow.conference_sid == conference, CallRow.conference_name == conference)
            )
        with self._sessions() as session:
            row = session.scalar(query)
            return call_of(row) if row is not None else None

    def list_calls(
        self, *, status: CallState | None = None, agent_id: str | None = None, limit: int = 100
    ) -> list[Call]:
        """Calls, newest first."""
        query = select(CallRow).order_by(CallRow.created_at.desc(), CallRow.id).limit(limit)
        if status is not None:
            query = query.where(CallRow.status == status.value)
        if agent_id is not None:
            query = query.where(CallRow.agent_id == agent_id)
        with self._sessions() as session:
            return [call_of(row) for row in session.scalars(query)]

    # -- legs -------------------------------------------------------------------------------------

    def save_leg(self, leg: Leg) -> None:
        """Insert a leg, or update it (its status only by the monotonic rule)."""
        with self._sessions.begin() as session:
            _write_leg(session, leg)

    def get_leg(self, call_sid: str) -> Leg | None:
        """One leg, or ``None``."""
        with self._sessions() as session:
            row = session.scalar(select(LegRow).where(LegRow.call_sid == call_sid))
            return leg_of(row) if row is not None else None

    def list_legs(self, call_id: str) -> list[Leg]:
        """A call's legs in the order they joined."""
        with self._sessions() as session:
            return [leg_of(row) for row in session.scalars(self._legs_query(call_id))]

    def apply_leg_status(
        self, call_sid: str, status: LegStatus, sequence_number: int | None, timestamp: datetime
    ) -> bool:
        """Apply a status callback if it is newer (see ``leg_status_advances``); ``True`` if applied.

        Out-of-order, duplicated or lower-rank callbacks are no-ops. Race-safe: a single conditional
        UPDATE, so concurrent writers (threads, service instances) end at the newest status.
        """
        with self._sessions.begin() as session:
            return _apply_status(session, call_sid, status, sequence_number, timestamp)

    @staticmethod
    def _legs_query(call_id: str) -> Any:
        return select(LegRow).where(LegRow.call_id == call_id).order_by(LegRow.id)

    # -- holds ------------------------------------------------------------------------------------

    def save_hold(self, hold: Hold) -> None:
        """Insert or update a hold; a second open hold of a call raises ``Conflict``."""
        with self._sessions.begin() as session:
            _write_hold(session, hold)

    def get_hold(self, hold_id: str) -> Hold | None:
        """One hold, or ``None``."""
        with self._sessions() as session:
            row = session.get(HoldRow, hold_id)
            return hold_of(row) if row is not None else None

    def list_holds(
        self,
        *,
        call_id: str | None = None,
        agent_id: str | None = None,
        state: HoldState | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> list[Hold]:
        """Holds by start time, filtered by call, agent, state and start (``since`` inclusive)."""
        query = select(HoldRow).order_by(HoldRow.started_at, HoldRow.id).limit(limit)
        if call_id is not None:
            query = query.where(HoldRow.call_id == call_id)
        if agent_id is not None:
            query = query.where(HoldRow.agent_id == agent_id)
        if state is not None:
            query = query.where(HoldRow.state == state.value)
        if since is not None:
            query = query.where(HoldRow.started_at >= since)
        with self._sessions() as session:
            return [hold_of(row) for row in session.scalars(query)]

    # -- views and transactions -------------------------------------------------------------------

    def _view(self, session: Session, call_id: str, *, lock: bool) -> CallView:
        call_query = select(CallRow).where(CallRow.id == call_id)
        open_query = select(HoldRow).where(HoldRow.call_id == call_id, HoldRow.state != _ENDED)
        if lock:  # FOR UPDATE on PostgreSQL; SQLite has none (BEGIN IMMEDIATE holds its write lock)
            call_query, open_query = call_query.with_for_update(), open_query.with_for_update()
        call_row = session.scalar(call_query)
        if call_row is None:
            raise NotFound("call", call_id)
        hold_row = session.scalar(open_query)
        if hold_row is None:
            latest = select(HoldRow).where(HoldRow.call_id == call_id)
            hold_row = session.scalar(latest.order_by(HoldRow.started_at.desc(), HoldRow.id.desc()).limit(1))
        legs = tuple(leg_of(row) for row in session.scalars(self._legs_query(call_id)))
        hold = hold_of(hold_row) if hold_row is not None else None
        return CallView(call=call_of(call_row), legs=legs, hold=hold)

    def load_view(self, call_id: str) -> CallView:
        """The call with its legs and latest hold (no lock); raises ``NotFound``."""
        with self._sessions() as session:
            return self._view(session, call_id, lock=False)

    @contextmanager
    def open_hold_for_update(self, call_id: str) -> Iterator[SqlCallTransaction]:
        """A transaction with the call row and its open hold locked (``SELECT ... FOR UPDATE`` on
        PostgreSQL; ``BEGIN IMMEDIATE`` on SQLite). Commits when the block ends, rolls back on error."""
        with self._sessions() as session:
            session.connection(execution_options={WRITE_LOCK: True})
            try:
                yield SqlCallTransaction(session, self._view(session, call_id, lock=True))
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def transact(self, call_id: str, decide: Callable[[CallView], Decision]) -> Decision:
        """Lock the call, ``decide`` on its view, save ``decision.new_state``, commit; return the decision.

        If ``decide`` raises (a domain error), nothing is written.
        """
        with self.open_hold_for_update(call_id) as transaction:
            decision = decide(transaction.view)
            transaction.save(decision.new_state)
        return decision

    # -- statistics -------------------------------------------------------------------------------

    def stats_per_call(self, now: datetime, *, call_id: str | None = None) -> list[HoldStats]:
        """Holds count, total and longest seconds per call (open holds count up to ``now``)."""
        return self._stats(now, HoldRow.call_id, call_id)

    def stats_per_agent(self, now: datetime, *, agent_id: str | None = None) -> list[HoldStats]:
        """Holds count, total and longest seconds per agent (the call's agent when it was held)."""
        return self._stats(now, HoldRow.agent_id, agent_id)

    def _stats(self, now: datetime, key: InstrumentedAttribute[Any], only: str | None) -> list[HoldStats]:
        where: list[ColumnElement[bool]] = [key.is_not(None)]
        if only is not None:
            where.append(key == only)
        seconds = HoldRow.duration_seconds
        ended = (
            select(
                key,
                func.count(),
                func.coalesce(func.sum(seconds), 0.0),
                func.coalesce(func.max(seconds), 0.0),
            )
            .where(HoldRow.state == _ENDED, *where)
            .group_by(key)
        )
        still_open = select(key, HoldRow.started_at).where(HoldRow.state != _ENDED, *where)
        totals: dict[str, tuple[int, float, float]] = {}
        with self._sessions() as session:
            for subject, count, total, longest in session.execute(ended):
                totals[subject] = (int(count), float(total), float(longest))
            for subject, started_at in session.execute(still_open):
                count, total, longest = totals.get(subject, (0, 0.0, 0.0))
                held = max((now - started_at).total_seconds(), 0.0)
                totals[subject] = (count + 1, total + held, max(longest, held))
        return [
            HoldStats(subject=subject, holds=count, total_seconds=total, longest_seconds=longest)
            for subject, (count, total, longest) in sorted(totals.items())
        ]

    # -- callback deduplication -------------------------------------------------------------------

    def record_callback(self, key: str, at: datetime) -> bool:
        """Remember a callback by a unique key; ``False`` if it was recorded before (a duplicate)."""
        if self.engine.dialect.name == "sqlite":  # no exception and rollback for a duplicate
            statement = (
                sqlite_insert(CallbackReceiptRow).values(key=key, received_at=at).on_conflict_do_nothing()
            )
            with self._sessions.begin() as session:
                return cast(CursorResult[Any], session.execute(statement)).rowcount == 1
        try:
            with self._sessions.begin() as session:
                session.add(CallbackReceiptRow(key=key, received_at=at))
        except IntegrityError:
            return False
        return True
