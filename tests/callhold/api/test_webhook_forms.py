"""``verify_twilio_signature``'s quick path: the same form as Starlette's parser, the SDK's verdict.

Twilio's webhooks are parsed with ``urllib.parse.parse_qsl`` and checked with one SDK
``compute_signature`` before the SDK's ``validate`` (which tries the URL with and without its port).
These tests pin that the shortcut changes nothing: the same parameters as Starlette's form parser for
odd bodies, the same limits, repeated keys signed as Twilio signs them, port variants still accepted,
and nothing a client sends is a 500.
"""

from __future__ import annotations

import random
import string
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from starlette.datastructures import FormData, ImmutableMultiDict
from starlette.exceptions import HTTPException
from starlette.requests import Request
from twilio.request_validator import RequestValidator

from callhold.web.security import SignedParams, parse_urlencoded, verify_twilio_signature

TOKEN = "0123456789abcdef0123456789abcdef"
BASE = "https://calls.example.com"
PATH = "/webhooks/call-status"
URL = BASE + PATH
FORM = "application/x-www-form-urlencoded"
TWILIO_BODY = urlencode(
    {
        "AccountSid": "AC" + "0" * 32,
        "CallSid": "CA" + "1" * 32,
        "CallStatus": "in-progress",
        "From": "+15551230001",
        "To": "+15550001000",
        "Timestamp": "Tue, 31 Aug 2010 20:36:28 +0000",
    }
).encode()


def request(
    body: bytes = b"",
    *,
    signature: str | None,
    content_type: str | None = FORM,
    method: str = "POST",
    query: bytes = b"",
    extra: Sequence[tuple[bytes, bytes]] = (),
) -> Request:
    """A request as the app sees it (``app`` in the scope, as Starlette's routes have it)."""
    headers = [(b"host", b"internal:8000"), *extra]
    if content_type is not None:
        headers.append((b"content-type", content_type.encode()))
    if signature is not None:
        headers.append((b"x-twilio-signature", signature.encode()))
    scope: dict[str, Any] = {
        "type": "http",
        "app": None,
        "method": method,
        "scheme": "http",
        "path": PATH,
        "query_string": query,
        "headers": headers,
        "server": ("internal", 8000),
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


def sign(
    url: str,
    params: FormData | Sequence[tuple[str, str]] = (),
    *,
    secret: str = TOKEN,
    algorithm: str = "HMAC_SHA1",
) -> str:
    """What Twilio would send in ``X-Twilio-Signature`` (the SDK, over a multi-valued mapping)."""
    pairs = params.multi_items() if isinstance(params, FormData) else list(params)
    signed: str = RequestValidator(secret).compute_signature(url, ImmutableMultiDict(pairs), algorithm)
    return signed


async def starlette_form(body: bytes, content_type: str = FORM) -> FormData:
    """What Starlette's own parser makes of ``body``."""
    return await request(body, signature=None, content_type=content_type).form()


ODD_BODIES = [
    TWILIO_BODY,
    b"StatusCallbackEvent=participant-join&StatusCallbackEvent=participant-mute&A=1",
    b"a&b=&=c&&d=1=2",  # no '=', blank value, blank name, empty field, '=' in a value
    b"x=%ff%fe+y&z=%zz&w=%2",  # invalid UTF-8 escapes, broken escapes
    "é=é&ü=%C3%BC".encode("latin-1"),  # raw non-ASCII bytes
    b"a=1;b=2",  # ';' is not a separator
    b"+%2B+=%20&%00=%0D%0A",
    b"",
]


@pytest.mark.parametrize("body", ODD_BODIES)
async def test_the_form_is_what_starlettes_parser_makes_of_the_body(body: bytes) -> None:
    expected = await starlette_form(body)
    form = await verify_twilio_signature(request(body, signature=sign(URL, expected)), BASE, TOKEN)
    assert form.multi_items() == expected.multi_items()


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded; charset=UTF-8", "Application/X-WWW-Form-URLEncoded"]
)
async def test_the_media_type_is_matched_as_starlette_matches_it(content_type: str) -> None:
    form = await verify_twilio_signature(
        request(
            TWILIO_BODY, signature=sign(URL, await starlette_form(TWILIO_BODY)), content_type=content_type
        ),
        BASE,
        TOKEN,
    )
    assert form["CallStatus"] == "in-progress"


async def test_starlettes_field_limit_still_applies() -> None:
    body = b"&".join(b"f%d=1" % i for i in range(1001))
    with pytest.raises(HTTPException) as refused:
        await verify_twilio_signature(request(body, signature=sign(URL)), BASE, TOKEN)
    assert refused.value.status_code == 400 and "Too many fields" in str(refused.value.detail)


async def test_a_thousand_fields_are_still_fine() -> None:
    pairs = [(f"f{i}", "1") for i in range(1000)]
    body = urlencode(pairs).encode()
    form = await verify_twilio_signature(request(body, signature=sign(URL, pairs)), BASE, TOKEN)
    assert len(form) == 1000


