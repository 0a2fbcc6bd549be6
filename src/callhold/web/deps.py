"""What handlers are given: the services, the caller's identity, a signed Twilio webhook.

The JSON API uses FastAPI dependencies (:data:`ServicesDep`, :data:`Caller`). Twilio's webhooks use
:class:`WebhookRoute` instead: every webhook needs the same two things (the services and the checked
form), and FastAPI's per-request dependency solving costs more than the signature check itself.
:class:`WebhookRoute` also carries the failure policy of Twilio's webhooks (see its docstring).
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode
from weakref import WeakKeyDictionary

from fastapi import Depends, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from twilio.twiml.voice_response import VoiceResponse

from callhold.domain.errors import CallholdError
from callhold.web.app import Services
from callhold.web.security import (
    Principal,
    hash_token,
    public_url,
    tokens_match,
    verify_twilio_signature,
)

__all__ = [
    "CARRIED_PARAMS",
    "RETRY_PARAM",
    "TWIML_APOLOGY",
    "TWIML_RETRIES",
    "TWIML_RETRY_PAUSE",
    "Caller",
    "ServicesDep",
    "SignedForm",
    "Webhook",
    "WebhookHandler",
    "WebhookRoute",
    "get_services",
    "twiml_fallback",
]

_log = logging.getLogger("callhold.webhooks")


async def get_services(request: Request) -> Services:
    """The app's services."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def signed_form(request: Request, services: ServicesDep) -> FormData:
    """The form of a webhook whose ``X-Twilio-Signature`` is valid (403 otherwise)."""
    return await verify_twilio_signature(
        request, services.settings.public_base_url, services.auth_token, services.webhook_shared_key
    )


async def caller(request: Request, services: ServicesDep) -> Principal:
    """The bearer token's owner: the admin, or an agent (401 without a valid token)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(status_code=401, detail="A bearer token is required")
    if tokens_match(token, services.settings.admin_token.get_secret_value()):
        return Principal(agent_id=None)
    agent_id = services.store.agent_for_token(hash_token(token))
    if agent_id is None:
        raise HTTPException(status_code=401, detail="Unknown bearer token")
    return Principal(agent_id=agent_id)


SignedForm = Annotated[FormData, Depends(signed_form)]
Caller = Annotated[Principal, Depends(caller)]


# -- Twilio webhooks ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Webhook:
    """A Twilio request whose ``X-Twilio-Signature`` was checked, and what answering it needs."""

    request: Request
    #: POST: the form; GET: the query string (Twilio sends a GET's parameters there).
    form: FormData
    services: Services

    def text(self, key: str) -> str:
        """The form field ``key`` (``""`` if absent)."""
        value = self.form.get(key)
        return value if isinstance(value, str) else ""

    def path(self, name: str) -> str:
        """The path parameter ``name``."""
        return str(self.request.path_params[name])

    def query_text(self, name: str) -> str:
        """The query parameter ``name`` (``""`` if absent)."""
        return self.request.query_params.get(name) or ""

    def query_float(self, name: str) -> float | None:
        """The query parameter ``name`` as a finite number (None if absent; 422 if not one)."""
        raw = self.request.query_params.get(name)
        if raw is None:
            return None
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise _invalid_query(name, raw, "float_parsing", "a finite number")
        return value

    def query_int(self, name: str, default: int) -> int:
        """The query parameter ``name`` as an integer (``default`` if absent; 422 if not one)."""
        return self._query(name, default, int, "int_parsing", "a valid integer")

    def query_enum(self, name: str, kind: type[E], default: E) -> E:
        """The query parameter ``name`` as a member of ``kind`` (``default`` if absent; 422 if not one)."""
        return self._query(name, default, kind, "enum", _one_of(kind))

    def _query(self, name: str, default: T, parse: Callable[[str], T], error: str, what: str) -> T:
        """The query parameter ``name`` parsed (``default`` if absent; a 422 ``error``, expecting
        ``what``, if ``parse`` refuses it)."""
        raw = self.request.query_params.get(name)
        if raw is None:
            return default
        try:
            return parse(raw)
        except ValueError:
            raise _invalid_query(name, raw, error, what) from None


@functools.cache
def _one_of(kind: type[Enum]) -> str:
    """``one of 'a', 'b'``: the values of ``kind``, for an error message."""
    return "one of " + ", ".join(repr(member.value) for member in kind)


def _invalid_query(name: str, raw: str, kind: str, what: str) -> RequestValidationError:
    """The error FastAPI raises for a query parameter of the wrong type (a 422 problem)."""
    error = {"type": kind, "loc": ("query", name), "msg": f"Input should be {what}", "input": raw}
    return RequestValidationError([error])


#: A webhook handler: the checked request in, TwiML (or 204) out.
WebhookHandler = Callable[[Webhook], Awaitable[Response]]
E = TypeVar("E", bound=Enum)
T = TypeVar("T")
_H = TypeVar("_H", bound=WebhookHandler)

TWIML_RETRIES = 2
"""How many times a TwiML route that failed on callhold's side has Twilio ask again."""
TWIML_RETRY_PAUSE = 1
"""Seconds of silence before each retry."""
RETRY_PARAM = "retry"
"""The query parameter counting the retries (part of the signed URL, like the rest of the query)."""
TWIML_APOLOGY = "We are sorry, we are having technical difficulties. Please call us again later."
"""Said when the last retry failed too."""
CARRIED_PARAMS = (
    "DialCallStatus",
    "DialCallSid",
    "DialCallDuration",
    "DialBridged",
    "QueueResult",
    "QueueSid",
    "QueueTime",
)
"""Parameters Twilio POSTs to an action URL only, not with a ``<Redirect>``: a retry of a POST carries
them in its URL's query, and the retried request reads them from there (its form lacks them)."""

