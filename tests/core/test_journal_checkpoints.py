"""The journal's checkpoints run beside the command path, never in it: no commit copies the
WAL into the database file (a copy cost 5-10 ms, the commands' slowest 1% in bench.readers),
and a checkpoint on a connection of its own keeps the WAL short."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

import hall.journal as journal_module
from hall.journal import CHECKPOINT_EVERY, CommandRecord, Journal

DAY = date(2026, 12, 4)


def reply(n: int) -> CommandRecord:
    return CommandRecord("kiosk-1", f"command-{n}", "issue", "", '{"ok": true}' + " " * 200)


def replies_in_the_file(path: Path) -> int:
    """Replies in the database file itself, the WAL left out (what checkpoints copied)."""
    reader = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        if not reader.execute("SELECT 1 FROM sqlite_master WHERE name = 'replies'").fetchall():
            return 0  # the file does not even hold the table yet
        return int(reader.execute("SELECT count(*) FROM replies").fetchone()[0])
    finally:
        reader.close()


async def test_no_commit_copies_the_wal_into_the_file(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_module, "CHECKPOINT_EVERY", 10**9)  # no background checkpoint
    path = tmp_path / "journal.sqlite3"
    journal = await Journal.open(path)
    try:
        for n in range(1500):  # each commit adds a frame at least: past SQLite's 1,000
            await journal.commit(DAY, 0.0, [], reply(n))
        assert replies_in_the_file(path) == 0
        assert await journal.reply_for("kiosk-1", "command-1499") is not None
    finally:
        await journal.close()


async def test_the_background_checkpoint_copies_what_was_committed(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = await Journal.open(path)
    try:
        for n in range(3 * CHECKPOINT_EVERY):
            await journal.commit(DAY, 0.0, [], reply(n))
        await journal.checkpointed()
        assert replies_in_the_file(path) >= 2 * CHECKPOINT_EVERY
    finally:
        await journal.close()
    assert replies_in_the_file(path) == 3 * CHECKPOINT_EVERY  # closing checkpoints the rest
