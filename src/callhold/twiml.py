"""The TwiML callhold serves, built with ``twilio.twiml.voice_response`` (never by hand).

Every URL in it is absolute, made from the public base URL, so Twilio (and voicesim) can fetch it
from anywhere and the signature it computes matches what callhold validates.

Conference flags (documented choice): the customer and the agent both join with
``endConferenceOnExit=true``. Whoever hangs up ends the conference; the other side's ``<Dial>``
then ends too -- the agent (an API-created participant) hangs up, and the customer's ``<Dial>``
requests its action, where callhold decides: a goodbye, or, if the customer was on hold, the
agent-left message and the configured fallback. Third parties join with
``endConferenceOnExit=false`` so they can come and go. The customer's conference starts when the
agent joins (``startConferenceOnEnter`` on both); until then the customer hears the waiting music.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlencode

from twilio.twiml.voice_response import Dial, Enqueue, VoiceResponse

from callhold.adapters.telephony import CONFERENCE_EVENTS
from callhold.domain import paths
from callhold.domain.model import Agent, Call, Hold, queue_name_for

__all__ = ["HOLD_REMINDER", "WAITING_PROMPT", "HoldMusic", "TwimlBuilder"]


WAITING_PROMPT = "Please continue to hold for the next available agent."
"""Said to a waiting customer whose waiting music does not play, before each quiet pause."""


@functools.lru_cache(maxsize=8)
def _wait_music(music_url: str) -> str:
    """The waiting-music document: the same for every request, so built once per URL.

    ``<Play loop="0">`` never ends while the music plays. If it cannot be played (error 13420,
    11200) Twilio goes on to the next verb, and an ``<Enqueue>`` waitUrl whose TwiML runs out is
    requested again at once (reference §4.1): without the verbs after it, a webhook loop as fast as
    Twilio can go and a customer in silence. With them the customer hears a prompt every
    :data:`QUIET_LOOP_SECONDS` and the music is tried once per loop. (A conference waitUrl that
    runs out plays silence instead, §2: the same verbs cost nothing there.)
    """
    response = VoiceResponse()
    response.play(music_url, loop=0)
    response.say(WAITING_PROMPT)
    response.pause(length=QUIET_LOOP_SECONDS)
    return str(response)


LEG_EVENTS = ["initiated", "ringing", "answered", "completed"]

HOLD_REMINDER = "Thank you for holding. Your agent will be with you shortly."
"""Said to the held customer every ``reminder_interval``."""

QUICK_LOOP_SECONDS = 1.0
"""A hold-audio loop that comes back sooner than this did not play its music."""

QUIET_LOOP_SECONDS = 20
"""How long each loop of hold audio with no music that plays waits (with its reminders)."""


def came_back_at_once(came_back_after: float | None) -> bool:
    """Whether a hold-audio loop fetched again ``came_back_after`` seconds after the previous fetch
    (``None``: the first fetch) came back within :data:`QUICK_LOOP_SECONDS`: it did not play.

    Between -1 and 1 s: the clocks of two instances may differ a little (a negative wait); a previous
    fetch far ahead of the hold's time is no loop of this hold's (made up, or stale)."""
    return came_back_after is not None and abs(came_back_after) < QUICK_LOOP_SECONDS


def since_mark(elapsed: float) -> str:
    """The hold time a loop's URL carries (``since``): rounded down, so the next loop never seems to
    come first."""
    return f"{math.floor(elapsed * 10) / 10:.1f}"


class HoldMusic(StrEnum):
    """What a held customer's hold audio plays, carried from one loop to the next in its URL.

    When a ``<Play>`` cannot be fetched or played (error 13420, 11200), Twilio logs it and goes on
    to the next verb -- here the loop's ``<Redirect>`` -- so music that fails comes straight back:
    without a stop, a loop of webhooks as fast as Twilio can make them, and a customer in silence.
    A loop that comes back within :data:`QUICK_LOOP_SECONDS` did not play; the next one plays the
    next thing down: the hold's own music, the default music, then reminders over a pause. After
    each reminder interval a loop that played (or paused) is followed by the hold's own music again:
    a failure may have been brief (a deploy, a timeout), and trying again costs a quick loop or two
    per interval.
    """

    REQUESTED = "requested"
    """The hold's own music (``Hold.music_url``), else the default."""
    DEFAULT = "default"
    """The default hold music."""
    NONE = "none"
    """No music: reminders over :data:`QUIET_LOOP_SECONDS` pauses."""

    def after(self, hold: Hold, came_back_after: float | None, *, retry: bool = False) -> HoldMusic:
        """What to play next, this having come back ``came_back_after`` seconds after it was fetched
        (``None``: the first fetch); ``retry``: a reminder interval has passed since it was."""
        if came_back_after is None:
            return self
        if not came_back_at_once(came_back_after):
            return HoldMusic.REQUESTED if retry else self
        if self is HoldMusic.REQUESTED and hold.music_url is not None:
            return HoldMusic.DEFAULT
        return HoldMusic.NONE


