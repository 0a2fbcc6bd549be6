"""Agents' records: the directory, API tokens, and availability claimed atomically.

``AgentRecords`` is the base of :class:`~callhold.adapters.db.store.SqlHoldStore`: it owns the
engine, the prebuilt statements and the two ways the store opens a connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Exists, func, select
from sqlalchemy.exc import IntegrityError

from callhold.adapters.db.engine import SINGLE_READ, WRITE_LOCK
from callhold.adapters.db.records import agent_of
from callhold.adapters.db.statements import Statements
from callhold.adapters.db.transaction import row
from callhold.domain.errors import Conflict, NotFound
from callhold.domain.model import Agent, CallState

__all__ = ["AgentRecords"]


class AgentRecords:
    """The agent directory over SQLAlchemy Core (part of ``SqlHoldStore``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sql = Statements(engine.dialect.name)

    @contextmanager
    def _locked(self) -> Iterator[Connection]:
        """A transaction that takes the write lock at its start on SQLite (``BEGIN IMMEDIATE``)."""
        with self.engine.connect() as conn:
            conn.execution_options(**{WRITE_LOCK: True})
            with conn.begin():
                yield conn

    def _one(self, statement: Any, params: dict[str, object]) -> Any:
        """The first row of one SELECT (no ``BEGIN`` on SQLite: a single statement is atomic)."""
        with self.engine.connect() as conn:
            conn.execution_options(**{SINGLE_READ: True})
            return conn.execute(statement, params).first()

    def save_agent(self, agent: Agent) -> None:
        """Insert or update an agent (its API token is kept)."""
        values = {
            "name": agent.name,
            "endpoint": agent.endpoint,
            "available": agent.available,
            "away": agent.away,
        }
        with self.engine.begin() as conn:
            if conn.execute(self.sql.agent_update, {"key": agent.id, **values}).rowcount == 0:
                conn.execute(self.sql.agent_insert, {"id": agent.id, "token_hash": None, **values})

    def insert_agent(self, agent: Agent) -> None:
        """Insert a new agent; ``Conflict`` if the id is taken (atomic: two creates, one wins), or if
        another agent has its endpoint (see :meth:`_endpoint_free`)."""
        values = {
            "id": agent.id,
            "name": agent.name,
            "endpoint": agent.endpoint,
            "available": agent.available,
            "away": agent.away,
            "token_hash": None,
        }
        try:
            with self._locked() as conn:
                self._endpoint_free(conn, agent.endpoint, agent.id)
                conn.execute(self.sql.agent_insert, values)
        except IntegrityError as error:
            raise Conflict(f"agent {agent.id!r} already exists") from error

    def update_agent(self, agent_id: str, *, name: str | None = None, endpoint: str | None = None) -> Agent:
        """Change an agent's name and/or endpoint -- never its availability, which a concurrent claim
        may be changing; ``NotFound`` for an unknown agent, ``Conflict`` for an endpoint another agent
        has. Returns the agent as now stored."""
        values: dict[str, object] = {"key": agent_id}
        if name is not None:
            values["name"] = name
        if endpoint is not None:
            values["endpoint"] = endpoint
        # The write lock only to change the endpoint (see _endpoint_free).
        with self._locked() if endpoint is not None else self.engine.begin() as conn:
            if endpoint is not None:
                self._endpoint_free(conn, endpoint, agent_id)
            if len(values) > 1 and conn.execute(self.sql.agent_update, values).rowcount == 0:
                raise NotFound("agent", agent_id)
            found = conn.execute(self.sql.agent, {"id": agent_id}).first()
        if found is None:
            raise NotFound("agent", agent_id)
        return agent_of(row(found))

    def _endpoint_free(self, conn: Connection, endpoint: str, agent_id: str) -> None:
        """``Conflict`` if an agent other than ``agent_id`` has ``endpoint``: two agents ringing one
        phone would answer each other's customers (and the first to answer takes both).

        Checked in the writing transaction, against a writer doing the same: on SQLite it holds the
        database's write lock already (``BEGIN IMMEDIATE``); on PostgreSQL (read committed, and no
        unique index on endpoints, which would take a migration over data that may hold duplicates)
        a transaction-scoped advisory lock on the endpoint makes two such writers take turns."""
        if conn.dialect.name == "postgresql":
            key = func.hashtextextended("callhold.agent-endpoint:" + endpoint, 0)
            conn.execute(select(func.pg_advisory_xact_lock(key)))
        agents = self.sql.agents
        taken = select(agents.c.id).where(agents.c.endpoint == endpoint, agents.c.id != agent_id).limit(1)
        holder = conn.execute(taken).scalar()
        if holder is not None:
            raise Conflict(f"endpoint {endpoint} is agent {holder}'s: an endpoint rings one agent only")

    def get_agent(self, agent_id: str) -> Agent | None:
        """One agent, or ``None``."""
        found = self._one(self.sql.agent, {"id": agent_id})
        return agent_of(row(found)) if found is not None else None

    def list_agents(self, *, available: bool | None = None) -> list[Agent]:
        """Agents by id, optionally only the (un)available ones."""
        agents = self.sql.agents
        query = select(agents).order_by(agents.c.id)
        if available is not None:
            query = query.where(agents.c.available.is_(available))
        with self.engine.connect() as conn:
            return [agent_of(row(r)) for r in conn.execute(query)]

    def agent_for_token(self, token_hash: str) -> str | None:
        """The id of the agent whose API token hashes to ``token_hash``, or ``None``."""
        found = self._one(self.sql.agent_for_token, {"token_hash": token_hash})
        return str(found[0]) if found is not None else None

    def set_agent_token(self, agent_id: str, token_hash: str | None) -> None:
        """Store the hash of an agent's new API token (the old one stops working); ``NotFound``."""
        with self.engine.begin() as conn:
            result = conn.execute(self.sql.agent_update, {"key": agent_id, "token_hash": token_hash})
            if result.rowcount != 1:
                raise NotFound("agent", agent_id)

    def delete_agent(self, agent_id: str) -> bool:
        """Delete an agent unless it has an active call or one is being placed for it (its ended
        calls keep their records, with no agent); ``False`` if so, or if it is unknown.

        Atomic against a call being handed to the agent meanwhile: the agent's row is locked first
        (:meth:`_lock_agent`), then one ``DELETE ... WHERE NOT EXISTS (active call)`` reads the
        calls as they are after it.
        """
        with self._locked() as conn:
            if not self._lock_agent(conn, agent_id):
                return False
            delete = self.sql.agent_delete.where(
                ~self._on_a_call(), self.sql.agents.c.placing_since.is_(None)
            )
            return conn.execute(delete, {"id": agent_id}).rowcount == 1

    def make_available(self, agent_id: str, *, by_agent: bool = True) -> bool:
        """Mark an agent available unless it has an active call or one is being placed for it
        (``False``: one more customer would be handed to it mid-call); ``NotFound`` for an unknown
        agent. Atomic against a call being handed to it meanwhile, as :meth:`delete_agent`.

        ``by_agent``: the agent's own choice, which ends its being away even mid-call (it is then made
        available when the call ends). Otherwise callhold's (its call ended): ``False`` also if the
        agent is away, which it stays.
        """
        with self._locked() as conn:
            if not self._lock_agent(conn, agent_id):
                raise NotFound("agent", agent_id)
            if by_agent:
                conn.execute(self.sql.agent_update, {"key": agent_id, "away": False})
            return self._free(conn, agent_id)

    def _on_a_call(self) -> Exists:
        """``EXISTS`` an active call of the agent of the row at hand."""
        agents, calls = self.sql.agents, self.sql.calls
        return (
            select(calls.c.id)
            .where(calls.c.agent_id == agents.c.id, calls.c.status == CallState.ACTIVE.value)
            .correlate(agents)
            .exists()
        )

    def _lock_agent(self, conn: Connection, agent_id: str) -> bool:
        """Lock the agent's row (``FOR UPDATE`` on PostgreSQL, which waits for a transaction that
        has just given the agent a call: its foreign key check holds the row ``FOR KEY SHARE``; SQLite
        holds ``BEGIN IMMEDIATE``'s lock already); ``False`` if there is no such agent."""
        agents = self.sql.agents
        lock = select(agents.c.id).where(agents.c.id == agent_id).with_for_update()
        return conn.execute(lock).first() is not None

    def claim_for_outbound(self, agent_id: str, to: str, at: datetime) -> bool:
        """Atomically mark an available agent unavailable and placing a call to ``to`` since ``at``;
        ``False`` if it was not available. Until the placement is over (:meth:`end_placement`, or the
        call recorded with the agent) callhold never frees the agent, whatever it says meanwhile."""
        values = {"key": agent_id, "to": to, "since": at}
        with self.engine.begin() as conn:
            return conn.execute(self.sql.agent_claim_placing, values).rowcount == 1

    def end_placement(self, agent_id: str, since: datetime, *, free: bool) -> bool:
        """The placement the agent has had since ``since`` is over with no call recorded (Twilio
        refused it, or has no such call): forget it and, with ``free``, make the agent available
        unless away or on a call. ``False`` (nothing changed) if that placement is over already --
        another instance, or the call recorded meanwhile. Atomic as :meth:`free_agent`."""
        with self._locked() as conn:
            if not self._lock_agent(conn, agent_id):
                return False
            over = conn.execute(self.sql.agent_placement_over, {"key": agent_id, "since": since})
            if over.rowcount != 1:
                return False
            if free:
                self._free(conn, agent_id)
            return True

    def placements(self, before: datetime) -> list[Agent]:
        """Agents with an outbound call being placed since ``before`` or earlier, oldest first."""
        with self.engine.connect() as conn:
            return [agent_of(row(r)) for r in conn.execute(self.sql.agents_placing, {"before": before})]

    def stranded_agents(self) -> list[str]:
        """Agents unavailable yet not away, placing no call and on no active call, by id. callhold
        never leaves an agent so (:func:`~callhold.domain.effects.away_agent`), except for the moment
        between a call's end and its agent's release -- or for good, if the instance doing it
        stopped in between."""
        agents = self.sql.agents
        stranded = select(agents.c.id).where(*self._stranded()).order_by(agents.c.id)
        with self.engine.connect() as conn:
            return [str(agent_id) for agent_id in conn.scalars(stranded)]

    def _stranded(self) -> tuple[ColumnElement[bool], ...]:
        """The conditions of an agent row left stranded: unavailable, not away, placing no call and
        on no active call."""
        agents = self.sql.agents
        return (
            agents.c.available.is_(False),
            agents.c.away.is_(False),
            agents.c.placing_since.is_(None),
            ~self._on_a_call(),
        )

    def set_agent_available(self, agent_id: str, available: bool) -> None:
        """The agent's own choice: available (no longer away), or away -- unavailable, and left so
        when its call ends (also mid-call: no customer after this one). ``NotFound``."""
        values = {"key": agent_id, "value": available, "away": not available}
        with self.engine.begin() as conn:
            if conn.execute(self.sql.agent_choose, values).rowcount != 1:
                raise NotFound("agent", agent_id)

    def free_agent(self, agent_id: str) -> bool:
        """Callhold's release of an agent it claimed for a call that did not happen: available
        again, unless the agent said meanwhile that it is away, or has an active call by now (it
        made itself available meanwhile, and was handed a customer), or is unknown (``False``).
        Atomic against a call being handed to it meanwhile, as :meth:`make_available`."""
        with self._locked() as conn:
            return self._lock_agent(conn, agent_id) and self._free(conn, agent_id)

    def _free(self, conn: Connection, agent_id: str) -> bool:
        """Under the agent's lock: available, unless away, on an active call or placing one."""
        free = self.sql.agent_free.where(~self._on_a_call())
        return bool(conn.execute(free, {"key": agent_id}).rowcount == 1)
