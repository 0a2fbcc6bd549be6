"""``TimeLimit``: a call's maximum duration (Calls create and update, Participants create).

The OAI spec: "The maximum duration of the call in seconds" on all three; Twilio logs warning 32015
"Call is terminated due to exceeding maximum call duration" when it ends a call for it. The default
is Twilio's four-hour call limit. Counting from the answer, and what an update replaces, are
voicesim's reading (see :mod:`voicesim.calls`). Reviewed in r2 (F1): voicesim stored the value and
never enforced it.
"""

from __future__ import annotations

from twilio.rest import Client

from tests.webhook_app import BASE, WebhookApp
from voicesim import Emulator, PhoneScript, VirtualClock

FROM, TO = "+15550000001", "+15550000010"
LONG = "<Response><Pause length='120'/></Response>"
EVENTS = ["initiated", "ringing", "answered", "completed"]


def ended_by_limit(voicesim: Emulator) -> list[str]:
    """The calls with a 32015 alert, in order."""
    return [a.call_sid or "" for a in voicesim.alerts if a.error_code == 32015]


async def test_time_limit_on_create_ends_the_call_counted_from_the_answer(
    twilio_client: Client, voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    voicesim.phones.script(TO, PhoneScript(answer_after=5))
    t0 = voicesim_clock.now()
    call = twilio_client.calls.create(
        to=TO,
        from_=FROM,
        twiml=LONG,
        time_limit=10,
        status_callback=f"{BASE}/status",
        status_callback_event=EVENTS,
    )
    await voicesim_clock.advance(14.9)  # answered at 5: ringing does not count
    assert twilio_client.calls(call.sid).fetch().status == "in-progress"
    assert ended_by_limit(voicesim) == []
    await voicesim_clock.advance(0.2)
    ended = twilio_client.calls(call.sid).fetch()
    assert (ended.status, ended.duration) == ("completed", "10")
    assert ended.end_time.timestamp() == t0 + 15
    assert ended_by_limit(voicesim) == [call.sid]
    (alert,) = [a for a in voicesim.alerts if a.error_code == 32015]
    assert (alert.time, alert.message) == (
        t0 + 15,
        "Call is terminated due to exceeding maximum call duration",
    )
    callbacks = [(r.params["CallStatus"], r.params.get("CallDuration")) for r in app.to("/status")]
    assert callbacks == [("initiated", None), ("ringing", None), ("in-progress", None), ("completed", "10")]
    heard = voicesim.media.segments(call.sid)
    assert heard[-1].end == t0 + 15  # the timeline stops at the limit: nothing more is heard
    assert voicesim_clock.pending == 0


async def test_update_replaces_the_limit_still_counted_from_the_answer(
    twilio_client: Client, voicesim: Emulator, voicesim_clock: VirtualClock
) -> None:
    t0 = voicesim_clock.now()
    call = twilio_client.calls.create(to=TO, from_=FROM, twiml=LONG)  # answered at 3 (default phone)
    await voicesim_clock.advance(20)
    updated = twilio_client.calls(call.sid).update(time_limit=30)
    assert updated.status == "in-progress"
    await voicesim_clock.advance(12.9)
    assert twilio_client.calls(call.sid).fetch().status == "in-progress"
    await voicesim_clock.advance(0.2)
    ended = twilio_client.calls(call.sid).fetch()
    assert (ended.status, ended.end_time.timestamp()) == ("completed", t0 + 33)
    assert ended_by_limit(voicesim) == [call.sid]


async def test_update_can_extend_the_limit(
    twilio_client: Client, voicesim: Emulator, voicesim_clock: VirtualClock
) -> None:
    call = twilio_client.calls.create(to=TO, from_=FROM, twiml=LONG, time_limit=10)
    await voicesim_clock.advance(5)
    twilio_client.calls(call.sid).update(time_limit=60)
    await voicesim_clock.advance(50)  # the old limit (at 13) is gone
    assert twilio_client.calls(call.sid).fetch().status == "in-progress"
    await voicesim_clock.advance(10)
    assert twilio_client.calls(call.sid).fetch().duration == "60"


async def test_a_limit_already_exceeded_ends_the_call_now_not_inside_the_request(
    twilio_client: Client, voicesim: Emulator, voicesim_clock: VirtualClock
) -> None:
    call = twilio_client.calls.create(to=TO, from_=FROM, twiml=LONG)
    await voicesim_clock.advance(20)  # answered at 3: 17 s long
    assert twilio_client.calls(call.sid).update(time_limit=5).status == "in-progress"  # scheduled, not run
    await voicesim_clock.settle()
    ended = twilio_client.calls(call.sid).fetch()
    assert (ended.status, ended.end_time.timestamp()) == ("completed", voicesim_clock.now())
    assert ended_by_limit(voicesim) == [call.sid]


async def test_a_limit_set_while_ringing_applies_from_the_answer(
    twilio_client: Client, voicesim: Emulator, voicesim_clock: VirtualClock
) -> None:
    voicesim.phones.script(TO, PhoneScript(answer_after=20))
    call = twilio_client.calls.create(to=TO, from_=FROM, twiml=LONG)
    await voicesim_clock.advance(5)
    assert twilio_client.calls(call.sid).update(time_limit=10).status == "ringing"
    await voicesim_clock.advance(24.9)
    assert twilio_client.calls(call.sid).fetch().status == "in-progress"
    await voicesim_clock.advance(0.2)
    assert twilio_client.calls(call.sid).fetch().duration == "10"


async def test_time_limit_on_participant_create_ends_that_call_only(
    twilio_client: Client, voicesim: Emulator, voicesim_clock: VirtualClock
) -> None:
    limited = twilio_client.conferences("room").participants.create(from_=FROM, to=TO, time_limit=10)
    other = twilio_client.conferences("room").participants.create(from_=FROM, to="+15550000011")
    await voicesim_clock.advance(60)
    assert twilio_client.calls(limited.call_sid).fetch().status == "completed"
    assert twilio_client.calls(limited.call_sid).fetch().duration == "10"
    assert twilio_client.calls(other.call_sid).fetch().status == "in-progress"
    conference = voicesim.conferences.by_sid[limited.conference_sid]
    assert [p.call_sid for p in voicesim.conferences.participants.list(conference.sid)] == [other.call_sid]
    assert ended_by_limit(voicesim) == [limited.call_sid]


async def test_without_a_time_limit_a_call_ends_at_four_hours(
    twilio_client: Client, voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    app.twiml("/loop", '<Pause length="600"/><Redirect>/loop</Redirect>')
    call = twilio_client.calls.create(to=TO, from_=FROM, url=f"{BASE}/loop")
    await voicesim_clock.advance(3 + 4 * 3600 - 1)
    assert twilio_client.calls(call.sid).fetch().status == "in-progress"
    await voicesim_clock.advance(2)
    assert twilio_client.calls(call.sid).fetch().duration == str(4 * 3600)
    assert ended_by_limit(voicesim) == [call.sid]


async def test_a_call_that_ends_first_leaves_nothing_scheduled(
    twilio_client: Client, voicesim: Emulator, voicesim_clock: VirtualClock
) -> None:
    call = twilio_client.calls.create(to=TO, from_=FROM, twiml="<Response><Pause length='5'/></Response>")
    assert await voicesim_clock.run_until_idle() == 8  # not four hours: the limit went with the call
    assert twilio_client.calls(call.sid).fetch().status == "completed"
    assert ended_by_limit(voicesim) == []
