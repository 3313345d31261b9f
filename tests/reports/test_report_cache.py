"""The reader's summary cache: read instead of the journal once a day is kept, dropped and
made again when the summary format's version changes, started afresh when damaged, filled
ahead by keep_up, of no harm when its disk is full; and the journal is never written."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from support.hall import SHANGHAI, hall_config
from support.history_days import Days, assert_same, names, replayed, write_history

import hall.history
from hall.engine.events import Event, NoticeSet, TicketIssued
from hall.history import History
from hall.journal import Journal
from hall.journal_reader import JournalReader
from hall.report_days import SUMMARY_VERSION
from hall.reports import MAX_RANGE_DAYS
from protocol.messages import Channel

CONFIG = hall_config()
MONDAY = date(2026, 11, 23)
WEDNESDAY = MONDAY + timedelta(2)
THURSDAY = MONDAY + timedelta(3)


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory) -> Days:
    """Monday to Wednesday closed, Thursday the writer's open day."""
    path = tmp_path_factory.mktemp("cache") / "journal.sqlite3"
    return asyncio.run(write_history(path, CONFIG, MONDAY, 4))


@pytest.fixture
async def reader(days: Days) -> AsyncIterator[JournalReader]:
    reader = JournalReader.open(days.journal)
    yield reader
    reader.close()


async def issued(reader: JournalReader, cache: Path) -> dict[str, int]:
    history = History(reader, cache)
    try:
        report = await history.report(MONDAY, WEDNESDAY, names(CONFIG), SHANGHAI)
    finally:
        history.close()
    return {r["service"]: r["issued"] for r in report.tables["services"].rows}


def tamper(cache: Path) -> int:
    """Add 1000 tickets to service A in every kept summary that has it; returns how many."""
    db = sqlite3.connect(cache)
    changed = 0
    with db:
        for day, version, text in db.execute("SELECT day, version, summary FROM days").fetchall():
            groups = json.loads(text)
            for group in groups:
                if group[:2] == ["service", "A"]:
                    group[2]["issued"] += 1000  # kind, id, counts, …
                    changed += 1
            db.execute("UPDATE days SET summary = ? WHERE day = ? AND version = ?",
                       (json.dumps(groups), day, version))
    db.close()
    return changed


def versions(cache: Path) -> set[int]:
    db = sqlite3.connect(cache)
    try:
        return {v for (v,) in db.execute(
            "SELECT version FROM days UNION SELECT version FROM durations")}
    finally:
        db.close()


async def test_kept_days_are_read_from_the_cache_until_the_version_changes(
        reader: JournalReader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "reports.sqlite3"
    truth = await issued(reader, cache)
    assert tamper(cache) == 3  # Monday to Wednesday are kept; Thursday is summed up live
    assert await issued(reader, cache) == {**truth, "A": truth["A"] + 3000}
    monkeypatch.setattr(hall.history, "SUMMARY_VERSION", SUMMARY_VERSION + 1)
    assert await issued(reader, cache) == truth  # summed up again from the journal
    assert versions(cache) == {SUMMARY_VERSION + 1}  # the old version's rows are gone


async def test_a_damaged_cache_starts_afresh(reader: JournalReader, tmp_path: Path) -> None:
    cache = tmp_path / "reports.sqlite3"
    truth = await issued(reader, cache)
    cache.write_bytes(b"not a database at all" * 100)
    assert await issued(reader, cache) == truth
    assert versions(cache) == {SUMMARY_VERSION}


async def test_reports_never_write_the_journal(days: Days, reader: JournalReader,
                                               tmp_path: Path) -> None:
    before = hashlib.sha256(days.journal.read_bytes()).hexdigest()
    await issued(reader, tmp_path / "reports.sqlite3")
    history = History(reader, tmp_path / "reports.sqlite3")
    assert [text async for text in history.ticket_csv(MONDAY, days.last, SHANGHAI)]
    history.close()
    assert hashlib.sha256(days.journal.read_bytes()).hexdigest() == before
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.fetch("DELETE FROM events")


async def test_keeping_up_fills_the_cache_before_any_report(
        reader: JournalReader, tmp_path: Path) -> None:
    cache = tmp_path / "reports.sqlite3"
    history = History(reader, cache)
    assert await history.keep_up(SHANGHAI) == MAX_RANGE_DAYS  # every day before Thursday
    assert await history.keep_up(SHANGHAI) == 0
    history.close()
    assert tamper(cache) == 3
    truth = await issued(reader, tmp_path / "fresh.sqlite3")
    assert await issued(reader, cache) == {**truth, "A": truth["A"] + 3000}  # none made again


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB file system of its own for the cache (tmpfs; the suite runs as root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk: Path) -> None:
    """Take every byte left on the disk."""
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (1 << 16, 1 << 10, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)


async def test_a_full_disk_leaves_the_reports_right(small_disk: Path, tmp_path: Path) -> None:
    """The cache cannot keep a day (nor drop the outdated rows of one that changed): the
    report is right all the same, from the days summed up for it."""
    path = tmp_path / "journal.sqlite3"
    await write_history(path, CONFIG, MONDAY, 4)
    reader = JournalReader.open(path)
    history = History(reader, small_disk / "reports.sqlite3")
    await history.report(MONDAY, MONDAY, names(CONFIG), SHANGHAI)  # Monday kept
    journal = await Journal.open(path, durable=False)
    late = Event.of(1_795_000_000.0, TicketIssued(
        ticket="2026-11-23-A999", service="A", channel=Channel.NORMAL, id_hash=None, slot=None,
        pending=False))
    await journal.commit(MONDAY, late.at, [late])
    await journal.commit(THURSDAY, late.at, [Event.of(late.at, NoticeSet(text=""))])
    await journal.close()
    fill(small_disk)
    report = await history.report(MONDAY, WEDNESDAY, names(CONFIG), SHANGHAI)
    assert_same(report, replayed(reader, MONDAY, WEDNESDAY, names(CONFIG)))
    history.close()
    reader.close()
