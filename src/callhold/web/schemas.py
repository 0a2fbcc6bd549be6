"""The JSON API's request and response bodies (pydantic 2), and their conversion from domain records.

Requests reject unknown fields (``extra="forbid"``) and validate every identifier by shape: Call SIDs
(``CA`` + 32 lowercase hex), Twilio endpoints (E.164 or ``client:<identity>``), agent ids, http(s)
URLs. Free text refuses control characters (PostgreSQL rejects NUL, TwiML would carry the rest).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StrictBool,
    UrlConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from callhold.domain.model import (
    Agent,
    Call,
    CallState,
    Hold,
    HoldEndReason,
    HoldState,
    HoldStats,
    Leg,
    LegRole,
    LegStatus,
    Strategy,
)

__all__ = [
    "AGENT_ID_PATTERN",
    "CALL_SID_PATTERN",
    "ENDPOINT_PATTERN",
    "AgentCreate",
    "AgentCreated",
    "AgentOut",
    "AgentStats",
    "AgentToken",
    "AgentUpdate",
    "CallCreate",
    "CallDetail",
    "CallOut",
    "CallStats",
    "FieldError",
    "HoldOut",
    "HoldRequest",
    "LegOut",
    "MuteRequest",
    "ParticipantCreate",
    "Problem",
    "Stats",
]

CALL_SID_PATTERN = r"^CA[0-9a-f]{32}$"
"""A Twilio Call SID as Twilio writes it."""
ENDPOINT_PATTERN = r"^(\+[1-9][0-9]{6,14}|client:[A-Za-z0-9_.@-]{1,64})$"
"""An E.164 phone number or a Twilio Client identity."""
AGENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"
"""An agent id: letters, digits and ``_.@-``, at most 64 characters."""
_TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*$"

CallSidStr = Annotated[str, Field(pattern=CALL_SID_PATTERN, examples=["CA" + "0" * 32])]


def _endpoint(value: str) -> str:
    """``value`` if it is an E.164 number or a Client identity; else an error an agent can act on (the
    console shows it as is: a regular expression would tell an agent nothing)."""
    if re.fullmatch(ENDPOINT_PATTERN, value) is None:
        raise PydanticCustomError(
            "endpoint",
            "Enter a phone number in international form (E.164: + then the country code and number, "
            "digits only, e.g. +15551230001) or client:<name> for a Twilio Client",
        )
    return value


Endpoint = Annotated[
    str,
    Field(
        max_length=71,
        examples=["client:alice", "+15551230001"],
        json_schema_extra={"pattern": ENDPOINT_PATTERN},
    ),
    AfterValidator(_endpoint),
]
AgentId = Annotated[str, Field(pattern=AGENT_ID_PATTERN, max_length=64, examples=["alice"])]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=_TEXT_PATTERN, examples=["Alice"])]
MusicUrl = Annotated[HttpUrl, UrlConstraints(max_length=2000, allowed_schemes=["http", "https"])]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- agents ------------------------------------------------------------------------------------
class AgentCreate(_Request):
    """A new agent (``id`` chosen by the server when omitted)."""

    id: AgentId | None = None
    name: Name
    endpoint: Endpoint
    # Strict: a client sending 0, "false" or "no" meant something, and a state change is no place to
    # guess what (422 instead).
    available: StrictBool = True


class AgentUpdate(_Request):
    """Changes to an agent; omitted (or null) fields stay as they are."""

    name: Name | None = None
    endpoint: Endpoint | None = None
    available: StrictBool | None = None


class AgentOut(BaseModel):
    """An agent."""

    id: str
    name: str
    endpoint: str
    available: bool = Field(
        description="Free to be handed a call now (false while it has a call or is being connected"
        " to one, and while it is away)."
    )
    away: bool = Field(
        description=(
            "The agent set itself unavailable (`available: false`), also during a call: callhold then"
            " does not make it available when the call ends, until it sets `available: true` again."
        )
    )
    placing_to: str | None = Field(
        default=None,
        description=(
            "The number callhold is dialling for the agent (`POST /api/v1/calls`) until the call is on"
            " record: the agent is busy meanwhile. Null when no outbound call is being placed."
        ),
    )

    @classmethod
    def of(cls, agent: Agent) -> Self:
        """From the domain record (its fields of the same names)."""
        return cls.model_validate(agent, from_attributes=True)


class AgentCreated(AgentOut):
    """A new agent with its API token (shown once: only its hash is stored)."""

    token: str


class AgentToken(BaseModel):
    """An agent's freshly issued API token (shown once; the previous token no longer works)."""

    agent_id: str
    token: str


# -- calls ---------------------------------------------------------------------------------------
class CallCreate(_Request):
    """Dial a customer for an agent (an agent token may only dial for itself; the admin names the
    agent, or gets the first available one)."""

    to: Endpoint
    agent_id: AgentId | None = None


class HoldRequest(_Request):
    """Options of a hold: the music the customer hears (http(s), looped) and why."""

    music_url: MusicUrl | None = None
    reason: Annotated[str, Field(max_length=500, pattern=_TEXT_PATTERN)] | None = None

    @field_validator("music_url")
    @classmethod
    def _fits(cls, value: HttpUrl | None) -> HttpUrl | None:
        if value is not None and len(str(value)) > 2000:
            raise ValueError("URL longer than 2000 characters")
        return value


class MuteRequest(_Request):
    """The participant (a leg of the call) to mute or unmute."""

    call_sid: CallSidStr


class ParticipantCreate(_Request):
    """A third party to dial into the call's conference."""

    to: Endpoint
    label: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9 _.@-]+$")] | None = None


