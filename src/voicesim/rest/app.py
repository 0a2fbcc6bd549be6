"""The one route table of voicesim's HTTP surface, its dispatcher, and the ASGI app around it.

REST handlers are plain synchronous functions ``handler(emu, request) -> Reply``: they validate,
change records and schedule flows, and never wait (DESIGN boundary 3). That lets the SDK's
in-process transport call :func:`dispatch` directly, with no sockets and no event loop. Control
handlers (``/_voicesim/...``) may be ``async`` (advancing a virtual clock awaits webhooks); only
the ASGI app serves them.

To add a resource: write handlers in ``rest/<resource>.py`` with a ``ROUTES`` list of
``(method, path_template, handler)`` and add the module to :data:`ROUTE_MODULES`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import importlib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from voicesim.emulator import Emulator
from voicesim.rest.errors import AuthenticationError, NotFound, TwilioError, error_body
from voicesim.rest.params import Params

__all__ = [
    "API_PREFIX",
    "MAX_BODY_BYTES",
    "ROUTE_MODULES",
    "Reply",
    "Request",
    "Router",
    "dispatch",
    "make_asgi_app",
]

API_PREFIX = "/2010-04-01"
#: Request bodies over this size are refused with 413.
MAX_BODY_BYTES = 1 << 20
#: Modules whose ROUTES make up the table (missing ones are skipped while being written).
ROUTE_MODULES = (
    "voicesim.rest.calls",
    "voicesim.rest.numbers",
    "voicesim.rest.keys",
    "voicesim.rest.conferences",
    "voicesim.rest.queues",
    "voicesim.rest.control",
)


@dataclass(slots=True)
class Request:
    """One request, already parsed: method, path, query, form, headers (lower-case keys)."""

    method: str
    path: str
    query: Params = field(default_factory=Params)
    form: Params = field(default_factory=Params)
    headers: dict[str, str] = field(default_factory=dict)
    path_params: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    #: Who authenticated: the account SID, or the SID of the API key used (None: no auth needed).
    credential: str | None = None

    @property
    def params(self) -> Params:
        """The form for POST, the query otherwise."""
        return self.form if self.method in ("POST", "PUT") else self.query


@dataclass(slots=True)
class Reply:
    """A handler's answer: status and JSON body (None: no body, as on 204)."""

    status: int
    body: Any = None
    content_type: str = "application/json"


Handler = Callable[[Emulator, Request], "Reply | Awaitable[Reply]"]


class Router:
    """Path templates such as ``/Accounts/{AccountSid}/Calls/{Sid}.json`` mapped to handlers."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler, bool]] = []

    def add(self, method: str, template: str, handler: Handler, *, authenticated: bool = True) -> None:
        """Register ``handler`` for ``method`` on ``template``."""
        pattern = re.sub(
            r"\{(\w+)\}", r"(?P<\1>[^/]+)", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")
        )
        self._routes.append((method, re.compile(f"^{pattern}$"), handler, authenticated))

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str], bool] | None:
        """The handler, path parameters and whether auth is needed; None if nothing matches."""
        allowed = False
        for route_method, pattern, handler, authenticated in self._routes:
            found = pattern.match(path)
            if found is None:
                continue
            allowed = True
            if route_method == method:
                return handler, {k: unquote(v) for k, v in found.groupdict().items()}, authenticated
        if allowed:
            raise TwilioError(f"Method {method} not allowed on {path}", code=20004, status=405)
        return None


def build_router() -> Router:
    """The route table, from every module in :data:`ROUTE_MODULES`."""
    router = Router()
    for name in ROUTE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        for route in getattr(module, "ROUTES", ()):
            method, template, handler, *rest = route
            router.add(method, template, handler, authenticated=bool(rest[0]) if rest else True)
    return router


def check_auth(emu: Emulator, request: Request) -> None:
    """HTTP Basic with the account SID and auth token, or an API key's SID and secret.

    The path's AccountSid must be the account's either way (an API key belongs to one account).
    Sets ``request.credential`` to the user that authenticated.
    """
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise AuthenticationError()
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, ValueError):  # ValueError also covers non-ASCII text and bad UTF-8
        raise AuthenticationError() from None
    if user == emu.account_sid:
        expected: str | None = emu.auth_token
    else:
        key = emu.api_keys.get(user)
        expected = key.secret if key is not None else None
    if expected is None or not hmac.compare_digest(password.encode(), expected.encode()):
        raise AuthenticationError()
    account = request.path_params.get("AccountSid")
    if account is not None and account != emu.account_sid:
        raise AuthenticationError()
    request.credential = user


def _resolve(emu: Emulator, router: Router, request: Request) -> Handler:
    found = router.match(request.method, request.path)
    if found is None:
        raise NotFound(request.path)
    handler, request.path_params, authenticated = found
    if authenticated:
        check_auth(emu, request)
    return handler


def dispatch(emu: Emulator, router: Router, request: Request) -> Reply:
    """Run a synchronous (REST) handler for ``request``; every error becomes Twilio's body."""
    try:
        result = _resolve(emu, router, request)(emu, request)
        if not isinstance(result, Reply):
            close = getattr(result, "close", None)
            if close is not None:
                close()
            raise TwilioError("This operation is only available over HTTP", code=20001, status=400)
        return result
    except Exception as exc:
        return _error_reply(_named_by_path(exc, request))


