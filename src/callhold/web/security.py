"""Who may call what: Twilio's signature on webhooks, bearer tokens on the JSON API.

* Webhooks: ``X-Twilio-Signature`` checked with the SDK's ``RequestValidator`` against the URL
  Twilio used -- the configured public base URL plus the path and query -- so it works behind
  proxies and TLS terminators. Every value of a repeated key counts, as Twilio signs them.
* API: ``Authorization: Bearer <token>``; the admin token sees everything, an agent's token only
  that agent's calls. Tokens are compared in constant time and stored hashed.

Every webhook pays for the check, so it is kept cheap (see :func:`verify_twilio_signature`): the
form is parsed with ``urllib.parse`` rather than Starlette's streaming parser, and the SDK computes
one HMAC for the URL as configured before trying the port variants.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import cast
from urllib.parse import unquote_plus

from fastapi import HTTPException, Request
from starlette.datastructures import FormData, UploadFile
from twilio.request_validator import RequestValidator, compare

__all__ = ["Principal", "SignedParams", "hash_token", "public_url", "verify_twilio_signature"]

#: The only body Twilio sends its voice webhooks with.
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
#: Starlette's own form limits (fields, bytes in one field). A body that could reach either is
#: left to Starlette's parser, which refuses it with 400 as it always has.
_MAX_FIELDS = 1000
_MAX_QUICK_BODY = 1024 * 1024


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
    """The URL Twilio requested: public base URL + path + query (what the signature covers)."""
    url = public_base_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return url


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


def _forbidden() -> HTTPException:
    return HTTPException(status_code=403, detail="Invalid or missing X-Twilio-Signature")


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
    """A POST's form. Twilio sends ``application/x-www-form-urlencoded``, parsed here
    (:func:`parse_urlencoded`) as Starlette's parser does (latin-1 bytes, then %-escapes as UTF-8),
    at a fraction of its cost; any other body, or one past Starlette's limits, goes to Starlette as
    before."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type == FORM_MEDIA_TYPE:
        body = await request.body()
        if len(body) <= _MAX_QUICK_BODY:
            try:
                pairs = parse_urlencoded(body.decode("latin-1"))
            except ValueError:  # perhaps too many fields: Starlette decides (its 400), as before
                pass
            else:
                return FormData(cast(list[tuple[str, str | UploadFile]], pairs))
    return await request.form()


async def verify_twilio_signature(request: Request, public_base_url: str, auth_token: str) -> FormData:
    """Return the webhook's parameters if its signature is valid; 403 otherwise.

    POST: the form, which the signature covers after the URL. GET: Twilio sends the parameters in the
    query string, which the signed URL already covers; they are returned as the "form" all the same.

    The SDK's ``validate`` always computes two HMACs (the URL with and without its port, since Twilio
    may sign either). The URL as configured is what Twilio requested, so its HMAC is computed first,
    by the SDK; ``validate`` runs only when that one does not match.
    """
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        raise _forbidden()
    form = await _post_form(request) if request.method == "POST" else FormData()
    params = SignedParams()
    for key, value in form.multi_items():
        if not isinstance(value, str):  # a file upload: nothing Twilio signs (the SDK cannot hash it)
            await form.close()
            raise _forbidden()
        params.setdefault(key, []).append(value)
    url = public_url(request, public_base_url)
    validator = RequestValidator(auth_token)
    if not compare(validator.compute_signature(url, params), signature) and not validator.validate(
        url, params, signature
    ):
        raise _forbidden()
    if request.method != "POST":
        query: list[tuple[str, str | UploadFile]] = list(request.query_params.multi_items())
        return FormData(query)
    return form
