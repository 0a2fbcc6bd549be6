"""What the CLI checks before it starts anything: the settings, the database, where the server listens.

Every mistake a user can make here (a bad ``CALLHOLD_*`` value, a database URL that does not parse, a
database that cannot be opened, a file that cannot be written) is a :class:`StartupError`: lines to
print, no traceback. Database URLs are only ever shown with their password hidden.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, get_args
from urllib.parse import urlsplit

from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsError

from callhold.config import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = [
    "StartupError",
    "build_app",
    "check_database",
    "check_schema",
    "check_writable",
    "http_url",
    "load_settings",
    "public_url_note",
    "redacted",
    "serve_banner",
    "settings_errors",
    "upgrade_database",
]

_log = logging.getLogger("callhold.startup")
_WILDCARDS = frozenset({"0.0.0.0", "::", ""})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class StartupError(Exception):
    """A configuration mistake: ``lines`` say what is wrong (one per mistake); ``code`` is the exit code."""

    def __init__(self, lines: list[str], code: int = 2) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines
        self.code = code


def settings_errors(exc: ValidationError) -> list[str]:
    """One line per error, naming the environment variable: ``CALLHOLD_STRATEGY: Input should be ...``
    (with the value given, unless the setting is a secret)."""
    lines = []
    for error in exc.errors():
        loc = error.get("loc", ())
        if not loc:  # a check across settings: its message names them
            lines.append(str(error.get("msg", "")))
            continue
        field = str(loc[0])
        line = f"CALLHOLD_{field.upper()}: {error.get('msg', '')}"
        given = error.get("input")
        if isinstance(given, str) and not _is_secret(field):
            line += f" (got {given!r})"
        lines.append(line)
    return lines


def _is_secret(field: str) -> bool:
    """Whether a setting's value must not be printed (a token; a database URL may carry a password)."""
    info = Settings.model_fields.get(field)
    if info is None or field == "database_url":
        return True
    return SecretStr in (info.annotation, *get_args(info.annotation))


def load_settings() -> Settings:
    """The settings from the environment; a :class:`StartupError` listing every bad value."""
    try:
        return Settings()
    except ValidationError as exc:
        raise StartupError(settings_errors(exc)) from exc
    except SettingsError as exc:  # a value pydantic-settings could not even decode
        raise StartupError([f"invalid CALLHOLD_* setting: {exc}"]) from exc


def redacted(url: str) -> str:
    """A database URL fit to print: its password replaced by ``***`` (also when it does not parse)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # not a URL SQLAlchemy reads: hide what sits between user: and @
        return re.sub(r"(://[^/@:]*):[^/@]*@", r"\1:***@", url)


def _reason(exc: BaseException) -> str:
    """The first line of what the driver (or SQLAlchemy) said, on one line."""
    text = str(getattr(exc, "orig", None) or exc)
    first = next((line for line in text.splitlines() if line.strip()), text)
    return " ".join(first.split()) or type(exc).__name__


def check_database(url: str) -> str | None:
    """Open the database at ``url`` once (parse the URL, load its driver, connect) and read its
    schema revision (``None``: never migrated); else a :class:`StartupError` ``cannot open database
    <url>: <reason>``."""
    from sqlalchemy.exc import ArgumentError, DBAPIError

    from callhold.adapters.db.engine import make_engine
    from callhold.adapters.db.migrate import current_revision

    try:
        engine = make_engine(url)
    except ArgumentError as exc:  # also NoSuchModuleError: no such dialect
        raise StartupError([f"cannot open database {redacted(url)}: {_reason(exc)}"]) from exc
    except ImportError as exc:  # the dialect's driver is not installed
        raise StartupError([f"cannot open database {redacted(url)}: driver not installed ({exc})"]) from exc
    except ValueError as exc:  # a URL with a port that is not a number, say
        reason = f"not a valid URL ({_reason(exc)})"
        raise StartupError([f"cannot open database {redacted(url)}: {reason}"]) from exc
    try:
        with engine.connect() as connection:
            return current_revision(connection)
    except DBAPIError as exc:
        raise StartupError([f"cannot open database {redacted(url)}: {_reason(exc)}"]) from exc
    finally:
        engine.dispose()


def check_schema(url: str, revision: str | None, *, migrating: bool) -> None:
    """Refuse a database this release cannot run on: at a revision it does not know (a newer
    release migrated it: a rollback, or a rolling deploy), or -- when it is not to migrate it
    (``CALLHOLD_MIGRATE_ON_START=false``) -- not at its head. One line, code 2, nothing changed."""
    from callhold.adapters.db.migrate import SchemaState, schema_head, schema_state

    state, head = schema_state(revision), schema_head()
    if state is SchemaState.UNKNOWN:
        raise StartupError(
            [
                f"database {redacted(url)} is at schema revision {revision}, which this release of "
                f"callhold does not know (its latest is {head}): a newer release migrated it; run that "
                "release, or take the database back down to this release's head with it first"
            ]
        )
    if state is SchemaState.BEHIND and not migrating:
        raise StartupError(
            [
                f"database {redacted(url)} is at schema revision {revision or 'none'}, this release "
                f"needs {head}, and CALLHOLD_MIGRATE_ON_START is false: run `callhold db upgrade` first"
            ]
        )


def upgrade_database(url: str) -> None:
    """Open the database (see :func:`check_database`) and apply every migration; a database at a
    revision this release does not know is a :class:`StartupError` (:func:`check_schema`), and a
    migration that fails on the database's side (locked, read-only...) one with code 1."""
    from callhold.adapters.db.migrate import upgrade

    with _migrating(url, migrating=True):
        upgrade(url)


