"""Running the ``callhold`` command in process, on a clean ``CALLHOLD_*`` environment."""

from __future__ import annotations

from typer.testing import CliRunner, Result

from callhold.cli import app

CLEAN_ENV = {  # whatever the machine running the tests has set, these commands see none of it
    "CALLHOLD_TWILIO_ACCOUNT_SID": None,
    "CALLHOLD_TWILIO_AUTH_TOKEN": None,
    "CALLHOLD_TWILIO_API_BASE_URL": None,
    "CALLHOLD_PUBLIC_BASE_URL": None,
    "CALLHOLD_DATABASE_URL": None,
    "CALLHOLD_ADMIN_TOKEN": None,
    "CALLHOLD_HOLD_MUSIC_URL": None,
    "CALLHOLD_MIGRATE_ON_START": None,
    "CALLHOLD_LOG_LEVEL": None,
    "COLUMNS": "100",
}


def invoke(args: list[str], **env: str) -> Result:
    """``callhold *args`` with ``env`` on top of a clean ``CALLHOLD_*`` environment."""
    return CliRunner().invoke(app, args, env={**CLEAN_ENV, **env})


def lines_of(result: Result, code: int) -> list[str]:
    """The command exited with ``code`` by itself, no traceback: its stderr lines."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result.stderr.splitlines()
