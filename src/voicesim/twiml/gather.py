"""``<Gather>``: collect the caller's key presses while its nested verbs play, then request the action.

Twilio's rules (twilio.com/docs/voice/twiml/gather):

* the first key press stops the nested ``<Say>``/``<Play>``/``<Pause>``; the gather then ends when
  ``finishOnKey`` is pressed, ``numDigits`` keys were entered, or ``timeout`` seconds pass with no
  new key;
* the action request carries ``Digits`` (without the finishing key) and ``FinishedOnKey``: the key
  that ended the gather, empty when the timeout or ``numDigits`` ended it;
* ``finishOnKey`` "only works when a digit sequence precedes it. It cannot be used as a mechanism
  to stop a <Gather> without previous digit input": a finishing key pressed before any digit is
  ignored -- it neither ends the gather, nor stops the prompt, nor counts as input;
* with nothing entered, Twilio goes on to the next verb (unless ``actionOnEmptyResult``).

Speech recognition is not emulated: voicesim cannot hear a caller, so a ``<Gather>`` whose
``input`` includes ``speech`` never receives a ``SpeechResult`` and ends as a gather with no speech
does (on key presses, or on its timeout). It logs a ``gather.speech-unsupported`` event so that a
test can see why (the README lists this among what voicesim does not do).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voicesim.calls import Keypad, Source
from voicesim.process import Wait
from voicesim.twiml.verbs import Gather, Play, Say

if TYPE_CHECKING:
    from voicesim.twiml.interpreter import Session

__all__ = ["run_gather"]


async def run_gather(session: Session, verb: Gather) -> Source | None:
    """Run ``verb`` on the session's call; the action to request, or None to fall through."""
    from voicesim.twiml.interpreter import FOREVER, say_duration

    keypad = session.call.keypad
    assert keypad is not None
    if "speech" in verb.input:
        session.emu.log("gather.speech-unsupported", call_sid=session.call.sid, input=" ".join(verb.input))
    keypad.listen()
    try:
        for child in verb.children:
            if isinstance(child, Say):
                session.hear("speech", child.text)
                seconds = say_duration(child.text) * (child.loop or FOREVER)
            elif isinstance(child, Play):
                url = session.resolve(child.url)
                played = await session.media_seconds(url) if child.url else 0.5
                session.hear("play", url)
                seconds = (played or 0.0) * (child.loop or FOREVER)
            else:
                session.hear("silence")
                seconds = child.length
            if await _until_input(session, keypad, verb, seconds):
                break
        session.hear("silence")
        digits, finished_on = await _collect(session, keypad, verb)
    finally:
        keypad.stop()
    if not digits and not verb.action_on_empty_result:
        return None  # Twilio falls through to the next verb when nothing was entered
    action = session.resolve(verb.action) if verb.action else session.doc_url
    if action is None:
        return None
    return Source(url=action, method=verb.method, params=(("Digits", digits), ("FinishedOnKey", finished_on)))


def _drop_leading_finish_keys(keypad: Keypad, verb: Gather) -> None:
    """Forget finishing keys pressed before any digit: they do not stop a gather (see above)."""
    if verb.finish_on_key:
        keypad.buffer = keypad.buffer.lstrip(verb.finish_on_key)


async def _until_input(session: Session, keypad: Keypad, verb: Gather, seconds: float) -> bool:
    """Wait out a prompt of ``seconds``; True as soon as the caller entered input (a digit)."""
    clock = session.emu.clock
    deadline = clock.now() + seconds
    while True:
        _drop_leading_finish_keys(keypad, verb)
        if keypad.buffer:
            return True
        if await Wait(keypad.signal, max(0.0, deadline - clock.now())) is None:
            return False


async def _collect(session: Session, keypad: Keypad, verb: Gather) -> tuple[str, str]:
    """Wait for the end of the input: ``(Digits, FinishedOnKey)``."""
    clock = session.emu.clock
    deadline = clock.now() + verb.timeout
    while True:
        _drop_leading_finish_keys(keypad, verb)
        digits = keypad.buffer
        if verb.finish_on_key and verb.finish_on_key in digits:
            return digits[: digits.index(verb.finish_on_key)], verb.finish_on_key
        if verb.num_digits is not None and len(digits) >= verb.num_digits:
            return digits[: verb.num_digits], ""
        if await Wait(keypad.signal, max(0.0, deadline - clock.now())) is None:
            _drop_leading_finish_keys(keypad, verb)
            return keypad.buffer, ""
        _drop_leading_finish_keys(keypad, verb)
        if len(keypad.buffer) > len(digits):
            deadline = clock.now() + verb.timeout  # a new digit restarts the timeout