FallbackTwiml = Callable[["Webhook"], str]
"""Builds a TwiML route's last answer after its retries failed, from the request alone (no database)."""

_FALLBACKS: WeakKeyDictionary[Callable[..., Any], FallbackTwiml] = WeakKeyDictionary()


def twiml_fallback(build: FallbackTwiml) -> Callable[[_H], _H]:
    """Mark a TwiML handler whose last answer, once its retries failed too, is ``build(hook)`` instead
    of the apology and ``<Hangup/>``: a document that keeps a held or waiting
    party where it is -- its music, its queue -- needing nothing callhold cannot reach, so nobody is
    dropped or told to call again while callhold's database is away (and a document played inside
    a conference or a queue allows no ``<Hangup>`` anyway). Apply it below the route decorator."""

    def mark(handler: _H) -> _H:
        _FALLBACKS[handler] = build
        return handler

    return mark


def _is_expected(exc: Exception) -> bool:
    """An error with its own answer (problem JSON): a domain error, an HTTP error, a 422."""
    return isinstance(exc, CallholdError | StarletteHTTPException | RequestValidationError)


def _retries_so_far(request: Request) -> int:
    """The ``retry`` count in the query (0 if absent; the last retry if it is not a small number)."""
    raw = request.query_params.get(RETRY_PARAM)
    if raw is None:
        return 0
    if raw.isascii() and raw.isdigit() and len(raw) <= 2:
        return min(int(raw), TWIML_RETRIES)
    return TWIML_RETRIES


def _retry_url(request: Request, form: FormData, public_base_url: str, attempt: int) -> str:
    """The URL Twilio requested (the public one, so its signature checks out), with ``retry=attempt``
    and, for a POST, the :data:`CARRIED_PARAMS` of its form, in place of any previous ones."""
    url, _, query = public_url(request, public_base_url).partition("?")
    replaced = {RETRY_PARAM, *CARRIED_PARAMS} if request.method == "POST" else {RETRY_PARAM}
    fields = [field for field in query.split("&") if field and field.partition("=")[0] not in replaced]
    added: list[tuple[str, str | int]] = []
    if request.method == "POST":
        added += [(key, value) for key in CARRIED_PARAMS if isinstance(value := form.get(key), str)]
    added.append((RETRY_PARAM, attempt))
    return url + "?" + "&".join([*fields, urlencode(added)])


def _with_carried(form: FormData, request: Request) -> FormData:
    """A retried POST's form, with the :data:`CARRIED_PARAMS` its query carries (see
    :func:`_retry_url`) where the form has none."""
    query = request.query_params
    if RETRY_PARAM not in query:
        return form
    extra = [(key, query[key]) for key in CARRIED_PARAMS if key in query and key not in form]
    if not extra:
        return form
    items: list[tuple[str, str | UploadFile]] = [*form.multi_items(), *extra]
    return FormData(items)


