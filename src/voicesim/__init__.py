"""voicesim: a faithful local Twilio Programmable Voice.

The ``/2010-04-01`` REST API, TwiML executed with Twilio's call semantics, signed webhooks and
status callbacks, simulated phones, a virtual clock and an audio timeline of what every call hears.
"""

from voicesim.calls import Call, Source
from voicesim.clock import RealtimeClock, Scheduler, StillBusy, VirtualClock
from voicesim.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, Alert, Emulator, Event
from voicesim.media import Audio, HeardSegment
from voicesim.phones import PhoneScript

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "Alert",
    "Audio",
    "Call",
    "Emulator",
    "Event",
    "HeardSegment",
    "PhoneScript",
    "RealtimeClock",
    "Scheduler",
    "Source",
    "StillBusy",
    "VirtualClock",
]
