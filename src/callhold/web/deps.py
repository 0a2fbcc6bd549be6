"""FastAPI dependencies: the services, the caller's identity, a signed Twilio webhook's form."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import FormData

from callhold.web.app import Services
from callhold.web.security import Principal, hash_token, tokens_match, verify_twilio_signature

__all__ = ["Caller", "SignedForm", "get_services"]


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
