"""voicesim.twiml.parse: TwiML XML to verb dataclasses, with Twilio's error codes."""

from __future__ import annotations

import dataclasses

import pytest

from voicesim.twiml import (
    DEFAULT_HOLD_MUSIC_URL,
    MAX_DOCUMENT_BYTES,
    Client,
    Conference,
    Context,
    Dial,
    Enqueue,
    Gather,
    Hangup,
    Leave,
    Number,
    Pause,
    Play,
    Queue,
    Redirect,
    Reject,
    Response,
    Say,
    TwimlError,
    Verb,
    looks_like_twiml,
    parse,
)


def one(body: str, context: Context = "call") -> Verb:
    """Parse ``<Response>body</Response>`` and return its only verb."""
    verbs = parse(f"<Response>{body}</Response>", context).verbs
    assert len(verbs) == 1
    return verbs[0]


def error_code(document: str | bytes, context: Context = "call") -> int:
    with pytest.raises(TwimlError) as info:
        parse(document, context)
    assert info.value.message in str(info.value)
    return info.value.code


# --- verbs with defaults ---------------------------------------------------------------------------------

DEFAULTS: list[tuple[str, Verb]] = [
    ("<Say>Hello</Say>", Say(text="Hello", voice=None, language=None, loop=1)),
    ("<Play>https://a.example/x.mp3</Play>", Play(url="https://a.example/x.mp3", loop=1, digits=None)),
    ("<Pause/>", Pause(length=1)),
    (
        "<Gather/>",
        Gather(
            action=None,
            method="POST",
            timeout=5,
            num_digits=None,
            finish_on_key="#",
            input=("dtmf",),
            action_on_empty_result=False,
            children=(),
        ),
    ),
    (
        "<Dial>+15551234567</Dial>",
        Dial(
            nouns=(Number(number="+15551234567"),),
            action=None,
            method="POST",
            timeout=30,
            time_limit=14400,
            hangup_on_star=False,
            caller_id=None,
            record="do-not-record",
            answer_on_bridge=False,
            ring_tone=None,
        ),
    ),
    ("<Redirect>/next</Redirect>", Redirect(url="/next", method="POST")),
    ("<Redirect/>", Redirect(url="", method="POST")),
    ("<Hangup/>", Hangup()),
    ("<Reject/>", Reject(reason="rejected")),
    (
        "<Enqueue>support</Enqueue>",
        Enqueue(
            name="support",
            action=None,
            method="POST",
            wait_url=None,
            wait_url_method="POST",
            max_queue_size=None,
        ),
    ),
    ("<Leave/>", Leave()),
]


@pytest.mark.parametrize(("body", "expected"), DEFAULTS, ids=[b for b, _ in DEFAULTS])
def test_verb_defaults(body: str, expected: Verb) -> None:
    assert one(body) == expected


def test_noun_defaults() -> None:
    dial = one("<Dial><Number>+1555</Number><Client>alice</Client></Dial>")
    assert isinstance(dial, Dial)
    assert dial.nouns == (
        Number(
            number="+1555",
            url=None,
            method="POST",
            send_digits=None,
            status_callback=None,
            status_callback_event=(),
            status_callback_method="POST",
        ),
        Client(
            identity="alice",
            url=None,
            method="POST",
            status_callback=None,
            status_callback_event=(),
            status_callback_method="POST",
        ),
    )
    conference = one("<Dial><Conference>room</Conference></Dial>")
    assert isinstance(conference, Dial)
    assert conference.nouns == (
        Conference(
            name="room",
            muted=False,
            beep="true",
            start_conference_on_enter=True,
            end_conference_on_exit=False,
            wait_url=None,
            wait_method="POST",
            max_participants=250,
            participant_label=None,
            status_callback=None,
            status_callback_event=(),
            status_callback_method="POST",
            coach=None,
            record="do-not-record",
        ),
    )
    queue = one("<Dial><Queue>q</Queue></Dial>")
    assert isinstance(queue, Dial)
    assert queue.nouns == (Queue(name="q", url=None, method="POST"),)


def test_empty_response_has_no_verbs() -> None:
    assert parse("<Response/>") == Response(verbs=())
    assert parse('<?xml version="1.0" encoding="UTF-8"?>\n<Response>\n</Response>\n') == Response(verbs=())


