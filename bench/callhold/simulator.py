"""voicesim from the bench's side: its control API and sync SDK over HTTP, and checks on its event log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from bench.callhold.constants import ACCOUNT_SID, AUTH_TOKEN, BASIC
from bench.callhold.polling import until
from voicesim.sdk import client as sdk_client

Event = dict[str, Any]
Check = Callable[[list[Event]], bool]  # on the events since a mark: has it happened?


class Voicesim:
    """The control API (events, phones, inbound calls) and the sync SDK, over HTTP."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.Client(base_url=base, headers={"authorization": BASIC}, timeout=30)
        self.sdk = sdk_client(base_url=base, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)

    def mark(self) -> int:
        return int(self.http.get("/_voicesim/events", params={"since": 2**61}).json()["next"])

    def events(self, since: int) -> list[Event]:
        return list(self.http.get("/_voicesim/events", params={"since": since}).json()["events"])

    def wait(self, since: int, done: Check, what: str, timeout: float = 10) -> None:
        """Poll the event log from ``since`` until ``done(events)``."""
        for _ in until(timeout, 0.002):
            if done(self.events(since)):
                return
        raise SystemExit(f"CORRECTNESS CHECK FAILED: timed out waiting for {what}")

    def alerts(self) -> list[dict[str, Any]]:
        return list(self.http.get("/_voicesim/alerts").json()["alerts"])

    def call_status(self, sid: str) -> str:
        return str(self.sdk.calls(sid).fetch().status)

    def call_in(self, caller: str, number: str, voice_url: str, status_url: str) -> str:
        """Buy ``number`` with these webhooks and place an inbound call to it from ``caller``: its SID."""
        self.sdk.incoming_phone_numbers.create(
            phone_number=number,
            voice_url=voice_url,
            voice_method="POST",
            status_callback=status_url,
            status_callback_method="POST",
        )
        made = self.http.post("/_voicesim/inbound-calls", data={"From": caller, "To": number})
        made.raise_for_status()
        return str(made.json()["sid"])


def webhook_seen(url_part: str, **params: str) -> Callable[[Event], bool]:
    def match(e: Event) -> bool:
        return (
            e["type"] == "webhook"
            and url_part in e["url"]
            and e.get("status") is not None
            and all(e["params"].get(k) == v for k, v in params.items())
        )

    return match


def enqueued(customer: str) -> Check:
    """The customer leg was enqueued (in the events polled: those since the operation began). It
    follows the agent by its ``<Dial>``/``<Enqueue>`` action, or was redirected there."""
    return any_event(lambda e: e["type"] == "queue.enqueued" and e["call_sid"] == customer)


def all_of(*checks: Check) -> Check:
    return lambda events: all(check(events) for check in checks)


def any_event(pred: Callable[[Event], bool]) -> Check:
    return lambda events: any(pred(e) for e in events)


def participant_event(status_url: str, event: str, call_sid: str) -> Check:
    """A conference status callback ``event`` (``participant-hold``, ...) for ``call_sid`` delivered."""
    return any_event(webhook_seen(status_url, StatusCallbackEvent=event, CallSid=call_sid))


def legs_held(customer: str, agent: str, agent_music_url: str) -> Check:
    """A legs hold settled: the customer enqueued, the agent's music fetched."""
    return all_of(enqueued(customer), any_event(webhook_seen(agent_music_url, CallSid=agent)))
