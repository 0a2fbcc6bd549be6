"""Migration runs as operators meet them: several at once, and a database a newer release migrated."""

from __future__ import annotations

import random
import subprocess
import sys
import time

import pytest
from sqlalchemy.engine import Connection
from tests.callhold.db.schema_revisions import revision_of

from callhold.adapters.db import make_engine, upgrade
from callhold.adapters.db.migrate import SchemaState, current_revision, schema_head, schema_state

# Each run is a process of its own, as two instances are (Alembic's ``context`` is one per process).
# Both wait at a gate -- a shared advisory lock the test holds exclusively -- and are let through
# together once both are there, so that they race for the fresh database every time.
RUN_AT_THE_GATE = """
import sys
from callhold.adapters.db import make_engine
from callhold.cli import main

url, gate = sys.argv[1], int(sys.argv[2])
engine = make_engine(url)
with engine.connect() as connection:
    connection.exec_driver_sql("SET lock_timeout = 0")
    connection.exec_driver_sql("SELECT pg_advisory_lock_shared(%s)", (gate,))
engine.dispose()
sys.argv = ["callhold", "db", "upgrade", "--database-url", url]
main()
"""


def waiting_at(connection: Connection, gate: int) -> int:
    query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND NOT granted"
    return int(connection.exec_driver_sql(query, (gate,)).scalar_one())


def test_two_upgrades_at_once_take_turns_on_postgresql(postgres_url: str) -> None:
    """Two instances starting together on a fresh database (or two ``callhold db upgrade``): both
    succeed, one finding nothing left to do -- neither dies of ``duplicate key value violates
    unique constraint "pg_type_typname_nsp_index"``."""
    gate = random.Random().randrange(1, 2**31)
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as holder:
            holder.exec_driver_sql("SELECT pg_advisory_lock(%s)", (gate,))
            runs = [
                subprocess.Popen(
                    [sys.executable, "-c", RUN_AT_THE_GATE, postgres_url, str(gate)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
                for _ in range(2)
            ]
            deadline = time.monotonic() + 60
            while waiting_at(holder, gate) < 2:
                assert time.monotonic() < deadline, "the runs never reached the gate"
                assert all(run.poll() is None for run in runs), [run.communicate() for run in runs]
                holder.rollback()  # a fresh snapshot of pg_locks
                time.sleep(0.05)  # bounded poll of two other processes, not a fixed wait
            holder.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (gate,))
            holder.commit()
        outcomes = [(run.wait(timeout=120), run.communicate()[0]) for run in runs]
        assert [code for code, _ in outcomes] == [0, 0], outcomes
        with engine.connect() as connection:
            assert current_revision(connection) == schema_head()
    finally:
        engine.dispose()


def test_schema_state_tells_behind_from_newer(db_url: str) -> None:
    assert schema_state(revision_of(db_url)) is SchemaState.BEHIND  # never migrated
    upgrade(db_url, "0002")
    assert schema_state(revision_of(db_url)) is SchemaState.BEHIND
    upgrade(db_url)
    assert schema_state(revision_of(db_url)) is SchemaState.AT_HEAD
    assert schema_state("ffff_from_a_newer_release") is SchemaState.UNKNOWN


@pytest.mark.parametrize("revision", [None, "0001"])
def test_a_revision_of_this_release_is_never_unknown(revision: str | None) -> None:
    assert schema_state(revision) is not SchemaState.UNKNOWN
