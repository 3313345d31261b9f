"""Reports from merged day summaries (hall/history.py) against the reports as they were made
before, every event of the range replayed in memory (support/report_reference.py): the same
tables, cell for cell, with the cache cold and warm, over ranges of closed days and the
writer's open day; the tickets CSV streamed a day at a time is the old CSV, byte for byte."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from support import report_reference as old
from support.dayplay import without_services
from support.hall import SHANGHAI, hall_config
from support.history_days import Days, assert_same, names, play, replayed, write_history

from hall.engine.events import Event, NoticeSet, TicketIssued
from hall.history import History
from hall.journal import Journal
from hall.journal_reader import JournalReader
from hall.reports import Names
from protocol.messages import Channel

CONFIG = hall_config()
MONDAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory) -> Days:
    """Monday to Thursday: three closed days and the writer's open Thursday."""
    path = tmp_path_factory.mktemp("history") / "journal.sqlite3"
    return asyncio.run(write_history(path, CONFIG, MONDAY, 4))


@pytest.fixture
async def reader(days: Days) -> AsyncIterator[JournalReader]:
    reader = JournalReader.open(days.journal)
    yield reader
    reader.close()


def smaller(report_names: Names) -> Names:
    """Names of a hall that has since lost service E, counter 3 and a clerk: their tickets
    still count, under their ids."""
    config = without_services(CONFIG, "E")
    reduced = names(config)
    return replace(reduced, counters={k: v for k, v in reduced.counters.items() if k != "3"},
                   clerks=dict(list(reduced.clerks.items())[1:]))


RANGES = [(0, 0), (1, 2), (0, 2), (0, 3), (3, 3), (2, 5)]  # day offsets from Monday


@pytest.mark.parametrize(("start", "end"), RANGES)
async def test_the_tables_are_the_old_replays_cold_and_warm(
        days: Days, reader: JournalReader, tmp_path: Path, start: int, end: int) -> None:
    first, last = MONDAY + timedelta(start), MONDAY + timedelta(end)
    for report_names in (names(CONFIG), smaller(names(CONFIG))):
        reference = replayed(reader, first, last, report_names)
        assert sum(r["issued"] for r in reference.tables["services"].rows) > 0
        cache = tmp_path / f"cache-{len(report_names.services)}.sqlite3"
        cold = History(reader, cache)
        assert_same(await cold.report(first, last, report_names, SHANGHAI), reference)
        cold.close()
        warm = History(reader, cache)  # another process's start: the cache file remains
        assert_same(await warm.report(first, last, report_names, SHANGHAI), reference)
        warm.close()


async def test_the_data_covers_what_the_tables_must_get_right(
        days: Days, reader: JournalReader) -> None:
    """The generated days hold every case the tables treat apart."""
    report = replayed(reader, MONDAY, days.last, names(CONFIG))
    statuses = {v.status for v in report.visits}
    assert {"done", "no_show", "cancelled", "not_served", "void", "waiting"} <= statuses
    assert any(len(v.legs) > 1 for v in report.visits)  # transfers
    assert any(v.rating is not None for v in report.visits)
    legs = [leg for v in report.visits for leg in v.legs]
    assert len({(leg.counter, leg.clerk) for leg in legs}) > len({leg.counter for leg in legs})
    kinds = {e for (e,) in reader.fetch("SELECT DISTINCT kind FROM events")}
    assert {"ticket_recalled", "clerk_signed_out", "ticket_closed", "day_ended"} <= kinds
    assert len({v.service for v in report.visits}) >= 5
    assert days.days == [MONDAY + timedelta(n) for n in range(4)]


async def test_the_tickets_csv_streams_the_old_csv(days: Days, reader: JournalReader,
                                                   tmp_path: Path) -> None:
    history = History(reader, tmp_path / "cache.sqlite3")
    first, last = MONDAY - timedelta(1), days.last + timedelta(1)  # empty days at both ends
    chunks = [text async for text in history.ticket_csv(first, last, SHANGHAI)]
    history.close()
    expected = old.to_csv(replayed(reader, first, last, names(CONFIG)).tables["tickets"])
    assert "".join(chunks) == expected
    assert len(chunks) == 1 + (last - first).days + 1  # the header, then a chunk a day
    assert expected.count("\r\n") > 1000


async def test_a_day_changed_after_it_was_kept_is_summed_up_again(
        days: Days, tmp_path: Path) -> None:
    """A late write to a kept day (the close a writer stamps after midnight, a journal put
    back from a backup) makes its cached summary outdated: the report reads the day again."""
    path = tmp_path / "journal.sqlite3"
    copy = await write_history(path, CONFIG, MONDAY, 3)
    reader = JournalReader.open(path)
    history = History(reader, tmp_path / "cache.sqlite3")
    before = await history.report(MONDAY, copy.last, names(CONFIG), SHANGHAI)
    issued = {r["service"]: r["issued"] for r in before.tables["services"].rows}
    journal = await Journal.open(path, durable=False)
    late = Event.of(1_795_000_000.0, TicketIssued(
        ticket="2026-11-23-A999", service="A", channel=Channel.NORMAL, id_hash=None, slot=None,
        pending=False))
    await journal.commit(MONDAY, late.at, [late])
    await journal.commit(copy.last, late.at, [Event.of(late.at, NoticeSet(text=""))])
    await journal.close()
    after = await history.report(MONDAY, copy.last, names(CONFIG), SHANGHAI)
    assert {r["service"]: r["issued"] for r in after.tables["services"].rows} == {
        **issued, "A": issued["A"] + 1}
    assert_same(after, replayed(reader, MONDAY, copy.last, names(CONFIG)))
    history.close()
    reader.close()


async def test_the_writers_day_is_read_on_from_where_the_last_report_left_it(
        tmp_path: Path) -> None:
    """The open day is folded on with each report's new events; a journal that holds fewer
    of them than were folded (put back from a backup) is folded again from the start."""
    path = tmp_path / "journal.sqlite3"
    await write_history(path, CONFIG, MONDAY, 1)
    tuesday = MONDAY + timedelta(1)
    events = play(CONFIG, tuesday, 7, close=True)
    assert events is not None
    reader = JournalReader.open(path)
    history = History(reader, tmp_path / "cache.sqlite3")
    journal = await Journal.open(path, durable=False)
    try:
        for part in (events[:300], events[300:900], events[900:]):
            await journal.commit(tuesday, part[-1].at, part)
            report = await history.report(MONDAY, tuesday, names(CONFIG), SHANGHAI)
            assert_same(report, replayed(reader, MONDAY, tuesday, names(CONFIG)))
        restored = sqlite3.connect(path)
        with restored:
            restored.execute("DELETE FROM events WHERE day = ? AND seq > (SELECT MIN(seq) + "
                             "500 FROM events WHERE day = ?)", (tuesday.isoformat(),) * 2)
        restored.close()
        report = await history.report(MONDAY, tuesday, names(CONFIG), SHANGHAI)
        assert_same(report, replayed(reader, MONDAY, tuesday, names(CONFIG)))
    finally:
        await journal.close()
        history.close()
        reader.close()
