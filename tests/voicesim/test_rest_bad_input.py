"""Bad input: Twilio's error code and status, a Twilio error body, and an emulator left untouched.

Each rejected request is checked against a snapshot of the whole emulator taken just before it
(calls with their hidden settings, numbers, phones, event log, alerts, scheduled work, the next SID
the seeded RNG would give), so "rejected" also means "changed nothing". No answer is ever a 500.
"""

from __future__ import annotations

import copy
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.voicesim.contract import Api, asgi_api, basic_auth
from tests.webhook_app import WebhookApp
from voicesim import Emulator, PhoneScript, VirtualClock
from voicesim.rest.app import MAX_BODY_BYTES
from voicesim.rest.render import call_json, number_json

FROM = "+15550000001"
OTHER_ACCOUNT = "AC" + "9" * 32
KEY_SID, KEY_SECRET = "SK" + "5" * 32, "the-key-secret"


@dataclass
class World:
    emu: Emulator
    api: Api
    sids: dict[str, str]

    def path(self, template: str) -> str:
        return template.format(**self.sids)


def snapshot(emu: Emulator) -> dict[str, Any]:
    """Everything a request could change."""
    return {
        "calls": [
            (
                call_json(emu, c),
                c.deleted,
                c.url,
                c.method,
                c.twiml,
                c.fallback_url,
                c.fallback_method,
                c.status_callback,
                c.status_callback_method,
                c.status_callback_events,
                c.timeout,
                c.time_limit,
                None if c.limit_timer is None else (c.limit_timer.when, c.limit_timer.cancelled),
            )
            for c in emu.calls.by_sid.values()
        ],
        "numbers": [number_json(emu, n) for n in emu.numbers.values()],
        "api_keys": [(k.sid, k.secret, k.friendly_name, k.date_updated) for k in emu.api_keys.values()],
        "phones": dict(emu.phones.scripts),
        "events": [e.as_dict() for e in emu.events],
        "alerts": list(emu.alerts),
        "pending": emu.clock.pending,
        "now": emu.clock.now(),
        "next_sid": copy.deepcopy(emu.sids).new("CA"),
    }


@pytest.fixture
async def world(voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp) -> AsyncIterator[World]:
    """A number and calls in every state: live (in-progress), ringing, queued, done (busy)."""
    voicesim.webhooks.use_transport(httpx.MockTransport(lambda r: httpx.Response(404)))  # no network
    app.twiml("/voice", '<Pause length="600"/>')
    voicesim.phones.script("+15550000010", PhoneScript(answer_after=1))
    voicesim.phones.script("+15550000011", PhoneScript(answer_after=500))
    voicesim.phones.script("+15550000012", PhoneScript(outcome="busy"))
    async with asgi_api(voicesim) as api:
        voicesim.create_api_key(sid=KEY_SID, secret=KEY_SECRET)
        number = voicesim.buy_number(FROM, voice_url="http://app.test/voice")
        sids = {"AC": voicesim.account_sid, "number": number.sid}

        async def place(to: str) -> str:
            form = {
                "To": to,
                "From": FROM,
                "Url": "http://app.test/voice",
                "StatusCallback": "http://app.test/cb",
            }
            response = await api.post("Calls.json", form)
            assert response.status_code == 201
            return str(response.json()["sid"])

        sids["live"] = await place("+15550000010")
        sids["ringing"] = await place("+15550000011")
        sids["done"] = await place("+15550000012")
        await voicesim_clock.advance(5)
        sids["queued"] = await place("+15550000013")
        statuses = {
            k: voicesim.calls.by_sid[v].status
            for k, v in sids.items()
            if k in ("live", "ringing", "done", "queued")
        }
        assert statuses == {"live": "in-progress", "ringing": "ringing", "done": "busy", "queued": "queued"}
        yield World(voicesim, api, sids)
    voicesim_clock.raise_errors()