class LegOut(BaseModel):
    """One Twilio call taking part in the call."""

    call_sid: str
    role: LegRole
    status: LegStatus
    muted: bool = Field(description="Muted in the conference (conference strategy; legs: always false)")
    on_hold: bool = Field(
        description="Held: hears hold audio, is not heard. Conference strategy: the participant's Hold "
        "flag, from Twilio's events. Legs strategy: the customer's leg while a hold keeps it in the "
        "hold's queue; an agent's leg never (it hears music while its customer is held, but nobody "
        "holds it). False once the leg or its hold has ended"
    )
    parent_call_sid: str | None

    @classmethod
    def of(cls, leg: Leg) -> Self:
        """From the domain record."""
        return cls(
            call_sid=leg.call_sid,
            role=leg.role,
            status=leg.status,
            muted=leg.muted,
            on_hold=leg.on_hold,
            parent_call_sid=leg.parent_call_sid,
        )


class HoldOut(BaseModel):
    """One hold. ``duration_seconds`` counts an open hold up to now."""

    id: str
    call_id: str
    state: HoldState
    strategy: Strategy
    requested_by: str
    reason: str | None
    music_url: str | None
    queue_name: str | None
    started_at: datetime
    confirmed_at: datetime | None
    ended_at: datetime | None
    end_reason: HoldEndReason | None = Field(
        description="Why the hold ended (while resuming: why it is ending): resumed, "
        "max_hold_auto_resumed, failed_compensated (Twilio refused a step, undone), customer_hung_up, "
        "agent_hung_up (the agent hung up, the customer still on the line: told, then requeued or said "
        "goodbye), call_ended (the conference ended under the hold otherwise -- the customer removed, "
        "the conference ended through Twilio's API -- or before Twilio said who left it)"
    )
    agent_id: str | None
    agent_call_sid: str | None
    duration_seconds: float

    @classmethod
    def of(cls, hold: Hold, now: datetime) -> Self:
        """From the domain record, timed at ``now``."""
        return cls(
            id=hold.id,
            call_id=hold.call_id,
            state=hold.state,
            strategy=hold.strategy,
            requested_by=hold.requested_by,
            reason=hold.reason,
            music_url=hold.music_url,
            queue_name=hold.queue_name,
            started_at=hold.started_at,
            confirmed_at=hold.confirmed_at,
            ended_at=hold.ended_at,
            end_reason=hold.end_reason,
            agent_id=hold.agent_id,
            agent_call_sid=hold.agent_call_sid,
            duration_seconds=hold.duration(now).total_seconds(),
        )


class CallOut(BaseModel):
    """A customer call (``id`` is the customer leg's Call SID)."""

    id: str
    strategy: Strategy
    customer_call_sid: str
    customer_number: str | None = Field(
        description="The customer's number as Twilio gave it (From of an inbound call, To of an "
        "outbound one); null when not known"
    )
    agent_id: str | None
    status: CallState
    conference_name: str | None
    conference_sid: str | None
    created_at: datetime
    ended_at: datetime | None
    hold_state: HoldState | None = Field(
        description="The state of the call's open hold, else of its latest (ended); null: never held"
    )

    @classmethod
    def of(cls, call: Call, hold_state: HoldState | None) -> Self:
        """From the domain record and the state of the call's open (else latest) hold."""
        return cls(
            id=call.id,
            strategy=call.strategy,
            customer_call_sid=call.customer_call_sid,
            customer_number=call.customer_number,
            agent_id=call.agent_id,
            status=call.status,
            conference_name=call.conference_name,
            conference_sid=call.conference_sid,
            created_at=call.created_at,
            ended_at=call.ended_at,
            hold_state=hold_state,
        )


class CallDetail(CallOut):
    """A call with its legs and its current (or last) hold."""

    legs: list[LegOut]
    hold: HoldOut | None


# -- statistics ------------------------------------------------------------------------------------
class CallStats(BaseModel):
    """Hold totals of one call."""

    call_id: str
    holds: int
    total_seconds: float
    longest_seconds: float

    @classmethod
    def of(cls, stats: HoldStats) -> Self:
        """From the domain record."""
        return cls(
            call_id=stats.subject,
            holds=stats.holds,
            total_seconds=stats.total_seconds,
            longest_seconds=stats.longest_seconds,
        )


class AgentStats(BaseModel):
    """Hold totals of one agent (the call's agent when each hold was requested)."""

    agent_id: str
    holds: int
    total_seconds: float
    longest_seconds: float

    @classmethod
    def of(cls, stats: HoldStats) -> Self:
        """From the domain record."""
        return cls(
            agent_id=stats.subject,
            holds=stats.holds,
            total_seconds=stats.total_seconds,
            longest_seconds=stats.longest_seconds,
        )


class Stats(BaseModel):
    """Hold totals per call (at most ``limit``, most recently held first) and per agent (by id), at
    ``as_of`` (open holds count up to then)."""

    as_of: datetime
    calls: list[CallStats]
    agents: list[AgentStats]


# -- errors ------------------------------------------------------------------------------------------
class FieldError(BaseModel):
    """One invalid part of a request."""

    loc: list[str]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details (``application/problem+json``)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = Field(None, description="422: the invalid fields")
    twilio_code: int | None = Field(None, description="When Twilio refused a command: its error code")
    twilio_status: int | None = Field(None, description="When Twilio refused a command: its HTTP status")

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The schema with its definitions inlined (to embed in an OpenAPI response as is)."""
        schema = cls.model_json_schema()
        definitions = schema.pop("$defs", {})

        def inline(node: Any) -> Any:
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str) and ref.startswith("#/$defs/"):
                    return inline(definitions[ref.removeprefix("#/$defs/")])
                return {key: inline(value) for key, value in node.items()}
            if isinstance(node, list):
                return [inline(item) for item in node]
            return node

        result: dict[str, Any] = inline(schema)
        return result
