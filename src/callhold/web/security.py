"""Who may call what: Twilio's signature on webhooks, bearer tokens on the JSON API.

* Webhooks: ``X-Twilio-Signature`` checked with the SDK's ``RequestValidator`` against the URL
  Twilio used -- the configured public base URL plus the path and query exactly as requested
  (%-escapes and all) -- so it works behind proxies and TLS terminators. Every value of a repeated
  key counts, as Twilio signs them. A body over :data:`MAX_WEBHOOK_BODY_BYTES` is refused (413)
  before any of it is hashed.
* API: ``Authorization: Bearer <token>``; the admin token sees everything, an agent's token only
  that agent's calls. Tokens are compared in constant time and stored hashed.

Every webhook pays for the check, so it is kept cheap (see :func:`verify_twilio_signature`): the
form is parsed with ``urllib.parse`` rather than Starlette's streaming parser, and the SDK computes
one HMAC for the URL as configured before trying the port variants.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from dataclasses import dataclass
from typing import cast
from urllib.parse import unquote_plus

from fastapi import HTTPException, Request
from starlette.datastructures import FormData, UploadFile
from starlette.types import Message
from twilio.request_validator import (
    HMAC_SHA1,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    compare,
    get_signature_algorithm,
)

__all__ = [
    "MAX_WEBHOOK_BODY_BYTES",
    "Principal",
    "SignedParams",
    "hash_token",
    "limit_body",
    "public_url",
    "verify_twilio_signature",
]

_log = logging.getLogger("callhold.webhooks")

#: The only body Twilio sends its voice webhooks with.
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
#: Starlette's own form limit on fields. A body past it is left to Starlette's parser, which refuses
#: it with 400 as it always has.
_MAX_FIELDS = 1000

MAX_WEBHOOK_BODY_BYTES = 64 * 1024
"""The largest webhook body read (a Twilio voice webhook is a few kB). Larger is 413, as the JSON
API's :class:`~callhold.web.routing.LimitedRoute` refuses a body past its own limit: by the declared
``Content-Length``, or while a streamed body is read -- before any signature is computed."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling the API: the admin, or one agent."""

    agent_id: str | None

    @property
    def is_admin(self) -> bool:
        """True for the admin token."""
        return self.agent_id is None


def hash_token(token: str) -> str:
    """The stored form of an API token (SHA-256 hex)."""
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_match(given: str, expected: str) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(given.encode(), expected.encode())


def public_url(request: Request, public_base_url: str) -> str:
    """The URL Twilio requested: public base URL + path + query (what the signature covers).

    The path is the one requested, %-escapes as sent (the ASGI ``raw_path``; the decoded ``path``
    only from a server that gives none): Twilio signs the URL as it requested it, and the decoded
    path would name the same resource by another URL. A target that is not UTF-8 is no URL anyone
    could have signed: 403.
    """
    scope = request.scope
    raw: bytes | None = scope.get("raw_path")
    query: bytes = scope.get("query_string", b"")
    try:
        path = request.url.path if raw is None else raw.partition(b"?")[0].decode()
        url = public_base_url.rstrip("/") + path
        return url + "?" + query.decode() if query else url
    except UnicodeDecodeError:
        raise _forbidden() from None


class SignedParams(dict[str, list[str]]):
    """A webhook's parameters as the SDK's ``compute_signature`` reads them: every value of each key.

    Twilio signs each value of a repeated key (``StatusCallbackEvent=a&StatusCallbackEvent=b``),
    sorted. The SDK asks ``params.getall(key)`` first (then ``getlist``, then ``params[key]``, each
    miss an exception); answering the first, from a dict built once, makes the check about three
    times cheaper than with Starlette's ``FormData`` (whose ``getlist`` scans every item per key).
    """

    def getall(self, key: str) -> list[str]:
        """Every value of ``key`` (the MultiDict method the SDK looks for)."""
        return self[key]


