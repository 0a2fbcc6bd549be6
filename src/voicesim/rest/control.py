"""``/_voicesim/...``: the control API -- reset, seed, clock, phones, inbound calls, logs, timelines.

Not part of Twilio; it is how a test or a person drives the simulated world over HTTP. It uses the
same Basic auth as the REST API and accepts JSON or form bodies.
"""

from __future__ import annotations

import math
from typing import Any

from voicesim.clock import StillBusy, VirtualClock
from voicesim.emulator import Emulator
from voicesim.phones import OUTCOMES, PhoneScript
from voicesim.report import render_text, timeline_json
from voicesim.rest.app import Reply, Request
from voicesim.rest.errors import InvalidParameter, NotFound, TwilioError
from voicesim.rest.render import call_json

__all__ = ["ROUTES"]

P = "/_voicesim"


def _virtual(emu: Emulator) -> VirtualClock:
    if not isinstance(emu.clock, VirtualClock):
        raise TwilioError(
            "This emulator runs on a real-time clock; only a virtual clock can be moved", status=409
        )
    return emu.clock


def _clock_json(emu: Emulator) -> dict[str, Any]:
    return {
        "now": emu.clock.now(),
        "iso": emu.clock.now_datetime().isoformat(),
        "virtual": isinstance(emu.clock, VirtualClock),
        "pending": emu.clock.pending,
    }


def reset(emu: Emulator, request: Request) -> Reply:
    """Forget everything; optional ``seed`` restarts SIDs."""
    seed = request.params.integer("seed", 0, 0, 2**63 - 1)
    emu.reset(seed)
    return Reply(200, {"reset": True, "seed": seed})


def get_clock(emu: Emulator, request: Request) -> Reply:
    """The current time."""
    return Reply(200, _clock_json(emu))


async def advance(emu: Emulator, request: Request) -> Reply:
    """Move a virtual clock by ``seconds``."""
    raw = request.params.get("seconds")
    try:
        seconds = float(raw or "")
    except ValueError:
        raise InvalidParameter("seconds must be a number") from None
    if not 0 <= seconds <= 7 * 86400:
        raise InvalidParameter("seconds must be between 0 and 604800")
    await _virtual(emu).advance(seconds)
    return Reply(200, _clock_json(emu))


async def run_until_idle(emu: Emulator, request: Request) -> Reply:
    """Run a virtual clock until nothing is scheduled (409 if still busy after ``limit``)."""
    limit = request.params.integer("limit", 4 * 3600, 1, 7 * 86400)
    try:
        await _virtual(emu).run_until_idle(limit)
    except StillBusy as exc:
        raise TwilioError(str(exc), status=409) from None
    return Reply(200, _clock_json(emu))


def _script_json(address: str, script: PhoneScript) -> dict[str, Any]:
    return {
        "address": address,
        "outcome": script.outcome,
        "answer_after": script.answer_after,
        "hang_up_after": script.hang_up_after,
        "presses": [[at, digits] for at, digits in script.presses],
    }


def list_phones(emu: Emulator, request: Request) -> Reply:
    """Every scripted phone."""
    return Reply(200, {"phones": [_script_json(a, s) for a, s in emu.phones.scripts.items()]})


def put_phone(emu: Emulator, request: Request) -> Reply:
    """Script the phone at ``{Address}`` (JSON: outcome, answer_after, hang_up_after, presses)."""
    params = request.params
    doc = request.json_body if isinstance(request.json_body, dict) else {}
    outcome = params.get("outcome", "answer") or "answer"
    if outcome not in OUTCOMES:
        raise InvalidParameter(f"outcome must be one of {', '.join(OUTCOMES)}")
    try:
        presses = tuple((float(at), str(d)) for at, d in doc.get("presses", []))
        hang = params.get("hang_up_after")
        script = PhoneScript(
            outcome=outcome,  # type: ignore[arg-type]
            answer_after=float(params.get("answer_after") or 3.0),
            hang_up_after=float(hang) if hang not in (None, "") else None,
            presses=presses,
        )
    except (TypeError, ValueError) as exc:
        raise InvalidParameter(f"invalid phone script: {exc}") from None
    times = [script.answer_after, script.hang_up_after or 0.0, *(at for at, _ in presses)]
    if not all(math.isfinite(t) for t in times):  # NaN or inf would poison the scheduler's heap
        raise InvalidParameter("invalid phone script: times must be finite numbers")
    address = request.path_params["Address"]
    emu.phones.script(address, script)
    return Reply(200, _script_json(address, script))


