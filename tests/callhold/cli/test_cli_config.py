"""The CLI's configuration: a mistake in it is one line per mistake and exit code 2, never a traceback;
``serve`` says where it listens, where its Twilio requests go, and never a database password.

``uvicorn.run`` is replaced by a recorder: nothing here listens on a port.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError
from tests.callhold.cli.cli_runs import invoke, lines_of

import callhold
from callhold import startup
from callhold.config import FixedSettings, Settings

SID = "AC" + "0" * 31 + "1"
TOKEN = "0123456789abcdef0123456789abcdef"
ADMIN = "an-admin-token-of-our-own"


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("STRATEGY", "foo", "CALLHOLD_STRATEGY: Input should be 'conference' or 'legs' (got 'foo')"),
        ("DISPATCH_EVERY", "1", "CALLHOLD_DISPATCH_EVERY: Input should be greater than or equal to 5"),
        ("TWILIO_TIMEOUT", "abc", "CALLHOLD_TWILIO_TIMEOUT: Input should be a valid number"),
        ("VOICESIM_SPEED", "0", "CALLHOLD_VOICESIM_SPEED: Input should be greater than 0"),
    ],
)
@pytest.mark.parametrize("command", [["serve"], ["db", "upgrade"]])
def test_a_bad_setting_is_one_line_naming_its_variable(
    served: list[dict[str, Any]], command: list[str], name: str, value: str, shown: str
) -> None:
    (line,) = lines_of(invoke(command, **{f"CALLHOLD_{name}": value}), 2)
    assert line.startswith(shown), line
    assert served == []


def test_every_bad_setting_gets_its_line(served: list[dict[str, Any]]) -> None:
    lines = lines_of(invoke(["serve"], CALLHOLD_STRATEGY="foo", CALLHOLD_MAX_HOLD="1"), 2)
    assert [line.split(":")[0] for line in lines] == ["CALLHOLD_STRATEGY", "CALLHOLD_MAX_HOLD"]


def test_a_secret_setting_is_not_echoed() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(twilio_auth_token=123)  # type: ignore[arg-type]
    (line,) = startup.settings_errors(caught.value)
    assert line.startswith("CALLHOLD_TWILIO_AUTH_TOKEN: ") and "123" not in line


@pytest.mark.parametrize(
    ("url", "shown", "reason"),
    [
        ("notaurl", "notaurl", "Could not parse SQLAlchemy URL"),
        (
            "sqlite:////nonexistent/dir/x.db",
            "sqlite:////nonexistent/dir/x.db",
            "unable to open database file",
        ),
        (
            "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/test",
            "postgresql+psycopg://postgres:***@127.0.0.1:1/test",
            "connection failed",
        ),
        ("nosuchdb://u:s3cret@h/db", "nosuchdb://u:***@h/db", "Can't load plugin"),
        ("postgresql://u:s3cret@h:abc/db", "postgresql://u:***@h:abc/db", "not a valid URL"),
    ],
)
def test_a_database_that_cannot_be_opened_is_one_line(
    served: list[dict[str, Any]], url: str, shown: str, reason: str
) -> None:
    upgrade = lines_of(invoke(["db", "upgrade", "--database-url", url]), 2)
    serve = lines_of(invoke(["serve"], CALLHOLD_DATABASE_URL=url), 2)
    for (line,) in (upgrade, serve):
        assert line.startswith(f"cannot open database {shown}: {reason}"), line
        assert "s3cret" not in line
    assert served == []


def test_a_missing_database_driver_is_one_line() -> None:
    if importlib.util.find_spec("MySQLdb") is not None:
        pytest.skip("mysqlclient is installed here")
    (line,) = lines_of(invoke(["db", "upgrade", "--database-url", "mysql://u:pw@h/db"]), 2)
    assert line == "cannot open database mysql://u:***@h/db: driver not installed (No module named 'MySQLdb')"


def test_db_upgrade_hides_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    from callhold.adapters.db import migrate

    upgraded: list[str] = []
    monkeypatch.setattr(startup, "check_database", lambda url: None)
    monkeypatch.setattr(migrate, "upgrade", upgraded.append)
    url = "postgresql+psycopg://postgres:s3cretpw@db.example/callhold"
    done = invoke(["db", "upgrade", "--database-url", url])
    assert done.exit_code == 0, done.output
    assert upgraded == [url]
    assert "database at postgresql+psycopg://postgres:***@db.example/callhold is up to date" in done.output
    assert "s3cretpw" not in done.output


def test_serve_names_the_embedded_voicesim_where_it_listens(
    served: list[dict[str, Any]], tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path}/serve.db"
    done = invoke(
        ["serve", "--port", "8736"],
        CALLHOLD_DATABASE_URL=db,
        CALLHOLD_PUBLIC_BASE_URL="http://127.0.0.1:8736/",
    )
    assert done.exit_code == 0, done.output
    (banner,) = done.stdout.splitlines()
    assert banner.startswith(
        "callhold on http://127.0.0.1:8736 -> embedded voicesim at http://127.0.0.1:8736/voicesim "
        f"(Basic auth: account SID {SID}, auth token {TOKEN}); database {db}"
    ), banner
    assert "note:" not in done.stderr  # the public base URL is where it listens
    assert [(c["host"], c["port"]) for c in served] == [("127.0.0.1", 8736)]


@pytest.mark.parametrize(
    ("public", "host", "port", "noted"),
    [
        ("http://127.0.0.1:8000", "127.0.0.1", 8737, True),
        ("https://callhold.example.com", "127.0.0.1", 8737, True),
        ("http://localhost:8737/", "127.0.0.1", 8737, False),
        ("http://callhold.example.com:8737", "0.0.0.0", 8737, False),
        ("http://[::1]:8737", "::1", 8737, False),
        ("https://callhold.example.com", "::", 443, False),
    ],
)
def test_serve_notes_a_public_base_url_that_is_not_where_it_listens(
    public: str, host: str, port: int, noted: bool
) -> None:
    note = startup.public_url_note(public, host, port)
    assert (note is not None) == noted
    if note is not None:
        assert note.startswith(f"note: CALLHOLD_PUBLIC_BASE_URL ({public}) is not where this server listens")


def test_serve_says_where_the_sdk_sends_its_requests(
    served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = SimpleNamespace(state=SimpleNamespace(services=SimpleNamespace(emulator=None)))
    monkeypatch.setattr(startup, "build_app", lambda settings: fake)
    env = {
        "CALLHOLD_TWILIO_ACCOUNT_SID": SID,
        "CALLHOLD_TWILIO_AUTH_TOKEN": TOKEN,
        "CALLHOLD_DATABASE_URL": "postgresql+psycopg://callhold:s3cretpw@db.example/callhold",
        "CALLHOLD_PUBLIC_BASE_URL": "https://callhold.example.com",
        "CALLHOLD_ADMIN_TOKEN": ADMIN,
    }
    direct = invoke(["serve", "--port", "8738"], **env)
    assert direct.exit_code == 0, direct.output
    assert direct.stdout.startswith("callhold on http://127.0.0.1:8738 -> Twilio (api.twilio.com); database ")
    assert "s3cretpw" not in direct.output and "postgresql+psycopg://callhold:***@db.example" in direct.stdout
    assert direct.stderr.startswith("note: CALLHOLD_PUBLIC_BASE_URL (https://callhold.example.com) is not")
    rebased = invoke(["serve", "--port", "8738"], **env, CALLHOLD_TWILIO_API_BASE_URL="http://127.0.0.1:8739")
    assert rebased.exit_code == 0, rebased.output
    assert "-> Twilio API at http://127.0.0.1:8739 (CALLHOLD_TWILIO_API_BASE_URL);" in rebased.stdout
    assert [c["app"] for c in served] == [fake, fake]


@pytest.mark.parametrize("port", ["0", "65536", "99999"])
def test_serve_refuses_a_port_out_of_range(served: list[dict[str, Any]], port: str) -> None:
    done = invoke(["serve", "--port", port])
    assert done.exit_code == 2 and "Invalid value for '--port'" in done.output
    assert served == []


@pytest.mark.parametrize(
    ("env", "shown"),
    [
        (
            {"CALLHOLD_TWILIO_ACCOUNT_SID": SID},
            "CALLHOLD_TWILIO_ACCOUNT_SID is set but CALLHOLD_TWILIO_AUTH_TOKEN is not",
        ),
        (
            {"CALLHOLD_TWILIO_AUTH_TOKEN": TOKEN},
            "CALLHOLD_TWILIO_AUTH_TOKEN is set but CALLHOLD_TWILIO_ACCOUNT_SID is not",
        ),
        (
            {"CALLHOLD_TWILIO_API_BASE_URL": "http://127.0.0.1:8765"},
            "CALLHOLD_TWILIO_API_BASE_URL is set but CALLHOLD_TWILIO_ACCOUNT_SID and "
            "CALLHOLD_TWILIO_AUTH_TOKEN are not",
        ),
        (
            {"CALLHOLD_TWILIO_ACCOUNT_SID": SID, "CALLHOLD_TWILIO_API_BASE_URL": "http://127.0.0.1:8765"},
            "CALLHOLD_TWILIO_ACCOUNT_SID is set but CALLHOLD_TWILIO_AUTH_TOKEN is not",
        ),
    ],
)
def test_a_half_configured_twilio_refuses_to_start(
    served: list[dict[str, Any]], env: dict[str, str], shown: str
) -> None:
    (line,) = lines_of(invoke(["serve"], **env), 2)
    assert line.startswith(shown), line
    assert served == []


def test_twilio_is_configured_all_or_nothing() -> None:
    assert not Settings().uses_real_twilio
    assert not Settings(twilio_account_sid="", twilio_auth_token="").uses_real_twilio  # type: ignore[arg-type]
    both = Settings(
        twilio_account_sid=SID,
        twilio_auth_token=TOKEN,  # type: ignore[arg-type]
        admin_token=ADMIN,  # type: ignore[arg-type]
        public_base_url="https://callhold.example.com",
    )
    assert both.uses_real_twilio
    rebased = Settings(
        twilio_account_sid=SID,
        twilio_auth_token=TOKEN,  # type: ignore[arg-type]
        twilio_api_base_url="http://127.0.0.1:8765",
        admin_token=ADMIN,  # type: ignore[arg-type]
    )
    assert rebased.uses_real_twilio
    for half in (
        {"twilio_account_sid": SID},
        {"twilio_auth_token": TOKEN},
        {"twilio_api_base_url": "http://x"},
    ):
        with pytest.raises(ValidationError, match="is set but"):
            Settings(**half)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("public", "why"),
    [
        ("http://127.0.0.1:8000", "is this machine"),  # the default
        ("http://localhost:8000", "is this machine"),
        ("https://[::1]/callhold", "is this machine"),
        ("http://0.0.0.0:8000", "is this machine"),
        ("http://10.1.2.3:8000", "is a private address"),
        ("https://192.168.0.7", "is a private address"),
        ("http://169.254.0.9", "is a private address"),
    ],
)
def test_real_twilio_refuses_a_public_base_url_it_could_never_reach(
    served: list[dict[str, Any]], public: str, why: str
) -> None:
    """Twilio would be given hold music, actions and callbacks it cannot fetch: silence, or "an
    application error has occurred" on every call. A standalone voicesim on this machine can."""
    env = {
        "CALLHOLD_TWILIO_ACCOUNT_SID": SID,
        "CALLHOLD_TWILIO_AUTH_TOKEN": TOKEN,
        "CALLHOLD_ADMIN_TOKEN": ADMIN,
        "CALLHOLD_PUBLIC_BASE_URL": public,
    }
    (line,) = lines_of(invoke(["serve"], **env), 2)
    assert line.startswith(f"CALLHOLD_PUBLIC_BASE_URL {public} {why}: with real Twilio it must be"), line
    assert served == []
    rebased = invoke(["serve", "--port", "8738"], **env, CALLHOLD_TWILIO_API_BASE_URL="http://127.0.0.1:8739")
    assert rebased.exit_code == 0, rebased.output
    public_name = invoke(
        ["serve", "--port", "8738"], **{**env, "CALLHOLD_PUBLIC_BASE_URL": "https://a.ngrok.app"}
    )
    assert public_name.exit_code == 0, public_name.output
    assert len(served) == 2


