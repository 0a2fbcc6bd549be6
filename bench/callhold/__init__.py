"""callhold over HTTP against a standalone voicesim, beside bare baselines measured in the same run.

    /work/venv/bin/python -m bench.callhold                      # ~2.3 min (or -m bench.bench_callhold)
    /work/venv/bin/python -m bench.callhold --holds 50 --seconds 1 --no-wrk   # ~40 s, noisier
    /work/venv/bin/python -m bench.callhold --profile --no-load  # + cProfile of callhold (part 1)

Servers, each a subprocess on 127.0.0.1 running uvicorn with one worker and no access log (uvloop +
httptools when installed, like the toolbox's bare-FastAPI baseline; ``--loop``/``--http`` to change):

* **voicesim**: ``python -m voicesim --port P --speed 1`` (a ``RealtimeClock``: flows really run).
* **callhold**: ``create_app()`` configured by the environment: ``CALLHOLD_TWILIO_ACCOUNT_SID``/
  ``_AUTH_TOKEN`` and ``CALLHOLD_TWILIO_API_BASE_URL`` send its SDK requests (the async SDK, aiohttp)
  to voicesim; ``CALLHOLD_PUBLIC_BASE_URL`` is its own address, so voicesim's signed webhooks reach it;
  SQLite in a temporary directory. One process per strategy (``CALLHOLD_STRATEGY=conference``, then
  ``legs``). A thin ASGI wrapper records, per request, the time in the app, the time awaiting the SDK,
  the SQL statements and the time in ``SqlHoldStore`` (``--no-breakdown`` leaves it out).
* **bare**: a FastAPI app. It serves the TwiML of the *bare* calls of part 1 (static copies of the
  documents callhold serves) and the baseline endpoints of part 2.

**Part 1 -- hold + resume latency.** For each strategy, a customer calls a number whose voice URL is
callhold, which connects agent ``client:alice``; a second customer calls a number whose TwiML comes
from the bare app and is connected to ``client:bob`` the same way (conference: the customer
``<Dial><Conference>``, the agent added with Participants create; legs: ``<Dial><Client>``). Then,
each side going first in turn, N times (``--holds``, at most ``--hold-seconds`` per strategy):

* callhold: ``POST /api/v1/calls/{sid}/hold``, then ``POST .../resume`` (httpx, admin bearer);
* bare: the SDK calls callhold makes for them, straight to voicesim (the sync twilio SDK):
  conference: hold = 1 participant update (``Hold=true``, ``HoldUrl``), resume = 1 (``Hold=false``);
  legs: hold = 1 call update (agent leg -> hold music; the customer leg follows by its ``<Dial>``
  action into ``<Enqueue>``, as callhold's does: a second update, the issue's, is only callhold's
  fallback when it does not), resume = 1 (agent leg -> ``<Dial><Queue>``);
* relay: the bare side's SDK calls on the bare call, sent by the bare app's ``/relay/...`` endpoint
  (httpx to it, as to callhold; callhold's aiohttp SDK transport from it; no database, auth or
  webhook handling of its own): the floor of any HTTP service that makes those calls.

Between operations (not timed) the bench waits until the state has settled on both sides, by
voicesim's event log (the conference hold/unhold events delivered, the hold music fetched, the
customer enqueued, the ``<Queue url>`` fetched) and, for a legs resume, callhold's
own record (``GET /api/v1/calls/{sid}`` until the hold is ``ended``). Figures: p50/p99 of hold,
resume and hold+resume, and callhold/bare (target <= 1.3x); the relay's p50, relay/bare and
callhold/relay. Checked: every hold recorded and ended
``resumed``, all four legs still in progress, no new voicesim alerts.

**Part 2 -- webhook throughput.** Correctly signed requests (``X-Twilio-Signature`` from
``RequestValidator.compute_signature`` over the public URL) to ``POST /twiml/wait-music`` (the
cheapest TwiML: no database), ``POST /twiml/voice`` (a retried voice webhook of the live call:
read-only), and ``POST /webhooks/call-status`` twice: the same body every time (after the first, the
dedup path) and a unique ``SequenceNumber`` per request (each signed: the full path, a status
update). Baselines, with the same bodies: a bare ``async def`` FastAPI endpoint returning a small
TwiML string or 204 without reading the body (the target's baseline), and the same endpoint after
``await request.form()`` and ``RequestValidator.validate`` (what any correct webhook must do).
Clients: httpx (8 threads, one ``httpx.Client`` each; client-bound near 1.5k req/s) and
``wrk -t2 -c50`` with a Lua script (a fixed signed body, or bodies built from a prefix, the sequence
number and a suffix with a table of pre-computed signatures). Target: callhold >= 60% of the bare
req/s. Checked: unsigned and wrongly signed requests get 403, every request 2xx, and every unique
callback recorded (callhold's callback receipts table).

Modules: ``__main__`` (the options and the run); ``servers`` (the subprocesses) and ``apps`` (the code
the callhold and bare ones run); ``simulator`` (voicesim's control API and event log); ``scenario``
(the agent, numbers and live calls); ``latency`` (part 1); ``webhooks`` (signed bodies), ``loadgen``
(httpx and wrk) and ``throughput`` (part 2); ``report`` (the tables); ``constants``, ``figures``,
``polling``.
"""
