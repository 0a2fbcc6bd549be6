"""A conference's start proven otherwise than by its ``conference-start`` callback, which Twilio does
not send again once callhold failed to take it: the agent's join, or Twilio's Conferences list."""

from __future__ import annotations

from dataclasses import replace

import pytest
from domain_builders import AGENT, CALL_ID, CONFERENCE, CUSTOMER, NEW_AGENT, at, view
from machine_rules import CONF, CONF_HOLD, LEGS, Rule, assert_rule, call_is, hold_req, leg_is, run

from callhold.domain import events as ev
from callhold.domain.effects import Ignored
from callhold.domain.model import NO_SEQUENCE, CallState, CallView, Leg, LegRole, LegStatus
from callhold.domain.strategies import conference_to_find

NEW_CONFERENCE = "CF" + "e" * 32


def no_conference(state: CallView, *, latest_start: float | None = None) -> CallView:
    """``state`` with no live conference on record; ``latest_start``: when the latest one started."""
    started = None if latest_start is None else at(latest_start)
    return replace(state, call=replace(state.call, conference_sid=None, conference_started_at=started))


def requeued(*, latest_start: float) -> CallView:
    """The first agent dropped (its conference ended) and the customer was given NEW_AGENT, ringing
    or joining a new conference; no live conference on record."""
    state = no_conference(view(CONF, agent=LegStatus.COMPLETED), latest_start=latest_start)
    state = replace(
        state,
        legs=tuple(replace(leg, on_hold=True, participant_sequence_number=7) for leg in state.legs),
    )
    return state.with_leg(
        Leg(call_sid=NEW_AGENT, call_id=CALL_ID, role=LegRole.AGENT, status=LegStatus.RINGING)
    )


def joined(call_sid: str, conference_sid: str = CONFERENCE, t: float = 3) -> ev.ParticipantJoined:
    """Conference event ``participant-join``."""
    return ev.ParticipantJoined(call_sid=call_sid, conference_sid=conference_sid, at=at(t))


RULES = [
    Rule(
        "the agent's join, with no conference on record, is its start: the SID and when are recorded",
        view(CONF, started=False),
        joined(AGENT),
        check=call_is(conference_sid=CONFERENCE, conference_started_at=at(3)),
    ),
    Rule(
        "the customer's join is not: it comes while the conference waits (init) for the agent",
        view(CONF, started=False, agent=LegStatus.RINGING),
        joined(CUSTOMER),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "nor a join before any agent leg is on record",
        view(CONF, started=False, agent=None),
        joined(AGENT),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "a join never replaces the live conference on record (only a newer start does)",
        view(CONF),
        joined(AGENT, NEW_CONFERENCE, t=60),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "the agent's join of a conference that has ended, delivered late (no newer than its start)",
        no_conference(view(CONF), latest_start=3),
        joined(AGENT, t=3),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "an earlier agent's join, after the customer was given another agent, is not the start",
        requeued(latest_start=3),
        joined(AGENT, t=40),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "the new agent's join after a requeue starts the new conference, every participant afresh",
        requeued(latest_start=3),
        joined(NEW_AGENT, NEW_CONFERENCE, t=60),
        check=lambda d: (
            call_is(conference_sid=NEW_CONFERENCE, conference_started_at=at(60))(d),
            leg_is(CUSTOMER, on_hold=False, participant_sequence_number=NO_SEQUENCE)(d),
        ),
    ),
    Rule(
        "a join on a call that has ended is ignored",
        view(CONF, started=False, customer=LegStatus.COMPLETED, call_status=CallState.ENDED),
        joined(AGENT),
        effects=(Ignored,),
        unchanged=True,
    ),
    Rule(
        "Twilio's Conferences list showing it in progress records it, as of when it was asked",
        view(CONF, started=False),
        ev.ConferenceFound(conference_sid=CONFERENCE, at=at(10)),
        check=call_is(conference_sid=CONFERENCE, conference_started_at=at(10)),
    ),
    Rule(
        "... but never replaces the live conference on record",
        view(CONF),
        ev.ConferenceFound(conference_sid=NEW_CONFERENCE, at=at(60)),
        effects=(Ignored,),
        unchanged=True,
    ),
]


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_rule(rule: Rule) -> None:
    assert_rule(rule)


def test_after_the_agents_join_stood_in_for_a_lost_start_the_customer_can_be_held() -> None:
    _, hold = run(view(CONF, started=False), joined(AGENT), hold_req())
    assert hold.commands == (CONF_HOLD,)


@pytest.mark.parametrize(
    ("state", "name"),
    [
        (view(CONF, started=False, agent=LegStatus.RINGING), "room-call-1"),
        (view(CONF, started=False), "room-call-1"),
        (view(CONF), None),  # a live conference is on record
        (view(CONF, started=False, agent=None), None),  # waiting in line: in no conference
        (view(CONF, started=False, agent=LegStatus.NO_ANSWER), None),  # back in line
        (view(CONF, started=False, customer=LegStatus.COMPLETED, call_status=CallState.ENDED), None),
        (view(LEGS), None),
    ],
)
def test_the_conference_to_look_for_before_refusing_as_not_started(state: CallView, name: str | None) -> None:
    assert conference_to_find(state) == name
