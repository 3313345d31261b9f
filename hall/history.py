"""The hall's history for the manager's reports, read by a process other than the writer.

A report merges the summaries of its days (hall/report_days.py). A day before the writer's
current one is summed up once and kept in this reader's own cache, a SQLite file of its own
(the reader cannot write the journal), keyed by the day, the summary's format version and the
hall's time zone, and stamped with the journal's last event of that day: should the day
change after all (a close stamped after midnight, a journal put back from a backup), it is
summed up again. The writer's current day (folded on from the last report) and any later
one are summed up live. Summing up a day reads that day's events only, so memory is bounded
by a day, not by the range; the tickets CSV streams a day at a time. Everything runs in
worker threads, on a journal connection of its own.

The reports asked for lately are quick to ask again (the page, then its CSVs; a manager going
back and forth between ranges): the merge of a range's kept days is remembered with the
values read back from the cache for its percentiles (``RANGES_KEPT`` ranges, each while its
days' journal stamps stay the same), and the writer's day's summary is brought up to date
for the visits new events reached (``LiveDay``).
"""
from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from array import array
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from hall.journal_reader import JournalReader
from hall.report_days import (
    SUMMARY_VERSION,
    Group,
    Key,
    LiveDay,
    Series,
    Span,
    between,
    day_groups,
    encode,
    summarize,
)
from hall.reports import (
    MAX_RANGE_DAYS,
    TICKET_COLUMNS,
    Names,
    Report,
    csv_text,
    report_of,
    ticket_rows,
)
from hall.visits import DayFold

log = logging.getLogger(__name__)

CACHE_SCHEMA = """
CREATE TABLE IF NOT EXISTS days (
    day      TEXT NOT NULL,
    version  INTEGER NOT NULL,
    tz       TEXT NOT NULL,
    last_seq INTEGER NOT NULL,  -- the journal's last event of the day when it was summed up
    last_at  REAL NOT NULL,
    summary  TEXT NOT NULL,
    PRIMARY KEY (day, version, tz)
);
CREATE TABLE IF NOT EXISTS durations (  -- a day's values of one series: float64, sorted
    kind TEXT NOT NULL, who TEXT NOT NULL, metric TEXT NOT NULL,
    version INTEGER NOT NULL, tz TEXT NOT NULL, day TEXT NOT NULL, vals BLOB NOT NULL,
    PRIMARY KEY (kind, who, metric, version, tz, day)
) WITHOUT ROWID;
"""
NO_EVENT = (0, 0.0)  # the fingerprint of a day without events
RANGES_KEPT = 4  # merged ranges of kept days remembered
Summed = tuple[dict[Key, Group], dict[Series, list[float]]]  # a live day's, with its values


class Kept(NamedTuple):
    """A past day's summary; its durations too if the cache could not keep them."""

    summary: str
    made: bool  # summed up now, not read from the cache
    unkept: dict[Series, list[float]] | None = None


@dataclass(slots=True)
class KeptRange:
    """The merge of a range's kept days, as long as their journal stamps are ``marks``; the
    values read back from the cache for the range's buckets."""

    marks: tuple[tuple[int, float], ...]
    summary: str
    buckets: dict[tuple[Series, float, float], array[float]] = field(default_factory=dict)


def days(first: date, last: date) -> Iterator[date]:
    """The days ``first`` to ``last``, both included."""
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


