"""The durable journal: every engine event and every command's reply, in SQLite.

A command's events and its reply are committed in one transaction before the reply goes
out, so a confirmed ticket survives kill -9 and a retried command gets the same reply.
Replies are keyed by (device, command id) with the command's name and a digest of its body,
so a retry on any later day finds its reply and nobody else's.

The journal is checked when opened: a damaged file, or an empty or missing one where this
state directory has held a journal before, stops the controller with a message naming the
cause and the backups to restore from (``backup`` writes them while the hall runs).

Its schema (tables, and each event kind's model in hall/engine/events.py) has a version,
``PRAGMA user_version``; opening an older journal migrates it step by step (``STEPS``), a
newer one is refused. hall/README.md says what each version changed.

The command path (``commit``, ``reply_for``) runs on a plain sqlite3 connection in the
writer's own thread: every command waits for its commit anyway, and each hop to a connection
thread and back cost more than the work (bench.readers, alone: the handler's p50 2.9 -> 2.2
ms, p99 12.9 -> 9.9 ms). Everything else (start-up checks, migrations, erasures, day replays)
runs on an aiosqlite connection, off the loop. The single writer uses one at a time.

No commit copies the WAL into the database file (SQLite's automatic checkpoint, every 1,000
pages, made one command in a few hundred wait 5-10 ms): every ``CHECKPOINT_EVERY`` commits a
passive checkpoint runs on a third connection, in a worker thread, while commands go on.

Residents' hashes are kept only while the hall needs them: ``erase_identities`` blanks the
``id_hash`` of every day before today (and the digests of the replies to commands that
carried one), with SQLite's secure delete on and the WAL truncated, so the file keeps no copy.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import aiosqlite

from hall.engine.events import (
    SCHEMA_VERSION,
    AppointmentBooked,
    Event,
    EventInvalid,
    Kind,
    Row,
    event_from_row,
    to_row,
)

log = logging.getLogger(__name__)
# aiosqlite logs every statement with its parameters at DEBUG (residents' hashes, status
# tokens): this module is its only user, and it never logs below INFO, whatever the level.
logging.getLogger("aiosqlite").setLevel(logging.INFO)

CHECKPOINT_EVERY = 100  # commits between two checkpoints, run beside the command path
COMMAND_PATH_CHECKPOINT_PAGES = 10_000  # a commit checkpoints only if those fall this behind

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    day  TEXT NOT NULL,
    at   REAL NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_day ON events(day, seq);
CREATE TABLE IF NOT EXISTS replies (
    device TEXT NOT NULL,
    id     TEXT NOT NULL,
    name   TEXT NOT NULL,
    digest TEXT NOT NULL,
    day    TEXT NOT NULL,
    at     REAL NOT NULL,
    reply  TEXT NOT NULL,
    PRIMARY KEY (device, id)
);
CREATE INDEX IF NOT EXISTS replies_by_day ON replies(day);
CREATE TABLE IF NOT EXISTS erased (before TEXT NOT NULL);  -- see Journal.erase_identities
"""
# Schema 1 kept replies in ``commands`` keyed by id alone; its rows keep an empty digest.
MIGRATE_FROM_1 = """
INSERT OR IGNORE INTO replies(device, id, name, digest, day, at, reply)
    SELECT device, id, name, '', day, at, reply FROM commands;
DROP TABLE commands;
"""
# What carries a resident's keyed hash: these events' ``id_hash``, these commands' digests.
IDENTIFYING_KINDS = (Kind.TICKET_ISSUED.value, Kind.APPOINTMENT_BOOKED.value)
IDENTIFYING_COMMANDS = ("issue", "lookup", "book")


class JournalError(Exception):
    """Root of the journal's errors."""


class JournalDamaged(JournalError):
    """The journal cannot be trusted: the controller must not start on it."""


class StorageUnavailable(JournalError):
    """A commit failed (disk full, I/O error): nothing of it was written."""


class DuplicateCommand(JournalError):
    """The (device, command id) already has a stored reply (seen on another day)."""


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """A handled command, stored so that a redelivery gets the same reply."""

    device: str
    id: str
    name: str
    digest: str
    reply: str