CALLS = "Calls.json"
LIVE, RINGING, QUEUED, DONE = (
    "Calls/{live}.json",
    "Calls/{ringing}.json",
    "Calls/{queued}.json",
    "Calls/{done}.json",
)
NUMBERS, NUMBER = "IncomingPhoneNumbers.json", "IncomingPhoneNumbers/{number}.json"
OK = {"To": "+15550000020", "From": FROM, "Url": "http://app.test/voice"}


def without(key: str) -> dict[str, str]:
    return {k: v for k, v in OK.items() if k != key}


# (id, method, path, form or query, status, code); code None: any Twilio code.
REJECTED: list[tuple[str, str, str, dict[str, str], int, int | None]] = [
    ("fetch unknown call", "GET", "Calls/CA00000000000000000000000000000000.json", {}, 404, 20404),
    ("fetch malformed call sid", "GET", "Calls/CAnope.json", {}, 404, 20404),
    ("fetch a number's sid as a call", "GET", "Calls/{number}.json", {}, 404, 20404),
    ("update unknown call", "POST", "Calls/CAnope.json", {"Status": "completed"}, 404, 20404),
    ("delete unknown call", "DELETE", "Calls/CA00000000000000000000000000000000.json", {}, 404, 20404),
    ("fetch unknown number", "GET", "IncomingPhoneNumbers/PNnope.json", {}, 404, 20404),
    ("fetch a call's sid as a number", "GET", "IncomingPhoneNumbers/{live}.json", {}, 404, 20404),
    (
        "update unknown number",
        "POST",
        "IncomingPhoneNumbers/PN00000000000000000000000000000000.json",
        {},
        404,
        20404,
    ),
    ("delete unknown number", "DELETE", "IncomingPhoneNumbers/PNnope.json", {}, 404, 20404),
    ("create without To", "POST", CALLS, without("To"), 400, 21201),
    ("create with blank To", "POST", CALLS, {**OK, "To": "  "}, 400, 21201),
    ("create without From", "POST", CALLS, without("From"), 400, 21213),
    ("create without Url or Twiml", "POST", CALLS, without("Url"), 400, 21205),
    ("create with an ftp Url", "POST", CALLS, {**OK, "Url": "ftp://app.test/voice"}, 400, 21205),
    ("create with a relative Url", "POST", CALLS, {**OK, "Url": "/voice"}, 400, 21205),
    ("create with an unparsable Url", "POST", CALLS, {**OK, "Url": "http://[oops"}, 400, 21205),
    ("create with a Url with spaces", "POST", CALLS, {**OK, "Url": "http://app .test/x"}, 400, 21205),
    ("create with invalid To", "POST", CALLS, {**OK, "To": "not-a-number"}, 400, 21211),
    ("create with invalid From", "POST", CALLS, {**OK, "From": "12"}, 400, 21212),
    (
        "create with Twiml over 4000",
        "POST",
        CALLS,
        {**without("Url"), "Twiml": "<Response>" + "x" * 4000 + "</Response>"},
        400,
        None,
    ),
    # Twilio's 21208 "Invalid Timeout" and 21209 "Invalid Method" (reviewed in r2, F4).
    ("create with Timeout 0", "POST", CALLS, {**OK, "Timeout": "0"}, 400, 21208),
    ("create with Timeout 601", "POST", CALLS, {**OK, "Timeout": "601"}, 400, 21208),
    ("create with Timeout abc", "POST", CALLS, {**OK, "Timeout": "abc"}, 400, 21208),
    ("create with Method PUT", "POST", CALLS, {**OK, "Method": "PUT"}, 400, 21209),
    ("create with FallbackMethod PUT", "POST", CALLS, {**OK, "FallbackMethod": "PUT"}, 400, 21209),
    # An invalid TimeLimit is 13216, as Twilio answered it (twilio/twilio-go#258).
    ("create with TimeLimit 0", "POST", CALLS, {**OK, "TimeLimit": "0"}, 400, 13216),
    ("create with TimeLimit 86401", "POST", CALLS, {**OK, "TimeLimit": "86401"}, 400, 13216),
    ("create with TimeLimit abc", "POST", CALLS, {**OK, "TimeLimit": "abc"}, 400, 13216),
    ("create with a bad FallbackUrl", "POST", CALLS, {**OK, "FallbackUrl": "nope"}, 400, 21205),
    ("create with a bad StatusCallback", "POST", CALLS, {**OK, "StatusCallback": "nope"}, 400, 21205),
    (
        "create with StatusCallbackMethod DELETE",
        "POST",
        CALLS,
        {**OK, "StatusCallbackMethod": "DELETE"},
        400,
        21209,
    ),
    ("update with Status=bogus", "POST", LIVE, {"Status": "bogus"}, 400, None),
    ("update with Status=in-progress", "POST", RINGING, {"Status": "in-progress"}, 400, None),
    ("hang up a completed call", "POST", DONE, {"Status": "completed"}, 400, 21220),
    ("redirect a completed call", "POST", DONE, {"Url": "http://app.test/voice"}, 400, 21220),
    ("redirect a queued call", "POST", QUEUED, {"Url": "http://app.test/voice"}, 400, 21220),
    ("redirect a ringing call", "POST", RINGING, {"Twiml": "<Response/>"}, 400, 21220),
    ("update a live call with a bad Url", "POST", LIVE, {"Url": "javascript:alert(1)"}, 400, 21205),
    (
        "update a live call with long Twiml",
        "POST",
        LIVE,
        {"Twiml": "<Response>" + "x" * 4001 + "</Response>"},
        400,
        None,
    ),
    (
        "update: callback valid, Method not",
        "POST",
        LIVE,
        {"StatusCallback": "http://app.test/new", "Url": "http://app.test/x", "Method": "PUT"},
        400,
        21209,
    ),
    ("update with FallbackMethod PUT", "POST", LIVE, {"FallbackMethod": "PUT"}, 400, 21209),
    ("update with StatusCallbackMethod PUT", "POST", LIVE, {"StatusCallbackMethod": "PUT"}, 400, 21209),
    ("update with TimeLimit 0", "POST", LIVE, {"TimeLimit": "0"}, 400, 13216),
    (
        "update: callback valid, TimeLimit not",
        "POST",
        LIVE,
        {"StatusCallback": "http://app.test/new", "TimeLimit": "-5"},
        400,
        13216,
    ),
    ("update the TimeLimit of a completed call", "POST", DONE, {"TimeLimit": "60"}, 400, 21220),
    (
        "update: callback valid, fallback not",
        "POST",
        LIVE,
        {"StatusCallback": "http://app.test/new", "FallbackUrl": "x"},
        400,
        21205,
    ),
    # 20009 "Cannot delete this resource before it is complete" (reviewed in r2, F4).
    ("delete a call in progress", "DELETE", LIVE, {}, 400, 20009),
    ("delete a ringing call", "DELETE", RINGING, {}, 400, 20009),
    ("delete a queued call", "DELETE", QUEUED, {}, 400, 20009),
    ("list with PageSize 0", "GET", CALLS, {"PageSize": "0"}, 400, None),
    # 20007 "Page size too large. The maximum page size is 1000" (reviewed in r2, F4).
    ("list with PageSize 1001", "GET", CALLS, {"PageSize": "1001"}, 400, 20007),
    ("list with a huge PageSize", "GET", CALLS, {"PageSize": "9" * 30}, 400, 20007),
    ("list numbers with PageSize 5000", "GET", NUMBERS, {"PageSize": "5000"}, 400, 20007),
    ("list with Page -1", "GET", CALLS, {"Page": "-1"}, 400, None),
    ("list with a bogus PageToken", "GET", CALLS, {"PageToken": "bogus"}, 400, None),
    ("list with Status=bogus", "GET", CALLS, {"Status": "bogus"}, 400, None),
    ("list with StartTime=garbage", "GET", CALLS, {"StartTime>": "yesterday"}, 400, None),
    ("buy without PhoneNumber", "POST", NUMBERS, {}, 400, 21452),
    ("buy an invalid number", "POST", NUMBERS, {"PhoneNumber": "abc"}, 400, 21421),
    ("buy a number twice", "POST", NUMBERS, {"PhoneNumber": FROM}, 400, 21422),
    (
        "buy with a bad VoiceUrl",
        "POST",
        NUMBERS,
        {"PhoneNumber": "+15550000002", "VoiceUrl": "nope"},
        400,
        21205,
    ),
    (
        "buy with VoiceMethod PUT",
        "POST",
        NUMBERS,
        {"PhoneNumber": "+15550000002", "VoiceMethod": "PUT"},
        400,
        None,
    ),
    (
        "buy with a long FriendlyName",
        "POST",
        NUMBERS,
        {"PhoneNumber": "+15550000002", "FriendlyName": "x" * 65},
        400,
        None,
    ),
    (
        "update number: url valid, method not",
        "POST",
        NUMBER,
        {"VoiceUrl": "https://app.test/v2", "VoiceMethod": "PUT"},
        400,
        None,
    ),
    (
        "update number with a bad fallback",
        "POST",
        NUMBER,
        {"VoiceUrl": "https://app.test/v2", "VoiceFallbackUrl": "x"},
        400,
        21205,
    ),
    ("list numbers with PageSize abc", "GET", NUMBERS, {"PageSize": "abc"}, 400, None),
]


