"""When the legs follow check comes: ``follow_after`` after the hold is held, never at once -- not
after a recovery's late confirmation (a customer redirect right behind the agent's is the race the
legs rule avoids, reference 3.3, Q3), nor after a refused undo (a tight loop of refusals)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from callhold.domain.model import HoldState
from callhold.hold_timers import HoldTimings
from tests.flows.callhold_harness import BASE, Harness, make_harness
from tests.flows.legs_follow import CALL_UPDATE, action_not_followed
from tests.twilio_refusals import REFUSED, RefusingTransport, Sent, telephony_over
from voicesim import Emulator, VirtualClock

FOLLOW_AFTER = HoldTimings().follow_after


@pytest.fixture
def h(voicesim: Emulator, voicesim_clock: VirtualClock, tmp_path: Path) -> Harness:
    return make_harness(voicesim, voicesim_clock, tmp_path, strategy="legs")


class NotingTransport(RefusingTransport):
    """A :class:`RefusingTransport` that also notes every Calls update: (call SID, ``Url``)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.updates: list[tuple[str, str]] = []

    async def intercept(self, sent: Sent, selected: bool):  # type: ignore[no-untyped-def]
        method, url, _, data, *_ = sent
        match = CALL_UPDATE.match(f"{method} {url}")
        if match is not None:
            self.updates.append((match.group(1), str((data or {}).get("Url", ""))))
        return await super().intercept(sent, selected)


def nth_updates(numbers: range) -> object:
    """A selector of the Calls updates whose rank (from 1) is in ``numbers``."""
    count = itertools.count(1)
    return lambda method, url, _: CALL_UPDATE.match(f"{method} {url}") is not None and next(count) in numbers


async def test_a_refused_follow_and_a_refused_undo_are_not_retried_in_a_tight_loop(h: Harness) -> None:
    customer, _ = await h.connected()
    action_not_followed(h, customer)
    # The agent's redirect to music goes through; then Twilio refuses the next 40 Calls updates.
    failing = NotingTransport(h.emu, nth_updates(range(2, 42)), **REFUSED)
    h.services.service.telephony = telephony_over(h.emu, failing, BASE)
    view = await h.services.service.hold(customer, by="alice", agent_id="alice")
    assert view.hold is not None and view.hold.state is HoldState.HELD
    await h.clock.advance(FOLLOW_AFTER + 1)
    h.clock.raise_errors()
    # The follow check's redirect, then the undo's (the agent to the queue): refused, once each.
    assert [f["Url"].removeprefix(BASE).split("/")[3] for f in failing.refused] == ["enqueue", "dequeue"]


async def test_a_recovered_hold_gives_the_customer_time_to_follow_before_redirecting_it(h: Harness) -> None:
    """The agent's redirect gets no answer (a 504, Twilio did nothing): the hold stays holding and the
    recovery sends it again 30 s later. Its 200 confirms the hold; the customer's ``<Dial>`` action
    follows within a second, so no redirect of the customer is sent."""
    customer, agent = await h.connected()
    no_answer = NotingTransport(h.emu, nth_updates(range(1, 2)), status=504, code=20504)
    h.services.service.telephony = telephony_over(h.emu, no_answer, BASE)
    view = await h.services.service.hold(customer, by="alice", agent_id="alice")
    assert view.hold is not None and view.hold.state is HoldState.HOLDING
    await h.clock.advance(50)  # past the recovery grace (30 s); the agent's reminder is at 60 s
    h.clock.raise_errors()
    to_music = (agent, f"{BASE}/twiml/legs/hold-music/{view.hold.id}")
    assert no_answer.updates == [to_music, to_music]  # no answer, then the recovery's
    assert h.heard(customer)[-1][1] == "queue-wait"
    assert h.view(customer).customer_leg.on_hold  # type: ignore[union-attr]


async def test_an_unanswered_follow_redirect_is_checked_again_at_the_next_sweep(h: Harness) -> None:
    """The follow check's redirect of the customer gets no answer (a 504: Twilio did nothing): the
    customer may or may not be in the queue, so the hold stays held, and the next sweep's catch-up
    checks again -- not only once the agent reminder or the maximum hold has fired, minutes later."""
    customer, _ = await h.connected()
    action_not_followed(h, customer)
    no_answer = NotingTransport(h.emu, nth_updates(range(2, 3)), status=504, code=20504)
    h.services.service.telephony = telephony_over(h.emu, no_answer, BASE)
    view = await h.services.service.hold(customer, by="alice", agent_id="alice")
    assert view.hold is not None
    await h.clock.advance(FOLLOW_AFTER + 1)
    assert len(no_answer.refused) == 1 and h.heard(customer)[-1][0] == "silence"
    assert h.services.service.rearm_timers() == 1  # a sweep
    await h.clock.advance(1)
    h.clock.raise_errors()
    enqueue = f"{BASE}/twiml/legs/enqueue/{view.hold.id}"
    assert [url for _, url in no_answer.updates].count(enqueue) == 2
    assert h.heard(customer)[-1][1] == "queue-wait"
    hold = h.view(customer).hold
    assert hold is not None and hold.state is HoldState.HELD
