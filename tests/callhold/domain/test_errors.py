"""The error tree and how a Twilio error is read."""

from __future__ import annotations

import pytest

from callhold.domain import errors as e


@pytest.mark.parametrize(
    ("error", "parents"),
    [
        (e.NotHeld, (e.Conflict, e.CallholdError)),
        (e.ConferenceNotStarted, (e.NotConnected, e.Conflict, e.CallholdError)),
        (e.CallEnded, (e.Conflict,)),
        (e.WrongStrategy, (e.Conflict,)),
        (e.NotFound, (e.CallholdError,)),
        (e.Forbidden, (e.CallholdError,)),
        (e.Invalid, (e.CallholdError, ValueError)),
        (e.TelephonyError, (e.CallholdError,)),
    ],
)
def test_tree(error: type[Exception], parents: tuple[type[Exception], ...]) -> None:
    for parent in parents:
        assert issubclass(error, parent)


@pytest.mark.parametrize("error", [e.NotFound, e.Forbidden, e.TelephonyError, e.Invalid])
def test_only_conflicts_are_conflicts(error: type[Exception]) -> None:
    assert not issubclass(error, e.Conflict)


def test_every_class_is_drawn_in_the_docstring() -> None:
    assert e.__doc__ is not None
    for name in e.__all__:
        assert name in e.__doc__


@pytest.mark.parametrize(("code", "gone"), [(21220, True), (20404, True), (20503, False), (None, False)])
def test_telephony_error_call_gone(code: int | None, gone: bool) -> None:
    error = e.TelephonyError("x", code=code, status=400)
    assert error.call_gone is gone
    assert (error.code, error.status, str(error)) == (code, 400, "x")


def test_not_found_names_what() -> None:
    error = e.NotFound("call", "c1")
    assert (error.kind, error.key, str(error)) == ("call", "c1", "call 'c1' not found")
