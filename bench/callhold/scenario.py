"""Part 1's two live calls: a customer connected to agent ``client:alice`` by callhold, and one
connected to ``client:bob`` by the bare app's TwiML in the same shape."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from bench.callhold.constants import (
    ALICE,
    BARE_CUSTOMER,
    BARE_NUMBER,
    BOB,
    CALLHOLD_NUMBER,
    CONFERENCE_EVENTS,
    CUSTOMER,
)
from bench.callhold.polling import until
from bench.callhold.simulator import Voicesim


@dataclass
class Pair:
    """One connected call: its customer leg and agent leg SIDs, and its conference (if any)."""

    customer: str
    agent: str
    conference: str | None = None


def set_up_phones(vs: Voicesim) -> None:
    """Both agents' phones answer after 0.5 s."""
    for phone in (ALICE, BOB):
        vs.http.put(f"/_voicesim/phones/{phone}", data={"answer_after": "0.5"}).raise_for_status()


def connect_callhold(vs: Voicesim, api: httpx.Client, public: str, strategy: str) -> Pair:
    """Through callhold's ``api`` (at ``public``), agent alice (available); callhold's number; a customer's
    call to it. Returns the call once alice's leg is in progress (and, for ``conference``, the
    conference known)."""
    reply = api.post(
        "/api/v1/agents", json={"id": "alice", "name": "Alice", "endpoint": ALICE, "available": True}
    )
    reply.raise_for_status()
    sid = vs.call_in(
        CUSTOMER, CALLHOLD_NUMBER[strategy], f"{public}/twiml/voice", f"{public}/webhooks/call-status"
    )
    for _ in until(20, 0.05):
        detail = api.get(f"/api/v1/calls/{sid}").json()
        agent = next(
            (
                leg
                for leg in detail.get("legs", [])
                if leg["role"] == "agent" and leg["status"] == "in-progress"
            ),
            None,
        )
        ready = strategy == "legs" or detail.get("conference_sid")
        if agent is not None and ready and vs.call_status(agent["call_sid"]) == "in-progress":
            return Pair(sid, agent["call_sid"], detail.get("conference_sid"))
    raise SystemExit(f"CORRECTNESS CHECK FAILED: callhold call never connected: {detail}")


def connect_bare(vs: Voicesim, bare: str, strategy: str) -> Pair:
    """The bare call: conference, the customer ``<Dial><Conference>`` and the agent added with
    Participants create (as callhold does); legs, ``<Dial><Client>``."""
    number = BARE_NUMBER[strategy]
    voice = "conf-voice" if strategy == "conference" else "legs-voice"
    customer = vs.call_in(BARE_CUSTOMER, number, f"{bare}/s/{voice}", f"{bare}/s/status")
    if strategy == "conference":
        return _bare_conference(vs, bare, number, customer)
    for _ in until(20, 0.05):
        children = [c for c in vs.sdk.calls.list(parent_call_sid=customer) if c.status == "in-progress"]
        if children:
            return Pair(customer, children[0].sid)
    raise SystemExit("CORRECTNESS CHECK FAILED: bare legs call never connected")


def _bare_conference(vs: Voicesim, bare: str, number: str, customer: str) -> Pair:
    sdk, added = vs.sdk, False
    for _ in until(20, 0.05):
        confs = sdk.conferences.list(friendly_name="bare-room")
        if confs and not added:  # the customer is in the room: add the agent, as callhold does
            added = True
            sdk.conferences(confs[0].sid).participants.create(
                from_=number,
                to=BOB,
                beep="false",
                end_conference_on_exit=True,
                label="agent",
                status_callback=f"{bare}/s/status",
                status_callback_event=["initiated ringing answered completed"],
                conference_status_callback=f"{bare}/s/status",
                conference_status_callback_event=[CONFERENCE_EVENTS],
            )
        if confs and confs[0].status == "in-progress":
            parts = {x.label: x.call_sid for x in sdk.conferences(confs[0].sid).participants.list()}
            agent = parts.get("agent")
            if agent and customer in parts.values() and vs.call_status(agent) == "in-progress":
                return Pair(customer, agent, confs[0].sid)
    raise SystemExit(f"CORRECTNESS CHECK FAILED: bare conference never connected: {confs}")
