"""Who may call what: Twilio's signature on webhooks, bearer tokens on the JSON API.

* Webhooks: ``X-Twilio-Signature`` checked with the SDK's ``RequestValidator`` against the URL
  Twilio used -- the configured public base URL plus the path and query -- so it works behind
  proxies and TLS terminators. The form is passed as Starlette ``FormData`` so repeated keys count.
* API: ``Authorization: Bearer <token>``; the admin token sees everything, an agent's token only
  that agent's calls. Tokens are compared in constant time and stored hashed.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from fastapi import HTTPException, Request
from starlette.datastructures import FormData, UploadFile
from twilio.request_validator import RequestValidator

__all__ = ["Principal", "hash_token", "public_url", "verify_twilio_signature"]


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


async def verify_twilio_signature(request: Request, public_base_url: str, auth_token: str) -> FormData:
    """Return the webhook's parameters if its signature is valid; 403 otherwise.

    POST: the form, which the signature covers after the URL. GET: Twilio sends the parameters in the
    query string, which the signed URL already covers; they are returned as the "form" all the same.
    """
    signature = request.headers.get("X-Twilio-Signature", "")
    form = await request.form() if request.method == "POST" else FormData()
    url = public_url(request, public_base_url)
    if not signature or not RequestValidator(auth_token).validate(url, form, signature):
        raise HTTPException(status_code=403, detail="Invalid or missing X-Twilio-Signature")
    if request.method != "POST":
        query: list[tuple[str, str | UploadFile]] = list(request.query_params.multi_items())
        return FormData(query)
    return form