def test_verbs_keep_document_order() -> None:
    response = parse("<Response><Say>a</Say><Pause length='2'/><Play>u</Play><Hangup/></Response>")
    assert [type(verb) for verb in response.verbs] == [Say, Pause, Play, Hangup]


# --- verbs with every attribute set ----------------------------------------------------------------------

ALL_ATTRIBUTES: list[tuple[str, Verb]] = [
    (
        '<Say voice="Polly.Joanna" language="en-GB" loop="0">  Hello\n   world  </Say>',
        Say(text="Hello world", voice="Polly.Joanna", language="en-GB", loop=0),
    ),
    ('<Play loop="3"> https://a.example/x.wav </Play>', Play(url="https://a.example/x.wav", loop=3)),
    ('<Play digits="wwww3#"/>', Play(url="", loop=1, digits="wwww3#")),
    ('<Pause length="7"/>', Pause(length=7)),
    (
        '<Gather action="/g" method="get" timeout="9" numDigits="4" finishOnKey="*" input="dtmf speech"'
        ' actionOnEmptyResult="TRUE"><Say loop="2">Press</Say><Play>u</Play><Pause length="2"/></Gather>',
        Gather(
            action="/g",
            method="GET",
            timeout=9,
            num_digits=4,
            finish_on_key="*",
            input=("dtmf", "speech"),
            action_on_empty_result=True,
            children=(Say(text="Press", loop=2), Play(url="u"), Pause(length=2)),
        ),
    ),
    (
        '<Dial action="/after" method="GET" timeout="45" timeLimit="600" hangupOnStar="true"'
        ' callerId="+15550000000" record="record-from-answer-dual" answerOnBridge="true" ringTone="uk">'
        '<Number url="/whisper" method="GET" sendDigits="ww12#" statusCallback="/s"'
        ' statusCallbackEvent="initiated ringing answered completed" statusCallbackMethod="get">'
        "+15551112222</Number></Dial>",
        Dial(
            nouns=(
                Number(
                    number="+15551112222",
                    url="/whisper",
                    method="GET",
                    send_digits="ww12#",
                    status_callback="/s",
                    status_callback_event=("initiated", "ringing", "answered", "completed"),
                    status_callback_method="GET",
                ),
            ),
            action="/after",
            method="GET",
            timeout=45,
            time_limit=600,
            hangup_on_star=True,
            caller_id="+15550000000",
            record="record-from-answer-dual",
            answer_on_bridge=True,
            ring_tone="uk",
        ),
    ),
    (
        '<Redirect method="get">https://a.example/t</Redirect>',
        Redirect(url="https://a.example/t", method="GET"),
    ),
    ('<Reject reason="busy"/>', Reject(reason="busy")),
    (
        '<Enqueue action="/done" method="GET" waitUrl="/wait" waitUrlMethod="GET" maxQueueSize="5000">'
        " support </Enqueue>",
        Enqueue(
            name="support",
            action="/done",
            method="GET",
            wait_url="/wait",
            wait_url_method="GET",
            max_queue_size=5000,
        ),
    ),
]


@pytest.mark.parametrize(
    ("body", "expected"), ALL_ATTRIBUTES, ids=[type(v).__name__ for _, v in ALL_ATTRIBUTES]
)
def test_verb_with_every_attribute(body: str, expected: Verb) -> None:
    assert one(body) == expected


def test_client_with_every_attribute_and_identity_child() -> None:
    dial = one(
        '<Dial><Client url="/c" method="GET" statusCallback="/s" statusCallbackEvent="ringing,answered"'
        ' statusCallbackMethod="GET"><Identity> agent_7 </Identity><Parameter name="k" value="v"/>'
        "</Client></Dial>"
    )
    assert isinstance(dial, Dial)
    assert dial.nouns == (
        Client(
            identity="agent_7",
            url="/c",
            method="GET",
            status_callback="/s",
            status_callback_event=("ringing", "answered"),
            status_callback_method="GET",
        ),
    )