@pytest.mark.parametrize(
    ("method", "path", "fields", "status", "code"),
    [case[1:] for case in REJECTED],
    ids=[c[0] for c in REJECTED],
)
async def test_rejected_requests_change_nothing(
    world: World, method: str, path: str, fields: dict[str, str], status: int, code: int | None
) -> None:
    before = snapshot(world.emu)
    if method == "GET":
        response = await world.api.get(world.path(path), params=fields)
    else:
        response = await world.api.request(
            method, world.path(path), data=fields if method == "POST" else None
        )
    body = response.json()
    assert (response.status_code, body["status"]) == (status, status), body
    if code is not None:
        assert body["code"] == code, body
    assert snapshot(world.emu) == before


AUTH_FAILURES: dict[str, dict[str, str | bytes]] = {
    "wrong token": {"Authorization": basic_auth("AC" + "0" * 31 + "1", "wrong")},
    "unknown account": {"Authorization": basic_auth(OTHER_ACCOUNT, "0123456789abcdef0123456789abcdef")},
    "missing header": {"Authorization": ""},
    "not Basic": {"Authorization": "Bearer 0123456789abcdef0123456789abcdef"},
    "not base64": {"Authorization": "Basic ###"},
    "non-ASCII": {"Authorization": "Basic \u00e9t\u00e9".encode("latin-1")},
    "no colon": {"Authorization": "Basic " + "QUMwMDA="},
    "API key, wrong secret": {"Authorization": basic_auth(KEY_SID, "wrong")},
    "API key, the auth token as secret": {
        "Authorization": basic_auth(KEY_SID, "0123456789abcdef0123456789abcdef")
    },
    "unknown API key": {"Authorization": basic_auth("SK" + "6" * 32, KEY_SECRET)},
    "API key secret with the account SID": {"Authorization": basic_auth("AC" + "0" * 31 + "1", KEY_SECRET)},
}


