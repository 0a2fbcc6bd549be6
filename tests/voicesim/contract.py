"""Contract checks: voicesim's REST responses against Twilio's own OpenAPI description.

:meth:`Contract.check` validates one response (method, path, status, JSON body) against
``../shared/twilio-oai/twilio_api_v2010.json`` with openapi-core, more strictly than the spec
asks: every property a schema declares must be present (null where the spec allows it) and no
undeclared property may appear (``response_properties_default_policy="required"``,
``additional_properties_default_policy="forbid"``), and the spec's custom formats
(``date-time-rfc-2822``, ``phone-number``, ``uri``, ``currency``) are really checked.

The spec is loaded once per session. It lives outside the repository (tests may read ../shared,
the product never does): a test that needs it skips when it is missing, except under CI, where
it fails (twilio-oai README).

:class:`Api` is an HTTP driver (httpx, in process through ASGI or over a socket) that checks every
``/2010-04-01`` response it receives.

Deviations from the spec are listed in :data:`DEVIATIONS`, each naming the defect of the spec it
works around and applied narrowly (one field or one format), so that none hides a real mismatch.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import functools
import json
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import jsonschema  # type: ignore[import-untyped]
import pytest

SPEC_FILE = Path(__file__).resolve().parents[2].parent / "shared" / "twilio-oai" / "twilio_api_v2010.json"
HOST = "https://api.twilio.com"
API = "/2010-04-01"

#: The operations voicesim implements (method, path template) that this suite covers.
CALLS = f"{API}/Accounts/{{AccountSid}}/Calls.json"
CALL = f"{API}/Accounts/{{AccountSid}}/Calls/{{Sid}}.json"
NUMBERS = f"{API}/Accounts/{{AccountSid}}/IncomingPhoneNumbers.json"
NUMBER = f"{API}/Accounts/{{AccountSid}}/IncomingPhoneNumbers/{{Sid}}.json"
OPERATIONS = frozenset(
    {
        ("POST", CALLS),
        ("GET", CALLS),
        ("GET", CALL),
        ("POST", CALL),
        ("DELETE", CALL),
        ("POST", NUMBERS),
        ("GET", NUMBERS),
        ("GET", NUMBER),
        ("POST", NUMBER),
        ("DELETE", NUMBER),
    }
)

#: Keys of every v2010 list envelope that hold URIs of pages.
PAGING_URI_KEYS = ("first_page_uri", "next_page_uri", "previous_page_uri", "uri")

# The allow-list. Each entry: the defect of the spec, and exactly how it is worked around.
DEVIATIONS: dict[str, str] = {
    # Spec defect: the list envelopes declare first_page_uri / next_page_uri / previous_page_uri /
    # uri as `format: uri` (an absolute URI, RFC 3986), yet Twilio returns them relative to
    # https://api.twilio.com -- as the spec's own description of every resource `uri` says, and as
    # the twilio SDKs expect (they prepend the domain to next_page_uri). Applied: those four keys of
    # list responses only get the format `twilio-relative-uri`, which still requires a path under
    # /2010-04-01/ (and check() requires it to address the same list operation).
    "paging-uris-are-relative": "list envelope paging keys: format uri -> twilio-relative-uri",
    # Spec defect: `subresource_uris` is `type: object, format: uri-map` with no `properties`: a
    # free-form map the spec cannot describe. With undeclared properties forbidden it would reject
    # every key. Applied: its values must be strings of format `twilio-relative-uri`, and check()
    # requires each to be a path the spec defines (so a made-up sub-resource still fails).
    "uri-map-is-free-form": "subresource_uris: additionalProperties {type: string}",
    # Spec gap (the twilio-oai README: "What it does NOT describe: error bodies (4xx/5xx)"): no
    # operation declares any 4xx/5xx response. Applied: when the spec has no response for an error
    # status, the body is checked against Twilio's documented error shape (ERROR_SCHEMA; reference
    # section 5.5) instead; if a future spec declares the status, the spec is used.
    "errors-not-in-spec": "4xx/5xx bodies: ERROR_SCHEMA",
    # Spec defect: a Conference's `reason_conference_ended` refers to the enum schema
    # `conference_enum_reason_conference_ended`, which is not nullable, although that schema's own
    # description says "When a conference is in progress, will be `null`" (reference section 2.1).
    # Applied: that one enum schema is nullable, null added to its enum (OAS 3.0.3); its values are
    # still checked once set.
    "null-reason-conference-ended": "conference_enum_reason_conference_ended: nullable, enum + null",
}

#: Twilio's v2010 error body (reference section 5.5): {code, message, more_info, status}.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message", "more_info", "status"],
    "additionalProperties": False,
    "properties": {
        "code": {"type": "integer", "minimum": 10000, "maximum": 99999},
        "message": {"type": "string", "minLength": 1},
        "more_info": {"type": "string", "pattern": r"^https://www\.twilio\.com/docs/errors/\d+$"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "details": {"type": "object"},
    },
}

_RFC2822 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$")
_PHONE = re.compile(r"^(\+[1-9]\d{1,14}|client:[A-Za-z0-9_.@\-]+|sip:.+)$")


def _rfc2822(value: object) -> bool:
    if not isinstance(value, str) or not _RFC2822.match(value):
        return False
    try:
        parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    return True


def _phone(value: object) -> bool:
    return isinstance(value, str) and bool(_PHONE.match(value))


def _absolute_uri(value: object) -> bool:
    if not isinstance(value, str) or any(ch.isspace() for ch in value):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _relative_uri(value: object) -> bool:
    return isinstance(value, str) and value.startswith(f"{API}/") and not any(ch.isspace() for ch in value)


def _currency(value: object) -> bool:
    return isinstance(value, str) and bool(re.fullmatch(r"[A-Z]{3}", value))


FORMATS: dict[str, Callable[[Any], bool]] = {
    "date-time-rfc-2822": _rfc2822,
    "phone-number": _phone,
    "uri": _absolute_uri,
    "twilio-relative-uri": _relative_uri,
    "currency": _currency,
}


def _spec_missing() -> None:
    message = f"Twilio's OpenAPI description is not at {SPEC_FILE}"
    if os.environ.get("CI"):
        pytest.fail(message + " (required under CI)")
    pytest.skip(message)


def _patch(spec: dict[str, Any]) -> dict[str, Any]:
    """Apply :data:`DEVIATIONS` to a copy of the spec."""
    spec = copy.deepcopy(spec)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("format") == "uri-map" and node.get("type") == "object" and "properties" not in node:
                node["additionalProperties"] = {"type": "string", "format": "twilio-relative-uri"}
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec["components"]["schemas"])
    reason_ended = spec["components"]["schemas"]["conference_enum_reason_conference_ended"]
    reason_ended.update(nullable=True, enum=[*reason_ended["enum"], None])
    for item in spec["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for response in operation.get("responses", {}).values():
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                props = schema.get("properties", {})
                if "first_page_uri" in props:  # a list envelope
                    for key in PAGING_URI_KEYS:
                        props[key]["format"] = "twilio-relative-uri"
    return spec


@dataclass
class _Loaded:
    raw: dict[str, Any]
    openapi: Any
    templates: list[tuple[re.Pattern[str], str]] = field(default_factory=list)


@functools.cache
def _load_cached() -> _Loaded:
    from openapi_core import Config, OpenAPI

    raw = json.loads(SPEC_FILE.read_text())
    config = Config(
        additional_properties_default_policy="forbid",
        response_properties_default_policy="required",
        extra_format_validators=FORMATS,
    )
    loaded = _Loaded(raw, OpenAPI.from_dict(_patch(raw), config=config))
    for template in raw["paths"]:
        pattern = re.escape(template)
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
        loaded.templates.append((re.compile(f"^{pattern}$"), template))
    return loaded


def spec() -> _Loaded:
    """The loaded spec (once per session); skips (fails under CI) when it is missing."""
    if not SPEC_FILE.is_file():
        _spec_missing()
    return _load_cached()


class ContractError(AssertionError):
    """A response that does not match the spec."""


def template_of(path: str) -> str:
    """The spec's path template that ``path`` (no query) matches."""
    for pattern, template in spec().templates:
        if pattern.match(path):
            return template
    raise ContractError(f"{path} is not a path of the 2010-04-01 spec")


