"""The router of Twilio's webhooks, and what its routes share.

Every route on :data:`router` checks ``X-Twilio-Signature`` before its handler runs (see
:class:`~callhold.web.deps.WebhookRoute`); ``webhooks`` and ``hold_documents`` declare their routes
on it, and :func:`callhold.web.webhooks.install` adds them all to the app.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from callhold.web.deps import WebhookRoute

__all__ = ["BOTH", "TWIML", "router", "twiml_response"]

router = APIRouter(include_in_schema=False, route_class=WebhookRoute)
"""Twilio's webhooks, in the order they are matched (the most frequent first)."""

TWIML = "text/xml"
"""The media type of a TwiML document."""

BOTH = ["GET", "POST"]
"""The methods of a TwiML document route (Twilio fetches HoldUrl with GET by default)."""


def twiml_response(body: str) -> Response:
    """A TwiML document as a response."""
    return Response(body, media_type=TWIML)
