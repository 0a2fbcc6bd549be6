"""Coaching: a supervisor whispers to the agent; the customer never hears the supervisor (§1.1)."""

from __future__ import annotations

from twilio.rest import Client

from tests.flows.test_conference_hold import AGENT, SUPERVISOR, Desk
from tests.webhook_app import WebhookApp
from voicesim import Emulator, VirtualClock


async def test_coach_is_heard_by_the_coached_agent_only_and_hears_everyone(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp, twilio_client: Client
) -> None:
    desk = Desk(voicesim, voicesim_clock, app, twilio_client)
    customer = desk.customer_calls()
    await voicesim_clock.advance(1)
    agent = desk.add(AGENT)
    await voicesim_clock.advance(10)
    coach = desk.add(SUPERVISOR, coaching=True, call_sid_to_coach=agent)
    await voicesim_clock.advance(10)
    assert desk.at(customer, 19)[2] == (agent,)  # the customer hears the agent only
    assert set(desk.at(agent, 19)[2]) == {customer, coach}  # the agent hears both
    assert set(desk.at(coach, 19)[2]) == {customer, agent}  # the coach hears everyone
    desk.update(coach, coaching=False)  # the supervisor barges in
    await voicesim_clock.advance(5)
    assert set(desk.at(customer, 23)[2]) == {agent, coach}
    heard_coach = {listener for _, _, listener in voicesim.media.heard_by(coach)}
    assert heard_coach == {agent, customer}