def test_the_demos_settings_ignore_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLHOLD_DISPATCH_EVERY", "1")
    monkeypatch.setenv("CALLHOLD_CALLER_ID", "+15559999999")
    with pytest.raises(ValidationError):
        Settings()
    fixed = FixedSettings(max_hold=120)
    assert (fixed.dispatch_every, fixed.caller_id, fixed.max_hold) == (15, "+15550001000", 120)


def test_the_demo_runs_whatever_the_environment_says(tmp_path: Path) -> None:
    """Server-only settings, even bad or half-configured ones, are not the demo's business."""
    out = tmp_path / "d.html"
    done = invoke(
        ["demo", "--strategy", "legs", "--out", str(out)],
        CALLHOLD_DISPATCH_EVERY="1",
        CALLHOLD_TWILIO_ACCOUNT_SID=SID,
        CALLHOLD_CALLER_ID="+15559999999",
        CALLHOLD_HOLD_MUSIC_URL="http://127.0.0.1:1/nothing.mp3",
    )
    assert done.exit_code == 0, done.output
    assert "legs strategy" in done.stdout and out.exists()


@pytest.mark.parametrize(
    ("where", "reason"), [("missing/x.html", "No such file or directory"), (".", "it is a directory")]
)
def test_demo_refuses_an_unwritable_out_before_running(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, where: str, reason: str
) -> None:
    from callhold import demo

    ran: list[Path] = []

    async def run_demo(out: Path, *args: Any) -> None:
        ran.append(out)

    monkeypatch.setattr(demo, "run_demo", run_demo)
    out = tmp_path / where
    (line,) = lines_of(invoke(["demo", "--out", str(out)]), 2)
    assert line == f"cannot write {out}: {reason}"
    assert ran == []


def test_demo_leaves_no_file_behind_when_checking_out(tmp_path: Path) -> None:
    startup.check_writable(tmp_path / "new.html")
    assert list(tmp_path.iterdir()) == []
    kept = tmp_path / "kept.html"
    kept.write_text("before")
    startup.check_writable(kept)
    assert kept.read_text() == "before"


def test_version() -> None:
    done = invoke(["--version"])
    assert done.exit_code == 0 and done.stdout == f"callhold {callhold.__version__}\n"
