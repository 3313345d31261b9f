"""The day closes by itself: after closing time every ticket still open is closed with its
reason, journaled one by one, and a replay of the journal gives the same hall."""

from __future__ import annotations

from collections import Counter

import pytest
from support.dayplay import SECRET, Day, edited, replayed, state_of
from support.hall import hall_config, weekday_morning

from hall.engine.engine import HallEngine, Refused
from hall.engine.events import NOT_CONFIRMED, NOT_SERVED, DayEnded, Event, Kind, TicketClosed
from hallconfig import HallConfig
from protocol.messages import CounterStatus, ErrorCode, TicketStatus

OPEN_STATUSES = {TicketStatus.PENDING_PRINT, TicketStatus.WAITING, TicketStatus.CALLED,
                 TicketStatus.SERVING}


def busy_day(config: HallConfig, seed: int, until: float) -> Day:
    """A random day up to ``until`` with more residents than the counters can serve."""
    day = Day(config, weekday_morning().now(), seed)
    day.until(until)
    return day


def leave_every_status(day: Day) -> dict[str, str]:
    """Tickets in every open status at three staffed counters (1: called, 2: serving, 3:
    transferred to counter 11, so reserved for it), plus some waiting and one pending print
    when intake is still open. Returns ticket id -> what it was left as."""
    e = day.engine
    for service in e.queues:
        day.act("set_intake", service, True)
    for counter, clerk in (("1", "S001"), ("2", "S002"), ("3", "S003")):
        day.act("set_counter_status", counter, CounterStatus.OPEN)
        day.act("set_counter_services", counter, ["*"])
        day.act("sign_in", counter, clerk)
        if e.desks[counter].ticket is not None:
            day.act("done", counter)
    for service in ("A", "E", "E", "B"):
        day.act("issue", service, pending_print=False)
    left: dict[str, str] = {}
    for counter in ("1", "2", "3"):
        ticket = day.act("call_next", counter)
        assert ticket is not None
        left[ticket.ticket_id] = counter
    day.act("start", "2")
    day.act("set_counter_services", "11", ["E"])
    day.act("transfer", "3", "E", "11")
    for t in e.tickets.values():
        if t.status is TicketStatus.WAITING and t.ticket_id not in left:
            left[t.ticket_id] = "waiting"
    pending = day.act("issue", "A", pending_print=True)
    if pending is not None:
        left[pending.ticket_id] = "pending"
    statuses = {t.status for t in e.tickets.values() if t.ticket_id in left}
    assert statuses >= {TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING}
    assert any(t.reserved_for == "11" for t in e.tickets.values())
    return left


def finish_all(day: Day) -> None:
    """Every counter holding a ticket finishes it."""
    for counter, desk in day.engine.desks.items():
        if desk.ticket is not None:
            day.act("done", counter)
    assert not any(d.ticket for d in day.engine.desks.values())


def tick_until_closed(day: Day, step_s: float = 30.0, limit_h: float = 6.0) -> list[Event]:
    """Tick like the controller (each step) until the day ends; the closing tick's events."""
    end = day.now + limit_h * 3600
    while day.now < end:
        day.now += step_s
        before = len(day.events)
        day.act("tick")
        if day.engine.ended:
            return day.events[before:]
    raise AssertionError("the day never closed")


def closed_reasons(events: list[Event]) -> dict[str, str]:
    return {e.data.ticket: e.data.reason for e in events if isinstance(e.data, TicketClosed)}


@pytest.mark.parametrize("seed", range(4))
def test_a_busy_day_left_open_at_closing_closes_itself_at_the_grace_limit(seed: int) -> None:
    config = hall_config()
    day = busy_day(config, seed, until=day_at(config, "15:50"))
    day.now = day_at(config, "15:55")
    left = leave_every_status(day)
    day.now = day_at(config, "16:30")
    day.act("tick")  # the pending print is void by now: unconfirmed for over 60 s
    pending = [t for t, what in left.items() if what == "pending"]
    assert len(pending) == 1 and day.engine.tickets[pending[0]].status is TicketStatus.VOID
    still_open = {t.ticket_id: t.status for t in day.engine.tickets.values() if t.is_open}
    assert set(still_open) >= {t for t, what in left.items() if what != "pending"}
    assert day.engine.closes_at() == day.engine.close_at + 120 * 60  # counters hold tickets
    closing = tick_until_closed(day)
    assert closing[-1].kind is Kind.DAY_ENDED and closing[-1].data == DayEnded(auto=True)
    assert closing[-1].at == day_at(config, "18:30")  # as due, whatever the tick's jitter
    assert closed_reasons(closing) == dict.fromkeys(still_open, NOT_SERVED)
    assert Counter(still_open.values())[TicketStatus.SERVING] >= 1
    e = day.engine
    assert not [t for t in e.tickets.values() if t.is_open]
    assert all(t.status is TicketStatus.CANCELLED and t.finished_at == closing[-1].at
               for t in e.tickets.values() if t.ticket_id in still_open)
    assert all(d.ticket is None and d.status is CounterStatus.CLOSED for d in e.desks.values())
    assert not any(e.reserved_lanes.values()) and not any(q.size for q in e.queues.values())
    again = replayed(config, e, day.events)
    assert state_of(again) == state_of(e)
    day.now += 3600
    day.act("tick")
    day.act("end_day")
    assert day.events[-1] is closing[-1]  # nothing more to close


