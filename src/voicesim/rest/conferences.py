"""``/Conferences`` and ``/Conferences/{Sid}/Participants`` (reference §1, §2.1).

Thin handlers: parse the form or query, call :class:`~voicesim.conferences.Conferences` or its
:class:`~voicesim.conference_participants.Participants`, render. The engine validates everything
before changing anything and raises :class:`~voicesim.conference_model.ConferenceError` (code,
status, message), which the dispatcher renders as Twilio's error body.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from voicesim.conference_model import Conference, Participant
from voicesim.emulator import Emulator
from voicesim.rest.app import API_PREFIX, Reply, Request
from voicesim.rest.calls import address_ok, time_limit
from voicesim.rest.errors import InvalidParameter
from voicesim.rest.params import Params
from voicesim.rest.render import account_uri, page
from voicesim.rest.render import date as rfc2822

__all__ = ["ROUTES", "conference_json", "participant_json"]

CONFERENCE_STATUSES = ("init", "in-progress", "completed")


def conference_json(emu: Emulator, conference: Conference) -> dict[str, Any]:
    """A Conference resource."""
    base = f"{account_uri(emu)}/Conferences/{conference.sid}"
    return {
        "account_sid": conference.account_sid,
        "date_created": rfc2822(emu, conference.date_created),
        "date_updated": rfc2822(emu, conference.date_updated),
        "api_version": "2010-04-01",
        "friendly_name": conference.friendly_name,
        "region": conference.region,
        "sid": conference.sid,
        "status": conference.status,
        "uri": f"{base}.json",
        "subresource_uris": {
            "participants": f"{base}/Participants.json",
            "recordings": f"{base}/Recordings.json",
        },
        "reason_conference_ended": conference.reason_conference_ended,
        "call_sid_ending_conference": conference.call_sid_ending_conference,
    }


def participant_json(emu: Emulator, participant: Participant, *, created: bool = False) -> dict[str, Any]:
    """A Participant resource; ``queue_time`` only in the create response (reference §1.2)."""
    base = f"{account_uri(emu)}/Conferences/{participant.conference_sid}"
    uri = f"{base}/Participants/{participant.call_sid}.json"
    return {
        "account_sid": participant.account_sid,
        "call_sid": participant.call_sid,
        "label": participant.label,
        "call_sid_to_coach": participant.call_sid_to_coach,
        "coaching": participant.coaching,
        "conference_sid": participant.conference_sid,
        "date_created": rfc2822(emu, participant.date_created),
        "date_updated": rfc2822(emu, participant.date_updated),
        "end_conference_on_exit": participant.end_conference_on_exit,
        "muted": participant.muted,
        "hold": participant.hold,
        "start_conference_on_enter": participant.start_conference_on_enter,
        "status": participant.status,
        "queue_time": participant.queue_time if created else None,
        "uri": uri,
    }


def _day(params: Params, key: str) -> date | None:
    raw = params.get(key)
    if not raw:
        return None
    try:
        return datetime.strptime(raw[:10], "%Y-%m-%d").date()
    except ValueError:
        raise InvalidParameter(f"{key} must be a date YYYY-MM-DD, not {raw!r}") from None


def _events(params: Params, key: str) -> list[str] | None:
    """A space-separated (or repeated) event list; None when absent."""
    raw = params.getall(key)
    if not raw:
        return None
    return [value for item in raw for value in item.replace(",", " ").split()]


# -- Conferences -----------------------------------------------------------------------------------
def list_conferences(emu: Emulator, request: Request) -> Reply:
    """``GET /Conferences.json`` with FriendlyName, Status, DateCreated and DateUpdated filters."""
    query = request.query
    status = query.get("Status") or None
    if status is not None and status not in CONFERENCE_STATUSES:
        raise InvalidParameter(f"Status must be one of {', '.join(CONFERENCE_STATUSES)}, not {status!r}")
    found = emu.conferences.list(
        friendly_name=query.get("FriendlyName") or None,
        status=status,
        date_created=_day(query, "DateCreated"),
        date_created_before=_day(query, "DateCreated<"),
        date_created_after=_day(query, "DateCreated>"),
        date_updated=_day(query, "DateUpdated"),
        date_updated_before=_day(query, "DateUpdated<"),
        date_updated_after=_day(query, "DateUpdated>"),
    )
    return Reply(200, page(emu, request, "conferences", found, conference_json))


def fetch_conference(emu: Emulator, request: Request) -> Reply:
    """``GET /Conferences/{Sid}.json``."""
    return Reply(200, conference_json(emu, emu.conferences.get(request.path_params["Sid"])))


def update_conference(emu: Emulator, request: Request) -> Reply:
    """``POST /Conferences/{Sid}.json``: Status=completed, AnnounceUrl/AnnounceMethod."""
    form = request.form
    conference = emu.conferences.update(
        request.path_params["Sid"],
        status=form.get("Status") or None,
        announce_url=form.get("AnnounceUrl") or None,
        announce_method=form.get("AnnounceMethod") or None,
    )
    return Reply(200, conference_json(emu, conference))


# -- Participants ----------------------------------------------------------------------------------
def create_participant(emu: Emulator, request: Request) -> Reply:
    """``POST /Conferences/{Sid or FriendlyName}/Participants.json``: dial out and join (201)."""
    form = request.form
    to, from_ = (form.get("To") or "").strip(), (form.get("From") or "").strip()
    if to and not address_ok(to):
        raise InvalidParameter(f"The phone number you are attempting to call, {to}, is not valid.", 21211)
    if from_ and not address_ok(from_):
        raise InvalidParameter(f"The source phone number provided, {from_}, is not valid.", 21212)
    options: dict[str, Any] = {
        "label": form.get("Label") or None,
        "timeout": form.integer("Timeout", 60, 5, 600, 21208),
        "muted": form.boolean("Muted", False),
        "beep": form.get("Beep") or "true",
        "start_conference_on_enter": form.boolean("StartConferenceOnEnter", True),
        "end_conference_on_exit": form.boolean("EndConferenceOnExit", False),
        "wait_url": form.get("WaitUrl"),
        "wait_method": form.get("WaitMethod") or None,
        "early_media": form.boolean("EarlyMedia", True),
        "max_participants": form.integer("MaxParticipants", 250, 2, 250),
        "status_callback": form.get("StatusCallback") or None,
        "status_callback_method": form.get("StatusCallbackMethod") or None,
        "conference_status_callback": form.get("ConferenceStatusCallback") or None,
        "conference_status_callback_method": form.get("ConferenceStatusCallbackMethod") or None,
        "coaching": form.boolean("Coaching"),
        "call_sid_to_coach": form.get("CallSidToCoach") or None,
        "caller_id": form.get("CallerId") or None,
        "time_limit": time_limit(form),
    }
    events = _events(form, "StatusCallbackEvent")
    if events is not None:
        options["status_callback_event"] = events
    conference_events = _events(form, "ConferenceStatusCallbackEvent")
    if conference_events is not None:
        options["conference_status_callback_event"] = conference_events
    participant = emu.conferences.participants.create(
        request.path_params["ConferenceSid"], from_=from_, to=to, **options
    )
    return Reply(201, participant_json(emu, participant, created=True))


def list_participants(emu: Emulator, request: Request) -> Reply:
    """``GET /Conferences/{Sid}/Participants.json`` with Muted, Hold and Coaching filters."""
    query = request.query
    found = emu.conferences.participants.list(
        request.path_params["ConferenceSid"],
        muted=query.boolean("Muted"),
        hold=query.boolean("Hold"),
        coaching=query.boolean("Coaching"),
    )
    return Reply(200, page(emu, request, "participants", found, participant_json))


def fetch_participant(emu: Emulator, request: Request) -> Reply:
    """``GET /Conferences/{Sid}/Participants/{CallSid or label}.json``."""
    path = request.path_params
    participant = emu.conferences.participants.get(path["ConferenceSid"], path["CallSid"])
    return Reply(200, participant_json(emu, participant))


def update_participant(emu: Emulator, request: Request) -> Reply:
    """``POST /Conferences/{Sid}/Participants/{CallSid or label}.json``: hold, mute, announce..."""
    form, path = request.form, request.path_params
    muted = form.get("Muted")
    participant = emu.conferences.participants.update(
        path["ConferenceSid"],
        path["CallSid"],
        # Any value other than true or false counts as false (reference §1.1).
        muted=None if muted is None or muted == "" else muted.lower() == "true",
        hold=form.boolean("Hold"),
        hold_url=form.get("HoldUrl") or None,
        hold_method=form.get("HoldMethod") or None,
        announce_url=form.get("AnnounceUrl") or None,
        announce_method=form.get("AnnounceMethod") or None,
        wait_url=form.get("WaitUrl"),
        wait_method=form.get("WaitMethod") or None,
        beep_on_exit=form.boolean("BeepOnExit"),
        end_conference_on_exit=form.boolean("EndConferenceOnExit"),
        coaching=form.boolean("Coaching"),
        call_sid_to_coach=form.get("CallSidToCoach") or None,
    )
    return Reply(200, participant_json(emu, participant))


def delete_participant(emu: Emulator, request: Request) -> Reply:
    """``DELETE /Conferences/{Sid}/Participants/{CallSid or label}.json``: kick (204)."""
    path = request.path_params
    emu.conferences.participants.delete(path["ConferenceSid"], path["CallSid"])
    return Reply(204)


_BASE = f"{API_PREFIX}/Accounts/{{AccountSid}}/Conferences"
_PARTICIPANTS = f"{_BASE}/{{ConferenceSid}}/Participants"
ROUTES = [
    ("GET", f"{_BASE}.json", list_conferences),
    ("GET", f"{_BASE}/{{Sid}}.json", fetch_conference),
    ("POST", f"{_BASE}/{{Sid}}.json", update_conference),
    ("POST", f"{_PARTICIPANTS}.json", create_participant),
    ("GET", f"{_PARTICIPANTS}.json", list_participants),
    ("GET", f"{_PARTICIPANTS}/{{CallSid}}.json", fetch_participant),
    ("POST", f"{_PARTICIPANTS}/{{CallSid}}.json", update_participant),
    ("DELETE", f"{_PARTICIPANTS}/{{CallSid}}.json", delete_participant),
]