@dataclass
class Contract:
    """Checks responses and remembers which (method, template, status) were checked."""

    seen: set[tuple[str, str, int]] = field(default_factory=set)

    def check(
        self,
        method: str,
        path: str,
        status: int,
        body: Any,
        *,
        query: list[tuple[str, str]] | None = None,
        content_type: str | None = "application/json",
    ) -> None:
        """Validate one response; raises :class:`ContractError` on any mismatch."""
        from openapi_core.testing import MockRequest, MockResponse

        loaded = spec()
        method = method.upper()
        split = urlsplit(path)
        path = split.path
        query = list(query or []) + parse_qsl(split.query, keep_blank_values=True)
        template = template_of(path)
        self.seen.add((method, template, status))
        operation = loaded.raw["paths"][template].get(method.lower())
        if operation is None:  # a method the spec does not define here: only 405 is right
            if status != 405:
                raise ContractError(f"{method} {template} is not an operation, yet got {status}")
            _check_error(status, body)
            return
        declared = operation["responses"]
        if status >= 400 and str(status) not in declared and "default" not in declared:
            _check_error(status, body)
            return
        if status == 204:
            if body not in (None, b"", ""):
                raise ContractError(f"{method} {template}: 204 with a body {body!r}")
            data, ctype = b"", None
        else:
            data, ctype = json.dumps(body).encode(), content_type
        args = dict(query)
        request = MockRequest(HOST, method.lower(), path, path_pattern=template, args=args)
        response = MockResponse(data, status_code=status, content_type=ctype or "application/json")
        try:
            loaded.openapi.validate_response(request, response)
        except Exception as exc:
            details = [f"{list(e.path)}: {e.message}" for e in getattr(exc.__cause__, "schema_errors", ())]
            raise ContractError(f"{method} {path} -> {status}: {exc!r} {details}") from exc
        if isinstance(body, dict):
            _check_links(template, body)