class _Refusals:
    """Logs refused webhooks, one line at most every :attr:`every` seconds (a flood of forged
    requests must not flood the log), saying how many went unlogged since. One per process, as the
    log it guards is the process's."""

    every = 10.0

    def __init__(self) -> None:
        self._logged_at = -math.inf
        self._unlogged = 0

    def note(self, why: str) -> None:
        """Log ``why`` (a webhook was refused, 403), unless a line was logged in the last ``every`` s."""
        now = time.monotonic()
        if now - self._logged_at < self.every:
            self._unlogged += 1
            return
        more = f" ({self._unlogged} more refused since the last such line)" if self._unlogged else ""
        _log.warning("webhook refused (403): %s%s", why, more)
        self._logged_at, self._unlogged = now, 0


_refusals = _Refusals()


def _forbidden() -> HTTPException:
    return HTTPException(status_code=403, detail="Invalid or missing X-Twilio-Signature")


def limit_body(request: Request, limit: int) -> Request:
    """``request``, refused by its declared ``Content-Length`` -- 413 past ``limit``, 400 if it is not
    a number (``"²"`` is a digit to ``str.isdigit`` but not to ``int``) -- or, read through the
    returned request, with 413 as soon as more than ``limit`` bytes arrived (a streamed body is not
    read past it)."""
    too_large = HTTPException(413, f"Request body larger than {limit} bytes")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            raise HTTPException(400, f"Malformed Content-Length: {declared[:40]!r}")
        if len(declared) > 12 or int(declared) > limit:  # no int() of a huge number
            raise too_large
    received = 0
    inner = request.receive

    async def receive() -> Message:
        nonlocal received
        message = await inner()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise too_large
        return message

    return Request(request.scope, receive)


def parse_urlencoded(text: str) -> list[tuple[str, str]]:
    """``urllib.parse.parse_qsl(text, keep_blank_values=True, max_num_fields=1000)``, without its
    cost for the fields that need no unquoting (most of a Twilio webhook's): each name and value is
    passed through ``unquote_plus`` (what ``parse_qsl`` does to every one) only if it holds a ``%``
    or a ``+``. ``ValueError`` past :data:`_MAX_FIELDS` fields, as ``parse_qsl``."""
    if text.count("&") + 1 > _MAX_FIELDS:
        raise ValueError("Max number of fields exceeded")
    pairs: list[tuple[str, str]] = []
    for field in text.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        pairs.append((name, value))
    return pairs


async def _post_form(request: Request) -> FormData:
    """A POST's form, at most :data:`MAX_WEBHOOK_BODY_BYTES` of it (413 past that, see
    :func:`limit_body`). Twilio sends ``application/x-www-form-urlencoded``, parsed here
    (:func:`parse_urlencoded`) as Starlette's parser does (latin-1 bytes, then %-escapes as UTF-8),
    at a fraction of its cost; any other body, or one with too many fields, goes to Starlette as
    before."""
    request = limit_body(request, MAX_WEBHOOK_BODY_BYTES)
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type == FORM_MEDIA_TYPE:
        body = await request.body()
        try:
            pairs = parse_urlencoded(body.decode("latin-1"))
        except ValueError:  # too many fields: Starlette decides (its 400), as before
            pass
        else:
            return FormData(cast(list[tuple[str, str | UploadFile]], pairs))
    return await request.form()


_UNESCAPED_IN_SIGNATURE = (("%3A", ":"), ("%40", "@"), ("%27", "'"))
"""%-escapes Twilio sends in a query but signs unescaped: a ``Caller=sip%3Aalice%40example.com``
(a SIP or Voice SDK caller, in every GET Twilio makes for that call) is signed as
``Caller=sip:alice@example.com``, and a ``'`` (a ``FromCity`` such as ``Trezzo Sull'Adda``) as is.
twilio-node accepts both forms since https://github.com/twilio/twilio-node/pull/621 (``:``/``@``)
and https://github.com/twilio/twilio-node/pull/1061 (``'``); twilio-python's validator does not."""


