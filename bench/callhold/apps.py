"""The programs the callhold and bare subprocesses run (``python -c``), as source text.

``CALLHOLD_SERVER`` (argv: port, loop, http, profile path or ``-``, breakdown ``1``/``0``) serves
``create_app()`` behind a thin ASGI wrapper: ``/__bench/times`` returns (and clears) the per-request
breakdown, ``/__bench/breakdown/off`` stops recording it (part 2 measures callhold without the
wrapper's work), ``/__bench/profile/start`` and ``/stop`` drive cProfile. ``BARE_SERVER`` (argv: port, loop,
http, auth token, voicesim base URL, account SID) serves the bare calls' TwiML, part 1's relay (the
same SDK calls behind a bare HTTP endpoint) and the part 2 baselines.
"""

from __future__ import annotations

from bench.callhold.constants import BARE_TWIML, CONFERENCE_EVENTS

CALLHOLD_SERVER = """
import contextvars, cProfile, json, sys, time, uvicorn
from callhold.web.app import create_app

port, loop, http, profile, breakdown = sys.argv[1:6]
RECORDING = [breakdown == "1"]
app = create_app()
prof = cProfile.Profile()
SPENT = contextvars.ContextVar("spent", default=None)  # per request: [sdk s, sdk calls, SQL, store s]
TIMES = {}  # request kind -> [(s in the app, *SPENT)]
UNDO = []  # what stops the breakdown: restores what it patched

if breakdown == "1":
    # Where a request's time goes, for the breakdown table: the time awaiting the twilio SDK
    # (TwilioTelephony._call), the SQL statements executed, and the time in SqlHoldStore's methods.
    # A few microseconds per request (the SQL count is a SQLAlchemy event: ~2 us a statement).
    from sqlalchemy import Engine, event
    from callhold.adapters.db.store import SqlHoldStore
    from callhold.adapters.telephony import TwilioTelephony

    _call = TwilioTelephony._call

    async def timed_call(self, work):
        t0 = time.perf_counter()
        try:
            return await _call(self, work)
        finally:
            spent = SPENT.get()
            if spent is not None:
                spent[0] += time.perf_counter() - t0
                spent[1] += 1

    TwilioTelephony._call = timed_call
    UNDO.append(lambda: setattr(TwilioTelephony, "_call", _call))
    depth = [0]

    def timed_store(method):
        def wrapper(*args, **kwargs):
            spent = SPENT.get()
            if spent is None or depth[0]:
                return method(*args, **kwargs)
            depth[0] += 1
            t0 = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                depth[0] -= 1
                spent[3] += time.perf_counter() - t0
        return wrapper

    for name, method in list(vars(SqlHoldStore).items()):
        if callable(method) and not name.startswith("_"):
            setattr(SqlHoldStore, name, timed_store(method))
            UNDO.append(lambda name=name, method=method: setattr(SqlHoldStore, name, method))

    @event.listens_for(Engine, "before_cursor_execute")
    def count_sql(*_args):
        spent = SPENT.get()
        if spent is not None:
            spent[2] += 1

    UNDO.append(lambda: event.remove(Engine, "before_cursor_execute", count_sql))

def kind(path):
    parts = path.strip("/").split("/")
    if parts[:3] == ["api", "v1", "calls"] and len(parts) == 5:
        return "api " + parts[4]
    return "/".join(p for p in parts[:3] if not p.startswith(("CA", "CF")) and len(p) < 30)

async def reply(send, status, body=b""):
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

async def bench_app(scope, receive, send):
    # /__bench/times: the breakdown so far (and clear it); /__bench/profile/start, /stop: cProfile
    if scope["type"] != "http":
        return await app(scope, receive, send)
    path = scope["path"]
    if path.startswith("/__bench/"):
        if path == "/__bench/profile/start":
            prof.enable()
        elif path == "/__bench/profile/stop":
            prof.disable()
            prof.dump_stats(profile)
        elif path == "/__bench/breakdown/off":
            RECORDING[0] = False
            while UNDO:
                UNDO.pop()()
        elif path == "/__bench/times":
            body = json.dumps(TIMES).encode()
            TIMES.clear()
            return await reply(send, 200, body)
        return await reply(send, 204)
    if not RECORDING[0]:
        return await app(scope, receive, send)
    spent = [0.0, 0, 0, 0.0]
    token = SPENT.set(spent)
    t0 = time.perf_counter()
    try:
        await app(scope, receive, send)
    finally:
        SPENT.reset(token)
        TIMES.setdefault(kind(path), []).append((time.perf_counter() - t0, *spent))

uvicorn.run(
    bench_app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False, loop=loop, http=http
)
"""

