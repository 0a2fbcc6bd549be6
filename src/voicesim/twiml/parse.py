"""TwiML XML → :mod:`voicesim.twiml.verbs`, raising Twilio's own error codes.

Sources for the codes: Twilio's error pages (``twilio.com/docs/api/errors/<code>``, found with the docs
search) and the error list mirrored in /work/shared/reference/twilio-voice.md §5.5. Where no Twilio code
exists for a check, the code is marked "chosen, sources silent" next to it; 12200 (schema validation) is
the fallback. Element and attribute names are case-sensitive, as on Twilio; unknown attributes are ignored.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from typing import Literal, NoReturn, get_args

from voicesim.twiml.verbs import (
    Client,
    Conference,
    Dial,
    DialNoun,
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
    Verb,
)

Context = Literal["call", "dial_leg", "hold", "conference_wait", "enqueue_wait", "announce", "queue_url"]
"""Where a document runs; it decides which verbs are allowed."""

MAX_DOCUMENT_BYTES = 64 * 1024
"""Twilio error 11750: "the response body is larger than 64 kB"."""

_MEDIA_VERBS = frozenset({"Play", "Say", "Pause", "Redirect"})
_ENQUEUE_WAIT_VERBS = _MEDIA_VERBS | {"Hangup", "Leave", "Gather"}
_UNSUPPORTED_NOUNS = frozenset({"Sip", "Application", "WhatsApp"})
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DTMF = re.compile(r"[0-9#*wW]+")
_FORBIDDEN_DECLARATION = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_FORBIDDEN_DECLARATION_BYTES = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)

_DIAL_RECORD = {
    "do-not-record": "do-not-record",
    "record-from-answer": "record-from-answer",
    "record-from-ringing": "record-from-ringing",
    "record-from-answer-dual": "record-from-answer-dual",
    "record-from-ringing-dual": "record-from-ringing-dual",
    "true": "record-from-answer",
    "false": "do-not-record",
}
_BEEP = {"true": "true", "false": "false", "onenter": "onEnter", "onexit": "onExit"}
_CONFERENCE_RECORD = {"do-not-record": "do-not-record", "record-from-start": "record-from-start"}
_REJECT_REASON = {"rejected": "rejected", "busy": "busy"}


class TwimlError(Exception):
    """A TwiML document Twilio would refuse; ``code`` is Twilio's error code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def looks_like_twiml(text: str) -> bool:
    """Whether a ``text/plain`` body should run as TwiML rather than be read aloud."""
    stripped = text.lstrip("\ufeff").strip()
    return stripped.startswith(("<?xml", "<Response"))


def parse(document: str | bytes, context: Context = "call") -> Response:
    """Parse a document that runs in ``context``; raise :class:`TwimlError` where Twilio would refuse it."""
    if context not in get_args(Context):
        raise ValueError(f"unknown TwiML context {context!r}")
    root = _load(document)
    verbs: list[Verb] = []
    for element in root:
        _check_context(element.tag, context)
        build = _VERBS.get(element.tag)
        if build is None:
            raise TwimlError(12200, f"<{element.tag}> is not a verb voicesim supports inside <Response>")
        verbs.append(build(element))
    return Response(tuple(verbs))


def _load(document: str | bytes) -> ET.Element:
    if not document.strip():
        raise TwimlError(11770, "Empty response body")
    size = len(document.encode("utf-8")) if isinstance(document, str) else len(document)
    if size > MAX_DOCUMENT_BYTES:
        raise TwimlError(11750, f"TwiML response body too large ({size} bytes > {MAX_DOCUMENT_BYTES})")
    forbidden = (
        _FORBIDDEN_DECLARATION.search(document)
        if isinstance(document, str)
        else _FORBIDDEN_DECLARATION_BYTES.search(document)
    )
    if forbidden is not None:
        raise TwimlError(12100, "Document parse failure: DOCTYPE and ENTITY declarations are not allowed")
    try:
        root = ET.fromstring(document)
    except ET.ParseError as exc:
        raise TwimlError(12100, f"Document parse failure: {exc}") from None
    if root.tag != "Response":
        raise TwimlError(12102, f"The root element must be Response, not <{root.tag}>")
    return root


def _check_context(tag: str, context: Context) -> None:
    if context == "call":
        return
    if context == "dial_leg":
        if tag == "Dial":
            raise TwimlError(13201, "Dial: Cannot Dial out from a Dial Call Segment")
        return
    if context == "enqueue_wait":
        if tag not in _ENQUEUE_WAIT_VERBS:
            # Chosen, sources silent: Twilio documents no code for a bad verb in Enqueue waitUrl TwiML
            # (14201-14207 cover attributes and a full queue), so this is a schema validation error.
            raise TwimlError(12200, f"<{tag}> is not allowed in Enqueue waitUrl TwiML")
        return
    if tag not in _MEDIA_VERBS:
        # 13238 "Dial->Conference: Invalid verb for waitUrl TwiML"; used for hold, announce and the
        # <Queue url> TwiML too, which have the same Play/Say/Pause/Redirect rule.
        raise TwimlError(13238, f"Invalid verb <{tag}> for {context} TwiML; only Play, Say, Pause, Redirect")


