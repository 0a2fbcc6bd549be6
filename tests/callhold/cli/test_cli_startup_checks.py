"""What ``serve`` (and ``db upgrade``) refuse before starting, one line each and exit code 2: a
database a newer release migrated, a schema behind this release when it is not to migrate it, and
settings unsafe on real Twilio. Nothing is served, nothing is changed.

``uvicorn.run`` is replaced by a recorder (the ``served`` fixture): nothing here listens on a port.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from tests.callhold.cli.cli_runs import invoke, lines_of
from tests.callhold.db.schema_revisions import revision_of

from callhold.adapters.db import make_engine, upgrade
from callhold.adapters.db.migrate import schema_head

SID = "AC" + "0" * 31 + "1"
TOKEN = "0123456789abcdef0123456789abcdef"
NEWER = "ffff_of_a_newer_release"  # a revision this release does not ship, whatever its head is


def migrated_by_a_newer_release(url: str) -> None:
    """The database as a newer release leaves it: its revision is one this release never heard of."""
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": NEWER})
    finally:
        engine.dispose()


@pytest.mark.parametrize("command", [["serve"], ["db", "upgrade"]])
def test_a_database_of_a_newer_release_is_one_line_not_a_traceback(
    served: list[dict[str, Any]], tmp_path: Path, command: list[str]
) -> None:
    """A rollback (or a rolling deploy with the old release still starting): Alembic cannot locate
    the revision; the operator is told what happened, and the database is left as it is."""
    url = f"sqlite:///{tmp_path}/newer.db"
    migrated_by_a_newer_release(url)
    (line,) = lines_of(invoke(command, CALLHOLD_DATABASE_URL=url), 2)
    assert line == (
        f"database {url} is at schema revision {NEWER}, which this release of callhold does not know "
        f"(its latest is {schema_head()}): a newer release migrated it; run that release, or take the "
        "database back down to this release's head with it first"
    )
    assert revision_of(url) == NEWER
    assert served == []


@pytest.mark.parametrize("behind", [None, "0002"])
def test_without_migrate_on_start_serve_refuses_a_schema_behind_this_release(
    served: list[dict[str, Any]], tmp_path: Path, behind: str | None
) -> None:
    url = f"sqlite:///{tmp_path}/behind.db"
    if behind is not None:
        upgrade(url, behind)
    done = invoke(["serve"], CALLHOLD_DATABASE_URL=url, CALLHOLD_MIGRATE_ON_START="false")
    (line,) = lines_of(done, 2)
    assert line == (
        f"database {url} is at schema revision {behind or 'none'}, this release needs {schema_head()}, "
        "and CALLHOLD_MIGRATE_ON_START is false: run `callhold db upgrade` first"
    )
    assert revision_of(url) == behind  # not migrated
    assert served == []


def test_without_migrate_on_start_serve_runs_on_a_schema_at_head(
    served: list[dict[str, Any]], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/ready.db"
    assert invoke(["db", "upgrade", "--database-url", url]).exit_code == 0
    done = invoke(["serve"], CALLHOLD_DATABASE_URL=url, CALLHOLD_MIGRATE_ON_START="false")
    assert done.exit_code == 0, done.output
    assert len(served) == 1 and revision_of(url) == schema_head()


REAL_TWILIO = {"CALLHOLD_TWILIO_ACCOUNT_SID": SID, "CALLHOLD_TWILIO_AUTH_TOKEN": TOKEN}
HINT = "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"


@pytest.mark.parametrize(
    ("env", "shown"),
    [
        (
            {},
            "CALLHOLD_ADMIN_TOKEN: the default 'change-me-admin' is refused with real Twilio "
            f"(CALLHOLD_TWILIO_ACCOUNT_SID and _AUTH_TOKEN are set): set a secret of your own {HINT}",
        ),
        (
            {"CALLHOLD_ADMIN_TOKEN": "change-me-admin"},
            "CALLHOLD_ADMIN_TOKEN: the default 'change-me-admin' is refused with real Twilio",
        ),
        (
            {"CALLHOLD_ADMIN_TOKEN": "secret"},
            f"CALLHOLD_ADMIN_TOKEN: 6 characters is too short with real Twilio: use at least 16 {HINT}",
        ),
        ({"CALLHOLD_ADMIN_TOKEN": ""}, "CALLHOLD_ADMIN_TOKEN: 0 characters is too short with real Twilio"),
    ],
)
def test_real_twilio_refuses_a_default_or_short_admin_token(
    served: list[dict[str, Any]], env: dict[str, str], shown: str
) -> None:
    (line,) = lines_of(invoke(["serve"], **REAL_TWILIO, **env), 2)
    assert line.startswith(shown), line
    assert "secret'" not in line and "(got" not in line  # the token itself is never printed
    assert served == []


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("PUBLIC_BASE_URL", "callhold.example.com", "expected an http(s)://host[:port][/path] URL"),
        ("PUBLIC_BASE_URL", "localhost:8000", "expected an http(s)://host[:port][/path] URL"),
        ("PUBLIC_BASE_URL", "https://", "expected an http(s)://host[:port][/path] URL"),
        ("PUBLIC_BASE_URL", "ftp://callhold.example.com", "expected an http(s)://host[:port][/path] URL"),
        (
            "PUBLIC_BASE_URL",
            "https://callhold.example.com:abc",
            "expected an http(s)://host[:port][/path] URL",
        ),
        ("PUBLIC_BASE_URL", "https://callhold.example.com/?x=1", "expected no ?query or #fragment"),
        ("HOLD_MUSIC_URL", "music.mp3", "expected an http(s):// URL of an MP3/WAV, or a path beginning"),
        ("HOLD_MUSIC_URL", "file:///srv/music.mp3", "expected an http(s):// URL of an MP3/WAV"),
        ("HOLD_MUSIC_URL", "//cdn.example.com/x.mp3", "expected an http(s):// URL of an MP3/WAV"),
    ],
)
@pytest.mark.parametrize("twilio", ["real", "embedded"])
def test_a_url_that_can_never_work_is_refused_on_real_twilio_and_embedded(
    served: list[dict[str, Any]], twilio: str, name: str, value: str, shown: str
) -> None:
    env = {**REAL_TWILIO, "CALLHOLD_ADMIN_TOKEN": "an-admin-token-of-our-own"} if twilio == "real" else {}
    (line,) = lines_of(invoke(["serve"], **env, **{f"CALLHOLD_{name}": value}), 2)
    assert line.startswith(f"CALLHOLD_{name}: {shown}"), line
    assert line.endswith(f"(got {value!r})")
    assert served == []


def test_every_unsafe_setting_gets_its_line(served: list[dict[str, Any]]) -> None:
    lines = lines_of(
        invoke(
            ["serve"],
            **REAL_TWILIO,
            CALLHOLD_PUBLIC_BASE_URL="callhold.example.com",
            CALLHOLD_HOLD_MUSIC_URL="music.mp3",
        ),
        2,
    )
    assert [line.split(":")[0] for line in lines] == [
        "CALLHOLD_PUBLIC_BASE_URL",
        "CALLHOLD_ADMIN_TOKEN",
        "CALLHOLD_HOLD_MUSIC_URL",
    ]


@pytest.mark.parametrize(
    "env",
    [
        {},  # the embedded default, no settings at all
        {"CALLHOLD_PUBLIC_BASE_URL": "https://calls.example.com/callhold"},
        {"CALLHOLD_HOLD_MUSIC_URL": "https://cdn.example.com/hold.mp3"},
        {
            **REAL_TWILIO,
            "CALLHOLD_ADMIN_TOKEN": "an-admin-token-of-our-own",
            "CALLHOLD_PUBLIC_BASE_URL": "https://calls.example.com",
        },
    ],
)
def test_sound_settings_start(served: list[dict[str, Any]], tmp_path: Path, env: dict[str, str]) -> None:
    done = invoke(["serve"], CALLHOLD_DATABASE_URL=f"sqlite:///{tmp_path}/ok.db", **env)
    assert done.exit_code == 0, done.output
    assert len(served) == 1
