"""Memory does not grow with the range: the peak of Python's allocations (tracemalloc, every
thread) making a report of 40 days, cold and warm, and streaming its tickets CSV, stays under
twice the peak for 5 days. The old replay's peak, measured the same way, grows with the range
(so the measure would see growth)."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from support.hall import SHANGHAI, hall_config
from support.history_days import Days, names, replayed, write_history

from hall.history import History
from hall.journal_reader import JournalReader

CONFIG = hall_config()
FIRST = date(2026, 9, 7)  # a Monday
SHORT, LONG = 5, 40


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory) -> Days:
    path = tmp_path_factory.mktemp("memory") / "journal.sqlite3"
    return asyncio.run(write_history(path, CONFIG, FIRST, LONG + 1))


@pytest.fixture
async def reader(days: Days) -> AsyncIterator[JournalReader]:
    reader = JournalReader.open(days.journal)
    yield reader
    reader.close()


async def peak(work: Callable[[], Awaitable[object]]) -> int:
    """The peak of traced allocations (bytes) while ``work`` runs."""
    tracemalloc.start()
    try:
        await work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def until(n: int) -> date:
    return FIRST + timedelta(days=n - 1)


async def test_a_report_needs_no_more_memory_for_a_longer_range(
        reader: JournalReader, tmp_path: Path) -> None:
    opened: list[History] = []

    def report(cache: str, n: int) -> Callable[[], Awaitable[object]]:
        opened.append(History(reader, tmp_path / cache))
        return lambda: opened[-1].report(FIRST, until(n), names(CONFIG), SHANGHAI)

    # What is made once per process is not the range's: pydantic's cache of the JSON strings
    # it parsed (ticket ids…) fills up to its fixed size over the first days folded.
    await report("warm-up", LONG)()
    cold = {n: await peak(report(f"cache-{n}", n)) for n in (SHORT, LONG)}
    warm = {n: await peak(report(f"cache-{n}", n)) for n in (SHORT, LONG)}  # kept now
    for history in opened:
        history.close()
    assert cold[LONG] < 2 * cold[SHORT], cold
    assert warm[LONG] < 2 * warm[SHORT], warm


async def test_the_tickets_csv_needs_no_more_memory_for_a_longer_range(
        reader: JournalReader, tmp_path: Path) -> None:
    history = History(reader, tmp_path / "cache.sqlite3")

    def stream(n: int) -> Callable[[], Awaitable[object]]:
        async def consume() -> int:
            return sum([len(text) async for text in history.ticket_csv(FIRST, until(n),
                                                                       SHANGHAI)][-1:])
        return consume

    await stream(2)()
    sizes = {n: await peak(stream(n)) for n in (SHORT, LONG)}
    history.close()
    assert sizes[LONG] < 2 * sizes[SHORT], sizes


async def test_the_old_replay_grows_with_the_range(reader: JournalReader) -> None:
    def replay(n: int) -> Callable[[], Awaitable[object]]:
        async def build() -> object:
            return replayed(reader, FIRST, until(n), names(CONFIG))
        return build

    await replay(2)()
    sizes = {n: await peak(replay(n)) for n in (SHORT, LONG)}
    assert sizes[LONG] > 4 * sizes[SHORT], sizes
