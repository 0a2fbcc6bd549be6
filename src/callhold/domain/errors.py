"""The one error tree of callhold.

::

    CallholdError
    ├── Invalid                    malformed input (a SID of the wrong shape, ...)      -> 422
    ├── NotFound                   unknown call, leg, hold or agent                      -> 404
    ├── Forbidden                  an agent acting on a call that is not its own         -> 403
    ├── Conflict                   the request does not fit the call's current state    -> 409
    │   ├── NotHeld                resume asked, but no hold is in place
    │   ├── NotConnected           the parties are not (yet) connected, nothing to hold
    │   │   └── ConferenceNotStarted   conference strategy, conference not started yet
    │   ├── CallEnded              the call is over
    │   └── WrongStrategy          the operation needs the other strategy (e.g. mute on legs)
    └── TelephonyError             Twilio (or voicesim) refused a command; carries code/status

The HTTP status in the right-hand column is what the API layer maps each class to.
"""

from __future__ import annotations

__all__ = [
    "CallEnded",
    "CallholdError",
    "ConferenceNotStarted",
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotConnected",
    "NotFound",
    "NotHeld",
    "TelephonyError",
    "WrongStrategy",
]

# Twilio error codes meaning "that call (or participant) is not there any more".
_GONE_CODES = frozenset({20404, 21220})


_LABEL_IN_USE = 16025
"""Twilio's error for a Participants create whose ``Label`` another participant already has."""


class CallholdError(Exception):
    """Root of every error callhold raises on purpose."""


class Invalid(CallholdError, ValueError):
    """Malformed input, such as a SID that does not have the ``CA``/``CF`` + 32 hex shape."""


class NotFound(CallholdError):
    """An unknown call, leg, hold or agent."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} not found")
        self.kind = kind
        self.key = key


class Forbidden(CallholdError):
    """The caller may not act on this resource (an agent token on another agent's call)."""


class Conflict(CallholdError):
    """The request does not fit the current state of the call."""


class NotHeld(Conflict):
    """Resume was requested but the call is not on hold."""


class NotConnected(Conflict):
    """The parties are not connected yet (or any more), so there is nothing to hold."""


class ConferenceNotStarted(NotConnected):
    """Conference strategy: the conference has not started, so no participant can be held yet."""


class CallEnded(Conflict):
    """The call is over."""


class WrongStrategy(Conflict):
    """The operation exists only for the other strategy (mute, add or remove a party need a conference)."""


class TelephonyError(CallholdError):
    """Twilio refused a command. ``code`` is Twilio's error code, ``status`` the HTTP status.

    ``uncertain``: the request was sent but no answer came back (a timeout, a dropped connection), or
    Twilio answered a server error (500, 502, 504; ``status`` kept), so Twilio may have carried it
    out: "nothing moved" is not safe to assume, as it is for a refusal.
    """

    def __init__(
        self, message: str, *, code: int | None = None, status: int | None = None, uncertain: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.uncertain = uncertain

    @property
    def label_in_use(self) -> bool:
        """True for 16025: the conference already has a participant with that label (dialled by an
        earlier attempt of the same request)."""
        return self.code == _LABEL_IN_USE

    @property
    def call_gone(self) -> bool:
        """True when the error means the target call or participant has already ended.

        21220 (invalid call state: a race with a call that ended, pitfall 5) and 20404 (not found: the
        participant left or the call does not exist).
        """
        return self.code in _GONE_CODES

    def __repr__(self) -> str:
        uncertain = ", uncertain=True" if self.uncertain else ""
        return f"TelephonyError({self.message!r}, code={self.code!r}, status={self.status!r}{uncertain})"

    def _key(self) -> tuple[str, int | None, int | None, bool]:
        return (self.message, self.code, self.status, self.uncertain)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TelephonyError):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())