@pytest.mark.parametrize("case", sorted(AUTH_FAILURES))
@pytest.mark.parametrize(
    ("method", "path"), [("GET", CALLS), ("POST", CALLS), ("POST", LIVE), ("GET", NUMBER)]
)
async def test_bad_credentials_are_401_20003(world: World, case: str, method: str, path: str) -> None:
    before = snapshot(world.emu)
    headers = {k: v for k, v in AUTH_FAILURES[case].items() if v}
    if not headers:
        response = await world.api.http.request(method, world.api.url(world.path(path)), data=OK)
    else:
        response = await world.api.request(
            method, world.path(path), data=OK if method == "POST" else None, headers=headers
        )
    assert response.status_code == 401
    assert response.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    assert snapshot(world.emu) == before


async def test_another_accounts_path_is_401_even_with_good_credentials(world: World) -> None:
    before = snapshot(world.emu)
    for method, path in (
        ("GET", "Calls.json"),
        ("POST", "Calls.json"),
        ("GET", f"Calls/{world.sids['live']}.json"),
    ):
        response = await world.api.request(
            method, f"/2010-04-01/Accounts/{OTHER_ACCOUNT}/{path}", data=OK if method == "POST" else None
        )
        assert (response.status_code, response.json()["code"]) == (401, 20003)
    assert snapshot(world.emu) == before


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/2010-04-01/Accounts/{AC}/Nope.json", 404, 20404),
        ("GET", "/2010-04-01/Accounts/{AC}/Calls/{live}/Nope.json", 404, 20404),
        ("GET", "/", 404, 20404),
        ("GET", "/_voicesim/nope", 404, 20404),
        ("PUT", "/2010-04-01/Accounts/{AC}/Calls.json", 405, None),
        ("DELETE", "/2010-04-01/Accounts/{AC}/Calls.json", 405, None),
        ("PATCH", "/2010-04-01/Accounts/{AC}/Calls/{live}.json", 405, None),
        ("PUT", "/2010-04-01/Accounts/{AC}/IncomingPhoneNumbers/{number}.json", 405, None),
        ("DELETE", "/_voicesim/clock", 405, None),
    ],
)
async def test_unknown_routes_and_wrong_methods(
    world: World, method: str, path: str, status: int, code: int | None
) -> None:
    before = snapshot(world.emu)
    target = world.path(path)
    response = await world.api.request(method, target, check=not target.endswith("Nope.json"))
    body = response.json()
    assert (response.status_code, body["status"]) == (status, status)
    if code is not None:
        assert body["code"] == code
    assert snapshot(world.emu) == before