def test_conference_with_every_attribute() -> None:
    dial = one(
        '<Dial><Conference muted="true" beep="onExit" startConferenceOnEnter="false"'
        ' endConferenceOnExit="true" waitUrl="" waitMethod="GET" maxParticipants="2"'
        ' participantLabel="customer" statusCallback="/cs" statusCallbackEvent="start end join leave hold"'
        ' statusCallbackMethod="GET" coach="CA0123" record="record-from-start">Room 1</Conference></Dial>'
    )
    assert isinstance(dial, Dial)
    assert dial.nouns == (
        Conference(
            name="Room 1",
            muted=True,
            beep="onExit",
            start_conference_on_enter=False,
            end_conference_on_exit=True,
            wait_url="",
            wait_method="GET",
            max_participants=2,
            participant_label="customer",
            status_callback="/cs",
            status_callback_event=("start", "end", "join", "leave", "hold"),
            status_callback_method="GET",
            coach="CA0123",
            record="record-from-start",
        ),
    )


def test_queue_with_every_attribute() -> None:
    dial = one('<Dial timeout="60"><Queue url="/about-to-connect" method="GET">support</Queue></Dial>')
    assert isinstance(dial, Dial)
    assert dial.nouns == (Queue(name="support", url="/about-to-connect", method="GET"),)
    assert dial.timeout == 60


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", "record-from-answer"),
        ("false", "do-not-record"),
        ("record-from-ringing", "record-from-ringing"),
    ],
)
def test_dial_record_aliases(value: str, expected: str) -> None:
    dial = one(f'<Dial record="{value}">+1555</Dial>')
    assert isinstance(dial, Dial)
    assert dial.record == expected


@pytest.mark.parametrize(
    ("value", "expected"), [("1", 5), ("5", 5), ("600", 600), ("601", 600), ("9999", 600)]
)
def test_dial_timeout_is_clamped(value: str, expected: int) -> None:
    dial = one(f'<Dial timeout="{value}">+1555</Dial>')
    assert isinstance(dial, Dial)
    assert dial.timeout == expected


def test_plain_number_dial_and_several_parallel_numbers() -> None:
    dial = one("<Dial>\n  +15551234567\n</Dial>")
    assert isinstance(dial, Dial)
    assert dial.nouns == (Number(number="+15551234567"),)
    parallel = one("<Dial><Number>+1</Number><Number>+2</Number><Client>bob</Client></Dial>")
    assert isinstance(parallel, Dial)
    assert parallel.nouns == (Number(number="+1"), Number(number="+2"), Client(identity="bob"))


def test_say_with_ssml_keeps_the_text() -> None:
    say = one(
        '<Say voice="Polly.Amy">Your call <break strength="x-weak" time="100ms"/> is '
        '<emphasis level="strong">important</emphasis> to <prosody rate="slow">us</prosody>.</Say>'
    )
    assert say == Say(text="Your call is important to us.", voice="Polly.Amy")


def test_entities_and_cdata_are_text() -> None:
    assert one("<Say>Tom &amp; Jerry</Say>") == Say(text="Tom & Jerry")
    assert one("<Say><![CDATA[a < b]]></Say>") == Say(text="a < b")
    assert one("<Play>https://a.example/x.mp3?a=1&amp;b=2</Play>") == Play(
        url="https://a.example/x.mp3?a=1&b=2"
    )


def test_conference_wait_url_absent_is_none_and_the_default_playlist_is_exported() -> None:
    dial = one("<Dial><Conference>room</Conference></Dial>")
    assert isinstance(dial, Dial)
    assert isinstance(dial.nouns[0], Conference)
    assert dial.nouns[0].wait_url is None
    assert DEFAULT_HOLD_MUSIC_URL == "https://s3.amazonaws.com/com.twilio.sounds.music/index.xml"


def test_unknown_attributes_are_ignored_and_comments_dropped() -> None:
    assert one('<Say foo="bar" Loop="x">hi<!-- note --> there</Say>') == Say(text="hi there")


def test_gather_empty_finish_on_key_disables_it() -> None:
    gather = one('<Gather finishOnKey=""/>')
    assert isinstance(gather, Gather)
    assert gather.finish_on_key == ""


