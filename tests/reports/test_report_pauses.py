"""Minutes paused by reason, per window and for the hall, from the day summaries: a pause
runs until the window resumes, closes, pauses for another reason, or the day closes (a pause
still open in the writer's day, until its last event); summed exactly over a range before
rounding, and the same as a replay of the journal's counter events."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from math import fsum
from pathlib import Path
from typing import Any

import pytest
from support.hall import SHANGHAI
from support.history_days import Days, names, summed_up, write_history
from support.pause_days import (
    ALL,
    CONFIG,
    FRIDAY,
    FRIDAY_ROWS,
    FRIDAY_STEPS,
    MONDAY,
    PAUSED,
    TUESDAY,
    played,
    row,
    week,
)

from hall.engine.events import CounterStatusSet, DayEnded, Event, event_from_row
from hall.history import History
from hall.journal import Journal
from hall.journal_reader import JournalReader
from hall.reports import Report


def pauses(report: Report) -> list[dict[str, Any]]:
    return report.tables["pauses"].rows


def test_the_events_are_what_the_steps_say() -> None:
    """The scenario itself: a pause with no reason, a reason switched while paused, and the
    day ended with window 4 still paused."""
    events = played(FRIDAY, FRIDAY_STEPS)
    paused = [(e.data.counter, e.data.reason) for e in events
              if isinstance(e.data, CounterStatusSet) and e.data.status is PAUSED]
    assert ("3", None) in paused and ("1", "meeting") in paused
    assert isinstance(events[-1].data, DayEnded)


def test_a_day_of_pauses_in_minutes_by_reason() -> None:
    friday = [(d, e) for d, e in week() if d == FRIDAY.isoformat()]
    report = summed_up(FRIDAY, FRIDAY, friday, names(CONFIG), SHANGHAI)
    assert [r["name"] for r in FRIDAY_ROWS[:6]] == [CONFIG.counters[n].name for n in range(6)]
    assert pauses(report) == FRIDAY_ROWS


def test_a_range_sums_the_seconds_before_rounding() -> None:
    """Window 6's two 10-second pauses are 0.3 min together (0.2 + 0.2 would be 0.4); the
    writer's open day counts window 1's lunch up to its last event."""
    report = summed_up(FRIDAY, TUESDAY, week(), names(CONFIG), SHANGHAI)
    by_id = {r["id"]: r for r in pauses(report)}
    assert by_id["1"] == row("1", "1号窗口", lunch=125.0, meeting=20.0)
    assert by_id["3"] == row("3", "3号窗口", meeting=15.3, none=7.0)
    assert by_id["6"] == row("6", "6号窗口", other=0.3)
    assert by_id["合计"] == row("合计", ALL, 283.2, lunch=185.0, meeting=35.3, system_down=12.5,
                              **{"break": 40.0}, other=3.3, none=7.0)  # 283 min 10 s
    assert list(by_id) == ["1", "2", "3", "4", "5", "6", "合计"]


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    path = tmp_path / "journal.sqlite3"

    async def write() -> None:
        journal = await Journal.open(path, durable=False)
        for day in (FRIDAY, MONDAY, TUESDAY):
            events = [e for d, e in week() if d == day.isoformat()]
            await journal.commit(day, events[-1].at, events)
        await journal.close()

    asyncio.run(write())
    return path


async def test_the_history_cold_warm_and_merged(journal: Path, tmp_path: Path) -> None:
    reader = JournalReader.open(journal)
    try:
        for _ in ("cold", "warm"):
            history = History(reader, tmp_path / "cache.sqlite3")
            assert pauses(await history.report(FRIDAY, FRIDAY, names(CONFIG), SHANGHAI)) \
                == FRIDAY_ROWS
            week_rows = pauses(await history.report(FRIDAY, TUESDAY, names(CONFIG), SHANGHAI))
            assert week_rows == pauses(summed_up(FRIDAY, TUESDAY, week(), names(CONFIG),
                                                 SHANGHAI))
            history.close()
    finally:
        reader.close()


def replayed_pauses(events: Iterable[tuple[str, Event]]) -> dict[tuple[str, str], float]:
    """Seconds paused per (window, reason), straight from the journal's counter events: a
    pause ends at the window's next status or the day's end, else at the day's last event."""
    seconds: dict[tuple[str, str], list[float]] = defaultdict(list)
    open_: dict[tuple[str, str], tuple[str, float]] = {}
    last: dict[str, float] = {}

    def close(day: str, at: float) -> None:
        for (d, counter), (reason, began) in list(open_.items()):
            if d == day:
                seconds[(counter, reason)].append(at - began)
                del open_[(d, counter)]

    for day, event in events:
        last[day] = max(last.get(day, event.at), event.at)
        data = event.data
        if isinstance(data, CounterStatusSet):
            began = open_.pop((day, data.counter), None)
            if began is not None:
                seconds[(data.counter, began[0])].append(event.at - began[1])
            if data.status is PAUSED:
                open_[(day, data.counter)] = (data.reason or "none", event.at)
        elif isinstance(data, DayEnded):
            close(day, event.at)
    for day, at in last.items():
        close(day, at)
    return {key: fsum(values) for key, values in seconds.items()}


@pytest.fixture(scope="module")
def random_days(tmp_path_factory: pytest.TempPathFactory) -> Days:
    """Three random closed days and the writer's open fourth (random pauses, no reason)."""
    path = tmp_path_factory.mktemp("pauses") / "journal.sqlite3"
    return asyncio.run(write_history(path, CONFIG, MONDAY, 4, seed=3))


@pytest.mark.parametrize(("start", "end"), [(0, 0), (0, 2), (1, 3), (0, 3)])
async def test_random_days_agree_with_a_replay_of_the_journal(
        random_days: Days, tmp_path: Path, start: int, end: int) -> None:
    first, last = random_days.days[start], random_days.days[end]
    reader = JournalReader.open(random_days.journal)
    try:
        events = [(day, e) for day, e in _events(reader, first, last)]
        expected = replayed_pauses(events)
        assert len(expected) > 5
        history = History(reader, tmp_path / "cache.sqlite3")
        rows = pauses(await history.report(first, last, names(CONFIG), SHANGHAI))
        history.close()
    finally:
        reader.close()
    shown = {(r["id"], key[len("pause_"):-len("_min")]): value for r in rows[:-1]
             for key, value in r.items() if key.startswith("pause_") and key != "pause_total_min"
             and value is not None}
    assert shown == {key: round(s / 60, 1) for key, s in expected.items()}
    total = {r: fsum(s for (_, reason), s in expected.items() if reason == r)
             for r in {reason for _, reason in expected}}
    assert {k: v for k, v in rows[-1].items() if v is not None and k.startswith("pause_")
            and k != "pause_total_min"} == {f"pause_{r}_min": round(s / 60, 1)
                                            for r, s in total.items()}
    assert rows[-1]["pause_total_min"] == round(fsum(expected.values()) / 60, 1)


def _events(reader: JournalReader, first: date, last: date) -> list[tuple[str, Event]]:
    rows = reader.fetch("SELECT day, seq, kind, at, data FROM events WHERE day BETWEEN ? AND ? "
                        "ORDER BY seq", (first.isoformat(), last.isoformat()))
    return [(day, event_from_row(*r)) for day, *r in rows]