async def test_oversized_bodies_are_413_with_a_json_body(world: World) -> None:
    before = snapshot(world.emu)
    big = b"To=%2B15550000020&From=%2B15550000001&Url=http%3A%2F%2Fapp.test%2Fv&Pad=" + b"x" * MAX_BODY_BYTES
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    declared = await world.api.request("POST", CALLS, content=big, headers=headers)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit applies while reading
        for start in range(0, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]

    streamed = await world.api.http.post(
        world.api.url(CALLS),
        content=chunks(),
        headers={**headers, "Authorization": basic_auth(world.emu.account_sid, world.emu.auth_token)},
    )
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/json"
        assert response.json()["status"] == 413
    assert snapshot(world.emu) == before
    at_limit = b"To=%2B15550000020&From=%2B15550000001&Url=http%3A%2F%2Fapp.test%2Fv&Pad="
    fits = await world.api.request(
        "POST", CALLS, content=at_limit + b"x" * (MAX_BODY_BYTES - len(at_limit)), headers=headers
    )
    assert fits.status_code == 201


@pytest.mark.parametrize(
    ("path", "content_type", "content"),
    [
        ("/_voicesim/reset", "application/json", b'{"seed": '),
        ("/_voicesim/phones/%2B15550000099", "application/json", b"{not json"),
        ("/_voicesim/inbound-calls", "application/json", b"\xff\xfe{}"),
        ("/_voicesim/clock/advance", "application/x-www-form-urlencoded", b"seconds=\xff"),
        ("Calls.json", "application/x-www-form-urlencoded", b"To=%2B15550000020&From=\xc3\x28"),
        ("Calls.json", "application/json", b"[1, 2"),
    ],
)
async def test_malformed_and_non_utf8_bodies_are_4xx(
    world: World, path: str, content_type: str, content: bytes
) -> None:
    before = snapshot(world.emu)
    method = "PUT" if "/phones/" in path else "POST"
    response = await world.api.request(method, path, content=content, headers={"Content-Type": content_type})
    assert 400 <= response.status_code < 500 and response.json()["status"] == response.status_code
    assert snapshot(world.emu) == before


