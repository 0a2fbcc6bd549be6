"""What handlers are given: the services, the caller's identity, a signed Twilio webhook.

The JSON API uses FastAPI dependencies (:data:`ServicesDep`, :data:`Caller`). Twilio's webhooks use
:class:`WebhookRoute` instead: every webhook needs the same two things (the services and the checked
form), and FastAPI's per-request dependency solving costs more than the signature check itself.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.datastructures import FormData

from callhold.web.app import Services
from callhold.web.security import Principal, hash_token, tokens_match, verify_twilio_signature

__all__ = [
    "Caller",
    "ServicesDep",
    "SignedForm",
    "Webhook",
    "WebhookHandler",
    "WebhookRoute",
    "get_services",
]


async def get_services(request: Request) -> Services:
    """The app's services."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def signed_form(request: Request, services: ServicesDep) -> FormData:
    """The form of a webhook whose ``X-Twilio-Signature`` is valid (403 otherwise)."""
    return await verify_twilio_signature(request, services.settings.public_base_url, services.auth_token)


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
        raw = self.request.query_params.get(name)
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError:
            raise _invalid_query(name, raw, "int_parsing", "a valid integer") from None


def _invalid_query(name: str, raw: str, kind: str, what: str) -> RequestValidationError:
    """The error FastAPI raises for a query parameter of the wrong type (a 422 problem)."""
    error = {"type": kind, "loc": ("query", name), "msg": f"Input should be {what}", "input": raw}
    return RequestValidationError([error])


#: A webhook handler: the checked request in, TwiML (or 204) out.
WebhookHandler = Callable[[Webhook], Awaitable[Response]]


class WebhookRoute(APIRoute):
    """A route for a Twilio webhook: checks the signature, then calls ``handler(Webhook)``.

    Use it as the ``route_class`` of an ``APIRouter`` and decorate ``async def h(hook: Webhook)``
    handlers as usual. It stays an ``APIRoute`` (same paths, methods, 405s, names; included the usual
    way; errors go through the app's exception handlers), but skips FastAPI's per-request dependency
    solving, which for a webhook costs more than checking Twilio's signature: the handler FastAPI
    sees takes just the ``Request``.
    """

    def __init__(self, path: str, endpoint: WebhookHandler, **options: Any) -> None:
        handler = endpoint

        async def receive(request: Request) -> Response:
            services: Services = request.app.state.services
            settings = services.settings
            form = await verify_twilio_signature(request, settings.public_base_url, services.auth_token)
            return await handler(Webhook(request, form, services))

        receive.__name__ = receive.__qualname__ = getattr(handler, "__name__", "webhook")
        receive.__doc__ = handler.__doc__
        self.handler = handler
        self._receive = receive
        options["name"] = options.get("name") or receive.__name__
        super().__init__(path, receive, **options)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The request handler FastAPI wraps: check the signature, call the handler (nothing to solve)."""
        return self._receive
