"""Run callhold's Alembic migrations programmatically (no ``alembic.ini`` needed at run time)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL

__all__ = ["MIGRATIONS", "alembic_config", "downgrade", "upgrade"]

MIGRATIONS = Path(__file__).parent / "migrations"
"""The package's migration directory (``env.py``, ``versions/``)."""


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
