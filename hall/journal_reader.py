"""The journal, read-only, for processes other than the writer (the web service, reports,
benchmarks). SQLite's WAL lets a reader see every commit without ever blocking the writer;
the connection is opened ``mode=ro``, so a reader cannot change the journal even if it tries.
Queries run in a thread, off the caller's event loop.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from hall.engine.events import Event, Kind


class JournalUnreadable(Exception):
    """The journal cannot be opened for reading (missing, or not a journal)."""


class JournalReader:
    """A read-only connection to the hall's journal."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self._lock = asyncio.Lock()  # one query at a time on the one connection
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
        except sqlite3.Error as exc:
            raise JournalUnreadable(f"journal {path} cannot be read: {exc}") from exc
        return cls(db, path)

    def close(self) -> None:
        self._db.close()

    async def events_of(self, day: date, after: int = 0) -> list[tuple[int, Event]]:
        """The day's events committed after sequence number ``after``, with their numbers,
        in commit order."""
        rows = await self.query(
            "SELECT seq, at, kind, data FROM events WHERE day = ? AND seq > ? ORDER BY seq",
            (day.isoformat(), after))
        return [(seq, Event(Kind(kind), at, json.loads(data))) for seq, at, kind, data in rows]

    async def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read-only query, fetched in a thread."""
        async with self._lock:
            return await asyncio.to_thread(self._fetch, sql, params)

    def _fetch(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return self._db.execute(sql, params).fetchall()

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
        """Rows one at a time, for a caller already off the event loop (a worker thread):
        memory stays flat however many rows there are."""
        yield from self._db.execute(sql, params)
