"""Runs TwiML on a call the way Twilio does.

A :class:`Session` fetches a document (with the standard parameters, the right content-type
rules and the fallback URL), then executes its verbs in order. Each verb returns ``None`` to go on
to the next verb, or a :class:`~voicesim.calls.Source` to continue elsewhere (a ``<Redirect>``,
an action URL). A REST redirect is an interrupt thrown into whatever verb is running; the verb
cleans up in its ``except`` and the session loads the new TwiML.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import mutagen

from voicesim.calls import Call, HungUp, Redirected, Source
from voicesim.media import Audio
from voicesim.process import Sleep
from voicesim.twiml.parse import Context, TwimlError, looks_like_twiml, parse
from voicesim.twiml.verbs import (
    Client,
    Dial,
    Enqueue,
    Gather,
    Hangup,
    Leave,
    Number,
    Pause,
    Play,
    Redirect,
    Reject,
    Response,
    Say,
    Verb,
)
from voicesim.webhooks import WebhookRequest, WebhookResponse

if TYPE_CHECKING:
    from voicesim.emulator import Emulator

__all__ = ["APPLICATION_ERROR_TEXT", "EndOfCall", "LeaveQueue", "Session", "run_call", "say_duration"]

#: What a caller hears when the application fails and there is no fallback (Q10).
APPLICATION_ERROR_TEXT = "An application error has occurred."
#: Twilio repeats ``loop="0"`` Say/Play up to this many times (effectively until hang-up).
FOREVER = 1000
#: Seconds an audio file of a Twilio-hosted music URL lasts (voicesim never downloads them).
BUILTIN_TRACK_SECONDS = 120.0
BUILTIN_MEDIA_PREFIXES = (
    "https://s3.amazonaws.com/com.twilio.sounds.music/",
    "http://com.twilio.sounds.music.s3.amazonaws.com/",
    "https://api.twilio.com/cowbell.mp3",
    "http://demo.twilio.com/docs/classic.mp3",
)


def _answers_on_bridge(verb: Verb) -> bool:
    """A ``<Dial answerOnBridge="true">`` to numbers or clients: it answers the call itself, at the
    bridge (:mod:`voicesim.twiml.dial`)."""
    return isinstance(verb, Dial) and verb.answer_on_bridge and isinstance(verb.nouns[0], Number | Client)


class EndOfCall(Exception):
    """``<Hangup>``/``<Reject>``, or an application error: the TwiML ends the call."""


class LeaveQueue(Exception):
    """``<Leave>`` in an Enqueue waitUrl document."""


def say_duration(text: str) -> float:
    """How long ``<Say>`` speaks ``text``: 0.4 s a word, at least 1 s (a fixed, documented rate)."""
    return max(1.0, round(0.4 * len(text.split()), 1))


def audio_seconds(body: bytes) -> float:
    """Duration of MP3/WAV bytes; unknown formats count as 128 kbit/s audio (at least 1 s)."""
    try:
        parsed = mutagen.File(io.BytesIO(body))
    except Exception:
        parsed = None
    length = getattr(getattr(parsed, "info", None), "length", None)
    if isinstance(length, int | float) and length > 0:
        return float(length)
    return max(1.0, len(body) / 16000)


async def run_call(emu: Emulator, call: Call, source: Source) -> None:
    """A call's main flow: run its TwiML; when the TwiML ends, hang up."""
    session = Session(emu, call)
    try:
        await session.run(source)
    except HungUp:
        return
    session.end_unanswered()
    emu.calls.complete(call, "completed", by="twiml")


