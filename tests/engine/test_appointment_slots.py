"""Appointment slots: each service's capacity per slot, the slot boundaries, the slots of
today and the status of today's bookings as time passes (a virtual clock)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from support.hall import SECRET, SHANGHAI, hall_config, sign_in

from hall.engine.appointments import AppointmentStatus, slot_loads, todays_bookings
from hall.engine.engine import HallEngine, Refused
from hall.engine.events import Kind
from hallconfig import HallConfig
from protocol.messages import ErrorCode

MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=SHANGHAI)
TEN = MONDAY.replace(hour=10)
# service -> (slot minutes, capacity); G keeps no limit
SLOTS = {"A": (30, 4), "B": (15, 2), "C": (30, 4), "D": (60, 1), "E": (20, 3), "F": (10, 5)}


def config(**rules: Any) -> HallConfig:
    raw = hall_config().model_dump()
    for service in raw["services"]:
        if service["id"] in SLOTS:
            service["appointment_slot_min"], service["appointment_capacity"] = \
                SLOTS[service["id"]]
    raw["rules"].update(rules)
    return HallConfig.model_validate(raw)


def person(n: int | str) -> str:
    return hashlib.sha256(f"resident {n}".encode()).hexdigest()


@pytest.fixture
def engine() -> HallEngine:
    return sign_in(HallEngine(config(), MONDAY.date(), SECRET))


def refused(engine: HallEngine, who: str, service: str, slot: datetime) -> ErrorCode:
    with pytest.raises(Refused) as refusal:
        engine.book(MONDAY, who, service, slot)
    return refusal.value.code


@pytest.mark.parametrize("service", sorted(SLOTS))
def test_a_slot_takes_its_capacity_anywhere_in_it_and_refuses_one_more(
        engine: HallEngine, service: str) -> None:
    minutes, capacity = SLOTS[service]
    length = timedelta(minutes=minutes)
    # the slot's first second, then moments through it up to its last second
    moments = [TEN + length * i / capacity for i in range(capacity - 1)]
    moments.append(TEN + length - timedelta(seconds=1))
    for n, moment in enumerate(moments):
        engine.book(MONDAY, person(n), service, moment)
    for moment in (TEN, TEN + length - timedelta(seconds=1)):
        assert refused(engine, person("late"), service, moment) is ErrorCode.SLOT_FULL
    engine.book(MONDAY, person("before"), service, TEN - timedelta(seconds=1))
    engine.book(MONDAY, person("after"), service, TEN + length)
    loads = {load.start: load for load in slot_loads(engine, service)}
    assert loads[TEN.timestamp()].booked == capacity
    assert loads[TEN.timestamp()].free == 0
    assert loads[(TEN + length).timestamp()].booked == 1
    assert loads[(TEN - length).timestamp()].booked == 1


def test_a_service_without_a_capacity_takes_any_number(engine: HallEngine) -> None:
    for n in range(40):
        engine.book(MONDAY, person(n), "G", TEN)
    assert {load.free for load in slot_loads(engine, "G")} == {None}
    assert next(x for x in slot_loads(engine, "G") if x.start == TEN.timestamp()).booked == 40


def test_a_rebooking_replaces_the_persons_own_place(engine: HallEngine) -> None:
    for n in range(4):
        engine.book(MONDAY, person(n), "C", TEN)
    engine.book(MONDAY, person(0), "C", TEN + timedelta(minutes=10))  # the same full slot
    engine.book(MONDAY, person(1), "C", TEN + timedelta(minutes=30))  # moves out: a place
    engine.book(MONDAY, person(9), "C", TEN)
    assert refused(engine, person(10), "C", TEN) is ErrorCode.SLOT_FULL


def test_later_days_count_their_own_bookings_and_fold_back(engine: HallEngine) -> None:
    tuesday = TEN + timedelta(days=1)
    for n in range(4):
        engine.book(MONDAY, person(n), "A", tuesday)
    assert refused(engine, person(5), "A", tuesday) is ErrorCode.SLOT_FULL
    engine.book(MONDAY, person(5), "A", TEN)  # today's slot is another slot
    replayed = HallEngine(engine.config, engine.day, SECRET)
    for event in engine.take_events():
        replayed.apply(event)
    assert refused(replayed, person(6), "A", tuesday) is ErrorCode.SLOT_FULL
    assert slot_loads(replayed, "A") == slot_loads(engine, "A")


def test_a_journal_over_todays_capacity_still_folds(engine: HallEngine) -> None:
    """A slot booked under an older config (no limit) keeps every booking: the fold is total."""
    unlimited = HallEngine(hall_config(), MONDAY.date(), SECRET)
    for n in range(6):
        unlimited.book(MONDAY, person(n), "C", TEN)
    for event in unlimited.take_events():
        assert event.kind is Kind.APPOINTMENT_BOOKED
        engine.apply(event)
    load = next(x for x in slot_loads(engine, "C") if x.start == TEN.timestamp())
    assert (load.booked, load.free) == (6, 0)
    assert refused(engine, person(7), "C", TEN) is ErrorCode.SLOT_FULL


def test_todays_slots_run_from_opening_to_the_last_ticket(engine: HallEngine) -> None:
    """Monday 08:30 to 16:00 (the last ticket): slots counted from midnight, so a 20-minute
    service's first slot is the 08:20 one that holds the opening."""
    def starts(service: str) -> list[str]:
        return [f"{engine.local(x.start):%H:%M}" for x in slot_loads(engine, service)]
    assert starts("A") == [f"{h:02d}:{m:02d}" for h in range(8, 16) for m in (0, 30)][1:]
    assert starts("E")[:3] == ["08:20", "08:40", "09:00"]
    assert starts("E")[-1] == "15:40"
    assert starts("D") == [f"{h:02d}:00" for h in range(8, 16)]
    sunday = HallEngine(engine.config, MONDAY.date() + timedelta(days=6), SECRET)
    assert [f"{sunday.local(x.start):%H:%M}" for x in slot_loads(sunday, "D")] \
        == ["08:00", "09:00", "10:00", "11:00"]