class _Attrs:
    """Reads one element's attributes, raising the given Twilio code for a bad value."""

    def __init__(self, element: ET.Element, where: str) -> None:
        self._element = element
        self.where = where

    def fail(self, code: int, what: str) -> NoReturn:
        raise TwimlError(code, f"{self.where}: {what}")

    def get(self, name: str) -> str | None:
        return self._element.get(name)

    def method(self, name: str, code: int, default: str = "POST") -> str:
        raw = self.get(name)
        if raw is None:
            return default
        value = raw.strip().upper()
        if value not in ("GET", "POST"):
            self.fail(code, f"Invalid {name} value {raw!r}; must be GET or POST")
        return value

    def boolean(self, name: str, code: int, default: bool) -> bool:
        raw = self.get(name)
        if raw is None:
            return default
        value = raw.strip().lower()
        if value not in ("true", "false"):
            self.fail(code, f"Invalid {name} value {raw!r}; must be true or false")
        return value == "true"

    def optional_integer(self, name: str, code: int, low: int | None, high: int | None) -> int | None:
        raw = self.get(name)
        if raw is None:
            return None
        if _INTEGER.fullmatch(raw.strip()) is None:
            self.fail(code, f"Invalid {name} value {raw!r}; must be an integer")
        value = int(raw)
        if (low is not None and value < low) or (high is not None and value > high):
            self.fail(code, f"Invalid {name} value {raw!r}; must be in {low}..{high if high else ''}")
        return value

    def integer(self, name: str, code: int, default: int, low: int | None, high: int | None = None) -> int:
        value = self.optional_integer(name, code, low, high)
        return default if value is None else value

    def choice(self, name: str, code: int, allowed: Mapping[str, str], default: str) -> str:
        raw = self.get(name)
        if raw is None:
            return default
        value = allowed.get(raw.strip().lower())
        if value is None:
            self.fail(code, f"Invalid {name} value {raw!r}; must be one of {', '.join(allowed)}")
        return value

    def events(self, name: str) -> tuple[str, ...]:
        return tuple((self.get(name) or "").replace(",", " ").split())


def _text(element: ET.Element, where: str, allowed_children: frozenset[str] = frozenset()) -> str:
    """The element's own text without its children's, stripped; other children than allowed are 12200."""
    parts = [element.text or ""]
    for child in element:
        if child.tag not in allowed_children:
            raise TwimlError(12200, f"{where}: <{child.tag}> cannot be nested here")
        parts.append(child.tail or "")
    return "".join(parts).strip()


def _say(element: ET.Element, loop_code: int = 13510) -> Say:
    attrs = _Attrs(element, "Say")
    # SSML children (<break>, <prosody>, ...) contribute their text; whitespace runs collapse to one space.
    text = " ".join("".join(element.itertext()).split())
    if not text:
        attrs.fail(13520, "Invalid text; <Say> must contain something to say")
    return Say(
        text=text,
        voice=attrs.get("voice"),
        language=attrs.get("language"),
        loop=attrs.integer("loop", loop_code, 1, 0),
    )


def _play(element: ET.Element) -> Play:
    attrs = _Attrs(element, "Play")
    url = _text(element, "Play")
    digits = attrs.get("digits")
    if digits is not None:
        digits = digits.strip()
        if _DTMF.fullmatch(digits) is None:
            # Chosen, sources silent: no Twilio code for bad Play digits; 13420 is Play's content error.
            attrs.fail(13420, f"Invalid digits value {digits!r}; allowed 0-9 # * w W")
    elif not url:
        attrs.fail(13420, "Invalid content; <Play> needs a URL or a digits attribute")
    # 13410 "Play: Invalid loop value" (an integer >= 0); also used for <Gather><Play>, which has no own code.
    return Play(url=url, loop=attrs.integer("loop", 13410, 1, 0), digits=digits)


def _pause(element: ET.Element) -> Pause:
    attrs = _Attrs(element, "Pause")
    _text(element, "Pause")
    # 13910 "Pause: Invalid length value"; 0 is accepted (chosen, sources silent), negatives are not.
    return Pause(length=attrs.integer("length", 13910, 1, 0))