def build_app(settings: Settings) -> FastAPI:
    """``callhold serve``'s app, once its database opens (:func:`check_database`) and its schema
    can be brought to (or, with ``migrate_on_start`` false, is at) this release's head
    (:func:`check_schema`); a migration that fails on the database's side is a
    :class:`StartupError` with code 1."""
    from callhold.adapters.db.migrate import schema_head
    from callhold.web.app import create_app

    with _migrating(settings.database_url, migrating=settings.migrate_on_start):
        # With migrate_on_start false the schema was checked to be at head, and the app does not
        # migrate (``build_services``): no DDL.
        app = create_app(settings)
    _log.info("database %s is at schema revision %s", redacted(settings.database_url), schema_head())
    return app


@contextmanager
def _migrating(url: str, *, migrating: bool) -> Iterator[None]:
    """Check that the database opens and that its schema suits this release, then run the block
    that migrates it: a failure on the database's side is ``cannot upgrade database`` (code 1);
    Alembic refusing (a revision it cannot find, appearing since the check) is code 2."""
    from alembic.util import CommandError
    from sqlalchemy.exc import DBAPIError

    check_schema(url, check_database(url), migrating=migrating)
    try:
        yield
    except DBAPIError as exc:
        raise StartupError([f"cannot upgrade database {redacted(url)}: {_reason(exc)}"], 1) from exc
    except CommandError as exc:
        raise StartupError([f"cannot upgrade database {redacted(url)}: {_reason(exc)}"]) from exc


def serve_banner(settings: Settings, app: FastAPI, host: str, port: int) -> tuple[str, str | None]:
    """What ``serve`` says as it starts: where it listens, where its Twilio requests go (the embedded
    voicesim's URL and credentials, to place test calls), its database (password hidden); and a note
    when the public base URL is not where it listens."""
    here = http_url(host, port)
    emulator = getattr(app.state.services, "emulator", None)
    if emulator is not None:
        where = (
            f"embedded voicesim at {here}/voicesim "
            f"(Basic auth: account SID {emulator.account_sid}, auth token {emulator.auth_token})"
        )
    elif settings.twilio_api_base_url:
        where = f"Twilio API at {settings.twilio_api_base_url} (CALLHOLD_TWILIO_API_BASE_URL)"
    else:
        where = "Twilio (api.twilio.com)"
    banner = f"callhold on {here} -> {where}; database {redacted(settings.database_url)}"
    return banner, public_url_note(settings.public_base_url, host, port)


def check_writable(path: Path) -> None:
    """Make sure a file can be written at ``path`` before work that ends by writing it; else a
    :class:`StartupError` ``cannot write <path>: <reason>``."""
    if path.is_dir():
        raise StartupError([f"cannot write {path}: it is a directory"])
    existed = path.exists()
    try:
        with path.open("a"):
            pass
    except OSError as exc:
        raise StartupError([f"cannot write {path}: {exc.strerror or exc}"]) from exc
    if not existed:
        path.unlink(missing_ok=True)


def http_url(host: str, port: int) -> str:
    """``http://host:port`` (an IPv6 address in brackets)."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return f"http://{host}:{port}"
    return f"http://[{literal}]:{port}" if literal.version == 6 else f"http://{literal}:{port}"


def public_url_note(public_base_url: str, host: str, port: int) -> str | None:
    """A note when ``public_base_url`` is not where ``serve`` listens (legitimate behind a proxy or a
    tunnel, so only a note); ``None`` when they agree."""
    parts = urlsplit(public_base_url)
    try:
        public_port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        public_port = None
    public_host = (parts.hostname or "").lower()
    bind = host.strip("[]").lower()
    same_host = public_host == bind or bind in _WILDCARDS or {public_host, bind} <= _LOOPBACK
    if same_host and public_port == port:
        return None
    return (
        f"note: CALLHOLD_PUBLIC_BASE_URL ({public_base_url}) is not where this server listens "
        f"({http_url(host, port)}); fine behind a proxy or tunnel that forwards it here, as webhooks "
        "go to (and signatures are checked against) the public URL"
    )