def _spoken_duration(seconds: float) -> str:
    """``45 seconds``, ``about 1 minute``, ``about 3 minutes``."""
    if seconds < 60:
        whole = max(1, round(seconds))
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes = round(seconds / 60)
    return f"about {minutes} minute{'s' if minutes != 1 else ''}"


@dataclass(frozen=True, slots=True)
class TwimlBuilder:
    """Builds each document callhold answers with."""

    base_url: str
    music_url: str
    reminder_interval: int = 30
    agent_reminder_after: int = 60

    def url(self, path: str) -> str:
        """Absolute URL for one of callhold's paths."""
        return self.base_url.rstrip("/") + path

    @property
    def music(self) -> str:
        """The default hold music as an absolute URL."""
        return self.music_url if "://" in self.music_url else self.url(self.music_url)

    # -- connecting a customer --------------------------------------------------------------
    def connect(self, call: Call, agent: Agent | None, *, greet: bool = True) -> str:
        """Connect the customer to ``agent`` by the call's strategy (waiting queue if none)."""
        response = VoiceResponse()
        if agent is None:
            response.say("All of our agents are busy. Please hold for the next available agent.")
            self._enqueue_waiting(response, call)
            return str(response)
        if greet:
            response.say("Thanks for calling. Connecting you to an agent.")
        self._dial_agent(response, call, agent)
        return str(response)

    def _dial_agent(self, response: VoiceResponse, call: Call, agent: Agent) -> None:
        """Append what connects the customer to ``agent`` by the call's strategy."""
        action = self.url(f"/twiml/action/{call.id}")
        if call.conference_name is not None:
            dial = Dial(action=action, method="POST")
            dial.conference(
                call.conference_name,
                start_conference_on_enter=True,
                end_conference_on_exit=True,
                wait_url=self.url("/twiml/wait-music"),
                wait_method="GET",
                status_callback=self.url("/webhooks/conference"),
                status_callback_event=CONFERENCE_EVENTS,
                status_callback_method="POST",
                beep=False,
                participant_label="customer",
            )
            response.append(dial)
            return
        dial = Dial(action=action, method="POST", timeout=30)
        status = {
            "status_callback": self.url("/webhooks/call-status"),
            "status_callback_event": " ".join(LEG_EVENTS),
        }
        if agent.endpoint.startswith("client:"):
            dial.client(agent.endpoint.removeprefix("client:"), **status)
        else:
            dial.number(agent.endpoint, **status)
        response.append(dial)
        # Fallback TwiML: reached only if Twilio skips the action (reference §3.3, Q2a).
        response.redirect(action, method="POST")

    def _enqueue_waiting(self, response: VoiceResponse, call: Call) -> None:
        from callhold.service import WAITING_QUEUE

        response.enqueue(
            WAITING_QUEUE,
            action=self.url(f"/twiml/enqueue-action/{call.id}"),
            method="POST",
            wait_url=self.url("/twiml/wait-music"),
            wait_url_method="GET",
        )

    def wait_music(self) -> str:
        """Music for a customer waiting for an agent (conference waitUrl, Enqueue waitUrl)."""
        return _wait_music(self.music)

    # -- hold ---------------------------------------------------------------------------------
    def customer_hold_music(self, hold: Hold, elapsed: float, since: float | None, music: HoldMusic) -> str:
        """Hold audio for the customer: music, a reminder every ``reminder_interval``, looping.

        ``since`` is the hold time at the previous fetch and ``music`` what this loop plays
        (:meth:`HoldMusic.after`), both carried in the loop's own URL: the reminder is said at the
        first music boundary after each interval, with no server state.
        """
        response = VoiceResponse()
        if self.interval_passed(elapsed, since):
            response.say(HOLD_REMINDER)
        if music is HoldMusic.NONE:
            response.pause(length=QUIET_LOOP_SECONDS)
        else:
            own = music is HoldMusic.REQUESTED and hold.music_url is not None
            response.play(hold.music_url if own else self.music)
        query = urlencode({"since": since_mark(elapsed), "music": music.value})
        response.redirect(self.url(paths.conference_hold_music(hold.id)) + f"?{query}", method="GET")
        return str(response)

    def interval_passed(self, elapsed: float, since: float | None) -> bool:
        """Whether a reminder interval boundary lies between ``since`` and ``elapsed`` (hold seconds)."""
        interval = self.reminder_interval
        return since is not None and int(elapsed // interval) > int(since // interval)

    def agent_hold_music(self, hold: Hold, elapsed: float, since: float | None, *, first: bool) -> str:
        """The agent's leg while its customer is held (legs strategy): the default music, looping.

        ``since`` is the hold time at the previous fetch, carried in the loop's URL. A loop that came
        back within :data:`QUICK_LOOP_SECONDS` did not play its music (see :class:`HoldMusic`): the
        next one is a :data:`QUIET_LOOP_SECONDS` pause, after which the music is tried again.
        """
        response = VoiceResponse()
        if first:
            response.say("Your customer is on hold.")
        if came_back_at_once(None if since is None else elapsed - since):
            response.pause(length=QUIET_LOOP_SECONDS)
        else:
            response.play(self.music)
        query = urlencode({"again": 1, "since": since_mark(elapsed)})
        response.redirect(self.url(paths.legs_hold_music(hold.id)) + f"?{query}", method="POST")
        return str(response)

    @staticmethod
    def leave_queue() -> str:
        """``<Leave/>``: out of the queue whose waitUrl this is, on to the ``<Enqueue>`` action."""
        response = VoiceResponse()
        response.leave()
        return str(response)

    def enqueue_customer(self, hold: Hold, call: Call) -> str:
        """The customer's leg while held (legs): its own queue, looping hold audio."""
        return self.enqueue_held(hold.queue_name or queue_name_for(hold.id), hold.id, call.id)

    def enqueue_held(self, queue_name: str, hold_id: str, call_id: str) -> str:
        """:meth:`enqueue_customer` from the ids alone (what the hold's URLs carry)."""
        response = VoiceResponse()
        enqueue = Enqueue(
            queue_name,
            action=self.url(f"/twiml/enqueue-action/{call_id}"),
            method="POST",
            wait_url=self.url(paths.conference_hold_music(hold_id)),
            wait_url_method="GET",
        )
        response.append(enqueue)
        return str(response)

    def music_loop(self, path: str, method: str) -> str:
        """The default music, then on to ``path`` again: what a hold document answers when callhold
        cannot reach its records (the party stays on hold, and the next loop looks again)."""
        response = VoiceResponse()
        response.play(self.music)
        response.redirect(self.url(path), method=method)
        return str(response)

    def dequeue_customer(self, hold: Hold, call: Call, *, paced: bool = False) -> str:
        """The agent's leg on resume (legs): take exactly this hold's customer out of its queue
        (``paced``: after a second's pause, a try again after one failed at once)."""
        response = VoiceResponse()
        if paced:
            response.pause(length=1)
        dial = Dial(action=self.url(f"/twiml/action/{call.id}"), method="POST", timeout=30)
        dial.queue(
            hold.queue_name or queue_name_for(hold.id),
            url=self.url(paths.legs_bridged(hold.id)),
            method="POST",
        )
        response.append(dial)
        response.redirect(self.url(f"/twiml/action/{call.id}"), method="POST")
        return str(response)

    def bridged(self) -> str:
        """Said to the customer just before the agent is back."""
        response = VoiceResponse()
        response.say("Thank you for holding. Your agent is back.")
        return str(response)

    def notice(self, kind: str, hold: Hold, elapsed: float, *, back_to_music: bool) -> str:
        """An announcement to the agent: the reminder or the max-hold notice."""
        response = VoiceResponse()
        if kind == paths.MAX_HOLD:
            # Only the "announce" max-hold action plays this (auto-resume just resumes): the hold goes on.
            response.say("The maximum hold time has been reached. Please take your customer off hold.")
        else:
            response.say(f"Reminder: your customer has been on hold for {_spoken_duration(elapsed)}.")
        if back_to_music:
            response.redirect(self.url(paths.legs_hold_music(hold.id)) + "?again=1", method="POST")
        return str(response)

    # -- endings ------------------------------------------------------------------------------
    def customer_left(self) -> str:
        """Told to the agent when the held customer hung up."""
        response = VoiceResponse()
        response.say("Your customer has hung up.")
        response.hangup()
        return str(response)

    def agent_left(self, call: Call, requeue: bool, next_agent: Agent | None = None) -> str:
        """Told to the customer when the agent was disconnected; with ``requeue``, then connected to
        ``next_agent`` (already claimed), or put back in line if there is none."""
        response = VoiceResponse()
        response.say("We are sorry, your agent was disconnected.")
        if requeue and next_agent is not None:
            response.say("Connecting you to another agent.")
            self._dial_agent(response, call, next_agent)
        elif requeue:
            response.say("Please hold for the next available agent.")
            self._enqueue_waiting(response, call)
        else:
            response.say("Please call us again later. Goodbye.")
            response.hangup()
        return str(response)

    def redirect(self, path: str | None) -> str:
        """Continue at one of callhold's paths, or hang up (``None``)."""
        response = VoiceResponse()
        if path is None:
            response.hangup()
        else:
            response.redirect(self.url(path), method="POST")
        return str(response)

    def outbound_customer(self, call: Call, agent: Agent) -> str:
        """An outbound call we placed for an agent: once the customer answers, connect them."""
        return self.connect(call, agent, greet=False)

    @staticmethod
    def empty() -> str:
        """``<Response/>``."""
        return str(VoiceResponse())
