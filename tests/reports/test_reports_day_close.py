"""Reports over a day that closed with residents still waiting: every ticket is accounted
for, the not served count, and their waits run to the close (the day's worst waits)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from support.dayplay import Day, without_services
from support.hall import SHANGHAI, hall_config, weekday_morning
from support.history_days import summed_up, tickets_csv
from support.report_reference import p90, replay

from hall.engine.events import DayEnded, Event, Kind, TicketClosed, TicketEvent
from hall.reports import Names
from hallconfig import HallConfig
from protocol.messages import CounterStatus

MONDAY = weekday_morning().now()
DAY = MONDAY.date().isoformat()


def names(config: HallConfig) -> Names:
    return Names({s.id: s.name for s in config.services},
                 {c.id: c.name for c in config.counters},
                 {c.staff_no: c.name for c in config.clerks})


def closed_day(seed: int) -> Day:
    """A random busy day whose counters stop at closing; the day then closes itself."""
    config = hall_config()
    day = Day(config, MONDAY, seed)
    assert day.engine.close_at is not None
    day.until(day.engine.close_at)
    for counter in day.engine.desks:
        day.act("set_counter_status", counter, CounterStatus.CLOSED)
    while not day.engine.ended:
        assert day.now < day.engine.close_at + 6 * 3600, "the day never closed"
        day.now += 60
        day.act("tick")
    return day


def journal(day: Day) -> list[tuple[str, Event]]:
    return [(DAY, e) for e in day.events]


def first_calls_and_closes(events: list[Event]) -> dict[str, float]:
    """Each counted ticket's end of waiting, straight from the journal: its first call, or
    the moment it was closed not served."""
    issued: dict[str, float] = {}
    ends: dict[str, float] = {}
    for e in events:
        if not isinstance(e.data, TicketEvent):
            continue
        ticket = e.data.ticket
        if e.kind is Kind.TICKET_ISSUED:
            issued[ticket] = e.at
        elif e.kind is Kind.TICKET_CALLED or (
                isinstance(e.data, TicketClosed) and e.data.reason == "not_served"):
            ends.setdefault(ticket, e.at)
    return {t: ends[t] - issued[t] for t in ends}


@pytest.mark.parametrize("seed", range(3))
def test_a_closed_day_accounts_for_every_ticket_and_its_longest_waits(seed: int) -> None:
    day = closed_day(seed)
    config = day.engine.config
    report = summed_up(MONDAY.date(), MONDAY.date(), journal(day), names(config), SHANGHAI)
    visits = replay(journal(day))
    rows = report.tables["services"].rows
    issued = sum(r["issued"] for r in rows)
    accounted = sum(r["served"] + r["no_show"] + r["cancelled"] + r["not_served"] for r in rows)
    assert issued == accounted  # nothing left open, nothing unaccounted for
    not_served = [e for e in day.events if isinstance(e.data, TicketClosed)
                  and e.data.reason == "not_served"]
    assert sum(r["not_served"] for r in rows) == len(not_served) > 0
    assert sum(r["not_served"] for r in report.tables["hours"].rows) == len(not_served)
    waits = first_calls_and_closes(day.events)
    voided = {v.ticket for v in visits if not v.counted}
    counted = [w for t, w in waits.items() if t not in voided]
    longest = max(rows, key=lambda r: r["wait_max_min"] or 0)
    assert longest["wait_max_min"] == round(max(counted) / 60, 1)
    for row in rows:  # each service's p90 over its issued tickets, the never called too
        mine = [w for t, w in waits.items() if t not in voided
                and t.split("-")[1][0] == row["service"]]
        expected = p90(mine)
        assert row["wait_p90_min"] == (None if expected is None else round(expected / 60, 1))
    closed_at = not_served[0].at
    never_called = [v for v in visits if v.status == "not_served" and not v.legs]
    assert never_called and all(v.wait_s == closed_at - v.issued_at for v in never_called)
    assert max(v.wait_s or 0 for v in visits) == max(counted)
    tickets = list(csv.DictReader(io.StringIO(tickets_csv(journal(day), SHANGHAI))))
    assert sum(1 for r in tickets if r["status"] == "not_served") == len(not_served)


def test_a_ticket_never_called_waits_until_the_close_in_every_table() -> None:
    config = hall_config()
    day = Day(config, MONDAY, 0)
    day.now = MONDAY.timestamp()
    day.act("set_counter_status", "1", CounterStatus.OPEN)
    day.act("sign_in", "1", "S001")
    first = day.act("issue", "A", pending_print=False)  # 09:00
    day.now += 600
    second = day.act("issue", "A", pending_print=False)  # 09:10, never called
    day.now += 240
    day.act("call_next", "1")  # 09:14: the first waited 14 minutes
    day.now += 600
    day.act("done", "1")
    day.now = (MONDAY + timedelta(hours=2)).timestamp()  # 11:00: the manager ends the day
    day.act("end_day")
    tables = summed_up(MONDAY.date(), MONDAY.date(), journal(day), names(config),
                          SHANGHAI).tables
    a = next(r for r in tables["services"].rows if r["service"] == "A")
    assert (a["issued"], a["served"], a["not_served"], a["cancelled"]) == (2, 1, 1, 0)
    assert (a["wait_mean_min"], a["wait_max_min"]) == ((14 + 110) / 2, 110.0)
    hour = next(r for r in tables["hours"].rows if r["hour"] == "09:00")
    assert (hour["issued"], hour["not_served"], hour["wait_max_min"]) == (2, 1, 110.0)
    counter = next(r for r in tables["counters"].rows if r["id"] == "1")
    assert counter["wait_max_min"] == 14.0  # a counter is judged by whom it called
    tickets = csv.DictReader(io.StringIO(tickets_csv(journal(day), SHANGHAI)))
    row = next(r for r in tickets if r["number"] == second.number)
    assert (row["status"], row["called"], row["finished"], row["wait_min"]) == (
        "not_served", "", "11:00:00", "110.0")
    assert first.number == "A001"


def test_a_journal_of_old_counts_its_open_tickets_as_not_served() -> None:
    """Journals written before tickets were closed one by one: DAY_ENDED alone closes them."""
    config = hall_config()
    day = Day(config, MONDAY, 2)
    day.until(day.now + 3 * 3600)
    waiting = [t for t in day.engine.tickets.values() if t.is_open]
    assert waiting
    old = [*journal(day), (DAY, Event.of(day.now + 60, DayEnded()))]
    visits = {v.ticket: v for v in replay(old)}
    for t in waiting:
        visit = visits[t.ticket_id]
        if t.status.value == "pending_print":
            assert visit.status == "void"
        else:
            assert visit.status == "not_served" and visit.finished_at == day.now + 60


def test_a_removed_service_keeps_its_row_and_counts_in_the_totals() -> None:
    config = hall_config()
    day = closed_day(4)
    e_issued = sum(1 for v in replay(journal(day)) if v.service == "E" and v.counted)
    assert e_issued
    smaller = without_services(config, "E")
    rows = summed_up(MONDAY.date(), MONDAY.date(), journal(day), names(smaller),
                        SHANGHAI).tables["services"].rows
    e = next(r for r in rows if r["service"] == "E")
    assert (e["name"], e["issued"]) == ("E", e_issued)
    full = summed_up(MONDAY.date(), MONDAY.date(), journal(day), names(config),
                        SHANGHAI).tables["services"].rows
    assert sum(r["issued"] for r in rows) == sum(r["issued"] for r in full)
    assert [r["service"] for r in rows] == [*[s.id for s in smaller.services], "E"]