BARE_SERVER = """
import sys, uvicorn
from fastapi import FastAPI, Request, Response
from twilio.request_validator import RequestValidator
from callhold.web.media import hold_music_wav

port, loop, http, token, voicesim, account = int(sys.argv[1]), *sys.argv[2:7]
B = f"http://127.0.0.1:{port}"
X = '<?xml version="1.0" encoding="UTF-8"?><Response>%s</Response>'
SMALL = @SMALL@
DOCS = {
    # conference: the customer's <Dial><Conference>, as callhold's connect() (static)
    "conf-voice": X % (
        f'<Say>Thanks for calling. Connecting you to an agent.</Say>'
        f'<Dial action="{B}/s/hangup" method="POST"><Conference startConferenceOnEnter="true" '
        f'endConferenceOnExit="true" waitUrl="{B}/s/music" waitMethod="GET" statusCallback="{B}/s/status" '
        f'statusCallbackEvent="@EVENTS@" statusCallbackMethod="POST" beep="false" '
        f'participantLabel="customer">bare-room</Conference></Dial>'
    ),
    # legs: <Dial><Client>, then the hold documents (agent music, customer queue, dequeue, whisper)
    "legs-voice": X % (
        f'<Say>Thanks for calling. Connecting you to an agent.</Say>'
        f'<Dial action="{B}/s/customer-after" method="POST" timeout="30">'
        f'<Client statusCallback="{B}/s/status" '
        f'statusCallbackEvent="initiated ringing answered completed">bob</Client></Dial>'
    ),
    "customer-after": X % (
        f'<Enqueue action="{B}/s/customer-after" method="POST" waitUrl="{B}/s/music" '
        f'waitUrlMethod="GET">bare-queue</Enqueue>'
    ),
    "agent-music": X % (
        f'<Say>Your customer is on hold.</Say><Play>{B}/m.wav</Play>'
        f'<Redirect method="POST">{B}/s/music</Redirect>'
    ),
    "music": X % f'<Play>{B}/m.wav</Play><Redirect method="GET">{B}/s/music</Redirect>',
    "dequeue": X % (
        f'<Dial action="{B}/s/agent-after" method="POST" timeout="30">'
        f'<Queue url="{B}/s/bridged" method="POST">bare-queue</Queue></Dial>'
    ),
    "bridged": X % "<Say>Thank you for holding. Your agent is back.</Say>",
    "agent-after": X % '<Pause length="3600"/>',
    "hangup": X % "<Hangup/>",
}
WAV = hold_music_wav()

app = FastAPI()
SDK = []

def sdk():
    # callhold's own SDK transport (aiohttp, pooled), made in the running loop on first use
    if not SDK:
        from twilio.rest import Client
        from callhold.adapters.http import RebasedAsyncHttpClient
        SDK.append(Client(account, token, http_client=RebasedAsyncHttpClient(voicesim)))
    return SDK[0]

# Part 1's relay: the SDK calls callhold makes for a hold or resume, behind a bare HTTP endpoint
# (no database, no auth, no webhooks of its own) -- the floor of any HTTP service that makes them.
@app.post("/relay/conference/{conference}/{customer}/{op}")
async def relay_conference(conference: str, customer: str, op: str) -> dict:
    participant = sdk().conferences(conference).participants(customer)
    if op == "hold":
        await participant.update_async(hold=True, hold_url=f"{B}/s/music", hold_method="GET")
    else:
        await participant.update_async(hold=False)
    return {"op": op}

@app.post("/relay/legs/{customer}/{agent}/{op}")
async def relay_legs(customer: str, agent: str, op: str) -> dict:
    client = sdk()
    if op == "hold":
        await client.calls(agent).update_async(url=f"{B}/s/agent-music", method="POST")
    else:
        await client.calls(agent).update_async(url=f"{B}/s/dequeue", method="POST")
    return {"op": op}

@app.post("/bare/twiml")
async def bare_twiml() -> Response:
    return Response(SMALL, media_type="text/xml")

@app.post("/bare/status", status_code=204)
async def bare_status() -> Response:
    return Response(status_code=204)

async def valid(request: Request) -> bool:
    form = await request.form()
    signature = request.headers.get("x-twilio-signature", "")
    return RequestValidator(token).validate(B + request.url.path, form, signature)

@app.post("/bare/twiml-signed")
async def bare_twiml_signed(request: Request) -> Response:
    if not await valid(request):
        return Response(status_code=403)
    return Response(SMALL, media_type="text/xml")

@app.post("/bare/status-signed", status_code=204)
async def bare_status_signed(request: Request) -> Response:
    if not await valid(request):
        return Response(status_code=403)
    return Response(status_code=204)

@app.api_route("/s/status", methods=["POST"], status_code=204)
async def scenario_status() -> Response:
    return Response(status_code=204)

@app.api_route("/s/{name}", methods=["GET", "POST"])
async def scenario(name: str) -> Response:
    return Response(DOCS[name], media_type="text/xml")

@app.get("/m.wav")
async def wav() -> Response:
    return Response(WAV, media_type="audio/wav")

uvicorn.run(
    app, host="127.0.0.1", port=port, log_level="warning", access_log=False, loop=loop, http=http
)
""".replace("@SMALL@", repr(BARE_TWIML)).replace("@EVENTS@", CONFERENCE_EVENTS)
