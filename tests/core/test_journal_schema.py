"""The journal's schema version: a journal of schema 1 or 2 (as the code of then wrote it)
opens as schema 3 with every event checked against its model and not one row rewritten, and
replays to the same hall; an event of the wrong shape refuses the journal, naming its
sequence number and kind, and leaves it as it was; a journal newer than the code is refused."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from support.dayplay import Day, replayed, state_of
from support.hall import hall_config, weekday_morning

from hall.engine.events import SCHEMA_VERSION, Event, Kind
from hall.journal import SCHEMA, Journal, JournalDamaged, stored_day
from hall.journal_reader import JournalReader, JournalUnreadable

SCHEMA_1 = """
CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, day TEXT NOT NULL,
                     at REAL NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE commands (device TEXT NOT NULL, id TEXT PRIMARY KEY, name TEXT NOT NULL,
                       day TEXT NOT NULL, at REAL NOT NULL, reply TEXT NOT NULL);
"""


def old_data(event: Event) -> dict[str, Any]:
    """An event's data as the code of schema 2 wrote it: ``json.dumps`` of the emit's keyword
    arguments (a ticket's kiosk only when it had one, a pause's reason only on a pause)."""
    data = event.data.model_dump(mode="json")
    del data["by"]
    if event.kind is Kind.TICKET_ISSUED and data["kiosk"] is None:
        del data["kiosk"]
    if event.kind is Kind.COUNTER_STATUS and data["status"] != "paused":
        del data["reason"]
    return data


def a_day(seed: int = 7) -> Day:
    day = Day(hall_config(), weekday_morning().now(), seed)
    day.until(day.now + 5 * 3600)
    day.act("end_day")
    return day


def write_old(path: Path, day: Day, version: int, tamper: dict[int, str] | None = None) -> None:
    """A journal of ``version`` holding the day's events, written row by row as then; the
    rows numbered in ``tamper`` get that data instead."""
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_1 if version == 1 else SCHEMA)
    rows = [(stored_day(day.engine.day, e), e.at, e.kind.value, json.dumps(old_data(e)))
            for e in day.events]
    assert rows[-1][2] == Kind.DAY_ENDED.value
    rows[-1] = (*rows[-1][:3], "{}")  # the manager's end of the day, as before ``auto``
    for seq, data in (tamper or {}).items():
        rows[seq - 1] = (*rows[seq - 1][:3], data)
    db.executemany("INSERT INTO events(day, at, kind, data) VALUES (?,?,?,?)", rows)
    if version == 1:
        db.execute("INSERT INTO commands VALUES ('kiosk-1', 'cmd-00000001', 'issue', ?, 1.0, "
                   "'{}')", (day.engine.day.isoformat(),))
    db.execute(f"PRAGMA user_version = {version}")
    db.commit()
    db.close()


def stored(path: Path) -> tuple[int, list[tuple[Any, ...]]]:
    db = sqlite3.connect(path)
    try:
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        return version, db.execute("SELECT * FROM events ORDER BY seq").fetchall()
    finally:
        db.close()


@pytest.mark.parametrize("version", [1, 2])
async def test_an_old_journal_migrates_to_3_unchanged_and_replays_the_same_hall(
        tmp_path: Path, version: int) -> None:
    day = a_day()
    path = tmp_path / "journal.sqlite3"
    write_old(path, day, version)
    _, before = stored(path)
    journal = await Journal.open(path, durable=False)
    try:
        events = await journal.events_of(day.engine.day)
        if version == 1:
            assert await journal.reply_for("kiosk-1", "cmd-00000001") is not None
    finally:
        await journal.close()
    assert stored(path) == (SCHEMA_VERSION, before) and SCHEMA_VERSION == 3
    assert events == day.events
    assert state_of(replayed(day.engine.config, day.engine, events)) == state_of(day.engine)
    again = await Journal.open(path, durable=False)  # a journal of schema 3 opens as it is
    await again.close()
    assert stored(path) == (3, before)


@pytest.mark.parametrize("version", [1, 2])
async def test_an_old_journal_with_an_event_of_the_wrong_shape_is_refused_unchanged(
        tmp_path: Path, version: int) -> None:
    day = a_day()
    path = tmp_path / "journal.sqlite3"
    rated = next(n for n, e in enumerate(day.events, 1) if e.kind is Kind.RATED)
    wrong = json.dumps({**old_data(day.events[rated - 1]), "rating": "5"})
    write_old(path, day, version, {rated: wrong})
    before = stored(path)
    with pytest.raises(JournalDamaged) as refused:
        await Journal.open(path, durable=False)
    said = str(refused.value)
    assert f"journal event {rated} (rated)" in said and "rating" in said, said
    assert str(path) in said
    after = stored(path)
    assert after[1] == before[1] and after[0] == 2  # the step to 2 done, 3 refused


async def test_an_event_spoilt_after_the_migration_is_refused_when_read(tmp_path: Path) -> None:
    day = a_day()
    path = tmp_path / "journal.sqlite3"
    journal = await Journal.open(path, durable=False)
    try:
        await journal.commit(day.engine.day, day.now, day.events)
        called = next(n for n, e in enumerate(day.events, 1) if e.kind is Kind.TICKET_CALLED)
        db = sqlite3.connect(path)
        db.execute("UPDATE events SET data = json_set(data, '$.counter', 3) WHERE seq = ?",
                   (called,))
        db.commit()
        db.close()
        with pytest.raises(JournalDamaged, match=rf"journal event {called} \(ticket_called\)"):
            await journal.events_of(day.engine.day)
    finally:
        await journal.close()
    reader = JournalReader.open(path)
    try:
        with pytest.raises(JournalUnreadable, match=rf"journal event {called} \(ticket_called\)"):
            await reader.events_of(day.engine.day)
        with pytest.raises(JournalUnreadable, match=rf"event {called} \(ticket_called\)"):
            reader.each_event(day.engine.day, lambda event: None)
    finally:
        reader.close()


async def test_a_journal_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = await Journal.open(path, durable=False)
    await journal.close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(JournalDamaged, match=rf"schema {SCHEMA_VERSION + 1}, newer than this "
                                             rf"controller's \({SCHEMA_VERSION}\)"):
        await Journal.open(path, durable=False)
    with pytest.raises(JournalUnreadable, match=rf"schema {SCHEMA_VERSION + 1}, newer"):
        JournalReader.open(path)
    assert stored(path)[0] == SCHEMA_VERSION + 1