def _check_error(status: int, body: Any) -> None:
    try:
        jsonschema.validate(body, ERROR_SCHEMA)
    except jsonschema.ValidationError as exc:
        raise ContractError(f"error body {body!r}: {exc.message}") from exc
    if body["status"] != status or body["more_info"] != f"https://www.twilio.com/docs/errors/{body['code']}":
        raise ContractError(f"error body {body!r} does not agree with HTTP {status}")


def _iter_dicts(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _iter_dicts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _iter_dicts(value)


def _check_links(template: str, body: dict[str, Any]) -> None:
    """Paging URIs address the same list; sub-resource URIs are paths the spec defines."""
    if "first_page_uri" in body:
        for key in PAGING_URI_KEYS:
            value = body[key]
            if value is not None and template_of(urlsplit(value).path) != template:
                raise ContractError(f"{key} {value} is not a page of {template}")
    for node in _iter_dicts(body):
        uri = node.get("uri")
        if isinstance(uri, str) and "sid" in node:
            template_of(uri)  # a resource's own uri must be a spec path
        for key, value in (node.get("subresource_uris") or {}).items():
            template_of(value)
            if isinstance(uri, str) and not value.startswith(uri.removesuffix(".json") + "/"):
                raise ContractError(f"subresource_uris[{key}] = {value} is not under {uri}")


def _raw_headers(headers: Mapping[str, str | bytes]) -> list[tuple[bytes, bytes]]:
    """Headers as bytes (a test may send a value that is not ASCII)."""
    return [(k.encode(), v if isinstance(v, bytes) else v.encode("latin-1")) for k, v in headers.items()]


def basic_auth(user: str, password: str) -> str:
    """An HTTP Basic ``Authorization`` value."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@contextlib.asynccontextmanager
async def asgi_api(emu: Any, contract: Contract | None = None) -> AsyncIterator[Api]:
    """An :class:`Api` on ``server.build_app(emu)`` in process (httpx's ASGI transport, no sockets)."""
    from voicesim.server import build_app

    transport = httpx.ASGITransport(app=build_app(emu))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://voicesim.test") as http:
        yield Api(http, emu.account_sid, emu.auth_token, contract)


class Api:
    """HTTP to voicesim (in process or over a socket); checks every REST response's contract.

    Paths not starting with ``/`` are relative to the account (``"Calls.json"``). Without the spec
    (outside CI) responses go unchecked, so behaviour tests still run; test_contract.py skips.
    """

    def __init__(
        self, http: httpx.AsyncClient, account_sid: str, auth_token: str, contract: Contract | None = None
    ) -> None:
        self.http = http
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.contract = contract if contract is not None else Contract()
        self.base = f"{API}/Accounts/{account_sid}"

    def url(self, path: str) -> str:
        """An absolute path for ``path``."""
        return path if path.startswith("/") else f"{self.base}/{path}"

    async def request(
        self,
        method: str,
        path: str,
        *,
        data: Any = None,
        params: Any = None,
        headers: Mapping[str, str | bytes] | None = None,
        content: Any = None,
        auth: tuple[str, str] | None = None,
        check: bool = True,
    ) -> httpx.Response:
        """Send one request (Basic auth unless ``headers`` has Authorization); check the answer."""
        user, password = auth or (self.account_sid, self.auth_token)
        sent: dict[str, str | bytes] = {"Authorization": basic_auth(user, password)}
        if data is not None and content is None:  # a form, as the SDK sends it (repeated keys kept)
            pairs = list(data.items()) if isinstance(data, dict) else list(data)
            content = urlencode(pairs, doseq=True).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        sent.update(headers or {})
        response = await self.http.request(
            method, self.url(path), params=params, headers=_raw_headers(sent), content=content
        )
        target = response.request.url
        if check and target.path.startswith(f"{API}/") and (SPEC_FILE.is_file() or os.environ.get("CI")):
            self.contract.check(
                method,
                target.path,
                response.status_code,
                response.json() if response.content else None,
                query=list(target.params.multi_items()),
                content_type=response.headers.get("content-type"),
            )
        return response

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET."""
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, data: Any = None, **kwargs: Any) -> httpx.Response:
        """POST a form (a dict, or a list of pairs for repeated keys)."""
        return await self.request("POST", path, data=data if data is not None else {}, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        """DELETE."""
        return await self.request("DELETE", path, **kwargs)

    async def put(self, path: str, data: Any = None, **kwargs: Any) -> httpx.Response:
        """PUT a form."""
        return await self.request("PUT", path, data=data if data is not None else {}, **kwargs)