@pytest.mark.parametrize(
    ("public_base_url", "signed_url"),
    [
        (BASE, URL),  # the URL exactly as configured: the quick path
        (BASE, "https://calls.example.com:443" + PATH),  # Twilio signed with the port: the SDK's validate
        ("https://calls.example.com:443", URL),  # configured with the port, signed without
    ],
)
async def test_port_variants_are_accepted_as_the_sdk_accepts_them(
    public_base_url: str, signed_url: str
) -> None:
    form = await verify_twilio_signature(
        request(TWILIO_BODY, signature=sign(signed_url, await starlette_form(TWILIO_BODY))),
        public_base_url,
        TOKEN,
    )
    assert form["CallSid"] == "CA" + "1" * 32


@pytest.mark.parametrize(
    "signature",
    [None, "", "not-a-signature", sign(URL), sign(URL + "x", [("CallStatus", "in-progress")])],
)
async def test_a_wrong_or_missing_signature_is_403(signature: str | None) -> None:
    with pytest.raises(HTTPException) as refused:
        await verify_twilio_signature(request(TWILIO_BODY, signature=signature), BASE, TOKEN)
    assert refused.value.status_code == 403


async def test_every_value_of_a_repeated_key_is_covered() -> None:
    pairs = [("StatusCallbackEvent", "participant-join"), ("StatusCallbackEvent", "participant-mute")]
    body = urlencode(pairs).encode()
    form = await verify_twilio_signature(request(body, signature=sign(URL, pairs)), BASE, TOKEN)
    assert form.getlist("StatusCallbackEvent") == ["participant-join", "participant-mute"]
    with pytest.raises(HTTPException):
        await verify_twilio_signature(request(body, signature=sign(URL, pairs[:1])), BASE, TOKEN)


def test_signed_params_hash_as_the_sdk_hashes_a_multidict() -> None:
    pairs = [("b", "2"), ("a", "x"), ("b", "1"), ("c", ""), ("b", "2")]
    params = SignedParams()
    for key, value in pairs:
        params.setdefault(key, []).append(value)
    validator = RequestValidator(TOKEN)
    assert validator.compute_signature(URL, params) == validator.compute_signature(
        URL, ImmutableMultiDict(pairs)
    )


async def test_a_get_is_signed_over_its_url_and_its_query_is_the_form() -> None:
    query = b"CallSid=CA1&since=20"
    form = await verify_twilio_signature(
        request(method="GET", query=query, signature=sign(f"{URL}?{query.decode()}"), content_type=None),
        BASE,
        TOKEN,
    )
    assert form.multi_items() == [("CallSid", "CA1"), ("since", "20")]


SIP_QUERY = "CallSid=CA1&Caller=sip%3Aalice%40pbx.example.com&FromCity=Trezzo+Sull%27Adda&since=20"


@pytest.mark.parametrize(
    "signed_query",
    [
        SIP_QUERY,  # as sent
        # As Twilio signs it: ':' and '@' (twilio-node#621) and "'" (twilio-node#1061) unescaped.
        "CallSid=CA1&Caller=sip:alice@pbx.example.com&FromCity=Trezzo+Sull'Adda&since=20",
    ],
)
async def test_a_get_from_a_sip_caller_is_accepted_signed_with_its_query_unescaped(signed_query: str) -> None:
    form = await verify_twilio_signature(
        request(
            method="GET",
            query=SIP_QUERY.replace("%3A", "%3a").encode(),  # either case of hex digits
            signature=sign(f"{URL}?{signed_query.replace('%3A', '%3a')}"),
            content_type=None,
        ),
        BASE,
        TOKEN,
    )
    assert form["Caller"] == "sip:alice@pbx.example.com"
    assert form["FromCity"] == "Trezzo Sull'Adda"


async def test_unescaping_the_query_is_no_way_round_the_signature() -> None:
    # Unescaping changes only which URL is hashed: a signature over other parameters is still 403.
    other = "CallSid=CA2&Caller=sip:alice@pbx.example.com&FromCity=Trezzo+Sull'Adda&since=20"
    with pytest.raises(HTTPException) as refused:
        await verify_twilio_signature(
            request(
                method="GET", query=SIP_QUERY.encode(), signature=sign(f"{URL}?{other}"), content_type=None
            ),
            BASE,
            TOKEN,
        )
    assert refused.value.status_code == 403


SHARED_KEY = "webhooks-shared-key-secret-0123456789"
SETTINGS = b"x-twilio-webhooks-signature-settings"  # ASGI header names are lower case