class History:
    """Reports and the tickets CSV over any range, from the journal and the summary cache."""

    def __init__(self, reader: JournalReader, cache_path: Path) -> None:
        self.reader = JournalReader.open(reader.path)  # its own: the caller's reads go on
        self.cache_path = cache_path
        self._cache = _open_cache(cache_path)
        self._lock = threading.Lock()  # one report at a time on the cache
        self._writing: tuple[DayFold, int] | None = None  # the writer's day, folded so far
        # the writer's day summed up so far: its fold, the summary, as of which event
        self._live: tuple[DayFold, LiveDay, int, Summed] | None = None
        self._ranges: OrderedDict[tuple[date, date, str], KeptRange] = OrderedDict()

    def close(self) -> None:
        """Close the cache and the journal connection, once the day being summed up, if any,
        is done (cancel ``keep_up`` first)."""
        with self._lock:
            self._cache.close()
        self.reader.close()

    async def report(self, first: date, last: date, names: Names, tz: ZoneInfo) -> Report:
        """Every summary table of the days ``first`` to ``last``."""
        return await asyncio.to_thread(self._report, first, last, names, tz)

    async def ticket_csv(self, first: date, last: date, tz: ZoneInfo) -> AsyncIterator[str]:
        """The tickets table as CSV text: its header, then each day's rows."""
        yield csv_text(TICKET_COLUMNS, ())
        for day in days(first, last):
            yield await asyncio.to_thread(self._ticket_day, day, tz)

    async def keep_up(self, tz: ZoneInfo) -> int:
        """Sum up and keep every day of the past ``MAX_RANGE_DAYS`` the cache lacks, newest
        first, a day at a time (a report can go between two), after summing up the writer's
        day so far: run at the web service's start, so that the first report is as quick as
        any.
        Returns the days summed up."""
        writing = await asyncio.to_thread(self.reader.writing_day)
        if writing is None:
            return 0
        await asyncio.to_thread(self._keep_writing, writing, tz)
        made = 0
        for back in range(1, MAX_RANGE_DAYS + 1):
            made += await asyncio.to_thread(self._keep_day, writing - timedelta(back), tz)
        if made:
            log.info("report cache: %d days summed up", made)
        return made

    def _keep_writing(self, day: date, tz: ZoneInfo) -> None:
        with self._lock:
            self._writing_summary(day, tz)

    def _keep_day(self, day: date, tz: ZoneInfo) -> bool:
        with self._lock:
            return self._kept(day, tz).made

    def _ticket_day(self, day: date, tz: ZoneInfo) -> str:
        return csv_text(TICKET_COLUMNS, ticket_rows(self._fold(day).visits.values(), tz),
                        header=False)

    def _report(self, first: date, last: date, names: Names, tz: ZoneInfo) -> Report:
        with self._lock:
            writing = self.reader.writing_day()
            kept_to = min(last, writing - timedelta(days=1)) if writing else first - timedelta(1)
            span = self._kept_span(first, kept_to, tz)
            for day in days(max(first, kept_to + timedelta(days=1)), last):
                span.add_groups(*(self._writing_summary(day, tz) if day == writing
                                  else day_groups(self._fold(day), tz)))
            return report_of(first, last, span, names)

    def _kept_span(self, first: date, last: date, tz: ZoneInfo) -> Span:
        """The merge of the kept days ``first`` to ``last``, remembered for the next reports
        of the range while the days stay as they are."""
        marks = tuple(self.reader.last_event(day) or NO_EVENT for day in days(first, last))
        key = (first, last, tz.key)
        kept = self._ranges.get(key)
        if kept is not None and kept.marks == marks:
            self._ranges.move_to_end(key)
            return self._span_of(kept, first, last, tz)
        merged, unkept = Span(), set()  # unkept: summed up, not kept: their values are live
        for day, mark in zip(days(first, last), marks, strict=True):
            summed = self._kept(day, tz, mark)
            merged.add(summed.summary)
            if summed.unkept is not None:
                merged.live_values_of(summed.unkept)
                unkept.add(day.isoformat())
        kept = KeptRange(marks, encode(merged.groups))
        if unkept:  # a cache that could not be written: not remembered, tried again next time
            return self._span_of(kept, first, last, tz, merged, unkept)
        self._ranges[key] = kept
        while len(self._ranges) > RANGES_KEPT:
            self._ranges.popitem(last=False)
        return self._span_of(kept, first, last, tz)

    def _span_of(self, kept: KeptRange, first: date, last: date, tz: ZoneInfo,
                 merged: Span | None = None, unkept: frozenset[str] | set[str] = frozenset(),
                 ) -> Span:
        """A span holding ``kept``'s merge, its values read back through ``kept``."""
        def values(series: Series, lo: float, hi: float) -> list[float]:
            found = kept.buckets.get((series, lo, hi))
            if found is None:
                found = kept.buckets[(series, lo, hi)] = array("d", self._kept_values(
                    series, lo, hi, first, last, tz, unkept))
            return list(found)

        span = Span(values)
        span.add(kept.summary)
        if merged is not None:
            span.live_values = merged.live_values
        return span

    def _writing_summary(self, day: date, tz: ZoneInfo) -> Summed:
        """The writer's day summed up, its visits the events since the last report reached
        tallied again."""
        fold = self._writing_fold(day)
        seq = self._writing[1] if self._writing else 0
        live = self._live
        if live is None or live[0] is not fold or live[1].tz.key != tz.key:
            fold.touched.update(fold.visits)  # a summary from scratch
            summing = LiveDay(tz)
        elif live[2] == seq:  # no event since
            return live[3]
        else:
            summing = live[1]
        self._live = (fold, summing, seq, summing.update(fold))
        return self._live[3]

    def _writing_fold(self, day: date) -> DayFold:
        """The writer's day, folded on from where the last report left it."""
        fold, seq = self._writing or (DayFold(day.isoformat()), 0)
        last = self.reader.last_event(day) or NO_EVENT
        if fold.day != day.isoformat() or last[0] < seq:  # a new day, or another journal
            fold, seq = DayFold(day.isoformat()), 0
        self._writing = (fold, self.reader.each_event(day, fold.apply, after=seq))
        return fold

    def _fold(self, day: date) -> DayFold:
        fold = DayFold(day.isoformat())
        self.reader.each_event(day, fold.apply)
        return fold

    def _kept(self, day: date, tz: ZoneInfo, mark: tuple[int, float] | None = None) -> Kept:
        """The day's summary from the cache, made (and kept) first if missing or outdated
        (``mark``: the day's last event, if known)."""
        mark = mark or self.reader.last_event(day) or NO_EVENT
        row = self._cache.execute(
            "SELECT summary FROM days WHERE day = ? AND version = ? AND tz = ? AND "
            "last_seq = ? AND last_at = ?", (day.isoformat(), SUMMARY_VERSION, tz.key, *mark)
        ).fetchone()
        if row is not None:
            return Kept(str(row[0]), made=False)
        summary, values = summarize(self._fold(day), tz)
        try:
            self._keep(day, tz, mark, summary, values)
        except sqlite3.Error as exc:  # a full disk: the report goes on without the cache
            log.warning("report cache %s: %s not kept: %s", self.cache_path, day, exc)
            return Kept(summary, made=False, unkept=values)
        return Kept(summary, made=True)

    def _keep(self, day: date, tz: ZoneInfo, mark: tuple[int, float], summary: str,
              values: dict[Series, list[float]]) -> None:
        key = (SUMMARY_VERSION, tz.key, day.isoformat())
        with self._cache:
            self._cache.execute("DELETE FROM days WHERE version = ? AND tz = ? AND day = ?", key)
            self._cache.execute(
                "DELETE FROM durations WHERE version = ? AND tz = ? AND day = ?", key)
            self._cache.execute("INSERT INTO days VALUES (?, ?, ?, ?, ?, ?)",
                                (key[2], key[0], key[1], *mark, summary))
            self._cache.executemany(
                "INSERT INTO durations VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(*series, *key, array("d", found).tobytes()) for series, found in values.items()])

    def _kept_values(self, series: Series, lo: float, hi: float, first: date, last: date,
                     tz: ZoneInfo, unkept: frozenset[str] | set[str]) -> list[float]:
        """A series' values in [lo, hi) over the cached days ``first`` to ``last`` (but the
        ``unkept``, whose rows, if any, are outdated)."""
        values: list[float] = []
        for kept, blob in self._cache.execute(
                "SELECT day, vals FROM durations WHERE kind = ? AND who = ? AND metric = ? AND "
                "version = ? AND tz = ? AND day BETWEEN ? AND ?",
                (*series, SUMMARY_VERSION, tz.key, first.isoformat(), last.isoformat())):
            if kept in unkept:
                continue
            day = array("d")
            day.frombytes(blob)
            values += between(day, lo, hi)
        return values


def _open_cache(path: Path) -> sqlite3.Connection:
    """The summary cache, made if missing; a damaged one is started afresh (it holds nothing
    the journal does not), and summaries of other format versions are dropped."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _connect(path)
    except sqlite3.DatabaseError as exc:
        log.warning("report cache %s unusable (%s): starting it afresh", path, exc)
        for stale in (path, path.with_name(path.name + "-wal"),
                      path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
        return _connect(path)


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # a cache: a lost write is made again
        db.executescript(CACHE_SCHEMA)
        with db:
            db.execute("DELETE FROM days WHERE version != ?", (SUMMARY_VERSION,))
            db.execute("DELETE FROM durations WHERE version != ?", (SUMMARY_VERSION,))
    except BaseException:
        db.close()
        raise
    return db