def _gather(element: ET.Element) -> Gather:
    attrs = _Attrs(element, "Gather")
    children: list[Say | Play | Pause] = []
    for child in element:
        if child.tag == "Say":
            children.append(_say(child, loop_code=13322))  # 13322 "Gather->Say: Invalid loop value"
        elif child.tag == "Play":
            children.append(_play(child))
        elif child.tag == "Pause":
            children.append(_pause(child))
        else:
            attrs.fail(13320, f"Invalid nested verb <{child.tag}>; only Say, Play, Pause")
    finish_on_key = attrs.get("finishOnKey")
    if finish_on_key is None:
        finish_on_key = "#"
    elif finish_on_key not in ("", *"0123456789#*"):
        attrs.fail(13310, f"Invalid finishOnKey value {finish_on_key!r}; one of 0-9 # * or empty")
    raw_input = attrs.get("input")
    inputs = ("dtmf",) if raw_input is None else tuple(dict.fromkeys(raw_input.split()))
    if not inputs or any(kind not in ("dtmf", "speech") for kind in inputs):
        # Chosen, sources silent: Twilio lists no code for a bad input value.
        attrs.fail(12200, f"Invalid input value {raw_input!r}; dtmf, speech or both")
    return Gather(
        action=attrs.get("action"),
        method=attrs.method("method", 13312),
        timeout=attrs.integer("timeout", 13313, 5, 1),
        num_digits=attrs.optional_integer("numDigits", 13314, 1, None),
        finish_on_key=finish_on_key,
        input=inputs,
        action_on_empty_result=attrs.boolean("actionOnEmptyResult", 13338, False),
        children=tuple(children),
    )


def _number(element: ET.Element) -> Number:
    attrs = _Attrs(element, "Dial->Number")
    number = _text(element, "Number")
    if not number:
        attrs.fail(13223, "Invalid phone number format; <Number> is empty")
    send_digits = attrs.get("sendDigits")
    if send_digits is not None and _DTMF.fullmatch(send_digits.strip()) is None:
        attrs.fail(13222, f"Invalid sendDigits value {send_digits!r}")
    return Number(
        number=number,
        url=attrs.get("url"),
        method=attrs.method("method", 13221),
        send_digits=None if send_digits is None else send_digits.strip(),
        status_callback=attrs.get("statusCallback"),
        status_callback_event=attrs.events("statusCallbackEvent"),
        # 13221 "Dial->Number: Invalid method value" (chosen for statusCallbackMethod as well).
        status_callback_method=attrs.method("statusCallbackMethod", 13221),
    )


def _client(element: ET.Element) -> Client:
    attrs = _Attrs(element, "Dial->Client")
    identity = _text(element, "Client", frozenset({"Identity", "Parameter"}))
    identity_element = element.find("Identity")
    if identity_element is not None:
        identity = _text(identity_element, "Identity")
    # Chosen, sources silent: Twilio lists no Dial->Client codes; 12200 for each bad value.
    if not identity:
        attrs.fail(12200, "<Client> needs an identity")
    return Client(
        identity=identity,
        url=attrs.get("url"),
        method=attrs.method("method", 12200),
        status_callback=attrs.get("statusCallback"),
        status_callback_event=attrs.events("statusCallbackEvent"),
        status_callback_method=attrs.method("statusCallbackMethod", 12200),
    )


def _conference(element: ET.Element) -> Conference:
    attrs = _Attrs(element, "Dial->Conference")
    name = _text(element, "Conference")
    if not name or len(name) > 128:
        attrs.fail(13237, f"Invalid conference name {name!r}; 1 to 128 characters")
    label = attrs.get("participantLabel")
    if label is not None and len(label) > 128:
        # 16023 "Dial->Conference: Invalid participant label, must not exceed 128 characters".
        attrs.fail(16023, "Invalid participant label, must not exceed 128 characters")
    return Conference(
        name=name,
        muted=attrs.boolean("muted", 13230, False),
        beep=attrs.choice("beep", 13235, _BEEP, "true"),
        start_conference_on_enter=attrs.boolean("startConferenceOnEnter", 13232, True),
        end_conference_on_exit=attrs.boolean("endConferenceOnExit", 13231, False),
        wait_url=attrs.get("waitUrl"),
        wait_method=attrs.method("waitMethod", 13234),
        # Chosen, sources silent (13236 is "Invalid Conference Sid"): 12200 for maxParticipants outside
        # 2..250, for statusCallbackMethod and for record.
        max_participants=attrs.integer("maxParticipants", 12200, 250, 2, 250),
        participant_label=label,
        status_callback=attrs.get("statusCallback"),
        status_callback_event=attrs.events("statusCallbackEvent"),
        status_callback_method=attrs.method("statusCallbackMethod", 12200),
        coach=attrs.get("coach"),
        record=attrs.choice("record", 12200, _CONFERENCE_RECORD, "do-not-record"),
    )