@pytest.mark.parametrize("algorithm", ["HMAC_SHA256", "HMAC_SHA1"])
async def test_a_webhook_signed_with_a_shared_key_is_checked_with_it(algorithm: str) -> None:
    """A Webhook Rule's SharedKey signs in place of the auth token, by the algorithm the header names
    (docs/usage/webhooks/webhook-shared-keys); the auth token then proves nothing."""
    pairs = parse_qsl(TWILIO_BODY.decode())
    header = f"key=webhooks_sharedkey_abc,algorithm={algorithm}".encode()
    signed = sign(URL, pairs, secret=SHARED_KEY, algorithm=algorithm)
    form = await verify_twilio_signature(
        request(TWILIO_BODY, signature=signed, extra=[(SETTINGS, header)]), BASE, TOKEN, SHARED_KEY
    )
    assert form["CallSid"] == "CA" + "1" * 32
    for forged in (
        sign(URL, pairs),
        sign(
            URL,
            pairs,
            secret=SHARED_KEY,
            algorithm="HMAC_SHA1" if algorithm == "HMAC_SHA256" else "HMAC_SHA256",
        ),
    ):
        with pytest.raises(HTTPException) as refused:
            await verify_twilio_signature(
                request(TWILIO_BODY, signature=forged, extra=[(SETTINGS, header)]), BASE, TOKEN, SHARED_KEY
            )
        assert refused.value.status_code == 403
    with pytest.raises(HTTPException):  # no settings header: the auth token it is, as ever
        await verify_twilio_signature(request(TWILIO_BODY, signature=signed), BASE, TOKEN, SHARED_KEY)


@pytest.mark.parametrize(
    ("header", "key", "logged"),
    [
        (
            b"key=webhooks_sharedkey_abc,algorithm=HMAC_SHA256",
            None,
            "CALLHOLD_TWILIO_WEBHOOK_SHARED_KEY is not set",
        ),
        (b"key=webhooks_sharedkey_abc,algorithm=HMAC_SHA512", SHARED_KEY, "which callhold cannot check"),
    ],
)
async def test_a_shared_key_signature_callhold_cannot_check_is_403_and_says_why(
    header: bytes, key: str | None, logged: str, caplog: pytest.LogCaptureFixture
) -> None:
    from callhold.web import security

    security._refusals._logged_at = float("-inf")  # the previous test's refusals do not mute this one
    pairs = parse_qsl(TWILIO_BODY.decode())
    signed = sign(URL, pairs, secret=SHARED_KEY, algorithm="HMAC_SHA256")
    with pytest.raises(HTTPException) as refused:
        await verify_twilio_signature(
            request(TWILIO_BODY, signature=signed, extra=[(SETTINGS, header)]), BASE, TOKEN, key
        )
    assert refused.value.status_code == 403
    assert logged in caplog.text


async def test_a_file_upload_is_refused_not_a_server_error() -> None:
    boundary = "b0undary"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="CallSid"; filename="x.txt"\r\n'
        "Content-Type: text/plain\r\n\r\nCA1\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    with pytest.raises(HTTPException) as refused:
        await verify_twilio_signature(
            request(body, signature=sign(URL), content_type=f"multipart/form-data; boundary={boundary}"),
            BASE,
            TOKEN,
        )
    assert refused.value.status_code == 403


async def test_a_multipart_form_is_parsed_and_signed_as_before() -> None:
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="CallSid"\r\n\r\nCA1\r\n--{boundary}--\r\n'
    ).encode()
    content_type = f"multipart/form-data; boundary={boundary}"
    form = await verify_twilio_signature(
        request(body, signature=sign(URL, [("CallSid", "CA1")]), content_type=content_type), BASE, TOKEN
    )
    assert form["CallSid"] == "CA1"
    with pytest.raises(HTTPException) as garbled:  # no boundary: Starlette's 400, as before
        await verify_twilio_signature(
            request(body, signature=sign(URL), content_type="multipart/form-data"), BASE, TOKEN
        )
    assert garbled.value.status_code in (400, 403)


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
async def test_another_body_is_no_parameters_as_before(content_type: str | None) -> None:
    # Starlette's form() reads nothing from such a body, so only the URL is signed (as before).
    body = b'{"CallSid": "CA1"}'
    form = await verify_twilio_signature(
        request(body, signature=sign(URL), content_type=content_type), BASE, TOKEN
    )
    assert form.multi_items() == []
    with pytest.raises(HTTPException):
        await verify_twilio_signature(
            request(body, signature=sign(URL, [("CallSid", "CA1")]), content_type=content_type), BASE, TOKEN
        )


def test_the_quick_parser_reads_what_parse_qsl_reads() -> None:
    """``parse_urlencoded`` skips unquoting where there is nothing to unquote: on any string it
    must give exactly what ``parse_qsl(keep_blank_values=True)`` gives."""
    rng = random.Random(7)
    alphabet = "ab=&%+2Ff0 ;\u00e9\u20ac" + string.ascii_letters[:4]
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        assert parse_urlencoded(text) == parse_qsl(text, keep_blank_values=True), text
    with pytest.raises(ValueError):
        parse_urlencoded("a=1" + "&a=1" * 1000)