def _live_call(emu: Emulator, request: Request) -> Any:
    call = emu.calls.get(request.path_params["Sid"])
    if call is None:
        raise NotFound(request.path)
    return call


def inbound_call(emu: Emulator, request: Request) -> Reply:
    """A phone (``From``) calls one of the account's numbers (``To``)."""
    params = request.params
    from_, to = params.get("From"), params.get("To")
    if not from_ or not to:
        raise InvalidParameter("From and To are required", 21201)
    if emu.number_for(to) is None:
        raise InvalidParameter(f"{to} is not an IncomingPhoneNumber of this account", 21211)
    call = emu.inbound_call(from_, to)
    return Reply(201, call_json(emu, call))


def hang_up(emu: Emulator, request: Request) -> Reply:
    """The far end of a call hangs up."""
    call = _live_call(emu, request)
    emu.hang_up(call.sid)
    return Reply(200, call_json(emu, call))


def press(emu: Emulator, request: Request) -> Reply:
    """The far end of a call presses ``Digits``."""
    call = _live_call(emu, request)
    digits = request.params.get("Digits") or ""
    if not digits or any(d not in "0123456789*#" for d in digits):
        raise InvalidParameter("Digits must be 0-9, * or #")
    emu.press(call.sid, digits)
    return Reply(200, call_json(emu, call))


def events(emu: Emulator, request: Request) -> Reply:
    """The event log from ``since`` (a sequence number)."""
    since = request.query.integer("since", 0, 0, 2**62)
    wanted = request.query.get("type")
    found = [e.as_dict() for e in emu.events[since:] if wanted is None or e.type == wanted]
    return Reply(200, {"events": found, "next": len(emu.events)})


def alerts(emu: Emulator, request: Request) -> Reply:
    """Every Debugger alert."""
    return Reply(
        200,
        {
            "alerts": [
                {
                    "sid": a.sid,
                    "time": a.time,
                    "error_code": a.error_code,
                    "message": a.message,
                    "call_sid": a.call_sid,
                    "url": a.url,
                }
                for a in emu.alerts
            ]
        },
    )


def timelines(emu: Emulator, request: Request) -> Reply:
    """Every call's timeline (``?format=text`` for the readable rendering)."""
    if request.query.get("format") == "text":
        return Reply(200, render_text(emu), "text/plain; charset=utf-8")
    return Reply(200, {"timelines": [timeline_json(emu, c.sid) for c in reversed(emu.calls.all())]})


def timeline(emu: Emulator, request: Request) -> Reply:
    """One call's timeline."""
    call = _live_call(emu, request)
    if request.query.get("format") == "text":
        return Reply(200, render_text(emu, [call.sid]), "text/plain; charset=utf-8")
    return Reply(200, timeline_json(emu, call.sid))


ROUTES = [
    ("POST", f"{P}/reset", reset),
    ("GET", f"{P}/clock", get_clock),
    ("POST", f"{P}/clock/advance", advance),
    ("POST", f"{P}/clock/run-until-idle", run_until_idle),
    ("GET", f"{P}/phones", list_phones),
    ("PUT", f"{P}/phones/{{Address}}", put_phone),
    ("POST", f"{P}/inbound-calls", inbound_call),
    ("POST", f"{P}/calls/{{Sid}}/hangup", hang_up),
    ("POST", f"{P}/calls/{{Sid}}/digits", press),
    ("GET", f"{P}/events", events),
    ("GET", f"{P}/alerts", alerts),
    ("GET", f"{P}/timelines", timelines),
    ("GET", f"{P}/timelines/{{Sid}}", timeline),
]
