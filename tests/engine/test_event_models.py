"""Every journal event kind has its model; every event the engine emits matches it and
comes back from its JSON unchanged; the shapes of old journals still read; a stored event
of the wrong shape is refused naming its sequence number and kind."""

from __future__ import annotations

import json

import pytest
from support.dayplay import Day, replayed, state_of
from support.hall import hall_config, weekday_morning

from hall.engine.events import (
    MODELS,
    CounterStatusSet,
    DayEnded,
    Event,
    EventData,
    EventInvalid,
    Kind,
    TicketClosed,
    TicketIssued,
    event_from_row,
    to_json,
)
from hall.engine.fold import APPLY
from protocol.messages import AlertKind, Channel, CounterStatus, PauseReason


def test_every_kind_has_a_model_and_a_fold() -> None:
    assert set(MODELS) == set(Kind)
    assert all(model.kind is kind for kind, model in MODELS.items())
    assert set(APPLY) == set(Kind)


def extras(day: Day) -> None:
    """What the random day may not reach: pauses with every reason, a kiosk's ticket, help,
    a follow-up, a booking for a later day, and the manager ending the day."""
    day.act("sign_in", "1", "S001")
    for reason in PauseReason:
        day.act("set_counter_status", "1", CounterStatus.PAUSED, reason)
    day.act("set_counter_status", "1", CounterStatus.OPEN)
    day.act("set_intake", "A", True)
    day.act("issue", "A", kiosk="kiosk-1")
    day.act("request_help", "kiosk-1")
    day.act("follow_up", AlertKind.HELP_REQUESTED, "kiosk-1", "")
    day.act("book", "f" * 16, "A", day.engine.local(day.now + 86_400 * 7))
    day.act("end_day")


@pytest.mark.parametrize("seed", range(3))
def test_every_event_of_a_day_matches_its_model_and_round_trips(seed: int) -> None:
    config = hall_config()
    day = Day(config, weekday_morning().now(), seed)
    day.until(day.now + 6 * 3600)
    extras(day)
    assert {e.kind for e in day.events} == set(Kind)  # the range, not a sample
    stored = []
    for seq, event in enumerate(day.events, 1):
        assert type(event.data) is MODELS[event.kind]
        text = to_json(event.data)
        back = event_from_row(seq, event.kind.value, event.at, text)
        assert back == event, text
        stored.append(back)
    assert state_of(replayed(config, day.engine, stored)) == state_of(day.engine)


def test_what_the_fold_ignores_is_kept_and_changes_nothing() -> None:
    """``by`` (the staff member a manager's device acted for) is stored and ignored."""
    config = hall_config()
    day = Day(config, weekday_morning().now(), 4)
    day.until(day.now + 2 * 3600)
    signed = [e._replace(data=e.data.model_copy(update={"by": "M001"})) for e in day.events]
    back = [event_from_row(n, e.kind.value, e.at, to_json(e.data)) for n, e in
            enumerate(signed, 1)]
    assert all(e.data.by == "M001" for e in back)
    assert state_of(replayed(config, day.engine, back)) == state_of(day.engine)


@pytest.mark.parametrize(("kind", "old", "expected"), [
    (Kind.DAY_ENDED, {}, DayEnded(auto=False)),
    (Kind.COUNTER_STATUS, {"counter": "3", "status": "paused"},
     CounterStatusSet(counter="3", status=CounterStatus.PAUSED, reason=None)),
    (Kind.COUNTER_STATUS, {"counter": "3", "status": "paused", "reason": None},
     CounterStatusSet(counter="3", status=CounterStatus.PAUSED)),
    (Kind.TICKET_ISSUED, {"ticket": "20261203-A001", "service": "A", "channel": "green",
                          "id_hash": None, "slot": None, "pending": True},
     TicketIssued(ticket="20261203-A001", service="A", channel=Channel.GREEN, id_hash=None,
                  slot=None, pending=True)),
    (Kind.TICKET_CLOSED, {"ticket": "20261203-A001"},
     TicketClosed(ticket="20261203-A001", reason="not_served")),
])
def test_the_shapes_of_old_journals_read(kind: Kind, old: dict[str, object],
                                         expected: EventData) -> None:
    assert event_from_row(1, kind.value, 5.0, json.dumps(old)) == Event(kind, 5.0, expected)


def test_a_booking_without_its_day_counts_on_the_slots_day() -> None:
    """Bookings of old carry no ``slot_day``: the fold takes the slot's local day."""
    config = hall_config()
    day = Day(config, weekday_morning().now(), 0)
    later = day.now + 86_400 * 2
    day.act("book", "a" * 16, "A", day.engine.local(later))
    old = {"id_hash": "b" * 16, "service": "A", "slot": later}
    event = event_from_row(1, Kind.APPOINTMENT_BOOKED.value, day.now, json.dumps(old))
    day.engine.apply(event)
    slot_day = day.engine.local(later).date().isoformat()
    assert set(day.engine.later_appointments[slot_day]) == {"a" * 16, "b" * 16}


@pytest.mark.parametrize(("kind", "data", "field"), [
    (Kind.RATED, {"ticket": "T", "counter": "3", "clerk": None, "rating": "4"}, "rating"),
    (Kind.RATED, {"ticket": "T", "counter": "3", "clerk": None, "rating": 4.0}, "rating"),
    (Kind.TICKET_ISSUED, {"ticket": "T", "service": "A", "channel": "vip", "id_hash": None,
                          "slot": None, "pending": False}, "channel"),
    (Kind.TICKET_ISSUED, {"ticket": "T", "service": "A", "channel": "normal", "id_hash": None,
                          "slot": None, "pending": 1}, "pending"),
    (Kind.TICKET_CALLED, {"ticket": "T"}, "counter"),
    (Kind.TICKET_CALLED, {"ticket": "T", "counter": 3}, "counter"),
    (Kind.TICKET_DONE, {"ticket": "T", "counter": "3"}, "counter"),  # no such field
    (Kind.COUNTER_STATUS, {"counter": "3", "status": "paused", "reason": "nap"}, "reason"),
    (Kind.ALERT_FOLLOWED_UP, {"alert": "nothing", "subject": "x", "note": ""}, "alert"),
    (Kind.TICKET_CLOSED, {"ticket": "T", "reason": "lost"}, "reason"),
    (Kind.NOTICE_SET, {"text": "x", "by": 7}, "by"),
    (Kind.DAY_ENDED, [], "data"),
])
def test_an_event_of_the_wrong_shape_is_refused_naming_it(kind: Kind, data: object,
                                                          field: str) -> None:
    with pytest.raises(EventInvalid) as refused:
        event_from_row(4711, kind.value, 1.0, json.dumps(data))
    said = str(refused.value)
    assert f"journal event 4711 ({kind.value})" in said and field in said, said


def test_an_event_of_no_known_kind_is_refused_naming_it() -> None:
    with pytest.raises(EventInvalid, match=r"journal event 12 is of unknown kind 'ticket_eaten'"):
        event_from_row(12, "ticket_eaten", 1.0, "{}")
    with pytest.raises(EventInvalid, match=r"journal event 13 \(day_ended\)"):
        event_from_row(13, "day_ended", 1.0, "not json")
