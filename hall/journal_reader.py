"""The journal, read-only, for processes other than the writer (the web service, reports,
benchmarks). SQLite's WAL lets a reader see every commit without ever blocking the writer;
the connection is opened ``mode=ro``, so a reader cannot change the journal even if it tries.

One connection, one query at a time (a lock): the async methods run in a thread, off the
caller's event loop; the plain ones are for a caller already in a worker thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from hall.engine.events import SCHEMA_VERSION, Event, EventInvalid, Kind, event_from_row


class JournalUnreadable(Exception):
    """The journal cannot be read: missing, not a journal, of a newer schema than this code,
    or holding an event that does not match its kind's model."""


class JournalReader:
    """A read-only connection to the hall's journal."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self._lock = threading.Lock()
        self.path = path

    @classmethod
    def open(cls, path: str | Path) -> JournalReader:
        """Open the journal read-only; JournalUnreadable naming the file if it cannot be."""
        path = Path(path)
        if not path.exists():
            raise JournalUnreadable(f"journal {path} does not exist (has the controller run?)")
        try:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                 check_same_thread=False)
            db.execute("SELECT seq FROM events LIMIT 1").fetchall()
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.Error as exc:
            raise JournalUnreadable(f"journal {path} cannot be read: {exc}") from exc
        if version > SCHEMA_VERSION:
            db.close()
            raise JournalUnreadable(f"journal {path} has schema {version}, newer than this "
                                    f"reader's ({SCHEMA_VERSION}): install the newer release")
        return cls(db, path)

    def close(self) -> None:
        """Close the connection, once the query under way, if any, is done."""
        with self._lock:
            self._db.close()

    async def events_of(self, day: date, after: int = 0) -> list[tuple[int, Event]]:
        """The day's events committed after sequence number ``after``, with their numbers,
        in commit order."""
        rows = await self.query(
            "SELECT seq, kind, at, data FROM events WHERE day = ? AND seq > ? ORDER BY seq",
            (day.isoformat(), after))
        return [(row[0], self._event(row)) for row in rows]

    def _event(self, row: tuple[Any, ...]) -> Event:
        """A row (seq, kind, at, data) as its event; JournalUnreadable if it does not match."""
        try:
            return event_from_row(*row)
        except EventInvalid as exc:
            raise JournalUnreadable(f"journal {self.path}: {exc}") from None

    async def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read-only query, fetched in a thread."""
        return await asyncio.to_thread(self.fetch, sql, params)

    def fetch(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read-only query (in the calling thread)."""
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def each_event(self, day: date, apply: Callable[[Event], None], after: int = 0) -> int:
        """Hand the day's events committed after ``after`` to ``apply`` one at a time, in
        commit order, straight from the cursor (memory holds one event, however long the day);
        returns the last one's sequence number (``after`` if none). In the calling thread."""
        with self._lock:
            for row in self._db.execute(
                    "SELECT seq, kind, at, data FROM events WHERE day = ? AND seq > ? "
                    "ORDER BY seq", (day.isoformat(), after)):
                apply(self._event(row))
                after = row[0]
        return after

    def last_event(self, day: date) -> tuple[int, float] | None:
        """The sequence number and time of the day's last event (None for a day without):
        what tells a summary of the day still holds (in the calling thread)."""
        rows = self.fetch("SELECT seq, at FROM events WHERE day = ? ORDER BY seq DESC LIMIT 1",
                          (day.isoformat(),))
        return (int(rows[0][0]), float(rows[0][1])) if rows else None

    def writing_day(self) -> date | None:
        """The business day the writer is on: the day of its latest event but a booking (a
        booking is journaled under its slot's day); None for an empty journal."""
        rows = self.fetch("SELECT day FROM events WHERE kind != ? ORDER BY seq DESC LIMIT 1",
                          (Kind.APPOINTMENT_BOOKED.value,))
        return date.fromisoformat(rows[0][0]) if rows else None
