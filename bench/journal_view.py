"""What the controller's journal holds, read from outside (SQLite, read-only): issued and
called tickets, stored replies, and events committed together with a refusal.

Reads either schema: replies in ``commands`` (keyed by id) or in ``replies`` (keyed by
device and id)."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class StoredReply:
    device: str
    id: str
    name: str
    day: str
    at: float
    reply: dict[str, Any]

    @property
    def ok(self) -> bool:
        return bool(self.reply.get("ok"))


@dataclass
class JournalView:
    issued: list[str] = field(default_factory=list)  # ticket ids, one per ticket_issued
    called: list[str] = field(default_factory=list)  # ticket ids, one per ticket_called
    replies: list[StoredReply] = field(default_factory=list)
    events: int = 0
    event_times: dict[float, int] = field(default_factory=dict)  # at -> events

    @property
    def rows(self) -> int:
        return self.events + len(self.replies)

    def replies_by_id(self) -> dict[str, list[StoredReply]]:
        found: dict[str, list[StoredReply]] = defaultdict(list)
        for stored in self.replies:
            found[stored.id].append(stored)
        return found

    def events_with_refusals(self) -> int:
        """Events committed at the instant of a refused command and of no accepted one:
        state a refusal changed."""
        verdicts: dict[float, set[bool]] = defaultdict(set)
        for stored in self.replies:
            verdicts[stored.at].add(stored.ok)
        return sum(n for at, n in self.event_times.items() if verdicts.get(at) == {False})


def read_journal(path: Path) -> JournalView:
    """The journal at ``path`` (empty if there is none yet)."""
    view = JournalView()
    if not path.exists():
        return view
    db = _open(path)
    try:
        for at, kind, data in db.execute("SELECT at, kind, data FROM events ORDER BY seq"):
            view.events += 1
            view.event_times[at] = view.event_times.get(at, 0) + 1
            ticket = json.loads(data).get("ticket")
            if kind == "ticket_issued":
                view.issued.append(ticket)
            elif kind == "ticket_called":
                view.called.append(ticket)
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
        table = "replies" if "replies" in tables else "commands"
        if table in tables:
            for device, cid, name, day, at, reply in db.execute(
                    f"SELECT device, id, name, day, at, reply FROM {table}"):
                view.replies.append(StoredReply(device, cid, name, day, at, _json(reply)))
    finally:
        db.close()
    return view


def _open(path: Path) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.Error:  # a WAL left by a kill -9 needs its shared-memory file made
        return sqlite3.connect(path)


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
