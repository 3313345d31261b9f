"""The pure engine: numbering, the hall's rules and replay, without MQTT or asyncio."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from support.hall import SECRET, SHANGHAI, hall_config, sign_in

from hall.engine.engine import HallEngine, Refused
from protocol.messages import Channel, CounterStatus, ErrorCode, SignIn, TicketStatus

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
PERSON = "a" * 64
OTHER = "b" * 64


@pytest.fixture
def engine() -> HallEngine:
    """The example hall with a clerk signed in at every counter."""
    return sign_in(HallEngine(hall_config(), MONDAY.date(), SECRET))


def printed(engine: HallEngine, service: str, id_hash: str | None = None, **kw: object) -> str:
    ticket = engine.issue(MONDAY, service, id_hash, **kw)  # type: ignore[arg-type]
    engine.printed(MONDAY, ticket.ticket_id)
    return ticket.number


def test_numbers_run_per_service_and_day(engine: HallEngine) -> None:
    assert [printed(engine, s) for s in "AABA"] == ["A001", "A002", "B001", "A003"]


def test_one_open_ticket_per_person_per_service(engine: HallEngine) -> None:
    printed(engine, "A", PERSON)
    with pytest.raises(Refused) as refused:
        engine.issue(MONDAY, "A", PERSON)
    assert refused.value.code is ErrorCode.ALREADY_HOLDS
    assert printed(engine, "B", PERSON) == "B001"  # another service is fine


def test_person_may_take_again_once_served(engine: HallEngine) -> None:
    printed(engine, "A", PERSON)
    engine.call_next(MONDAY, "10")
    engine.done(MONDAY, "10")
    assert printed(engine, "A", PERSON) == "A002"


def test_quota_then_today_full(engine: HallEngine) -> None:
    quota = engine.services["C"].daily_quota
    assert quota is not None
    for _ in range(quota):
        printed(engine, "C")
    with pytest.raises(Refused) as refused:
        engine.issue(MONDAY, "C")
    assert refused.value.code is ErrorCode.QUOTA_EXHAUSTED


def test_voided_ticket_frees_quota_but_not_its_number(engine: HallEngine) -> None:
    ticket = engine.issue(MONDAY, "D")
    engine.void(MONDAY, ticket.ticket_id, "paper out")
    assert engine.queues["D"].issued == 0
    assert printed(engine, "D") == "D002"


def test_opening_hours_and_last_ticket(engine: HallEngine) -> None:
    with pytest.raises(Refused, match="from 08:30"):
        engine.issue(MONDAY.replace(hour=8), "A")
    with pytest.raises(Refused, match="last at 16:00"):
        engine.issue(MONDAY.replace(hour=16, minute=5), "A")


def test_unprinted_ticket_is_not_callable_and_expires(engine: HallEngine) -> None:
    ticket = engine.issue(MONDAY, "A")
    with pytest.raises(Refused) as refused:
        engine.call_next(MONDAY, "1")
    assert refused.value.code is ErrorCode.NOTHING_WAITING
    engine.tick(MONDAY + timedelta(seconds=61))
    assert ticket.status is TicketStatus.VOID


def test_specialist_serves_only_its_services(engine: HallEngine) -> None:
    printed(engine, "A")
    with pytest.raises(Refused):
        engine.call_next(MONDAY, "11")  # window 11 serves E only
    called = engine.call_next(MONDAY, "10")
    assert called is not None and called.number == "A001"


def test_green_channel_goes_first(engine: HallEngine) -> None:
    printed(engine, "A")
    printed(engine, "A", OTHER, green=True)
    called = engine.call_next(MONDAY + timedelta(minutes=1), "1")
    assert called is not None and called.channel is Channel.GREEN


def test_appointment_check_in_window(engine: HallEngine) -> None:
    slot = MONDAY.replace(hour=10)
    engine.book(MONDAY, PERSON, "E", slot)
    with pytest.raises(Refused) as early:
        engine.issue(MONDAY, "E", PERSON, appointment=True)
    assert early.value.code is ErrorCode.OUTSIDE_WINDOW
    ticket = engine.issue(slot - timedelta(minutes=20), "E", PERSON, appointment=True)
    assert ticket.channel is Channel.APPOINTMENT
    with pytest.raises(Refused) as no_booking:
        engine.issue(slot, "E", OTHER, appointment=True)
    assert no_booking.value.code is ErrorCode.NO_APPOINTMENT


def test_recall_limit(engine: HallEngine) -> None:
    printed(engine, "A")
    engine.call_next(MONDAY, "1")
    engine.recall(MONDAY, "1")
    engine.recall(MONDAY, "1")
    with pytest.raises(Refused) as refused:
        engine.recall(MONDAY, "1")
    assert refused.value.code is ErrorCode.LIMIT_REACHED


def test_paused_counter_calls_nobody(engine: HallEngine) -> None:
    printed(engine, "A")
    engine.set_counter_status(MONDAY, "1", CounterStatus.PAUSED)
    with pytest.raises(Refused, match="paused"):
        engine.call_next(MONDAY, "1")


def test_transfer_to_a_counter_reserves_the_ticket(engine: HallEngine) -> None:
    printed(engine, "A")
    printed(engine, "A")
    first = engine.call_next(MONDAY, "1")
    engine.transfer(MONDAY, "1", "B", "10")
    assert first is not None
    assert engine.call_next(MONDAY, "2").number == "A002"  # type: ignore[union-attr]
    assert engine.call_next(MONDAY, "10") is first


def test_replaying_the_events_rebuilds_the_same_state(engine: HallEngine) -> None:
    for service in "AABCE":
        printed(engine, service)
    engine.call_next(MONDAY, "1")
    engine.call_next(MONDAY, "11")
    engine.no_show(MONDAY, "11")
    engine.set_counter_status(MONDAY, "5", CounterStatus.PAUSED)
    engine.sign_in(MONDAY, "1", "S001")
    events = engine.take_events()
    replayed = sign_in(HallEngine(hall_config(), MONDAY.date(), SECRET))
    for event in events:
        replayed.apply(event)
    assert _shape(replayed) == _shape(engine)


def test_an_unknown_clerk_is_refused(engine: HallEngine) -> None:
    with pytest.raises(Refused) as refused:
        engine.sign_in(MONDAY, "1", "S999")
    assert refused.value.code is ErrorCode.BAD_CREDENTIALS


def _shape(engine: HallEngine) -> object:
    return (
        {t.ticket_id: (t.status, t.counter, t.token) for t in engine.tickets.values()},
        {d.counter_id: (d.status, d.clerk, d.ticket and d.ticket.ticket_id)
         for d in engine.desks.values()},
        engine.call_seq,
    )


def test_sign_in_takes_a_pin_or_a_card_but_not_both() -> None:
    SignIn(id="abcdefgh", staff_no="S001", pin="1234")
    SignIn(id="abcdefgh", card="0004123456")
    for bad in ({"staff_no": "S001"}, {"card": "0004123456", "pin": "1234"}, {}):
        with pytest.raises(ValueError, match="staff_no and pin, or card alone"):
            SignIn(id="abcdefgh", **bad)