def _queue(element: ET.Element) -> Queue:
    attrs = _Attrs(element, "Dial->Queue")
    name = _text(element, "Queue")
    if not name:
        attrs.fail(14212, "queue name too short")
    if len(name) > 64:
        attrs.fail(14213, "queue name too long (more than 64 characters)")
    url = attrs.get("url")
    if url is not None and not url.strip():
        attrs.fail(14211, "Invalid whisper url (empty)")
    return Queue(name=name, url=url, method=attrs.method("method", 14210))  # 14210 "Invalid whisper method"


_NOUNS: dict[str, Callable[[ET.Element], DialNoun]] = {
    "Number": _number,
    "Client": _client,
    "Conference": _conference,
    "Queue": _queue,
}


def _dial(element: ET.Element) -> Dial:
    attrs = _Attrs(element, "Dial")
    nouns: list[DialNoun] = []
    for child in element:
        build = _NOUNS.get(child.tag)
        if build is None:
            if child.tag in _UNSUPPORTED_NOUNS:
                attrs.fail(12200, f"<{child.tag}> is not supported by voicesim")
            attrs.fail(13215, f"Invalid nested element <{child.tag}>")
        nouns.append(build(child))
    text = (element.text or "").strip()
    if text and nouns:
        # Chosen, sources silent: plain number text mixed with nouns is a schema error.
        attrs.fail(12200, "plain number text cannot be mixed with nested nouns")
    if text:
        nouns.append(Number(number=text))
    if not nouns:
        attrs.fail(13223, "Invalid phone number format; <Dial> has nothing to dial")
    if len(nouns) > 1 and any(isinstance(noun, Conference | Queue) for noun in nouns):
        # Chosen, sources silent: a <Conference> or <Queue> must be the only noun of its <Dial>.
        attrs.fail(13215, "Invalid nested element; <Conference> or <Queue> must be the only noun")
    caller_id = attrs.get("callerId")
    if caller_id is not None and not caller_id.strip():
        attrs.fail(13214, "Invalid callerId value (empty)")
    timeout = attrs.integer("timeout", 13212, 30, 1)
    return Dial(
        nouns=tuple(nouns),
        action=attrs.get("action"),
        method=attrs.method("method", 13210),
        timeout=min(max(timeout, 5), 600),  # Twilio clamps the ring timeout into 5..600 s.
        time_limit=attrs.integer("timeLimit", 13216, 14400, 1),
        hangup_on_star=attrs.boolean("hangupOnStar", 13213, False),
        caller_id=None if caller_id is None else caller_id.strip(),
        record=attrs.choice("record", 13217, _DIAL_RECORD, "do-not-record"),
        # 13219 "Dial: Invalid answerOnBridge value" (twilio.com/docs/api/errors/13219).
        answer_on_bridge=attrs.boolean("answerOnBridge", 13219, False),
        ring_tone=attrs.get("ringTone"),
    )


def _redirect(element: ET.Element) -> Redirect:
    attrs = _Attrs(element, "Redirect")
    return Redirect(url=_text(element, "Redirect"), method=attrs.method("method", 13710))


def _hangup(element: ET.Element) -> Hangup:
    _text(element, "Hangup")
    return Hangup()


def _reject(element: ET.Element) -> Reject:
    _text(element, "Reject")
    # Chosen, sources silent: no Twilio code for a bad Reject reason.
    return Reject(reason=_Attrs(element, "Reject").choice("reason", 12200, _REJECT_REASON, "rejected"))


def _enqueue(element: ET.Element) -> Enqueue:
    attrs = _Attrs(element, "Enqueue")
    name = _text(element, "Enqueue", frozenset({"Task"}))  # <Task> (TaskRouter) is accepted and ignored.
    if not name:
        attrs.fail(14204, "Queue name too short")
    if len(name) > 64:
        attrs.fail(14205, "Queue name too long (more than 64 characters)")
    return Enqueue(
        name=name,
        action=attrs.get("action"),
        method=attrs.method("method", 14201),
        wait_url=attrs.get("waitUrl"),
        wait_url_method=attrs.method("waitUrlMethod", 14206),  # 14206 "Invalid waitUrlMethod value"
        # Chosen, sources silent: no Twilio code for maxQueueSize; 1..5000 is the Queue resource's range.
        max_queue_size=attrs.optional_integer("maxQueueSize", 12200, 1, 5000),
    )


def _leave(element: ET.Element) -> Leave:
    _text(element, "Leave")
    return Leave()


_VERBS: dict[str, Callable[[ET.Element], Verb]] = {
    "Say": _say,
    "Play": _play,
    "Pause": _pause,
    "Gather": _gather,
    "Dial": _dial,
    "Redirect": _redirect,
    "Hangup": _hangup,
    "Reject": _reject,
    "Enqueue": _enqueue,
    "Leave": _leave,
}