@pytest.mark.parametrize("late_min", [0, 15, 45])
def test_a_booking_is_booked_then_late_then_missed(late_min: int) -> None:
    engine = sign_in(HallEngine(config(appointment_late_min=late_min), MONDAY.date(), SECRET))
    engine.book(MONDAY, person(1), "C", TEN)
    late = TEN + timedelta(minutes=late_min)
    second = timedelta(seconds=1)

    def status(at: datetime) -> AppointmentStatus:
        [row] = todays_bookings(engine, at.timestamp())
        return row.status
    assert status(MONDAY) is AppointmentStatus.BOOKED
    assert status(TEN) is AppointmentStatus.BOOKED
    if late_min:
        assert status(TEN + second) is AppointmentStatus.LATE
        assert status(late) is AppointmentStatus.LATE
    assert status(late + second) is AppointmentStatus.MISSED
    assert status(late + timedelta(hours=5)) is AppointmentStatus.MISSED


def test_a_check_in_shows_its_ticket_and_a_voided_print_undoes_it(engine: HallEngine) -> None:
    engine.book(MONDAY, person(1), "C", TEN)
    engine.book(MONDAY, person(2), "A", TEN)
    at = TEN - timedelta(minutes=20)
    ticket = engine.issue(at, "C", person(1), appointment=True)
    rows = todays_bookings(engine, (TEN + timedelta(hours=2)).timestamp())
    assert [(r.service, r.status, r.ticket) for r in rows] == [
        ("A", AppointmentStatus.MISSED, None),
        ("C", AppointmentStatus.CHECKED_IN, ticket.ticket_id)]
    engine.void(at, ticket.ticket_id, "paper jam")
    rows = todays_bookings(engine, (TEN + timedelta(minutes=5)).timestamp())
    assert [(r.service, r.status, r.ticket) for r in rows] == [
        ("A", AppointmentStatus.LATE, None), ("C", AppointmentStatus.LATE, None)]
    assert not any(hasattr(r, "id_hash") for r in rows)


@pytest.mark.parametrize(("field", "value", "says"), [
    ("appointment_slot_min", 25, "does not divide a day"),
    ("appointment_slot_min", 4, "greater than or equal to 5"),
    ("appointment_slot_min", 300, "less than or equal to 240"),
    ("appointment_capacity", 0, "greater than or equal to 1"),
])
def test_a_bad_slot_setting_is_named(field: str, value: int, says: str) -> None:
    raw = hall_config().model_dump()
    raw["services"][2][field] = value
    with pytest.raises(ValidationError) as error:
        HallConfig.model_validate(raw)
    text = str(error.value)
    assert f"services.2.{field}" in text and says in text