async def test_malformed_status_callback_event_is_201_alert_21626_and_no_callbacks(
    world: World, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    form = [
        ("To", "+15550000010"),  # answers after 1 s
        ("From", FROM),
        ("Url", "http://app.test/voice"),
        ("StatusCallback", "http://app.test/status"),
        ("StatusCallbackEvent", "initiated"),
        ("StatusCallbackEvent", "ringing,answered"),
    ]
    response = await world.api.post("Calls.json", form)
    assert response.status_code == 201
    sid = response.json()["sid"]
    [alert] = [a for a in world.emu.alerts if a.call_sid == sid]
    assert alert.error_code == 21626
    await voicesim_clock.advance(30)
    hung = await world.api.post(f"Calls/{sid}.json", {"Status": "completed"})
    assert hung.json()["status"] == "completed"
    await voicesim_clock.settle()
    assert app.to("/status") == []  # not even "completed"
    assert sid in [r.params["CallSid"] for r in app.to("/voice")]  # the call itself went ahead


# -- never a 500: random garbage -----------------------------------------------------------------

KEYS = [
    "To",
    "From",
    "Url",
    "Twiml",
    "Method",
    "Timeout",
    "TimeLimit",
    "FallbackUrl",
    "FallbackMethod",
    "StatusCallback",
    "StatusCallbackMethod",
    "StatusCallbackEvent",
    "Status",
    "ApplicationSid",
    "PageSize",
    "Page",
    "PageToken",
    "SendDigits",
    "Record",
    "PhoneNumber",
    "VoiceUrl",
    "VoiceMethod",
    "VoiceFallbackUrl",
    "VoiceFallbackMethod",
    "FriendlyName",
]
NASTY = [
    "",
    " ",
    "0",
    "-1",
    "1e309",
    "nan",
    "inf",
    "99999999999999999999999",
    "\x00",
    "\u202e",
    "\ud7ff",
    "%",
    "%%41",
    "&",
    "=",
    "http://[",
    "http://",
    "https://app.test/v",
    "//x",
    "client:",
    "sip:",
    "+",
    "+1",
    "+15550000020",
    "client:alice",
    "completed",
    "canceled",
    "queued",
    "in-progress",
    "GET",
    "get",
    "PUT",
    "initiated",
    "answered ringing",
    "<Response>",
    "<Response/>",
    "PT",
    "PT-1",
    "x" * 5000,
    "\u00e9\u00e8",
    "\U0001f4de",
    "CA" + "f" * 32,
    "true",
    "None",
    "null",
    "[]",
    "{}",
]


def garbage(rng: random.Random) -> list[tuple[str, str]]:
    pairs = [(rng.choice(KEYS), rng.choice(NASTY)) for _ in range(rng.randint(0, 8))]
    if rng.random() < 0.5:
        valid = {**OK, "PhoneNumber": f"+1555{rng.randrange(10**7):07d}", "VoiceUrl": "https://app.test/v"}
        pairs += [(k, v) for k, v in valid.items() if rng.random() < 0.8]
    if rng.random() < 0.2:
        pairs.append((rng.choice(NASTY) or "k", rng.choice(NASTY)))
    rng.shuffle(pairs)
    return pairs


@pytest.mark.parametrize("target", ["create", "update-live", "update-queued", "list", "buy", "update-number"])
async def test_random_garbage_is_never_a_500(world: World, target: str) -> None:
    rng = random.Random(f"voicesim-{target}")
    path, method = {
        "create": (CALLS, "POST"),
        "update-live": (LIVE, "POST"),
        "update-queued": (QUEUED, "POST"),
        "list": (CALLS, "GET"),
        "buy": (NUMBERS, "POST"),
        "update-number": (NUMBER, "POST"),
    }[target]
    codes = set()
    for _ in range(150):
        fields = garbage(rng)
        if method == "GET":
            response = await world.api.get(world.path(path), params=fields)
        else:
            response = await world.api.post(world.path(path), fields)
        assert response.status_code < 500, (fields, response.text)
        codes.add(response.status_code)
    assert len(codes) > 1  # the generator reaches both sides
