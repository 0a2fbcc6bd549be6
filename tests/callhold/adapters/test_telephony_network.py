"""A Twilio that cannot be reached is a TelephonyError (so the domain compensates), not a crash."""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import time
from collections.abc import AsyncIterator

import pytest
from twilio.rest import Client

from callhold import budget
from callhold.adapters.http import DEFAULT_TIMEOUT, RebasedAsyncHttpClient
from callhold.adapters.telephony import TwilioTelephony
from callhold.domain.commands import RedirectLeg
from callhold.domain.errors import TelephonyError


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # released on exit: nothing listens there


def _telephony(base_url: str, timeout: float | None = None) -> tuple[RebasedAsyncHttpClient, TwilioTelephony]:
    """callhold's SDK transport sending to ``base_url`` (default timeout unless given), and the adapter."""
    http = (
        RebasedAsyncHttpClient(base_url)
        if timeout is None
        else RebasedAsyncHttpClient(base_url, timeout=timeout)
    )
    return http, TwilioTelephony(Client("AC" + "0" * 32, "token", http_client=http), "http://callhold.test")


@contextlib.asynccontextmanager
async def _silent_twilio() -> AsyncIterator[tuple[str, list[asyncio.StreamWriter]]]:
    """A server that accepts connections and never answers: its base URL and the connections."""
    accepted: list[asyncio.StreamWriter] = []

    async def never_answer(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", accepted
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_connection_refused_becomes_a_telephony_error() -> None:
    port = _closed_port()
    http, telephony = _telephony(f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(TelephonyError) as caught:
            await telephony.redirect_leg(RedirectLeg(call_sid="CA" + "1" * 32, twiml_path="/twiml/x"))
    finally:
        await http.close()
    assert caught.value.status is None and "cannot reach Twilio" in caught.value.message
    # a line a person reads (it is the API's problem detail), not aiohttp's repr
    assert caught.value.message.startswith(f"cannot reach Twilio: 127.0.0.1:{port}: ")
    assert "ConnectionKey" not in caught.value.message
    assert not caught.value.call_gone
    assert not caught.value.uncertain  # nothing was sent: a plain refusal


async def test_a_twilio_that_never_answers_is_given_up_on_after_the_timeout() -> None:
    """A connection Twilio accepts but never answers (a network partition, a stuck proxy): without a
    timeout the SDK's ``None`` is aiohttp's "no limit", and the hold would wait for ever."""
    async with _silent_twilio() as (base, accepted):
        http, telephony = _telephony(base, timeout=0.2)
        try:
            with pytest.raises(TelephonyError) as caught:
                await asyncio.wait_for(
                    telephony.redirect_leg(RedirectLeg(call_sid="CA" + "1" * 32, twiml_path="/twiml/x")),
                    timeout=30,  # the test's own guard: the client's timeout must fire long before
                )
        finally:
            await http.close()
        assert len(accepted) == 1  # it did connect: Twilio reached, then silent
    # The request was sent: Twilio may have carried it out, so the outcome is unknown.
    assert caught.value.uncertain and caught.value.status is None  # Twilio sent no status
    assert caught.value.message == "no answer from Twilio (it may have carried the request out): timed out"


def test_the_client_has_a_timeout_by_default() -> None:
    assert RebasedAsyncHttpClient().timeout == DEFAULT_TIMEOUT > 0


async def test_a_connection_that_never_comes_is_a_refusal_not_an_unknown_outcome() -> None:
    """A Twilio edge that drops SYNs (here: a listener whose accept queue is full): nothing was sent,
    so it is a plain refusal (the domain may take it for "nothing moved"), not ``uncertain``."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):  # fill the accept queue: further SYNs are dropped, and connect() hangs
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    select.select([], fillers, [], 5)  # the fillers' handshakes done (or given up): the queue is full
    http, telephony = _telephony(f"http://127.0.0.1:{port}", timeout=0.5)
    try:
        with pytest.raises(TelephonyError) as caught:
            await asyncio.wait_for(
                telephony.redirect_leg(RedirectLeg(call_sid="CA" + "1" * 32, twiml_path="/twiml/x")),
                timeout=30,
            )
    finally:
        await http.close()
        for filler in fillers:
            filler.close()
        listener.close()
    assert not caught.value.uncertain and caught.value.status is None
    assert "cannot reach Twilio" in caught.value.message


async def test_inside_a_webhook_a_request_gets_only_the_time_left() -> None:
    """Twilio waits 15 s for a TwiML webhook's answer: a REST request made while answering one is cut
    at the webhook's deadline, not at the client's own (longer) timeout."""
    async with _silent_twilio() as (base, accepted):
        http, telephony = _telephony(base, timeout=30)
        started = time.monotonic()
        try:
            with budget.spending(budget.MIN_REQUEST + 0.3), pytest.raises(TelephonyError) as caught:
                await asyncio.wait_for(
                    telephony.redirect_leg(RedirectLeg(call_sid="CA" + "1" * 32, twiml_path="/twiml/x")),
                    timeout=20,  # the test's own guard
                )
        finally:
            await http.close()
        assert time.monotonic() - started < 5
        assert len(accepted) == 1 and caught.value.uncertain  # sent, no answer in the time left


async def test_with_too_little_time_left_nothing_is_sent() -> None:
    async with _silent_twilio() as (base, accepted):
        http, telephony = _telephony(base, timeout=30)
        try:
            with budget.spending(budget.MIN_REQUEST / 2), pytest.raises(TelephonyError) as caught:
                await telephony.redirect_leg(RedirectLeg(call_sid="CA" + "1" * 32, twiml_path="/twiml/x"))
        finally:
            await http.close()
        assert accepted == []  # never sent: a plain refusal
        assert not caught.value.uncertain and "no time left" in caught.value.message
    assert budget.remaining() is None  # outside a webhook: no deadline
