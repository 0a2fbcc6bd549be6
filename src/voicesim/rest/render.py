"""Resources rendered in Twilio's wire format: RFC 2822 dates, string durations, paging envelopes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from voicesim.calls import Call
from voicesim.emulator import Emulator
from voicesim.numbers import IncomingPhoneNumber, format_number
from voicesim.rest.app import API_PREFIX, Request
from voicesim.rest.errors import InvalidParameter

__all__ = ["account_uri", "call_json", "date", "number_json", "page"]

T = TypeVar("T")

#: Twilio's default and largest page sizes (reference §7).
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 1000

#: The Call's sub-resources, as the 2010-04-01 spec defines them (Feedback is no longer one).
CALL_SUBRESOURCES = (
    ("user_defined_messages", "UserDefinedMessages.json"),
    ("notifications", "Notifications.json"),
    ("recordings", "Recordings.json"),
    ("streams", "Streams.json"),
    ("payments", "Payments.json"),
    ("user_defined_message_subscriptions", "UserDefinedMessageSubscriptions.json"),
    ("siprec", "Siprec.json"),
    ("events", "Events.json"),
    ("transcriptions", "Transcriptions.json"),
)


def date(emu: Emulator, when: float | None) -> str | None:
    """RFC 2822 in GMT, or None."""
    return None if when is None else emu.rfc2822(when)


def account_uri(emu: Emulator) -> str:
    """``/2010-04-01/Accounts/AC...``."""
    return f"{API_PREFIX}/Accounts/{emu.account_sid}"


def call_json(emu: Emulator, call: Call) -> dict[str, Any]:
    """A Call resource."""
    base = f"{account_uri(emu)}/Calls/{call.sid}"
    # Empty while running and for calls never answered (busy, failed, no-answer, canceled; §5.4).
    duration = call.duration() if call.answered_at is not None else None
    return {
        "sid": call.sid,
        "date_created": date(emu, call.date_created),
        "date_updated": date(emu, call.date_updated),
        "parent_call_sid": call.parent_call_sid,
        "account_sid": call.account_sid,
        "to": call.to,
        "to_formatted": format_number(call.to),
        "from": call.from_,
        "from_formatted": format_number(call.from_),
        "phone_number_sid": call.phone_number_sid,
        "status": call.status,
        "start_time": date(emu, call.start_time),
        "end_time": date(emu, call.end_time),
        "duration": None if duration is None else str(duration),
        "price": None,
        "price_unit": "USD",
        "direction": call.direction,
        "answered_by": None,
        "api_version": "2010-04-01",
        "forwarded_from": call.forwarded_from,
        "group_sid": None,
        "caller_name": call.caller_name,
        "queue_time": call.queue_time,
        "trunk_sid": None,
        "uri": f"{base}.json",
        "subresource_uris": {key: f"{base}/{leaf}" for key, leaf in CALL_SUBRESOURCES},
    }


def number_json(emu: Emulator, number: IncomingPhoneNumber) -> dict[str, Any]:
    """An IncomingPhoneNumber resource (voice fields; messaging fields empty)."""
    base = f"{account_uri(emu)}/IncomingPhoneNumbers/{number.sid}"
    return {
        "account_sid": number.account_sid,
        "address_sid": None,
        "address_requirements": "none",
        "api_version": "2010-04-01",
        "beta": False,
        "capabilities": {"voice": True, "sms": False, "mms": False, "fax": False},
        "date_created": date(emu, number.date_created),
        "date_updated": date(emu, number.date_updated),
        "friendly_name": number.friendly_name,
        "identity_sid": None,
        "phone_number": number.phone_number,
        "origin": "twilio",
        "sid": number.sid,
        "sms_application_sid": None,
        "sms_fallback_method": "POST",
        "sms_fallback_url": None,
        "sms_method": "POST",
        "sms_url": None,
        "status_callback": number.status_callback,
        "status_callback_method": number.status_callback_method,
        "trunk_sid": None,
        "uri": f"{base}.json",
        "voice_receive_mode": "voice",
        "voice_application_sid": None,
        "voice_caller_id_lookup": False,
        "voice_fallback_method": number.voice_fallback_method,
        "voice_fallback_url": number.voice_fallback_url,
        "voice_method": number.voice_method,
        "voice_url": number.voice_url,
        "emergency_status": "Inactive",
        "emergency_address_sid": None,
        "emergency_address_status": "unregistered",
        "bundle_sid": None,
        "status": "in-use",
        "type": "local",
    }


def _too_large(raw: str | None) -> bool:
    try:
        return int(raw or 0) > MAX_PAGE_SIZE
    except ValueError:  # not an integer: the usual 400 (20001) follows
        return False


def page(
    emu: Emulator,
    request: Request,
    key: str,
    items: Sequence[T],
    render: Callable[[Emulator, T], dict[str, Any]],
) -> dict[str, Any]:
    """Twilio's list envelope: exactly one records key plus the paging keys.

    ``PageSize`` (1..1000, default 50), ``Page`` (from 0) and ``PageToken`` (``PT`` + the index of
    the page's first record, as our ``next_page_uri`` builds it) select the records. A ``PageSize``
    over 1000 is Twilio's 20007 "Page size too large. The maximum page size is 1000"
    (https://www.twilio.com/docs/api/errors/20007). Twilio may cap some lists instead (twilio-ruby#494
    read 10000 Accounts in one page); voicesim refuses, so ``list(limit=2000)`` (which the SDK sends as
    ``PageSize=2000``) fails here as it may on Twilio -- use ``page_size``.
    """
    query = request.query
    if _too_large(query.get("PageSize")):
        raise InvalidParameter(f"Page size too large. The maximum page size is {MAX_PAGE_SIZE}", 20007)
    size = query.integer("PageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    number = query.integer("Page", 0, 0, 1_000_000)
    token = query.get("PageToken")
    start = number * size
    if token:
        if not token.startswith("PT") or not token[2:].isdigit():
            raise InvalidParameter(f"Invalid PageToken {token!r}")
        start = int(token[2:])
    chunk = items[start : start + size]
    filters = [(k, v) for k, v in query.items if k not in ("PageSize", "Page", "PageToken")]

    def uri(page_number: int, first: int | None) -> str:
        params = [*filters, ("PageSize", str(size)), ("Page", str(page_number))]
        if first is not None:
            params.append(("PageToken", f"PT{first}"))
        return f"{request.path}?{urlencode(params)}"

    return {
        key: [render(emu, item) for item in chunk],
        "end": start + max(len(chunk) - 1, 0),
        "first_page_uri": uri(0, None),
        "next_page_uri": uri(number + 1, start + size) if start + size < len(items) else None,
        "page": number,
        "page_size": size,
        "previous_page_uri": uri(number - 1, max(start - size, 0)) if number > 0 else None,
        "start": start,
        "uri": f"{request.path}?{urlencode([*filters, ('PageSize', str(size)), ('Page', str(number))])}",
    }
