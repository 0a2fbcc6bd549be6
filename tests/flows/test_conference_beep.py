"""The entry/exit beep (``beep`` on ``<Conference>``, ``Beep``/``BeepOnExit`` on participants, §2.2)."""

from __future__ import annotations

from twilio.rest import Client

from tests.flows.test_conference_hold import AGENT, SUPERVISOR, Desk
from tests.webhook_app import WebhookApp
from voicesim import Emulator, VirtualClock


def beeps(d: Desk, call_sid: str) -> list[tuple[float, str]]:
    return [(round(s.start - d.t0, 1), s.detail) for s in d.emu.media.segments(call_sid) if s.kind == "beep"]


async def test_enter_and_exit_beeps_follow_each_participants_beep_setting(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, twilio_client: Client
) -> None:
    d = Desk(voicesim, voicesim_clock, app, twilio_client)
    customer = d.customer_calls(beep="false")
    await voicesim_clock.advance(1)
    agent = d.add(AGENT, beep="onEnter")  # answers at 4: everyone hears the entry beep
    await voicesim_clock.advance(9)
    supervisor = d.add(SUPERVISOR, beep="false")  # answers at 13: silent entry
    await voicesim_clock.advance(7)
    d.update(supervisor, beep_on_exit=True)
    twilio_client.conferences(d.conference_sid).participants(supervisor).delete()  # beep=false: no exit beep
    await voicesim_clock.advance(3)
    twilio_client.conferences(d.conference_sid).participants(agent).delete()  # onEnter: no exit beep either
    await voicesim_clock.advance(5)
    assert beeps(d, customer) == [(4.0, "enter")]
    assert beeps(d, agent) == [(4.0, "enter")]


async def test_default_beep_sounds_on_exit_unless_beep_on_exit_is_off(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, twilio_client: Client
) -> None:
    d = Desk(voicesim, voicesim_clock, app, twilio_client)
    customer = d.customer_calls(beep="false")
    await voicesim_clock.advance(1)
    agent = d.add(AGENT, beep="false")
    await voicesim_clock.advance(9)
    first = d.add(SUPERVISOR)  # default beep="true": enters at 13 with a beep
    await voicesim_clock.advance(7)
    twilio_client.conferences(d.conference_sid).participants(first).delete()  # and leaves at 17 with one
    await voicesim_clock.advance(3)
    second = d.add("+15556660004")  # enters at 23
    await voicesim_clock.advance(7)
    d.update(second, beep_on_exit=False)
    twilio_client.conferences(d.conference_sid).participants(second).delete()  # silent exit at 27
    await voicesim_clock.advance(3)
    assert beeps(d, customer) == [(13.0, "enter"), (17.0, "exit"), (23.0, "enter")]
    assert beeps(d, agent) == beeps(d, customer)
