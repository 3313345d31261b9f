"""The durable journal: every engine event and every command's reply, in SQLite.

A command's events and its reply are committed in one transaction before the reply goes
out, so a confirmed ticket survives kill -9 and a retried command gets the same reply.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import aiosqlite

from hall.engine.events import Event, Kind

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    day  TEXT NOT NULL,
    at   REAL NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_day ON events(day, seq);
CREATE TABLE IF NOT EXISTS commands (
    id     TEXT PRIMARY KEY,
    day    TEXT NOT NULL,
    at     REAL NOT NULL,
    device TEXT NOT NULL,
    name   TEXT NOT NULL,
    reply  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS commands_by_day ON commands(day);
"""


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """A handled command, stored so that a redelivery gets the same reply."""

    id: str
    device: str
    name: str
    reply: str


class Journal:
    """An append-only event log in one SQLite file (WAL, fsync on every commit)."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self.path = path

    @classmethod
    async def open(cls, path: str | Path, durable: bool = True) -> Journal:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        await db.executescript(SCHEMA)
        return cls(db, path)

    async def close(self) -> None:
        await self._db.close()

    async def commit(self, day: date, at: float, events: list[Event],
                     command: CommandRecord | None = None) -> None:
        """Write events (and the command's reply) atomically; returns once durable."""
        if not events and command is None:
            return
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            await self._db.executemany(
                "INSERT INTO events(day, at, kind, data) VALUES (?, ?, ?, ?)",
                [(_event_day(day, e), e.at, e.kind.value, json.dumps(e.data)) for e in events])
            if command is not None:
                await self._db.execute(
                    "INSERT INTO commands(id, day, at, device, name, reply) VALUES (?,?,?,?,?,?)",
                    (command.id, day.isoformat(), at, command.device, command.name,
                     command.reply))
            await self._db.execute("COMMIT")
        except BaseException:
            await self._db.execute("ROLLBACK")
            raise

    async def events_of(self, day: date) -> list[Event]:
        """The day's events in commit order."""
        async with self._db.execute(
                "SELECT at, kind, data FROM events WHERE day = ? ORDER BY seq",
                (day.isoformat(),)) as cursor:
            return [Event(Kind(kind), at, json.loads(data)) async for at, kind, data in cursor]

    async def events_between(self, first: date, last: date) -> list[tuple[str, Event]]:
        """Events of a range of days (inclusive), each with its day, in commit order."""
        async with self._db.execute(
                "SELECT day, at, kind, data FROM events WHERE day BETWEEN ? AND ? ORDER BY seq",
                (first.isoformat(), last.isoformat())) as cursor:
            return [(day, Event(Kind(kind), at, json.loads(data)))
                    async for day, at, kind, data in cursor]

    async def replies_of(self, day: date) -> dict[str, str]:
        """Command id → reply JSON for the day's handled commands."""
        async with self._db.execute("SELECT id, reply FROM commands WHERE day = ?",
                                    (day.isoformat(),)) as cursor:
            return {cid: reply async for cid, reply in cursor}

    async def reply_for(self, command_id: str) -> str | None:
        """A stored reply from any day (a retry that crossed midnight)."""
        async with self._db.execute("SELECT reply FROM commands WHERE id = ?",
                                    (command_id,)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else str(row[0])

    async def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read-only query for reports."""
        async with self._db.execute(sql, params) as cursor:
            return [tuple(row) async for row in cursor]


def _event_day(day: date, event: Event) -> str:
    """An appointment booked for another day belongs to that day's log."""
    if event.kind is Kind.APPOINTMENT_BOOKED and "slot_day" in event.data:
        return str(event.data["slot_day"])
    return day.isoformat()
