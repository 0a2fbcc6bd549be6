"""``SqlHoldStore``: the domain's ``HoldStore`` over SQLAlchemy 2 Core (SQLite or PostgreSQL).

Every method is one short transaction on a pooled connection; the statements are prebuilt
(``statements.py``). A read-decide-write cycle (:meth:`SqlHoldStore.transact`) locks the call row
-- ``SELECT ... FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite -- so racing callbacks,
API requests and service instances apply one after the other, each on the state the previous left.

Calls, legs, holds and their transactions are here; the store's other parts are its bases: agents
(``agents.py``, which owns the engine and statements), listings (``listings.py``), hold statistics
(``stats.py``) and callback keys (``receipts.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, select
from sqlalchemy import delete as sa_delete
from sqlalchemy.exc import IntegrityError

from callhold.adapters.db.agents import AgentRecords
from callhold.adapters.db.listings import CallListings
from callhold.adapters.db.receipts import CallbackReceipts
from callhold.adapters.db.records import call_of, call_values, hold_of, hold_values, leg_of
from callhold.adapters.db.stats import HoldStatistics
from callhold.adapters.db.transaction import (
    SqlCallTransaction,
    apply_status,
    flag_values,
    insert,
    insert_new,
    leg_values,
    load_view,
    row,
    write_leg_status,
)
from callhold.domain.effects import away_agent, stranded_agent
from callhold.domain.errors import Conflict, NotFound
from callhold.domain.machine import Decision
from callhold.domain.model import Call, CallState, CallView, Hold, Leg, LegStatus
from callhold.domain.ports import Handover

__all__ = ["SqlCallTransaction", "SqlHoldStore"]


class SqlHoldStore(CallListings, HoldStatistics, CallbackReceipts, AgentRecords):
    """Durable records of agents, calls, legs and holds (implements ``callhold.domain.ports.HoldStore``)."""

    # -- calls ------------------------------------------------------------------------------------

    def save_call(self, call: Call) -> None:
        """Insert or update a call."""
        values = call_values(call)
        with self.engine.begin() as conn:
            updated = conn.execute(self.sql.call_update, {"key": call.id, **values})
            if updated.rowcount == 0:
                insert(conn, self.sql.call_insert, values, f"call {call.id}")

    def insert_call(
        self, call: Call, legs: Sequence[Leg] = (), *, placed_since: datetime | None = None
    ) -> bool:
        """Insert a new call with its first ``legs``, in one transaction: ``False`` (and nothing
        written) if the call is already recorded -- by another request or service instance adopting
        the same Twilio call at the same moment. Never a call without its legs: a callback that
        finds the call finds its customer leg too. ``Conflict`` if the database refuses it otherwise.

        A call with an agent is an outbound call placed for it (``placed_since``: when, if known). The
        agent is given the call only if that placement is still open -- which it ends -- or, if not (it
        was settled already, or is not known), if the agent is free, which claims it. Otherwise the
        call is recorded with no agent and waits for the next one: never a second call for a busy agent.
        """
        agent_id = call.agent_id
        with self._locked() as conn:
            try:
                values = call_values(replace(call, agent_id=None))
                inserted = insert_new(conn, self.sql.call_insert_new, self.sql.call_insert, values)
            except IntegrityError as error:
                raise Conflict(f"call {call.id}: refused by the database ({error.orig})") from error
            if not inserted:
                return False
            for leg in legs:
                insert(conn, self.sql.leg_insert, leg_values(leg), f"leg {leg.call_sid}")
            if agent_id is not None and self._take_placed(conn, agent_id, placed_since):
                conn.execute(self.sql.call_update, {"key": call.id, "agent_id": agent_id})
            return True

    def _take_placed(self, conn: Connection, agent_id: str, placed_since: datetime | None) -> bool:
        """Under the agent's lock: end its placement ``placed_since``, else claim it if available;
        ``False`` (nothing changed) if neither -- or if the agent is gone. A placement is never ended
        unidentified (``None``): it may be a newer one, whose own call is still to come."""
        if not self._lock_agent(conn, agent_id):
            return False
        over = {"key": agent_id, "since": placed_since}
        if placed_since is not None and conn.execute(self.sql.agent_placement_over, over).rowcount == 1:
            return True
        return bool(conn.execute(self.sql.agent_claim, {"key": agent_id}).rowcount == 1)

    def get_call(self, call_id: str) -> Call | None:
        """One call by id, or ``None``."""
        found = self._one(self.sql.call, {"id": call_id})
        return call_of(row(found)) if found is not None else None

    def find_call(self, *, call_sid: str | None = None, conference: str | None = None) -> Call | None:
        """The call that has the leg ``call_sid`` (or whose customer it is), or the conference SID or
        name (newest first)."""
        if (call_sid is None) == (conference is None):
            raise ValueError("find_call needs call_sid or conference")
        if conference is not None:
            found = self._one(self.sql.call_by_conference, {"conference": conference})
        else:  # a call's id is its customer's Call SID: the reference resolution of the view serves
            found = self._one(self.sql.call_by_ref, {"ref": call_sid})
        return call_of(row(found)) if found is not None else None

    def delete_ended_calls(self, before: datetime, *, limit: int = 1000) -> int:
        """Delete up to ``limit`` calls that ended before ``before`` -- oldest first, with their legs
        and holds (``ON DELETE CASCADE``) -- in one short transaction; how many. Live calls are never
        touched. For retention (``callhold db prune``): call it until it returns 0."""
        calls = self.sql.calls
        oldest = (
            select(calls.c.id)
            .where(calls.c.status == CallState.ENDED.value, calls.c.ended_at < before)
            .order_by(calls.c.ended_at, calls.c.id)
            .limit(limit)
        )
        with self.engine.begin() as conn:
            ids = list(conn.execute(oldest).scalars())
            if not ids:
                return 0
            return conn.execute(sa_delete(calls).where(calls.c.id.in_(ids))).rowcount

    # -- legs -------------------------------------------------------------------------------------

    def save_leg(self, leg: Leg) -> None:
        """Insert a leg, or update it (its status only by the monotonic rule). Not under the call's
        lock: for tools and tests (the service changes legs only through :meth:`transact`)."""
        with self.engine.begin() as conn:
            known = conn.execute(self.sql.leg_call_id, {"call_sid": leg.call_sid}).scalar()
            if known is None:
                insert(conn, self.sql.leg_insert, leg_values(leg), f"leg {leg.call_sid}")
                return
            if known != leg.call_id:
                raise Conflict(f"leg {leg.call_sid} belongs to call {known}, not {leg.call_id}")
            write_leg_status(self.sql, conn, leg)
            conn.execute(self.sql.leg_flags, flag_values(leg))

    def get_leg(self, call_sid: str) -> Leg | None:
        """One leg, or ``None``."""
        found = self._one(self.sql.leg, {"call_sid": call_sid})
        return leg_of(row(found)) if found is not None else None

    def list_legs(self, call_id: str) -> list[Leg]:
        """A call's legs in the order they joined."""
        with self.engine.connect() as conn:
            return [leg_of(row(r)) for r in conn.execute(self.sql.legs_of_call, {"call_id": call_id})]

    def apply_leg_status(
        self, call_sid: str, status: LegStatus, sequence_number: int | None, timestamp: datetime
    ) -> bool:
        """Apply a status callback if it is newer (see ``leg_status_advances``); ``True`` if applied.

        Out-of-order, duplicated or lower-rank callbacks are no-ops. Race-safe: a single conditional
        UPDATE, so concurrent writers (threads, service instances) end at the newest status.
        """
        with self.engine.begin() as conn:
            return apply_status(self.sql, conn, call_sid, status, sequence_number, timestamp)

    # -- holds ------------------------------------------------------------------------------------

    def save_hold(self, hold: Hold) -> None:
        """Insert or update a hold; a second open hold of a call raises ``Conflict``. Not under the
        call's lock: for tools and tests (the service changes holds only through :meth:`transact`)."""
        values = hold_values(hold)
        what = f"hold {hold.id} (a call has at most one open hold)"
        with self.engine.begin() as conn:
            try:
                updated = conn.execute(self.sql.hold_update, {"key": hold.id, **values}).rowcount
            except IntegrityError as error:
                raise Conflict(f"{what}: refused by the database ({error.orig})") from error
            if updated == 0:
                insert(conn, self.sql.hold_insert, values, what)

    def get_hold(self, hold_id: str) -> Hold | None:
        """One hold, or ``None``."""
        found = self._one(self.sql.hold, {"id": hold_id})
        return hold_of(row(found)) if found is not None else None

    # -- views and transactions -------------------------------------------------------------------

    def load_view(self, call_id: str) -> CallView:
        """The call with its legs and latest hold (no lock); raises ``NotFound``."""
        with self.engine.connect() as conn:
            return load_view(self.sql, conn, call_id, lock=False)

    def resolve(self, ref: str) -> str | None:
        """The id of the call ``ref`` names: a call id, or the SID of one of its legs."""
        found = self._one(self.sql.call_id_of_ref, {"ref": ref})
        return str(found.id) if found is not None else None

    @contextmanager
    def open_hold_for_update(self, call_id: str) -> Iterator[SqlCallTransaction]:
        """A transaction with the call row locked (``SELECT ... FOR UPDATE`` on PostgreSQL; ``BEGIN
        IMMEDIATE`` on SQLite), which guards its open hold. Commits when the block ends, rolls back
        on error."""
        with self._locked() as conn:
            yield SqlCallTransaction(self.sql, conn, load_view(self.sql, conn, call_id, lock=True))

    def transact(self, call_id: str, decide: Callable[[CallView], Decision]) -> Decision:
        """Lock the call, ``decide`` on its view, save ``decision.new_state``, commit; return the decision.

        If ``decide`` raises (a domain error), nothing is written. ``call_id`` may also be the SID of
        one of the call's legs (an API caller's reference): it is resolved inside the transaction.
        """
        with self._locked() as conn:
            return self._decide(conn, self._locked_view(conn, call_id), decide)

    def transact_once(
        self,
        key: str,
        at: datetime,
        ref: str,
        decide: Callable[[CallView], Decision],
        *,
        conference: bool = False,
    ) -> Decision | None:
        """:meth:`transact` for a callback: record its key (see :meth:`record_callback`) in the same
        transaction, so it is applied exactly once -- ``None``, and nothing written, for a duplicate.

        ``ref`` is a call id or leg SID, or with ``conference`` a Conference SID or friendly name.
        ``NotFound`` (nothing recorded, so a retry can still be applied) if no call matches.
        """
        with self._locked() as conn:
            if conference:
                found = conn.execute(self.sql.call_by_conference, {"conference": ref}).first()
                if found is None:
                    raise NotFound("conference", ref)
                ref = str(found.id)
            # The key first: a duplicate costs one statement. If the call is then not found, the
            # transaction rolls back and the key is not kept (a retry can still be applied).
            if not self._record(conn, key, at):
                return None
            return self._decide(conn, self._locked_view(conn, ref), decide)

    def give_call(self, call_id: str, agent_id: str, at: datetime) -> Handover:
        """Claim ``agent_id`` (if available) and make it the agent of the call (if active with no
        agent) as of ``at`` (``Call.given_at``), in one transaction under the call's lock -- so no
        agent is ever left claimed for no call (a failure rolls both back), and an agent made
        available meanwhile either sees the call (:meth:`make_available` refuses) or is claimed
        after it."""
        with self._locked() as conn:
            transaction = SqlCallTransaction(self.sql, conn, self._locked_view(conn, call_id))
            call = transaction.view.call
            if call.status is CallState.ENDED or call.agent_id is not None:
                return Handover.CALL_TAKEN
            if conn.execute(self.sql.agent_claim, {"key": agent_id}).rowcount != 1:
                return Handover.AGENT_TAKEN
            transaction.save(replace(transaction.view, call=replace(call, agent_id=agent_id, given_at=at)))
            return Handover.GIVEN

    def _locked_view(self, conn: Connection, ref: str) -> CallView:
        return load_view(self.sql, conn, ref, lock=True)

    def _decide(self, conn: Connection, view: CallView, decide: Callable[[CallView], Decision]) -> Decision:
        transaction = SqlCallTransaction(self.sql, conn, view)
        decision = decide(view)
        transaction.save(decision.new_state)
        for effect in decision.effects:  # in the same transaction as the decision that freed the call
            agent_id = away_agent(effect)
            if agent_id is not None:
                conn.execute(self.sql.agent_choose, {"key": agent_id, "value": False, "away": True})
            stranded = stranded_agent(effect)
            if stranded is not None:  # away only if nothing gave it work, or it said it is back, since
                still = self.sql.agent_choose.where(*self._stranded())
                conn.execute(still, {"key": stranded, "value": False, "away": True})
        return decision