class Journal:
    """An append-only event log in one SQLite file (WAL, fsync on every commit)."""

    def __init__(self, db: aiosqlite.Connection, writer: sqlite3.Connection,
                 checkpointer: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self._writer = writer
        self._checkpointer = checkpointer
        self._checkpoints = ThreadPoolExecutor(1, thread_name_prefix="journal-checkpoint")
        self._since_checkpoint = 0
        self._checkpointing: Future[None] | None = None
        self.path = path

    @classmethod
    async def open(cls, path: str | Path, durable: bool = True) -> Journal:
        """Open (or create) the journal, refusing a damaged or vanished one."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        marker = _marker(path)
        if marker.exists() and (not path.exists() or path.stat().st_size == 0):
            raise JournalDamaged(
                f"journal {path} is {'missing' if not path.exists() else 'empty'}, but "
                f"{marker.name} says this hall kept one here: restore the newest backup from "
                f"{backup_dir(path)} (see docs/operators-guide.md), or delete {marker} to "
                f"start a new journal on purpose")
        db = await aiosqlite.connect(path, isolation_level=None)
        try:
            await _check(db, path)
            await db.execute("PRAGMA journal_mode=WAL")
            for pragma in _connection_pragmas(durable):
                await db.execute(pragma)
            await _migrate(db, path)
            writer = _command_connection(path, durable)
        except BaseException:
            await db.close()
            raise
        checkpointer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        if not marker.exists():
            marker.write_text("this state directory holds the hall's journal\n", encoding="utf-8")
        return cls(db, writer, checkpointer, path)

    async def close(self) -> None:
        await self.checkpointed()
        self._checkpoints.shutdown()
        self._checkpointer.close()
        self._writer.close()
        await self._db.close()

    async def checkpointed(self) -> None:
        """Wait for a checkpoint under way, if any."""
        if self._checkpointing is not None:
            await asyncio.shield(asyncio.wrap_future(self._checkpointing))

    def _count_commit(self) -> None:
        """Start a checkpoint beside the command path every ``CHECKPOINT_EVERY`` commits."""
        self._since_checkpoint += 1
        if self._since_checkpoint >= CHECKPOINT_EVERY and (
                self._checkpointing is None or self._checkpointing.done()):
            self._since_checkpoint = 0
            self._checkpointing = self._checkpoints.submit(_checkpoint, self._checkpointer)

    async def commit(self, day: date, at: float, events: list[Event],
                     command: CommandRecord | None = None) -> list[Row]:
        """Write events (and the command's reply) atomically; returns once durable, with
        the events' rows as stored. Raises StorageUnavailable or DuplicateCommand, having
        written nothing."""
        rows = [to_row(e) for e in events]
        if not events and command is None:
            return rows
        writer = self._writer
        try:
            writer.execute("BEGIN IMMEDIATE")
            writer.executemany(
                "INSERT INTO events(day, at, kind, data) VALUES (?, ?, ?, ?)",
                [(stored_day(day, e), r[1], r[0], r[2]) for e, r in zip(events, rows, strict=True)])
            if command is not None:
                writer.execute(
                    "INSERT INTO replies(device, id, name, digest, day, at, reply) "
                    "VALUES (?,?,?,?,?,?,?)",
                    (command.device, command.id, command.name, command.digest,
                     day.isoformat(), at, command.reply))
            writer.execute("COMMIT")
        except sqlite3.IntegrityError as exc:
            _undo_commit(writer)
            raise DuplicateCommand(str(exc)) from exc
        except sqlite3.Error as exc:
            _undo_commit(writer)
            raise StorageUnavailable(str(exc)) from exc
        self._count_commit()
        return rows

    async def _rollback(self) -> None:
        """Undo a failed transaction (SQLite may already have rolled back a full disk's)."""
        if self._db.in_transaction:
            try:
                await self._db.execute("ROLLBACK")
            except sqlite3.Error as exc:
                log.error("journal rollback failed: %s", exc)

    async def writable(self) -> bool:
        """Whether a write goes through now (probed after a failed commit)."""
        try:
            await self._db.execute("BEGIN IMMEDIATE")
            await self._db.execute("CREATE TABLE IF NOT EXISTS probe (x)")
            await self._db.execute("INSERT INTO probe VALUES (1)")
            await self._db.execute("DELETE FROM probe")
            await self._db.execute("COMMIT")
        except sqlite3.Error:
            await self._rollback()
            return False
        return True

    async def erase_identities(self, today: date) -> int:
        """Blank the ``id_hash`` of the events of every day before ``today`` and the digests
        of those days' replies to commands that carried one; then checkpoint and truncate
        the WAL. Returns the events erased; raises StorageUnavailable having erased nothing.

        The hash serves only on its own day (one ticket per person and service; checking in
        an appointment): an appointment for a later day is journaled under that day, so
        nothing before today is still needed. Table ``erased`` remembers the day erased
        before, so only the days since are read again."""
        before = today.isoformat()
        marks = ",".join("?" * len(IDENTIFYING_KINDS))
        try:
            async with self._db.execute("SELECT COALESCE(MAX(before), '') FROM erased") as cur:
                row = await cur.fetchone()
            since = min(str(row[0]) if row else "", before)  # the days erased before stay so
            async with self._db.execute(
                    f"SELECT seq, data FROM events WHERE day >= ? AND day < ? AND kind IN "
                    f"({marks}) AND json_extract(data, '$.id_hash') IS NOT NULL",
                    (since, before, *IDENTIFYING_KINDS)) as cursor:
                rows = [(_without_hash(data), seq) async for seq, data in cursor]
            await self._db.execute("BEGIN IMMEDIATE")
            await self._db.executemany("UPDATE events SET data = ? WHERE seq = ?", rows)
            await self._db.execute(
                f"UPDATE replies SET digest = '' WHERE day >= ? AND day < ? AND digest != '' "
                f"AND name IN ({','.join('?' * len(IDENTIFYING_COMMANDS))})",
                (since, before, *IDENTIFYING_COMMANDS))
            await self._db.execute("DELETE FROM erased")
            await self._db.execute("INSERT INTO erased VALUES (?)", (max(since, before),))
            await self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            await self._rollback()
            raise StorageUnavailable(str(exc)) from exc
        await self._truncate_wal()
        log.info("journal: the ID hashes of %d events before %s erased", len(rows), before)
        return len(rows)

    async def _truncate_wal(self) -> None:
        """Copy the WAL into the file and empty it (a reader, e.g. a backup, can delay it)."""
        async with self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor:
            row = await cursor.fetchone()
        if row is not None and row[0]:
            log.warning("journal: the WAL could not be emptied now (a reader is busy); "
                        "erased hashes stay in it until the next checkpoint")

    async def events_of(self, day: date) -> list[Event]:
        """The day's events in commit order (JournalDamaged: one does not match its model)."""
        return await self._events("WHERE day = ?", (day.isoformat(),))

    async def bookings_after(self, day: date) -> list[Event]:
        """Appointments booked for days after ``day`` (stored under their own day), in
        commit order: they count against those days' slots already."""
        return await self._events("WHERE day > ? AND kind = ?",
                                  (day.isoformat(), Kind.APPOINTMENT_BOOKED.value))

    async def each_event_of(self, day: date,
                            chunk: int = 2000) -> AsyncIterator[tuple[Event, Row]]:
        """``events_of`` with each event's row, read ``chunk`` rows at a time: a busy day's
        events are never all in memory at once (the controller folds them as they come)."""
        async with self._db.execute(
                "SELECT seq, kind, at, data FROM events WHERE day = ? ORDER BY seq",
                (day.isoformat(),)) as cursor:
            while rows := await cursor.fetchmany(chunk):
                try:
                    for seq, kind, at, data in rows:
                        yield event_from_row(seq, kind, at, data), (kind, at, data)
                except EventInvalid as exc:
                    raise JournalDamaged(f"journal {self.path}: {exc}") from None

    async def _events(self, where: str, params: tuple[str, ...]) -> list[Event]:
        async with self._db.execute(
                f"SELECT seq, kind, at, data FROM events {where} ORDER BY seq", params) as cursor:
            rows = await cursor.fetchall()
        try:
            return [event_from_row(*row) for row in rows]
        except EventInvalid as exc:
            raise JournalDamaged(f"journal {self.path}: {exc}") from None

    async def reply_for(self, device: str, command_id: str) -> CommandRecord | None:
        """The stored reply of a device's command, from any day."""
        rows = self._writer.execute(  # fetchall: the statement ends, no read is left open
            "SELECT device, id, name, digest, reply FROM replies WHERE device = ? AND id = ?",
            (device, command_id)).fetchall()
        return CommandRecord(*rows[0]) if rows else None

    async def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read-only query for reports."""
        async with self._db.execute(sql, params) as cursor:
            return [tuple(row) async for row in cursor]

    async def backup(self, target: Path) -> None:
        """A consistent copy of the journal at ``target`` (SQLite's online backup), made on a
        connection of its own so the writer's commits go on meanwhile."""
        await asyncio.to_thread(_copy, self.path, target)


def _connection_pragmas(durable: bool) -> tuple[str, ...]:
    """What each of the journal's connections sets: erased hashes are overwritten, and a
    commit is on disk (FULL) before it is answered."""
    return ("PRAGMA secure_delete=ON", f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")


def _command_connection(path: Path, durable: bool) -> sqlite3.Connection:
    """The connection the command path commits on, in the writer's thread: it leaves the
    checkpoints to the checkpointer, unless they fall far behind."""
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in _connection_pragmas(durable):
            writer.execute(pragma)
        writer.execute(f"PRAGMA wal_autocheckpoint={COMMAND_PATH_CHECKPOINT_PAGES}")
    except BaseException:
        writer.close()
        raise
    return writer


def _checkpoint(checkpointer: sqlite3.Connection) -> None:
    """Copy what the WAL holds into the database file, as far as readers allow (PASSIVE:
    it waits for nobody and holds up no commit)."""
    try:
        checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    except sqlite3.Error as exc:  # a full disk: the command path reports it
        log.warning("journal checkpoint failed: %s", exc)


def _undo_commit(writer: sqlite3.Connection) -> None:
    """Undo a failed commit (SQLite may already have rolled back a full disk's)."""
    if writer.in_transaction:
        try:
            writer.execute("ROLLBACK")
        except sqlite3.Error as exc:
            log.error("journal rollback failed: %s", exc)


def backup_dir(path: Path) -> Path:
    """Where the journal's backups are kept: beside it."""
    return path.parent / f"{path.stem}-backups"


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".kept")


async def _check(db: aiosqlite.Connection, path: Path) -> None:
    try:
        async with db.execute("PRAGMA quick_check") as cursor:
            rows = [str(row[0]) async for row in cursor]
    except sqlite3.DatabaseError as exc:
        raise JournalDamaged(f"journal {path} is damaged ({exc}): restore the newest backup "
                             f"from {backup_dir(path)} (see docs/operators-guide.md)") from exc
    if rows != ["ok"]:
        raise JournalDamaged(f"journal {path} is damaged ({'; '.join(rows[:3])}): restore the "
                             f"newest backup from {backup_dir(path)}")


async def _migrate(db: aiosqlite.Connection, path: Path) -> None:
    """Bring the journal to SCHEMA_VERSION one step at a time, each step recorded as it
    completes; refuse a journal newer than this code."""
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    version = int(row[0]) if row else 0
    if version > SCHEMA_VERSION:
        raise JournalDamaged(f"journal {path} has schema {version}, newer than this "
                             f"controller's ({SCHEMA_VERSION}): install the newer release")
    await db.executescript(SCHEMA)
    for target in range(max(version, 1) + 1, SCHEMA_VERSION + 1):
        await STEPS[target](db, path)
        await db.execute(f"PRAGMA user_version = {target}")
        if version:  # not a new file (schema 1 files may also say 0: they are checked)
            log.info("journal %s: migrated to schema %d", path, target)


async def _to_2(db: aiosqlite.Connection, path: Path) -> None:
    """Schema 2: replies keyed by (device, id), moved from schema 1's ``commands``."""
    async with db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'commands'") as cursor:
        old = await cursor.fetchone()
    if old is not None:
        await db.executescript(f"BEGIN; {MIGRATE_FROM_1} COMMIT;")


async def _to_3(db: aiosqlite.Connection, path: Path) -> None:
    """Schema 3: every event's data is its kind's model (hall/engine/events.py). The JSON
    is unchanged (old shapes are the models' defaults), so nothing is rewritten: every
    stored event is checked, and one that does not match refuses the journal."""
    count = 0
    async with db.execute("SELECT seq, kind, at, data FROM events ORDER BY seq") as cursor:
        while rows := list(await cursor.fetchmany(10_000)):
            try:
                for row in rows:
                    event_from_row(*row)
            except EventInvalid as exc:
                raise JournalDamaged(f"journal {path} cannot move to schema 3: {exc}; it is "
                                     f"left unchanged (restore a backup from "
                                     f"{backup_dir(path)}, or fix that event)") from None
            count += len(rows)
    log.info("journal %s: %d events match their models", path, count)


# The step that brings a journal to each version from the one before (version 1: the first).
STEPS = {2: _to_2, 3: _to_3}


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    src = sqlite3.connect(source)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst, pages=4096)
        finally:
            dst.close()
    finally:
        src.close()
    partial.replace(target)


def _without_hash(data: str) -> str:
    """An event's JSON with its ``id_hash`` null (replays accept that: hall/engine/fold.py)."""
    fields = json.loads(data)
    fields["id_hash"] = None
    return json.dumps(fields)


def stored_day(day: date, event: Event) -> str:
    """An appointment booked for another day belongs to that day's log."""
    if isinstance(event.data, AppointmentBooked) and event.data.slot_day is not None:
        return event.data.slot_day
    return day.isoformat()
