"""A journal of several business days for the report tests, played by the hall's own engine
(random commands of every kind: support/dayplay.py) and written by the controller's own
journal: each day runs to its close (counters closed at closing time, the rest not served),
but the last, which is left open as the writer's current day."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from hall.engine.engine import HallEngine
from hall.engine.events import Event, event_from_row
from hall.journal import Journal
from hall.journal_reader import JournalReader
from hall.report_days import Span, summarize
from hall.reports import TICKET_COLUMNS, Names, Report, csv_text, report_of, ticket_rows
from hall.visits import DayFold
from hallconfig import HallConfig
from protocol.messages import CounterStatus
from support import report_reference as reference
from support.dayplay import Day
from support.hall import SECRET, SHANGHAI
from web.reports_page import names_of


@dataclass(frozen=True)
class Days:
    journal: Path
    first: date
    last: date  # the writer's current day, still open
    days: list[date]  # the days the hall opened


def play(config: HallConfig, day: date, seed: int, close: bool,
         step_s: float = 20.0) -> list[Event] | None:
    """A random day to its close (or to mid-afternoon); None if the hall is shut that day."""
    if HallEngine(config, day, SECRET).open_at is None:
        return None
    played = Day(config, datetime.combine(day, time(9), HallEngine(config, day, SECRET).tz), seed)
    close_at = played.engine.close_at
    assert close_at is not None
    if not close:
        played.until(close_at - 2 * 3600, step_s)
        return played.events
    played.until(close_at, step_s)
    for counter in played.engine.desks:
        played.act("set_counter_status", counter, CounterStatus.CLOSED)
    while not played.engine.ended:
        played.now += 60
        played.act("tick")
    return played.events


async def write_history(path: Path, config: HallConfig, first: date, count: int,
                        seed: int = 0, step_s: float = 20.0) -> Days:
    """``count`` calendar days from ``first`` into a new journal at ``path``."""
    journal = await Journal.open(path, durable=False)
    opened = []
    try:
        for n in range(count):
            day = first + timedelta(days=n)
            events = play(config, day, seed + n, close=n < count - 1, step_s=step_s)
            if events:
                await journal.commit(day, events[-1].at, events)
                opened.append(day)
    finally:
        await journal.close()
    return Days(path, first, first + timedelta(days=count - 1), opened)


def names(config: HallConfig) -> Names:
    """The report's names and targets as the web app takes them from the config."""
    return names_of(SimpleNamespace(config=config))  # type: ignore[arg-type]


def folds(events: Iterable[tuple[str, Event]]) -> list[DayFold]:
    """The (day, event) pairs folded day by day, in order of the days."""
    days: dict[str, DayFold] = {}
    for day, event in events:
        days.setdefault(day, DayFold(day)).apply(event)
    return [days[d] for d in sorted(days)]


def summed_up(first: date, last: date, events: Iterable[tuple[str, Event]],
              report_names: Names, tz: ZoneInfo) -> Report:
    """The report of events held in memory, as History makes a live day's: each day summed
    up, the summaries merged."""
    span = Span()
    for fold in folds(events):
        span.add(*summarize(fold, tz))
    return report_of(first, last, span, report_names)


def tickets_csv(events: Iterable[tuple[str, Event]], tz: ZoneInfo) -> str:
    """The tickets CSV of events held in memory, as History streams it."""
    return csv_text(TICKET_COLUMNS, (row for fold in folds(events)
                                     for row in ticket_rows(fold.visits.values(), tz)))


def replayed(reader: JournalReader, first: date, last: date,
             report_names: Names) -> reference.Report:
    """The old path: every event of the range, replayed in memory."""
    rows = reader.fetch("SELECT day, seq, kind, at, data FROM events WHERE day BETWEEN ? AND ? "
                        "ORDER BY seq", (first.isoformat(), last.isoformat()))
    events = [(day, event_from_row(*row)) for day, *row in rows]
    return reference.build_report(first, last, events, report_names, SHANGHAI)


def assert_same(new: Report, old: reference.Report) -> None:
    """The same tables, every cell exactly; the old tickets table is streamed now, and the
    pauses table is new (tests/reports/test_report_pauses.py checks it with a replay)."""
    for name, table in new.tables.items():
        if name == "pauses":
            continue
        before = old.tables[name]
        assert (table.name, table.title, table.columns) == (
            before.name, before.title, before.columns)
        assert table.rows == before.rows, name
    assert {*old.tables, "pauses"} == {*new.tables, "tickets"}
