"""Run callhold's Alembic migrations programmatically (no ``alembic.ini`` needed at run time), and
tell where a database's schema stands against this release's migrations."""

from __future__ import annotations

import functools
import zlib
from enum import Enum
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import String, column, inspect, select, table
from sqlalchemy.engine import URL, Connection

__all__ = [
    "MIGRATIONS",
    "MIGRATION_LOCK_KEY",
    "VERSION_TABLE",
    "SchemaState",
    "alembic_config",
    "current_revision",
    "downgrade",
    "schema_head",
    "schema_state",
    "upgrade",
]

MIGRATIONS = Path(__file__).parent / "migrations"
"""The package's migration directory (``env.py``, ``versions/``)."""

VERSION_TABLE = "alembic_version"
"""Where Alembic keeps the database's revision (its default name)."""

MIGRATION_LOCK_KEY = zlib.crc32(b"callhold migrations")
"""The PostgreSQL advisory lock key every migration run holds (``env.py``): two instances starting at
once, or two ``callhold db upgrade``, take turns instead of creating the same tables together."""


def alembic_config(url: str | URL) -> Config:
    """An Alembic config for the database at ``url`` (passed through ``attributes``, so a URL with
    ``%`` needs no ini escaping)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    return config


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (``callhold db upgrade``)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | URL, revision: str) -> None:
    """Take the database at ``url`` down to ``revision`` (``base`` drops every table)."""
    command.downgrade(alembic_config(url), revision)


@functools.cache
def _script() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


@functools.cache
def schema_head() -> str:
    """The migration head this release ships."""
    head = _script().get_current_head()
    assert head is not None
    return head


@functools.cache
def _known() -> frozenset[str]:
    return frozenset(script.revision for script in _script().walk_revisions())


def current_revision(connection: Connection) -> str | None:
    """The database's migration revision (``None``: never migrated; revisions of several branches,
    which callhold's migrations never make, joined by ``+``).

    Read directly rather than through Alembic's ``MigrationContext``, which logs two INFO lines each
    time it is set up -- on every ``/readyz``, that would be most of the log.
    """
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    query = select(column("version_num", String)).select_from(table(VERSION_TABLE))
    versions: list[str] = list(connection.execute(query).scalars())
    return "+".join(sorted(versions)) or None


class SchemaState(Enum):
    """Where a database's schema stands against this release's migrations."""

    AT_HEAD = "at head"
    BEHIND = "behind"
    """Never migrated, or at an older revision of this release: ``callhold db upgrade`` brings it up."""
    UNKNOWN = "unknown"
    """At a revision this release does not ship: a newer release migrated it (a rollback, or a
    rolling deploy with the old release still starting)."""


def schema_state(revision: str | None) -> SchemaState:
    """Where a database at ``revision`` stands against this release."""
    if revision == schema_head():
        return SchemaState.AT_HEAD
    if revision is None or revision in _known():
        return SchemaState.BEHIND
    return SchemaState.UNKNOWN
