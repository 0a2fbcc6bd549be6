"""``/Calls``: create, fetch, list, update (redirect, hang up, cancel, TimeLimit), delete (reference §5).

Error codes are Twilio's: ``Timeout`` out of range is 21208 "Invalid Timeout" and a ``Method``,
``FallbackMethod`` or ``StatusCallbackMethod`` other than GET/POST is 21209 "Invalid Method"
(https://www.twilio.com/docs/api/errors/21208, .../21209); deleting a call that has not ended is 20009
"Cannot delete this resource before it is complete" (.../20009); a bad ``TimeLimit`` is 13216, which
is what Twilio answered to a Calls create with an invalid TimeLimit (twilio/twilio-go#258).

Choices where the sources are silent, and deliberate leniencies:

* ``Timeout`` above 600 is refused with 21208 rather than capped. The spec says "the maximum is 600
  seconds" while the 21208 page says "any positive, whole integer" may be given, so Twilio may cap
  instead; a refusal shows the mistake locally.
* ``TimeLimit`` is 1..86400 (up to the 24-hour maximum an account can enable; Twilio's blog on
  configurable call limits gives one minute as the smallest, voicesim accepts shorter ones for tests).
  What it does is described in :mod:`voicesim.calls`.
* **Leniency: ``From`` is not checked against the account.** Twilio refuses a ``From`` that is neither
  one of the account's numbers nor a verified caller ID (21210, reference §1.2 and §5.5); voicesim
  accepts any well-formed address (21212 otherwise), because it has no verified caller IDs and its
  users, callhold's own tests among them, place calls from numbers they never bought. Code that must
  catch a wrong caller ID has to be tried against Twilio.
* Date filters (``StartTime``, ``EndTime``, each also with ``<``/``>``) read only the date part,
  ``YYYY-MM-DD`` in UTC, as the spec documents; a time the SDK appends is ignored (whether Twilio
  honours it is not documented). See :func:`_date_filter`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from voicesim.calls import DEFAULT_TIME_LIMIT, TERMINAL_STATUSES, Call, Source
from voicesim.emulator import Emulator
from voicesim.rest.app import API_PREFIX, Reply, Request
from voicesim.rest.errors import InvalidCallState, InvalidParameter, NotFound, TwilioError
from voicesim.rest.params import Params
from voicesim.rest.render import call_json, page
from voicesim.sids import is_sid

__all__ = ["MAX_TIME_LIMIT", "ROUTES", "address_ok", "time_limit"]

#: ``Twiml`` may be at most this long (reference §5.1).
MAX_TWIML = 4000
#: The longest ``TimeLimit``: 24 hours, the most an account can enable (see the module docstring).
MAX_TIME_LIMIT = 86400
#: Twilio's code for an invalid ``TimeLimit`` (twilio/twilio-go#258) and for an invalid method.
INVALID_TIME_LIMIT, INVALID_METHOD = 13216, 21209
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


def time_limit(params: Params, default: int | None = DEFAULT_TIME_LIMIT) -> int | None:
    """``TimeLimit`` in seconds (1..86400), ``default`` when absent; 13216 when invalid."""
    if not params.get("TimeLimit"):
        return default
    return params.integer("TimeLimit", DEFAULT_TIME_LIMIT, 1, MAX_TIME_LIMIT, INVALID_TIME_LIMIT)


def _source(params: Params) -> Source | None:
    url = params.url("Url")
    method = params.method("Method", code=INVALID_METHOD)
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
        "fallback_method": params.method("FallbackMethod", code=INVALID_METHOD),
        "status_callback": params.url("StatusCallback"),
        "status_callback_method": params.method("StatusCallbackMethod", code=INVALID_METHOD),
        "status_callback_events": events if events is not None else frozenset(),
        "timeout": params.integer("Timeout", 60, 1, 600, 21208),
        "time_limit": time_limit(params),
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


def _date_filter(query: Params, key: str) -> Callable[[float], bool] | None:
    """The test of one ``StartTime``/``EndTime`` filter (``key`` ending in ``<``, ``>`` or neither).

    The OAI spec: ``StartTime`` "started on this date", ``StartTime<`` "started before this date",
    ``StartTime>`` "started on or after this date" (``EndTime`` alike), the date being
    ``YYYY-MM-DD`` in UTC. On the wire ``StartTime<`` reads ``StartTime<=``, and the Conferences list
    says what that means: "on or before midnight of this date". So ``<`` keeps what happened at or
    before 00:00:00 of that day -- nothing later that day (a live check agrees: a call started later on
    the day named is not returned, https://github.com/saintpete/twilio-go/issues/8) -- and ``>`` keeps
    what happened at or after its midnight; ``=`` is the whole day.
    """
    raw = query.get(key)
    if not raw:
        return None
    try:
        day = datetime.strptime(raw[:10], "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidParameter(f"{key} must be a date YYYY-MM-DD, not {raw!r}") from None
    midnight = day.timestamp()
    if key.endswith("<"):
        return lambda when: when <= midnight
    if key.endswith(">"):
        return lambda when: when >= midnight
    return lambda when: midnight <= when < midnight + 86400


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
        for suffix in ("", "<", ">"):
            keep = _date_filter(query, key + suffix)
            if keep is not None:
                calls = [c for c in calls if (when := getattr(c, attr)) is not None and keep(when)]
    return Reply(200, page(emu, request, "calls", calls, call_json))


def update_call(emu: Emulator, request: Request) -> Reply:
    """``POST /Calls/{Sid}.json``: redirect (Url/Twiml), Status=completed|canceled, callbacks, TimeLimit.

    A ``TimeLimit`` replaces the call's maximum duration, still counted from its answer
    (:mod:`voicesim.calls`).
    """
    call = _call(emu, request)
    params = request.form
    status = params.get("Status")
    if status is not None and status not in ("completed", "canceled"):
        raise InvalidParameter(f"Status must be completed or canceled, not {status!r}")
    source = _source(params)
    fallback_url = params.url("FallbackUrl")
    fallback_method = params.method("FallbackMethod", code=INVALID_METHOD)
    status_callback = params.url("StatusCallback")
    status_callback_method = params.method("StatusCallbackMethod", code=INVALID_METHOD)
    new_time_limit = time_limit(params, None)
    if call.is_terminal:
        raise InvalidCallState()
    if source is not None and status is None and call.status != "in-progress":
        raise InvalidCallState()
    # Everything is valid: apply.
    if fallback_url is not None:
        call.fallback_url, call.fallback_method = fallback_url, fallback_method
    if status_callback is not None:
        call.status_callback, call.status_callback_method = status_callback, status_callback_method
    if new_time_limit is not None:
        emu.calls.set_time_limit(call, new_time_limit)
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
    """``DELETE /Calls/{Sid}.json``: delete the record of a call that has ended (204); 20009 before."""
    call = _call(emu, request)
    if not call.is_terminal:
        raise TwilioError(
            "Cannot delete this resource before it is complete: the call has not ended", code=20009
        )
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
