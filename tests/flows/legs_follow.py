"""Helpers for the legs strategy's follow rule: what callhold asks of Twilio, and a Twilio that does
not run callhold's answer to the customer's ``<Dial>`` action (reference Q1 leaves it open)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from starlette.responses import Response
from twilio.twiml.voice_response import VoiceResponse

from tests.flows.callhold_harness import BASE, Harness
from tests.twilio_refusals import RefusingTransport, telephony_over

CALL_UPDATE = re.compile(r"^POST https://api\.twilio\.com/2010-04-01/Accounts/AC\w+/Calls/(CA\w{32})\.json$")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def record_redirects(h: Harness) -> list[tuple[str, str]]:
    """From now on, every Calls update callhold sends: (call SID, ``Url``), in order."""
    sent: list[tuple[str, str]] = []

    def note(method: str, url: str, data: object) -> bool:
        match = CALL_UPDATE.match(f"{method} {url}")
        if match is not None:
            sent.append((match.group(1), str(dict(data).get("Url", ""))))  # type: ignore[call-overload]
        return False  # refuse nothing

    h.services.service.telephony = telephony_over(h.emu, RefusingTransport(h.emu, note), BASE)
    return sent


def action_not_followed(h: Harness, call_sid: str) -> list[str]:
    """Twilio requests ``call_sid``'s next ``<Dial>`` action but does not run callhold's answer: the
    call sits in a long ``<Pause>`` instead, as if the answer had been ignored. callhold never sees
    that request. Returns the paths of the requests swallowed (one at most)."""
    app = h.app
    swallowed: list[str] = []
    pause = VoiceResponse()
    pause.pause(length=3600)

    async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/twiml/action/") or swallowed:
            await app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if parse_qs(body.decode()).get("CallSid") == [call_sid]:
            swallowed.append(scope["path"])
            await Response(str(pause), media_type="application/xml")(scope, receive, send)
            return

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        await app(scope, replay, send)

    h.emu.webhooks.mount(BASE, wrapper)
    return swallowed
