"""``<Dial>`` to numbers and clients: parallel ringing, outcomes, limits, whisper, action parameters."""

from __future__ import annotations

from tests.webhook_app import BASE, WebhookApp
from voicesim import Emulator, PhoneScript, VirtualClock

NUMBER, CALLER = "+15550001000", "+15551230001"


async def dial(emu: Emulator, clock: VirtualClock, app: WebhookApp, inner: str, seconds: float = 120) -> str:
    app.twiml("/voice", inner)
    app.twiml("/after", "<Say>after</Say>")
    emu.buy_number(NUMBER, voice_url=f"{BASE}/voice")
    call = emu.inbound_call(CALLER, NUMBER)
    await clock.advance(seconds)
    clock.raise_errors()
    return call.sid


def children(emu: Emulator, parent: str) -> dict[str, str]:
    return {c.to: c.status for c in emu.calls.all() if c.parent_call_sid == parent}


async def test_parallel_nouns_first_answer_wins_others_are_canceled(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    voicesim.phones.script("client:alice", answer_after=6)
    voicesim.phones.script("client:bob", answer_after=2, hang_up_after=10)
    voicesim.phones.script("+15552220000", answer_after=4)
    sid = await dial(
        voicesim,
        voicesim_clock,
        app,
        '<Dial action="/after"><Client>alice</Client><Client>bob</Client>'
        "<Number>+15552220000</Number></Dial>",
    )
    assert children(voicesim, sid) == {
        "client:alice": "canceled",
        "client:bob": "completed",
        "+15552220000": "canceled",
    }
    (action,) = app.to("/after")
    bob = next(c for c in voicesim.calls.all() if c.to == "client:bob")
    assert action.params["DialCallStatus"] == "completed"
    assert action.params["DialCallSid"] == bob.sid
    assert action.params["DialCallDuration"] == "10"
    assert action.params["DialBridged"] == "true"
    assert bob.direction == "outbound-dial" and bob.parent_call_sid == sid and bob.from_ == CALLER


async def test_busy_failed_and_no_answer_reach_the_action(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    voicesim.phones.script("+15552220001", outcome="busy")
    sid = await dial(
        voicesim, voicesim_clock, app, '<Dial action="/after"><Number>+15552220001</Number></Dial>'
    )
    assert app.to("/after")[-1].params["DialCallStatus"] == "busy"
    assert children(voicesim, sid) == {"+15552220001": "busy"}

    voicesim.phones.script("+15552220001", outcome="failed")
    voicesim.inbound_call(CALLER, NUMBER)
    await voicesim_clock.advance(60)
    assert app.to("/after")[-1].params["DialCallStatus"] == "failed"

    voicesim.phones.script("+15552220001", outcome="no-answer")
    app.twiml("/voice", '<Dial action="/after" timeout="7"><Number>+15552220001</Number></Dial>')
    started = voicesim_clock.now()
    voicesim.inbound_call(CALLER, NUMBER)
    await voicesim_clock.advance(60)
    last = app.to("/after")[-1]
    assert last.params["DialCallStatus"] == "no-answer"
    assert voicesim.events[-1].time  # the log advanced
    no_answer = next(c for c in voicesim.calls.all() if c.to == "+15552220001")
    assert no_answer.status == "no-answer" and no_answer.end_time == started + 7


async def test_without_action_the_next_verb_runs(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    voicesim.phones.script("+15552220002", hang_up_after=5)
    sid = await dial(
        voicesim, voicesim_clock, app, "<Dial><Number>+15552220002</Number></Dial><Say>Goodbye</Say>"
    )
    segs = [(s.kind, s.detail) for s in voicesim.media.segments(sid)]
    assert segs[-1] == ("speech", "Goodbye")
    assert voicesim.calls.by_sid[sid].status == "completed"


async def test_time_limit_hangs_up_the_child(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    sid = await dial(
        voicesim,
        voicesim_clock,
        app,
        '<Dial action="/after" timeLimit="20"><Number>+15552220003</Number></Dial>',
    )
    assert app.to("/after")[0].params["DialCallDuration"] == "20"
    assert children(voicesim, sid) == {"+15552220003": "completed"}


async def test_hangup_on_star(voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp) -> None:
    voicesim.phones.script(CALLER, presses=((15.0, "*"),))
    sid = await dial(
        voicesim,
        voicesim_clock,
        app,
        '<Dial hangupOnStar="true" action="/after"><Number>+15552220004</Number></Dial>',
    )
    (action,) = app.to("/after")
    assert action.params["DialCallStatus"] == "completed"
    assert children(voicesim, sid) == {"+15552220004": "completed"}
    assert voicesim.calls.by_sid[sid].status == "completed"  # the caller went on to the action's TwiML


async def test_number_url_whispers_to_the_called_party_before_the_bridge(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    app.twiml("/whisper", "<Say>Call from the support line</Say>")
    voicesim.phones.script("+15552220005", answer_after=2, hang_up_after=30)
    sid = await dial(
        voicesim,
        voicesim_clock,
        app,
        f'<Dial callerId="{NUMBER}"><Number url="/whisper">+15552220005</Number></Dial>',
    )
    agent = next(c for c in voicesim.calls.all() if c.parent_call_sid == sid)
    agent_heard = [(s.kind, s.context) for s in voicesim.media.segments(agent.sid)]
    assert agent_heard[:2] == [("speech", "dial-leg"), ("call", "")]
    caller_heard = [s.kind for s in voicesim.media.segments(sid)]
    assert caller_heard[:2] == ["ringback", "call"]
    (whisper,) = app.to("/whisper")
    assert whisper.params["CallSid"] == agent.sid and whisper.params["ParentCallSid"] == sid
    assert agent.from_ == NUMBER


async def test_dial_in_whisper_twiml_is_error_13201(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    app.twiml("/whisper", "<Dial>+15550009999</Dial>")
    await dial(voicesim, voicesim_clock, app, '<Dial><Number url="/whisper">+15552220006</Number></Dial>')
    assert 13201 in [a.error_code for a in voicesim.alerts]


async def test_caller_hangs_up_while_child_rings(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    voicesim.phones.script("+15552220007", PhoneScript(answer_after=20))
    voicesim.phones.script(CALLER, hang_up_after=5)
    sid = await dial(voicesim, voicesim_clock, app, "<Dial><Number>+15552220007</Number></Dial>")
    assert children(voicesim, sid) == {"+15552220007": "canceled"}
    assert voicesim.calls.by_sid[sid].status == "completed"


async def test_a_relative_noun_status_callback_is_resolved_against_the_document(
    voicesim: Emulator, voicesim_clock: VirtualClock, app: WebhookApp
) -> None:
    app.raw("/kid", b"", "text/plain")
    voicesim.phones.script("client:alice", outcome="no-answer")
    voicesim.phones.script("+15552220008", hang_up_after=5)
    sid = await dial(
        voicesim,
        voicesim_clock,
        app,
        '<Dial><Client statusCallback="kid" statusCallbackEvent="initiated completed">alice</Client>'
        '<Number statusCallback="/kid" statusCallbackEvent="answered">+15552220008</Number></Dial>',
    )
    kids = {c.sid: c.to for c in voicesim.calls.all() if c.parent_call_sid == sid}
    got = [(kids[r.params["CallSid"]], r.params["CallStatus"]) for r in app.to("/kid")]
    assert got == [
        ("client:alice", "initiated"),
        ("+15552220008", "in-progress"),
        ("client:alice", "canceled"),
    ]
    assert [a.error_code for a in voicesim.alerts] == []