async def dispatch_async(emu: Emulator, router: Router, request: Request) -> Reply:
    """Run any handler (sync REST or async control) for ``request``."""
    try:
        result = _resolve(emu, router, request)(emu, request)
        if not isinstance(result, Reply):
            result = await result
        return result
    except Exception as exc:
        return _error_reply(_named_by_path(exc, request))


def _named_by_path(exc: Exception, request: Request) -> Exception:
    """A 20404 from the REST API names the request path, as Twilio's does for every resource.

    ("The requested resource /2010-04-01/Accounts/AC.../Calls/CA....json was not found".) The
    conference and queue engines say which record is missing in their own words; over REST the
    message is Twilio's.
    """
    if getattr(exc, "code", None) == 20404 and request.path.startswith(f"{API_PREFIX}/"):
        return NotFound(request.path)
    return exc


def _error_reply(exc: Exception) -> Reply:
    if isinstance(getattr(exc, "code", None), int) and isinstance(getattr(exc, "status", None), int):
        status, body = error_body(exc)
        return Reply(status, body)
    emu_error = TwilioError(f"Internal error: {type(exc).__name__}: {exc}", code=20500, status=500)
    status, body = error_body(emu_error)
    return Reply(status, body)


def parse_body(content_type: str, body: bytes) -> tuple[Params, Any]:
    """Form fields (and a JSON document, for control calls that send JSON)."""
    if not body:
        return Params(), None
    ctype = content_type.split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise TwilioError("Request body is not UTF-8", code=20001, status=400) from None
    if ctype == "application/json":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError:
            raise TwilioError("Request body is not valid JSON", code=20001, status=400) from None
        if isinstance(doc, dict):
            return Params((str(k), _form_value(v)) for k, v in doc.items() if v is not None), doc
        return Params(), doc
    return Params(parse_qsl(text, keep_blank_values=True)), None


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def make_asgi_app(emu: Emulator) -> Callable[..., Awaitable[None]]:
    """voicesim's HTTP surface as a bare ASGI app (no framework overhead on the hot path)."""
    router = build_router()

    async def app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        reply = await _serve(emu, router, scope, headers, receive)
        payload = (
            b""
            if reply.body is None
            else (reply.body.encode() if isinstance(reply.body, str) else json.dumps(reply.body).encode())
        )
        out_headers = [(b"content-length", str(len(payload)).encode())]
        if reply.body is not None:
            out_headers.append((b"content-type", reply.content_type.encode()))
        await send({"type": "http.response.start", "status": reply.status, "headers": out_headers})
        await send({"type": "http.response.body", "body": payload})

    return app


async def _serve(
    emu: Emulator, router: Router, scope: dict[str, Any], headers: dict[str, str], receive: Callable[..., Any]
) -> Reply:
    declared = headers.get("content-length", "0")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return _error_reply(TwilioError("Request body too large", code=20001, status=413))
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return _error_reply(TwilioError("Request body too large", code=20001, status=413))
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    try:
        form, doc = parse_body(headers.get("content-type", ""), b"".join(chunks))
        query = Params(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
    except TwilioError as exc:
        return _error_reply(exc)
    path, root = scope["path"], scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]  # mounted under a prefix (e.g. callhold's /voicesim)
    request = Request(scope["method"], path, query, form, headers, json_body=doc)
    return await dispatch_async(emu, router, request)