def _as_signed(url: str) -> list[str]:
    """The URLs Twilio may have signed for a request to ``url``: ``url`` itself, and, if its query
    has any of :data:`_UNESCAPED_IN_SIGNATURE`, the same URL with them unescaped. The path is kept as
    requested: only the query's escapes differ between what Twilio signs and what it sends."""
    path, mark, query = url.partition("?")
    unescaped = query
    for escaped, char in _UNESCAPED_IN_SIGNATURE:
        unescaped = unescaped.replace(escaped, char).replace(escaped.lower(), char)
    return [url] if unescaped == query else [url, path + mark + unescaped]


def _signing(request: Request, auth_token: str, shared_key: str | None) -> tuple[str, str]:
    """The secret and algorithm the request says it was signed with; 403 if callhold cannot check it.

    By default Twilio signs with the account's auth token and HMAC-SHA1. A webhook a Webhook Rule
    matches is signed with that rule's SharedKey instead, and says so (and with which algorithm) in
    ``X-Twilio-Webhooks-Signature-Settings: key=...,algorithm=HMAC_SHA256``: "Only the hash changes.
    The signed string is still the full URL followed by the sorted POST parameters"
    (https://www.twilio.com/docs/usage/webhooks/webhook-shared-keys, public beta).
    """
    settings = request.headers.get(SIGNATURE_SETTINGS_HEADER)
    if settings is None:
        return auth_token, HMAC_SHA1
    algorithm = get_signature_algorithm(settings).upper()
    if not shared_key:
        _refusals.note(
            f"{request.url.path!r} is signed with a Twilio SharedKey ({SIGNATURE_SETTINGS_HEADER}: "
            f"{settings[:80]!r}) and CALLHOLD_TWILIO_WEBHOOK_SHARED_KEY is not set: set it to its secret"
        )
        raise _forbidden()
    if algorithm not in ("HMAC_SHA1", "HMAC_SHA256"):
        _refusals.note(f"{request.url.path!r} is signed with {algorithm[:40]!r}, which callhold cannot check")
        raise _forbidden()
    return shared_key, algorithm


async def verify_twilio_signature(
    request: Request, public_base_url: str, auth_token: str, shared_key: str | None = None
) -> FormData:
    """Return the webhook's parameters if its signature is valid; 403 otherwise.

    Signed with ``auth_token`` (HMAC-SHA1), or, when the request says so, with the Webhook Rule's
    ``shared_key`` and the algorithm it names (:func:`_signing`).

    POST: the form, which the signature covers after the URL. GET: Twilio sends the parameters in the
    query string, which the signed URL already covers; they are returned as the "form" all the same.

    The SDK's ``validate`` always computes two HMACs (the URL with and without its port, since Twilio
    may sign either). The URL as configured is what Twilio requested, so its HMAC is computed first,
    by the SDK; ``validate`` runs only when that one does not match, and again with the query's
    ``:``, ``@`` and ``'`` unescaped if they were escaped (see :data:`_UNESCAPED_IN_SIGNATURE`).
    """
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        _refusals.note(f"no X-Twilio-Signature on {request.method} {request.url.path!r}")
        raise _forbidden()
    form = await _post_form(request) if request.method == "POST" else FormData()
    params = SignedParams()
    for key, value in form.multi_items():
        if not isinstance(value, str):  # a file upload: nothing Twilio signs (the SDK cannot hash it)
            await form.close()
            raise _forbidden()
        params.setdefault(key, []).append(value)
    url = public_url(request, public_base_url)
    secret, algorithm = _signing(request, auth_token, shared_key)
    validator = RequestValidator(secret)
    if not compare(validator.compute_signature(url, params, algorithm), signature) and not any(
        validator.validate(candidate, params, signature, algorithm) for candidate in _as_signed(url)
    ):
        # The URL without its query (a GET's carries the caller's number), as a repr (no newlines).
        _refusals.note(
            f"X-Twilio-Signature does not match {request.method} {url.partition('?')[0]!r}: if Twilio "
            "sent it, this is not the URL Twilio requested (CALLHOLD_PUBLIC_BASE_URL) or not its auth token"
        )
        raise _forbidden()
    if request.method != "POST":
        query: list[tuple[str, str | UploadFile]] = list(request.query_params.multi_items())
        return FormData(query)
    return form