def test_bytes_document_honours_declared_encoding() -> None:
    document = '<?xml version="1.0" encoding="ISO-8859-1"?><Response><Say>café</Say></Response>'
    assert parse(document.encode("latin-1")).verbs == (Say(text="café"),)
    assert parse(document.replace("ISO-8859-1", "UTF-8").encode()).verbs == (Say(text="café"),)
    assert parse(document).verbs == (Say(text="café"),)  # a str is already decoded


def test_verbs_are_frozen() -> None:
    say = Say(text="x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        say.text = "y"  # type: ignore[misc]


# --- errors ----------------------------------------------------------------------------------------------

DOCUMENT_ERRORS: list[tuple[str, str | bytes, int]] = [
    ("empty", "", 11770),
    ("whitespace", "  \n\t ", 11770),
    ("empty bytes", b"", 11770),
    ("not xml", "Hello there", 12100),
    ("unclosed", "<Response><Say>hi</Response>", 12100),
    ("doctype", '<!DOCTYPE r [<!ENTITY a "aaaa">]><Response><Say>&a;</Say></Response>', 12100),
    ("doctype bytes", b"<!DOCTYPE Response><Response/>", 12100),
    ("undefined entity", "<Response><Say>&nope;</Say></Response>", 12100),
    ("wrong root", "<Reply><Say>hi</Say></Reply>", 12102),
    ("lowercase root", "<response/>", 12102),
    ("namespaced root", '<Response xmlns="urn:x"/>', 12102),
    ("too large", "<Response>" + "<Pause/>" * (MAX_DOCUMENT_BYTES // 8) + "</Response>", 11750),
]


@pytest.mark.parametrize(
    ("document", "code"), [e[1:] for e in DOCUMENT_ERRORS], ids=[e[0] for e in DOCUMENT_ERRORS]
)
def test_document_errors(document: str | bytes, code: int) -> None:
    assert error_code(document) == code


VERB_ERRORS: list[tuple[str, int]] = [
    # schema
    ("<Sms>hi</Sms>", 12200),
    ("<say>hi</say>", 12200),
    ("<Record/>", 12200),
    ("<Hangup><Say>x</Say></Hangup>", 12200),
    ("<Redirect><Say>x</Say></Redirect>", 12200),
    ("<Enqueue>q<Say>x</Say></Enqueue>", 12200),
    ('<Reject reason="nope"/>', 12200),
    # Dial
    ('<Dial method="PUT">+1</Dial>', 13210),
    ('<Dial timeout="0">+1</Dial>', 13212),
    ('<Dial timeout="-4">+1</Dial>', 13212),
    ('<Dial timeout="ten">+1</Dial>', 13212),
    ('<Dial timeout="1.5">+1</Dial>', 13212),
    ('<Dial hangupOnStar="yes">+1</Dial>', 13213),
    ('<Dial callerId="  ">+1</Dial>', 13214),
    ("<Dial><Say>hi</Say></Dial>", 13215),
    ("<Dial><Foo/></Dial>", 13215),
    ("<Dial><Conference>a</Conference><Number>+1</Number></Dial>", 13215),
    ("<Dial><Queue>a</Queue><Queue>b</Queue></Dial>", 13215),
    ("<Dial><Sip>sip:a@b</Sip></Dial>", 12200),
    ("<Dial>+1<Number>+2</Number></Dial>", 12200),
    ('<Dial timeLimit="0">+1</Dial>', 13216),
    ('<Dial timeLimit="x">+1</Dial>', 13216),
    ('<Dial record="always">+1</Dial>', 13217),
    ('<Dial answerOnBridge="maybe">+1</Dial>', 13219),
    ("<Dial><Number> </Number></Dial>", 13223),
    ("<Dial/>", 13223),
    ("<Dial><Number><Say>x</Say></Number></Dial>", 12200),
    ('<Dial><Number method="PUT">+1</Number></Dial>', 13221),
    ('<Dial><Number statusCallbackMethod="DELETE">+1</Number></Dial>', 13221),
    ('<Dial><Number sendDigits="12a">+1</Number></Dial>', 13222),
    ("<Dial><Client/></Dial>", 12200),
    ('<Dial><Client method="PUT">a</Client></Dial>', 12200),
    ("<Dial><Client>a<Say>x</Say></Client></Dial>", 12200),
    # Dial->Conference
    ('<Dial><Conference muted="1">r</Conference></Dial>', 13230),
    ('<Dial><Conference endConferenceOnExit="no">r</Conference></Dial>', 13231),
    ('<Dial><Conference startConferenceOnEnter="no">r</Conference></Dial>', 13232),
    ('<Dial><Conference waitMethod="PUT">r</Conference></Dial>', 13234),
    ('<Dial><Conference beep="loud">r</Conference></Dial>', 13235),
    ("<Dial><Conference> </Conference></Dial>", 13237),
    ("<Dial><Conference>" + "x" * 129 + "</Conference></Dial>", 13237),
    ('<Dial><Conference maxParticipants="1">r</Conference></Dial>', 12200),
    ('<Dial><Conference maxParticipants="251">r</Conference></Dial>', 12200),
    ('<Dial><Conference record="yes">r</Conference></Dial>', 12200),
    ('<Dial><Conference statusCallbackMethod="PUT">r</Conference></Dial>', 12200),
    ('<Dial><Conference participantLabel="' + "l" * 129 + '">r</Conference></Dial>', 16023),
    # Dial->Queue
    ('<Dial><Queue method="PUT">q</Queue></Dial>', 14210),
    ('<Dial><Queue url="">q</Queue></Dial>', 14211),
    ("<Dial><Queue></Queue></Dial>", 14212),
    ("<Dial><Queue>" + "q" * 65 + "</Queue></Dial>", 14213),
    # Gather
    ('<Gather finishOnKey="ab"/>', 13310),
    ('<Gather finishOnKey="x"/>', 13310),
    ('<Gather method="PATCH"/>', 13312),
    ('<Gather timeout="0"/>', 13313),
    ('<Gather timeout="soon"/>', 13313),
    ('<Gather numDigits="0"/>', 13314),
    ('<Gather numDigits="many"/>', 13314),
    ("<Gather><Dial>+1</Dial></Gather>", 13320),
    ("<Gather><Gather/></Gather>", 13320),
    ("<Gather><Redirect/></Gather>", 13320),
    ('<Gather><Say loop="-1">x</Say></Gather>', 13322),
    ('<Gather actionOnEmptyResult="sure"/>', 13338),
    ('<Gather input="touch"/>', 12200),
    ('<Gather input=""/>', 12200),
    # Play
    ('<Play loop="-1">u</Play>', 13410),
    ('<Play loop="x">u</Play>', 13410),
    ('<Gather><Play loop="x">u</Play></Gather>', 13410),
    ("<Play>  </Play>", 13420),
    ("<Play/>", 13420),
    ('<Play digits="12x"/>', 13420),
    # Say
    ('<Say loop="-2">x</Say>', 13510),
    ('<Say loop="once">x</Say>', 13510),
    ("<Say>   </Say>", 13520),
    ("<Say/>", 13520),
    ("<Gather><Say/></Gather>", 13520),
    # Redirect, Pause
    ('<Redirect method="PUT">/x</Redirect>', 13710),
    ('<Pause length="-1"/>', 13910),
    ('<Pause length="long"/>', 13910),
    # Enqueue
    ('<Enqueue method="PUT">q</Enqueue>', 14201),
    ("<Enqueue> </Enqueue>", 14204),
    ("<Enqueue>" + "q" * 65 + "</Enqueue>", 14205),
    ('<Enqueue waitUrlMethod="PUT">q</Enqueue>', 14206),
    ('<Enqueue maxQueueSize="0">q</Enqueue>', 12200),
    ('<Enqueue maxQueueSize="5001">q</Enqueue>', 12200),
]


@pytest.mark.parametrize(("body", "code"), VERB_ERRORS, ids=[f"{c}-{b[:40]}" for b, c in VERB_ERRORS])
def test_verb_errors(body: str, code: int) -> None:
    assert error_code(f"<Response><Say>before</Say>{body}</Response>") == code


def test_error_message_names_the_verb_and_attribute() -> None:
    with pytest.raises(TwimlError) as info:
        parse('<Response><Gather timeout="soon"/></Response>')
    assert info.value.code == 13313
    assert "Gather" in info.value.message
    assert "timeout" in info.value.message
    assert str(info.value).startswith("13313")


@pytest.mark.parametrize(
    "body",
    [
        '<Enqueue waitUrl="">q</Enqueue>',
        "<Enqueue>" + "q" * 64 + "</Enqueue>",
        "<Dial><Queue>" + "q" * 64 + "</Queue></Dial>",
        '<Enqueue maxQueueSize="1"><Task>{"a": 1}</Task>q</Enqueue>',
        '<Pause length="0"/>',
        '<Say loop="0">forever</Say>',
        '<Dial hangupOnStar="FALSE" record="TRUE">+1</Dial>',
        '<Dial><Conference beep="onenter" maxParticipants="250">r</Conference></Dial>',
    ],
)
def test_boundary_values_are_accepted(body: str) -> None:
    one(body)


# --- contexts --------------------------------------------------------------------------------------------

MEDIA_ONLY: list[Context] = ["hold", "conference_wait", "announce", "queue_url"]
MEDIA_VERBS = ["<Play>u</Play>", "<Say>s</Say>", "<Pause/>", "<Redirect/>"]
NON_MEDIA_VERBS = [
    "<Dial>+1</Dial>",
    "<Gather/>",
    "<Hangup/>",
    "<Enqueue>q</Enqueue>",
    "<Leave/>",
    "<Reject/>",
    "<Record/>",
]


@pytest.mark.parametrize("context", MEDIA_ONLY)
def test_media_only_contexts_allow_play_say_pause_redirect(context: Context) -> None:
    response = parse(f"<Response>{''.join(MEDIA_VERBS)}</Response>", context)
    assert [type(verb) for verb in response.verbs] == [Play, Say, Pause, Redirect]


@pytest.mark.parametrize("context", MEDIA_ONLY)
@pytest.mark.parametrize("body", NON_MEDIA_VERBS)
def test_media_only_contexts_reject_other_verbs_with_13238(context: Context, body: str) -> None:
    with pytest.raises(TwimlError) as info:
        parse(f"<Response><Say>x</Say>{body}</Response>", context)
    assert info.value.code == 13238
    assert context in info.value.message


def test_hold_twiml_with_dial_is_13238() -> None:
    assert error_code("<Response><Dial>+1555</Dial></Response>", "hold") == 13238


def test_dial_leg_forbids_dial_with_13201_but_allows_the_rest() -> None:
    assert error_code("<Response><Say>Whisper</Say><Dial>+1</Dial></Response>", "dial_leg") == 13201
    response = parse("<Response><Say>Press 1</Say><Gather numDigits='1'/><Hangup/></Response>", "dial_leg")
    assert [type(verb) for verb in response.verbs] == [Say, Gather, Hangup]


def test_enqueue_wait_allows_its_verbs() -> None:
    response = parse(
        "<Response><Say>Hold on</Say><Play>u</Play><Pause/><Gather numDigits='1'><Say>Press 1</Say></Gather>"
        "<Redirect/><Leave/><Hangup/></Response>",
        "enqueue_wait",
    )
    assert [type(verb) for verb in response.verbs] == [Say, Play, Pause, Gather, Redirect, Leave, Hangup]


@pytest.mark.parametrize("body", ["<Dial>+1</Dial>", "<Enqueue>q</Enqueue>", "<Reject/>"])
def test_enqueue_wait_rejects_other_verbs_with_12200(body: str) -> None:
    assert error_code(f"<Response>{body}</Response>", "enqueue_wait") == 12200


def test_context_restriction_checked_before_attributes() -> None:
    # A bad <Dial> in hold TwiML is reported as the wrong verb, not as a bad attribute.
    assert error_code('<Response><Dial timeout="x">+1</Dial></Response>', "hold") == 13238


def test_unknown_context_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="context"):
        parse("<Response/>", "nowhere")  # type: ignore[arg-type]


# --- looks_like_twiml ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('<?xml version="1.0"?><Response/>', True),
        ("  \n<Response><Say>x</Say></Response>", True),
        ("\ufeff<Response/>", True),
        ("Hello, please hold.", False),
        ("<html><body/></html>", False),
        ("", False),
    ],
)
def test_looks_like_twiml(text: str, expected: bool) -> None:
    assert looks_like_twiml(text) is expected