def _twiml_after_failure(hook: Webhook, fallback: FallbackTwiml | None) -> Response:
    """What a TwiML route answers when it failed on callhold's side: retry it after a pause (up to
    :data:`TWIML_RETRIES` times), then its ``fallback`` document, else an apology and ``<Hangup/>``."""
    request, form = hook.request, hook.form
    public_base_url = hook.services.settings.public_base_url
    attempt = _retries_so_far(request) + 1
    _log.exception(
        "TwiML webhook %s %s failed (attempt %d of %d)",
        request.method,
        request.url.path,
        attempt,
        TWIML_RETRIES + 1,
    )
    response = VoiceResponse()
    if attempt <= TWIML_RETRIES:
        response.pause(length=TWIML_RETRY_PAUSE)
        response.redirect(_retry_url(request, form, public_base_url, attempt), method=request.method)
    elif fallback is not None:
        return Response(fallback(hook), media_type="text/xml")
    else:
        response.say(TWIML_APOLOGY)
        response.hangup()
    return Response(str(response), media_type="text/xml")


class WebhookRoute(APIRoute):
    """A route for a Twilio webhook: checks the signature, then calls ``handler(Webhook)``.

    Use it as the ``route_class`` of an ``APIRouter`` and decorate ``async def h(hook: Webhook)``
    handlers as usual. It stays an ``APIRoute`` (same paths, methods, 405s, names; included the usual
    way; errors go through the app's exception handlers), but skips FastAPI's per-request dependency
    solving, which for a webhook costs more than checking Twilio's signature: the handler FastAPI
    sees takes just the ``Request``.

    Failure policy, when a handler raises an unexpected exception (a failure on callhold's side, such
    as the database being away; not a domain error like ``NotFound``/``Invalid``, not an HTTP error,
    which answer problem JSON as elsewhere):

    * A TwiML route (``/twiml/...``), whose answer is what the caller hears: an error status would
      have Twilio play its "application error" message and hang up. It answers 200 TwiML instead
      (built with the SDK's ``VoiceResponse``), after logging the exception: ``<Pause>`` for
      :data:`TWIML_RETRY_PAUSE` s, then ``<Redirect>`` (same method) to the same public URL with
      ``retry=<n>`` in its query -- covered by the signature like the rest of the URL, with a POST's
      :data:`CARRIED_PARAMS` -- up to :data:`TWIML_RETRIES` times; after the last retry
      the route's :func:`twiml_fallback` document (a held or waiting party kept where it is, on
      music or in its queue), else ``<Say>`` :data:`TWIML_APOLOGY` and ``<Hangup/>``.
    * A status callback (``/webhooks/...``): the exception propagates, a 500; Twilio logs it in the
      Debugger and plays nothing to anyone.
    """

    def __init__(self, path: str, endpoint: WebhookHandler, **options: Any) -> None:
        handler = endpoint

        async def receive(request: Request) -> Response:
            services: Services = request.app.state.services
            base_url = services.settings.public_base_url
            form = await verify_twilio_signature(
                request, base_url, services.auth_token, services.webhook_shared_key
            )
            return await handler(Webhook(request, form, services))

        async def receive_twiml(request: Request) -> Response:
            services: Services = request.app.state.services
            base_url = services.settings.public_base_url
            form = await verify_twilio_signature(
                request, base_url, services.auth_token, services.webhook_shared_key
            )
            if request.method == "POST" and request.scope.get("query_string"):  # perhaps a retry
                form = _with_carried(form, request)
            hook = Webhook(request, form, services)
            try:
                return await handler(hook)
            except Exception as exc:
                if _is_expected(exc):
                    raise
                return _twiml_after_failure(hook, fallback)

        fallback = _FALLBACKS.get(handler)
        chosen = receive_twiml if path.startswith("/twiml/") else receive
        chosen.__name__ = chosen.__qualname__ = getattr(handler, "__name__", "webhook")
        chosen.__doc__ = handler.__doc__
        self.handler = handler
        self._receive = chosen
        options["name"] = options.get("name") or chosen.__name__
        super().__init__(path, chosen, **options)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The request handler FastAPI wraps: check the signature, call the handler (nothing to solve)."""
        return self._receive