def test_idle_counters_close_the_day_after_the_idle_time_with_residents_still_waiting() -> None:
    config = edited(hall_config(), rules={"close_idle_min": 20, "close_grace_min": 240})
    day = busy_day(config, 7, until=day_at(config, "15:50"))
    e = day.engine
    finish_all(day)
    day.now = day_at(config, "16:39")
    day.act("set_counter_status", "5", CounterStatus.OPEN)
    day.now = day_at(config, "16:40")
    day.act("set_counter_status", "5", CounterStatus.CLOSED)  # the last clerk leaves at 16:40
    waiting = [t.ticket_id for t in e.tickets.values() if t.status is TicketStatus.WAITING]
    assert waiting, "the busy day should leave residents waiting"
    assert e.closes_at() == day_at(config, "17:00")
    day.now = day_at(config, "16:59:59")
    day.act("tick")
    assert not e.ended
    closing = tick_until_closed(day, step_s=1.0)
    assert closing[-1].at == day_at(config, "17:00")
    assert closed_reasons(closing) == dict.fromkeys(waiting, NOT_SERVED)


def test_a_tick_long_after_the_close_closes_the_day_as_at_its_due_moment() -> None:
    """The controller was down at the close: a restart at 23:00 replays the journal and its
    first tick closes the day as at 17:00 (last service 16:30, 30 minutes idle), so the
    waits of the not served end there, not when the hall came back."""
    config = hall_config()
    day = busy_day(config, 9, until=day_at(config, "16:25"))
    day.now = day_at(config, "16:30")
    finish_all(day)
    hall = replayed(config, day.engine, day.events)
    assert hall.closes_at() == day_at(config, "17:00")
    waiting = {t.ticket_id for t in hall.tickets.values() if t.is_open}
    assert waiting
    hall.tick(day_at(config, "23:00"))
    events = hall.take_events()
    assert {e.at for e in events} == {day_at(config, "17:00")}
    assert closed_reasons(events) == dict.fromkeys(waiting, NOT_SERVED) and hall.ended


def test_a_counter_calling_after_closing_keeps_the_day_open_until_it_stops() -> None:
    config = hall_config()
    day = busy_day(config, 3, until=day_at(config, "15:50"))
    e = day.engine
    day.now = day_at(config, "16:20")
    finish_all(day)
    day.act("set_counter_status", "1", CounterStatus.OPEN)
    day.act("set_counter_services", "1", ["*"])
    day.act("sign_in", "1", "S001")
    for minute in range(0, 50, 5):  # counter 1 calls the next resident every 5 minutes
        day.now = day_at(config, "16:20") + minute * 60
        day.act("call_next", "1")
        day.act("tick")
    assert not e.ended and e.desks["1"].ticket is not None  # 17:05: still serving
    day.act("done", "1")
    assert e.desks["1"].ticket is None
    assert e.closes_at() == pytest.approx(day.now + 30 * 60)


def test_end_day_pressed_early_closes_every_status_with_its_reason() -> None:
    config = hall_config()
    day = busy_day(config, 11, until=day_at(config, "10:50"))
    day.now = day_at(config, "10:55")
    left = leave_every_status(day)
    pending = [t for t, what in left.items() if what == "pending"]
    assert pending
    e = day.engine
    issued_before = {s: q.issued for s, q in e.queues.items()}
    still_open = [t.ticket_id for t in e.tickets.values() if t.is_open]
    day.now = day_at(config, "11:00")
    start = len(day.events)
    day.act("end_day")
    closing = day.events[start:]
    assert closing[-1] == Event.of(day.now, DayEnded(auto=False))
    reasons = closed_reasons(closing)
    assert reasons == {t: NOT_CONFIRMED if t in pending else NOT_SERVED for t in still_open}
    assert all(e.tickets[t].status is TicketStatus.VOID for t in pending)
    assert e.queues["A"].issued == issued_before["A"] - len(pending)
    assert not [t for t in e.tickets.values() if t.is_open]
    with pytest.raises(Refused) as refused:
        e.issue(day.now, "A")
    assert refused.value.code is ErrorCode.CLOSED
    assert state_of(replayed(config, e, day.events)) == state_of(e)
    day.act("end_day")
    assert len(day.events) == start + len(closing)


def test_a_journal_of_old_ends_its_open_tickets_with_the_day() -> None:
    """Before tickets were closed one by one, DAY_ENDED alone ended them: still replays."""
    config = hall_config()
    day = busy_day(config, 5, until=day_at(config, "11:00"))
    day.act("issue", "A", pending_print=True)
    open_ids = {t.ticket_id: t.status for t in day.engine.tickets.values() if t.is_open}
    old = [*day.events, Event.of(day.now + 1, DayEnded())]
    engine = replayed(config, day.engine, old)
    assert engine.ended and not [t for t in engine.tickets.values() if t.is_open]
    for ticket, status in open_ids.items():
        expected = TicketStatus.VOID if status is TicketStatus.PENDING_PRINT \
            else TicketStatus.CANCELLED
        assert engine.tickets[ticket].status is expected


def test_a_day_the_hall_does_not_open_never_closes_itself() -> None:
    config = edited(hall_config(), hours={"monday": []})
    e = HallEngine(config, weekday_morning().now().date(), SECRET)
    assert e.closes_at() is None
    e.tick(day_at(config, "23:59"))
    assert e.take_events() == []


def day_at(config: HallConfig, hhmm: str) -> float:
    """Epoch seconds of a local time on the test day (Monday 23 November 2026)."""
    moment = weekday_morning().now()
    parts = [int(p) for p in hhmm.split(":")]
    return moment.replace(hour=parts[0], minute=parts[1],
                          second=parts[2] if len(parts) > 2 else 0).timestamp()