class Session:
    """Executes TwiML documents on one call.

    ``context`` restricts the verbs (hold music, wait music, ...); ``label`` tags what the call
    hears in its timeline (``"hold"``, ``"conference-wait"``...). Only a ``"call"`` session
    follows REST redirects and ends the call on ``<Hangup>``.
    """

    def __init__(self, emu: Emulator, call: Call, context: Context = "call", label: str = "") -> None:
        self.emu = emu
        self.call = call
        self.context: Context = context
        self.label = label
        self.doc_url: str | None = None
        self.doc_source: Source | None = None
        self.extra_params: tuple[tuple[str, str], ...] = ()
        #: Set by a ``<Dial answerOnBridge="true">`` that failed before the call was answered: the
        #: status the call ends with if its TwiML runs out still unanswered (see :mod:`.dial`).
        self.unbridged_status: str | None = None

    # -- running -----------------------------------------------------------------------------
    async def run(self, source: Source) -> None:
        """Load and execute documents until the TwiML runs out (returns) or ends the call."""
        next_source: Source | None = source
        while next_source is not None:
            try:
                response = await self.load(next_source)
                if response is None:
                    return
                next_source = await self.execute(response.verbs)
            except Redirected as redirect:
                if self.context != "call":
                    raise
                next_source = redirect.source
            except EndOfCall:
                if self.context == "call":
                    self.end_unanswered()
                    self.emu.calls.complete(self.call, "completed", by="twiml")
                return

    def end_unanswered(self) -> None:
        """The call's TwiML is over: settle a call that nothing answered yet before it is hung up.

        twilio.com/docs/voice/twiml/reject: "Using <Reject> as the first verb in your response is
        the only way to prevent Twilio from answering a call. Any other response will result in an
        answered call". So an empty document, or one that ends while the call still rings (after a
        leading ``<Pause>``), answers the call, which then ends ``completed`` with a duration of 0
        -- not ``canceled``, which is for calls the caller or the API gave up on. The exception is
        a call left unanswered by a failed ``<Dial answerOnBridge="true">``
        (:attr:`unbridged_status`, :mod:`voicesim.twiml.dial`).
        """
        call = self.call
        if self.context != "call" or call.status != "ringing":
            return
        if self.unbridged_status is not None:
            self.emu.calls.complete(call, self.unbridged_status, by="twiml")
        else:
            self.emu.calls.answer(call)

    async def execute(self, verbs: Sequence[Verb]) -> Source | None:
        """Run ``verbs`` in order; the Source to continue with, or None when they run out."""
        for index, verb in enumerate(verbs):
            if self.call.is_terminal:
                raise HungUp(self.call.status)
            if self.context == "call" and self.call.status == "ringing":
                if index == 0 and isinstance(verb, Pause):
                    # twilio.com/docs/voice/twiml/pause: "If <Pause> is the first verb in a TwiML
                    # document, Twilio will wait the specified number of seconds before picking up
                    # the call": the caller still hears ringing, nothing is billed yet.
                    await Sleep(verb.length)
                    continue
                if not isinstance(verb, Reject) and not _answers_on_bridge(verb):
                    self.unbridged_status = None
                    self.emu.calls.answer(self.call)
            following = verbs[index + 1] if index + 1 < len(verbs) else None
            result = await self.step(verb, following)
            if result is not None:
                return result
        return None

    async def step(self, verb: Verb, following: Verb | None) -> Source | None:
        """Execute one verb."""
        if isinstance(verb, Say):
            await self.say(verb.text, verb.loop)
        elif isinstance(verb, Play):
            await self.play(verb)
        elif isinstance(verb, Pause):
            self.hear("silence")
            await Sleep(verb.length)
        elif isinstance(verb, Gather):
            from voicesim.twiml.gather import run_gather

            return await run_gather(self, verb)
        elif isinstance(verb, Redirect):
            return self.redirect_source(verb)
        elif isinstance(verb, Hangup):
            raise EndOfCall
        elif isinstance(verb, Reject):
            if self.call.status in ("queued", "ringing"):
                self.emu.calls.complete(self.call, "busy" if verb.reason == "busy" else "no-answer")
            raise EndOfCall
        elif isinstance(verb, Dial):
            from voicesim.twiml.dial import run_dial

            return await run_dial(self, verb, following)
        elif isinstance(verb, Enqueue):
            return await self.emu.queues.enqueue(self, verb)
        elif isinstance(verb, Leave):
            raise LeaveQueue
        return None

    # -- what the call hears -----------------------------------------------------------------
    def hear(self, kind: str, detail: str = "") -> None:
        """From now on the call hears ``kind`` (tagged with this session's label)."""
        self.emu.media.timeline(self.call.sid).hear(self.emu.clock.now(), Audio(kind, detail, self.label))

    async def say(self, text: str, loop: int = 1) -> None:
        """Speak ``text`` ``loop`` times (0: until hang-up)."""
        self.hear("speech", text)
        await Sleep(say_duration(text) * (loop or FOREVER))

    async def play(self, verb: Play) -> None:
        """Play a URL (or DTMF digits) ``loop`` times."""
        if verb.digits:
            self.hear("dtmf", verb.digits)
            await Sleep(0.5 * len(verb.digits))
            return
        seconds = await self.media_seconds(self.resolve(verb.url))
        if seconds is None:
            return
        self.hear("play", self.resolve(verb.url))
        await Sleep(seconds * (verb.loop or FOREVER))

    async def media_seconds(self, url: str) -> float | None:
        """How long the audio at ``url`` plays (fetched once, like Twilio's media cache)."""
        cache = self.emu.media_durations
        if url in cache:
            return cache[url]
        if url.startswith(BUILTIN_MEDIA_PREFIXES):
            return BUILTIN_TRACK_SECONDS
        reply = await self.emu.fetch(WebhookRequest(url, "GET", (), "media", self.call.sid))
        if reply.error_code is not None:
            self.emu.alert(reply.error_code, reply.error, call_sid=self.call.sid, url=url)
            return None
        if not reply.content_type.startswith("audio/"):
            self.emu.alert(
                13420,
                f"Play: {url} is {reply.content_type or 'untyped'}, not audio",
                call_sid=self.call.sid,
                url=url,
            )
            return None
        cache[url] = audio_seconds(reply.body)
        return cache[url]

    def redirect_source(self, verb: Redirect) -> Source | None:
        """Where ``<Redirect>`` goes: its URL, or with none the current document again."""
        if verb.url:
            return Source(url=self.resolve(verb.url), method=verb.method)
        return self.doc_source

    # -- loading documents -------------------------------------------------------------------
    def params(self, extra: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
        """Standard parameters plus ``extra``."""
        return [*self.call.webhook_params(), *self.extra_params, *extra]

    def resolve(self, url: str) -> str:
        """A URL relative to the current document, made absolute."""
        if self.doc_url and not urlsplit(url).scheme:
            return urljoin(self.doc_url, url)
        return url

    async def load(self, source: Source) -> Response | None:
        """Fetch and parse ``source``; on failure use the fallback URL, else the application error."""
        if source.url is None:
            try:
                response = parse(source.twiml or "", self.context)
            except TwimlError as exc:
                return await self.failed(exc.code, exc.message, None)
            self.doc_url, self.doc_source = None, source
            return response
        url = self.resolve(source.url)
        reply = await self.emu.fetch(
            WebhookRequest(url, source.method, self.params(source.params), "twiml", self.call.sid)
        )
        try:
            response = self.interpret(reply, url)
        except TwimlError as exc:
            return await self.failed(exc.code, exc.message, url)
        self.doc_url, self.doc_source = url, Source(url=url, method=source.method)
        return response

    def interpret(self, reply: WebhookResponse, url: str) -> Response:
        """Turn a reply into TwiML by its content type (reference §6.1)."""
        if reply.error_code is not None:
            raise TwimlError(reply.error_code, reply.error)
        ctype = reply.content_type
        if ctype in ("text/xml", "application/xml", "text/html"):
            return parse(reply.body, self.context)
        if ctype.startswith("audio/"):
            self.emu.media_durations[url] = audio_seconds(reply.body)
            ending: tuple[Verb, ...] = (Hangup(),) if self.context == "call" else ()
            return Response((Play(url), *ending))
        if ctype == "text/plain":
            if looks_like_twiml(reply.text):
                return parse(reply.body, self.context)
            ending = (Hangup(),) if self.context == "call" else ()
            return Response((Say(reply.text.strip()), *ending))
        raise TwimlError(12300, f"Invalid Content-Type {ctype or '(none)'} from {url}")

    async def failed(self, code: int, message: str, url: str | None) -> Response | None:
        """Record the alert; try the fallback URL once; else play the application error."""
        call = self.call
        self.emu.alert(code, message, call_sid=call.sid, url=url)
        if self.context == "call" and call.fallback_url and url != call.fallback_url:
            fallback = call.fallback_url
            reply = await self.emu.fetch(
                WebhookRequest(
                    fallback,
                    call.fallback_method,
                    self.params((("ErrorCode", str(code)), ("ErrorUrl", url or ""))),
                    "fallback",
                    call.sid,
                )
            )
            try:
                response = self.interpret(reply, fallback)
            except TwimlError as exc:
                self.emu.alert(exc.code, exc.message, call_sid=call.sid, url=fallback)
            else:
                self.doc_url, self.doc_source = fallback, Source(url=fallback, method=call.fallback_method)
                return response
        if self.context != "call":
            self.hear("silence")
            return None
        if call.status == "ringing":
            self.emu.calls.answer(call)
        await self.say(APPLICATION_ERROR_TEXT)
        raise EndOfCall
