"""A report asked again: the web service's start folds the writer's day ahead (keep_up), so
the first report reads only the events that followed; a range asked again gives the same
tables as a replay, after the writer's day and a kept day changed too."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from support.hall import SHANGHAI, hall_config
from support.history_days import Days, assert_same, names, play, replayed, write_history

from hall.engine.events import Event, NoticeSet
from hall.history import History
from hall.journal import Journal
from hall.journal_reader import JournalReader

CONFIG = hall_config()
MONDAY = date(2026, 11, 23)


@pytest.fixture
def days(tmp_path: Path) -> Days:
    """Monday and Tuesday closed, Wednesday the writer's open day."""
    return asyncio.run(write_history(tmp_path / "journal.sqlite3", CONFIG, MONDAY, 3))


async def test_keep_up_folds_the_writers_day_ahead(days: Days, tmp_path: Path) -> None:
    reader = JournalReader.open(days.journal)
    history = History(reader, tmp_path / "cache.sqlite3")
    try:
        await history.keep_up(SHANGHAI)
        folded = reader.last_event(days.last)
        assert folded is not None
        read_after: list[int] = []
        each_event = history.reader.each_event

        def counted(day: date, apply: Callable[[Event], None], after: int = 0) -> int:
            read_after.append(after)
            return each_event(day, apply, after)

        history.reader.each_event = counted  # type: ignore[method-assign]
        report = await history.report(MONDAY, days.last, names(CONFIG), SHANGHAI)
        assert read_after == [folded[0]]  # the writer's day, from where keep_up left it
        assert_same(report, replayed(reader, MONDAY, days.last, names(CONFIG)))
    finally:
        history.close()
        reader.close()


async def test_a_range_asked_again_follows_every_change(days: Days, tmp_path: Path) -> None:
    reader = JournalReader.open(days.journal)
    history = History(reader, tmp_path / "cache.sqlite3")
    journal = await Journal.open(days.journal, durable=False)
    wednesday = days.last
    more = play(CONFIG, wednesday, 5, close=True)
    assert more is not None
    try:
        for change in ("none", "writer", "kept"):
            if change == "writer":
                last = reader.last_event(wednesday)
                assert last is not None
                late = [e for e in more if e.at > last[1]][:200]
                await journal.commit(wednesday, late[-1].at, late)
            elif change == "kept":
                at = (reader.last_event(MONDAY) or (0, 0.0))[1] + 1
                await journal.commit(MONDAY, at, [Event.of(at, NoticeSet(text="late"))])
            for _ in range(2):
                report = await history.report(MONDAY, wednesday, names(CONFIG), SHANGHAI)
                assert_same(report, replayed(reader, MONDAY, wednesday, names(CONFIG)))
        shorter = await history.report(MONDAY + timedelta(1), wednesday, names(CONFIG),
                                       SHANGHAI)
        assert_same(shorter, replayed(reader, MONDAY + timedelta(1), wednesday, names(CONFIG)))
    finally:
        await journal.close()
        history.close()
        reader.close()
