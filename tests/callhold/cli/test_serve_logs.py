"""``callhold serve``'s logging: one line per record with time, level and logger name; an access log
without query strings, where Twilio puts callers' numbers; ``caplog`` unaffected."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
from tests.callhold.cli.cli_runs import invoke

from callhold import logs
from callhold.logs import LogLevel

STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
# Twilio appends its parameters to the query of each GET it makes: the hold-music loop, say.
HOLD_LOOP = "/twiml/hold-music/h1?Caller=%2B15557654321&From=%2B15557654321&CallSid=CA" + "1" * 32


def access(path: str) -> None:
    """Log an access line exactly as uvicorn does (``uvicorn.protocols.http``)."""
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "10.0.0.7:51234", "GET", path, "1.1", 200
    )


def test_the_access_log_leaves_out_query_strings(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure(LogLevel.INFO)
    access(HOLD_LOOP)
    (line,) = capsys.readouterr().err.splitlines()
    assert re.fullmatch(
        rf'{STAMP} INFO uvicorn\.access: 10\.0\.0\.7:51234 - "GET /twiml/hold-music/h1 HTTP/1\.1" 200', line
    ), line


def test_callholds_own_lines_have_time_level_and_logger(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure(LogLevel.INFO)
    logging.getLogger("callhold.dispatch").info("call c1 waited while agent alice was free: handed over")
    logging.getLogger("callhold.dispatch").debug("not at info")
    (line,) = capsys.readouterr().err.splitlines()
    assert re.fullmatch(rf"{STAMP} INFO callhold\.dispatch: call c1 waited .* handed over", line), line
    logs.configure(LogLevel.DEBUG)
    logging.getLogger("callhold.dispatch").debug("at debug")
    assert capsys.readouterr().err.endswith("DEBUG callhold.dispatch: at debug\n")


def test_caplog_still_sees_the_records(caplog: pytest.LogCaptureFixture) -> None:
    """The handlers are on callhold's and uvicorn's loggers, which still propagate: a root handler
    (pytest's, an embedding application's) sees every record -- the access line without its query."""
    logs.configure(LogLevel.INFO)
    caplog.set_level(logging.INFO)
    logging.getLogger("callhold.service").warning("command RedirectLeg failed")
    access(HOLD_LOOP)
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        ("callhold.service", "command RedirectLeg failed"),
        ("uvicorn.access", '10.0.0.7:51234 - "GET /twiml/hold-music/h1 HTTP/1.1" 200'),
    ]


@pytest.mark.parametrize(("env", "level"), [({}, "info"), ({"CALLHOLD_LOG_LEVEL": "DEBUG"}, "debug")])
def test_serve_logs_at_the_level_asked(
    served: list[dict[str, Any]], tmp_path: Path, env: dict[str, str], level: str
) -> None:
    done = invoke(["serve"], CALLHOLD_DATABASE_URL=f"sqlite:///{tmp_path}/l.db", **env)
    assert done.exit_code == 0, done.output
    [run] = served
    assert (run["log_level"], run["log_config"]) == (level, None)  # uvicorn keeps callhold's logging
    assert logging.getLogger("callhold").level == logging.getLevelName(level.upper())
    assert re.search(
        rf"^{STAMP} INFO callhold\.startup: database sqlite:///.* is at schema revision ", done.stderr, re.M
    )


def test_serve_refuses_an_unknown_log_level(served: list[dict[str, Any]]) -> None:
    done = invoke(["serve", "--log-level", "loud"])
    assert done.exit_code == 2 and "Invalid value for '--log-level'" in done.output
    assert served == []
