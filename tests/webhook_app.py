"""A scriptable webhook server for tests: serves bodies per path and records every request."""

from __future__ import annotations

import io
import wave
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BASE = "http://app.test"


@dataclass
class Received:
    """One request the app received."""

    method: str
    path: str
    url: str
    params: dict[str, str]
    headers: dict[str, str]
    pairs: list[tuple[str, str]] = field(default_factory=list)


def wav_bytes(seconds: float, rate: int = 8000) -> bytes:
    """A silent mono 8-bit WAV of ``seconds`` (mutagen reads its duration)."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate)
        out.writeframes(b"\x80" * int(seconds * rate))
    return buf.getvalue()


class WebhookApp:
    """``app.twiml("/voice", "<Say>hi</Say>")`` serves TwiML; ``app.received`` lists requests."""

    def __init__(self) -> None:
        self.bodies: dict[str, Callable[[Received], tuple[int, str, bytes]]] = {}
        self.received: list[Received] = []
        self.asgi = Starlette(routes=[Route("/{path:path}", self._serve, methods=["GET", "POST"])])

    def twiml(self, path: str, inner: str) -> None:
        """Serve ``<Response>inner</Response>`` as text/xml at ``path``."""
        doc = f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>'.encode()
        self.bodies[path] = lambda _: (200, "text/xml", doc)

    def raw(self, path: str, body: bytes, content_type: str = "text/xml", status: int = 200) -> None:
        """Serve any body at ``path``."""
        self.bodies[path] = lambda _: (status, content_type, body)

    def dynamic(self, path: str, make: Callable[[Received], str]) -> None:
        """Serve ``<Response>make(request)</Response>``."""
        self.bodies[path] = lambda r: (200, "text/xml", f"<Response>{make(r)}</Response>".encode())

    def to(self, path: str) -> list[Received]:
        """Requests received at ``path``."""
        return [r for r in self.received if r.path == path]

    async def _serve(self, request: Request) -> Response:
        form = await request.form() if request.method == "POST" else None
        pairs = (
            [(k, str(v)) for k, v in form.multi_items()]
            if form is not None
            else list(request.query_params.multi_items())
        )
        got = Received(
            request.method,
            request.url.path,
            str(request.url),
            dict(pairs),
            {k.lower(): v for k, v in request.headers.items()},
            pairs,
        )
        self.received.append(got)
        make = self.bodies.get(request.url.path)
        if make is None:
            return Response("not found", status_code=404, media_type="text/plain")
        status, ctype, body = make(got)
        return Response(body, status_code=status, media_type=ctype)
