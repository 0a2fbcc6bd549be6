"""``/Calls``: create, fetch, list, update (redirect, hang up, cancel), delete (reference §5)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from voicesim.calls import TERMINAL_STATUSES, Call, Source
from voicesim.emulator import Emulator
from voicesim.rest.app import API_PREFIX, Reply, Request
from voicesim.rest.errors import InvalidCallState, InvalidParameter, NotFound, TwilioError
from voicesim.rest.params import Params
from voicesim.rest.render import call_json, page
from voicesim.sids import is_sid

__all__ = ["ROUTES", "address_ok"]

#: ``Twiml`` may be at most this long (reference §5.1).
MAX_TWIML = 4000
STATUS_CALLBACK_EVENTS = frozenset({"initiated", "ringing", "answered", "completed"})
CALL_STATUSES = frozenset({"queued", "ringing", "in-progress", *TERMINAL_STATUSES})
_PHONE = re.compile(r"^\+?[0-9]{3,15}$")
_CLIENT = re.compile(r"^client:[A-Za-z0-9_.@\-]{1,256}$")


def address_ok(value: str) -> bool:
    """A phone number (E.164 or digits), ``client:name`` or ``sip:...`` address."""
    return bool(_PHONE.match(value) or _CLIENT.match(value) or value.startswith("sip:"))


def _call(emu: Emulator, request: Request) -> Call:
    sid = request.path_params["Sid"]
    call = emu.calls.get(sid) if is_sid(sid, "CA") else None
    if call is None:
        raise NotFound(request.path)
    return call


def _events(emu: Emulator, params: Params) -> frozenset[str] | None:
    """StatusCallbackEvent values; None when malformed (Twilio: 201, alert 21626, no callbacks)."""
    raw = params.getall("StatusCallbackEvent")
    if not raw:
        return frozenset({"completed"})
    values = {v.strip() for item in raw for v in item.split(" ") if v.strip()}
    if not values <= STATUS_CALLBACK_EVENTS:
        return None
    return frozenset(values)


def _source(params: Params) -> Source | None:
    url = params.url("Url")
    method = params.method("Method")
    if url is not None:
        return Source(url=url, method=method)
    twiml = params.get("Twiml")
    if twiml:
        if len(twiml) > MAX_TWIML:
            raise InvalidParameter(f"Twiml must be at most {MAX_TWIML} characters", 21205)
        return Source(twiml=twiml)
    return None


def create_call(emu: Emulator, request: Request) -> Reply:
    """``POST /Calls.json``: validate everything first, then place the call (201)."""
    params = request.form
    to, from_ = (params.get("To") or "").strip(), (params.get("From") or "").strip()
    if not to:
        raise InvalidParameter("A 'To' phone number is required.", 21201)
    if not from_:
        raise InvalidParameter("A 'From' phone number is required.", 21213)
    if not address_ok(to):
        raise InvalidParameter(f"The phone number you are attempting to call, {to}, is not valid.", 21211)
    if not address_ok(from_):
        raise InvalidParameter(f"The source phone number provided, {from_}, is not valid.", 21212)
    source = _source(params)
    if source is None:
        if params.get("ApplicationSid"):
            raise InvalidParameter("ApplicationSid is not supported by voicesim; use Url or Twiml", 21205)
        raise InvalidParameter("Url parameter is required.", 21205)
    events = _events(emu, params)
    fields = {
        "fallback_url": params.url("FallbackUrl"),
        "fallback_method": params.method("FallbackMethod"),
        "status_callback": params.url("StatusCallback"),
        "status_callback_method": params.method("StatusCallbackMethod"),
        "status_callback_events": events if events is not None else frozenset(),
        "timeout": params.integer("Timeout", 60, 1, 600, 21216),
        "time_limit": params.integer("TimeLimit", 14400, 1, 86400),
        "url": source.url,
        "method": source.method,
        "twiml": source.twiml,
    }
    call = emu.create_call(to=to, from_=from_, source=source, **fields)
    if events is None:
        emu.alert(21626, "Invalid StatusCallbackEvent; no status callbacks will be sent", call_sid=call.sid)
    return Reply(201, call_json(emu, call))


def fetch_call(emu: Emulator, request: Request) -> Reply:
    """``GET /Calls/{Sid}.json``."""
    return Reply(200, call_json(emu, _call(emu, request)))


def _day(value: str, key: str) -> str:
    try:
        return datetime.strptime(value[:10], "%Y-%m-%d").date().isoformat()
    except ValueError:
        raise InvalidParameter(f"{key} must be a date YYYY-MM-DD, not {value!r}") from None


def list_calls(emu: Emulator, request: Request) -> Reply:
    """``GET /Calls.json`` with To/From/Status/ParentCallSid/StartTime/EndTime filters, newest first."""
    query = request.query
    calls = emu.calls.all()
    for key, attr in (("To", "to"), ("From", "from_"), ("ParentCallSid", "parent_call_sid")):
        wanted = query.get(key)
        if wanted:
            calls = [c for c in calls if getattr(c, attr) == wanted]
    status = query.get("Status")
    if status:
        if status not in CALL_STATUSES:
            raise InvalidParameter(f"Status must be one of {', '.join(sorted(CALL_STATUSES))}")
        calls = [c for c in calls if c.status == status]
    for key, attr in (("StartTime", "start_time"), ("EndTime", "end_time")):
        for suffix, keep in (("", "=="), ("<", "<="), (">", ">=")):
            raw = query.get(key + suffix)
            if not raw:
                continue
            day = _day(raw, key + suffix)

            def on(c: Call, attr: str = attr) -> str | None:
                when = getattr(c, attr)
                return None if when is None else datetime.fromtimestamp(when, UTC).date().isoformat()

            calls = [c for c in calls if (d := on(c)) is not None and _compare(d, keep, day)]
    return Reply(200, page(emu, request, "calls", calls, call_json))


def _compare(left: str, op: str, right: str) -> bool:
    return left == right if op == "==" else (left <= right if op == "<=" else left >= right)


def update_call(emu: Emulator, request: Request) -> Reply:
    """``POST /Calls/{Sid}.json``: redirect (Url/Twiml), Status=completed|canceled, callbacks."""
    call = _call(emu, request)
    params = request.form
    status = params.get("Status")
    if status is not None and status not in ("completed", "canceled"):
        raise InvalidParameter(f"Status must be completed or canceled, not {status!r}")
    source = _source(params)
    fallback_url = params.url("FallbackUrl")
    fallback_method = params.method("FallbackMethod")
    status_callback = params.url("StatusCallback")
    status_callback_method = params.method("StatusCallbackMethod")
    if call.is_terminal:
        raise InvalidCallState()
    if source is not None and status is None and call.status != "in-progress":
        raise InvalidCallState()
    # Everything is valid: apply.
    if fallback_url is not None:
        call.fallback_url, call.fallback_method = fallback_url, fallback_method
    if status_callback is not None:
        call.status_callback, call.status_callback_method = status_callback, status_callback_method
    if status == "completed":
        emu.calls.complete(call, "completed", by="api")
    elif status == "canceled":
        if call.status in ("queued", "ringing"):  # no effect on calls in progress (reference §5.2)
            emu.calls.complete(call, "canceled", by="api")
    elif source is not None:
        call.url, call.method, call.twiml = source.url, source.method, source.twiml
        emu.calls.redirect(call, source)
    call.date_updated = emu.clock.now()
    return Reply(200, call_json(emu, call))


def delete_call(emu: Emulator, request: Request) -> Reply:
    """``DELETE /Calls/{Sid}.json``: delete the record of a call that has ended (204)."""
    call = _call(emu, request)
    if not call.is_terminal:
        raise TwilioError("Cannot delete a call that is still in progress; complete it first", code=21220)
    call.deleted = True
    return Reply(204)


_BASE = f"{API_PREFIX}/Accounts/{{AccountSid}}/Calls"
ROUTES = [
    ("POST", f"{_BASE}.json", create_call),
    ("GET", f"{_BASE}.json", list_calls),
    ("GET", f"{_BASE}/{{Sid}}.json", fetch_call),
    ("POST", f"{_BASE}/{{Sid}}.json", update_call),
    ("DELETE", f"{_BASE}/{{Sid}}.json", delete_call),
]
