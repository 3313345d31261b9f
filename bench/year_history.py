"""A journal holding a year of the hall's history, made by the hall's own engine.

Each working day (Monday to Friday, the hall's holidays left out) residents arrive at the
kiosks (a morning peak, a smaller one after lunch), swipe and print; some are green or
booked; staff issue a few by hand and cancel a few; clerks sign in (some late), call, start,
recall, mark no-shows, transfer, finish, collect ratings, take a lunch break (pause, resume)
and sign out; the day closes itself as the controller's tick would close it. Every command
runs through the controller's own handlers (hall/commands.py) on a ``HallEngine``, and its
events and stored reply are written as the controller's journal writes them, one command per
transaction in the same order, the residents' hashes erased from every past day as the
controller erases them. Only the writing is bulk (a day per transaction, no fsync).

The result is cached under ``~/.cache/lobby-bench/`` (``$LOBBY_BENCH_CACHE``), keyed by the
parameters, the last day and ``VERSION``; a rerun reuses it.

``python -m bench.year_history [--days 250] [--per-day 2000] [--counters 50] [--json]``
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import heapq
import json
import math
import os
import random
import sqlite3
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from bench.halls import big_hall
from hall.commands import HANDLERS, Context
from hall.engine.engine import HallEngine, Refused
from hall.engine.events import (
    SCHEMA_VERSION,
    AppointmentBooked,
    Event,
    EventData,
    TicketIssued,
    to_json,
)
from hall.engine.model import Ticket
from hall.engine.projection import Projection, project
from hall.journal import SCHEMA, Journal, stored_day
from hall.replies import digest
from hallconfig import HallConfig, load_hall_config
from protocol import messages as m

VERSION = 1  # bump when the generated days change
CACHE = Path(os.environ.get("LOBBY_BENCH_CACHE", Path.home() / ".cache" / "lobby-bench"))
SECRET = b"bench-year-history-secret-0123456789"
SHARES = {"A": 0.22, "B": 0.18, "C": 0.09, "D": 0.07, "E": 0.16, "F": 0.16, "G": 0.12}
PROFILE = [("08:30", 1.6), ("09:30", 1.8), ("10:30", 1.4), ("11:30", 0.7), ("12:30", 0.6),
           ("13:30", 1.1), ("14:30", 1.0), ("15:30", 0.6)]  # arrivals, relative, to 16:00
GREEN, BOOKED, STAFF_ISSUED = 0.08, 0.05, 0.02
VOIDED, CANCELLED, NO_SHOW, TRANSFERRED, STARTED, RATED = 0.003, 0.005, 0.04, 0.03, 0.7, 0.55
RATINGS = ((5, 0.70), (4, 0.18), (3, 0.07), (2, 0.03), (1, 0.02))
SPEED = 45.0  # seconds of service per planned minute: clerks beat the hall's planning means
REPROJECT_S = 1800.0  # the replies' estimates come from a projection at most this old
ERASED_COMMANDS = {"issue", "lookup", "book"}


@dataclass(frozen=True, slots=True)
class Spec:
    """What to generate: ``days`` working days ending on ``last``."""

    days: int = 250
    per_day: int = 2000
    counters: int = 50
    seed: int = 1
    last: date = field(default_factory=lambda: date.today() - timedelta(days=1))

    @property
    def key(self) -> str:
        return (f"year-v{VERSION}-{self.days}d-{self.per_day}t-{self.counters}c-s{self.seed}"
                f"-to{self.last.isoformat()}")


@dataclass(frozen=True, slots=True)
class History:
    """A generated journal, the hall file it was made for, and what it holds."""

    journal: Path
    hall: Path
    first: date
    last: date
    tickets: int
    events: int
    built_s: float | None  # None: taken from the cache


def hall_file(directory: Path, counters: int) -> Path:
    """The example hall grown to ``counters`` windows (bench/halls.py: a clerk for each) and
    the upstream booking system."""
    path = big_hall(directory, counters)
    target = directory / f"readers-hall-{counters}.toml"
    target.write_text(path.read_text(encoding="utf-8")
                      + '\n[[devices]]\nid = "upstream"\nrole = "upstream"\n', encoding="utf-8")
    path.unlink()
    return target


def working_days(config: HallConfig, last: date, count: int) -> list[date]:
    """The ``count`` weekdays up to ``last`` that are not the hall's holidays, oldest first."""
    days: list[date] = []
    day = last
    while len(days) < count:
        if day.weekday() < 5 and day not in config.hours.holidays:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


def ensure(spec: Spec, cache: Path = CACHE, workers: int = 2,
           progress: Callable[[str], None] | None = None) -> History:
    """The cached history for ``spec``, generated first if there is none."""
    folder = cache / spec.key
    meta = folder / "history.json"
    if meta.exists():
        return _history(folder, json.loads(meta.read_text(encoding="utf-8")), None)
    folder.mkdir(parents=True, exist_ok=True)
    hall = hall_file(folder, spec.counters)
    began = time.monotonic()
    partial = folder / "journal.sqlite3.partial"
    partial.unlink(missing_ok=True)
    counts = generate(hall, spec, partial, workers, progress)
    partial.replace(folder / "journal.sqlite3")
    asyncio.run(_open_as_controller(folder / "journal.sqlite3"))
    facts = {**counts, "built_s": round(time.monotonic() - began, 1)}
    meta.write_text(json.dumps(facts), encoding="utf-8")
    return _history(folder, facts, facts["built_s"])


def _history(folder: Path, facts: dict[str, Any], built_s: float | None) -> History:
    return History(folder / "journal.sqlite3", next(folder.glob("readers-hall-*.toml")),
                   date.fromisoformat(facts["first"]), date.fromisoformat(facts["last"]),
                   facts["tickets"], facts["events"], built_s)


async def _open_as_controller(path: Path) -> None:
    """Open and close the journal as the controller would (its checks and migrations)."""
    journal = await Journal.open(path, durable=False)
    await journal.close()


def generate(hall: Path, spec: Spec, path: Path, workers: int = 2,
             progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Write the history of ``spec`` for the hall file ``hall`` to a new journal at ``path``,
    days played by ``workers`` processes and written in order; returns its counts."""
    days = working_days(load_hall_config(hall), spec.last, spec.days)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.executescript(SCHEMA)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        tickets = events = 0
        jobs = [(hall, day, spec.seed, spec.per_day) for day in days]
        with ProcessPoolExecutor(max(1, workers)) as pool:
            for n, (rows, replies, count) in enumerate(pool.map(play_day, jobs)):
                _write_day(db, rows, replies)
                tickets, events = tickets + count, events + len(rows)
                if progress is not None and (n + 1) % 10 == 0:
                    progress(f"{n + 1}/{len(days)} days, {tickets} tickets, {events} events")
        db.execute("INSERT INTO erased VALUES (?)", ((spec.last + timedelta(days=1)).isoformat(),))
        db.execute("PRAGMA journal_mode=WAL")
    finally:
        db.close()
    return {"first": days[0].isoformat(), "last": days[-1].isoformat(), "days": len(days),
            "tickets": tickets, "events": events, "bytes": path.stat().st_size}


@dataclass(slots=True)
class Commit:
    """One transaction of the controller: a command's events and reply, or a tick's events."""

    at: float
    events: list[Event]
    reply: tuple[str, str, str, str, str] | None  # device, id, name, digest, reply


EventRow = tuple[str, float, str, str]
ReplyRow = tuple[str, str, str, str, str, float, str]


def play_day(job: tuple[Path, date, int, int]) -> tuple[list[EventRow], list[ReplyRow], int]:
    """One working day's journal rows (events, replies) and its number of tickets."""
    hall, day, seed, per_day = job
    run = DayRun(_config(hall), day, random.Random(f"{seed}/{day}"), per_day)
    run.play()
    events, replies = _rows(day, run.commits)
    return events, replies, len(run.engine.tickets)


@lru_cache(maxsize=1)
def _config(hall: Path) -> HallConfig:
    return load_hall_config(hall)


def _rows(day: date, commits: list[Commit]) -> tuple[list[EventRow], list[ReplyRow]]:
    """A day's commits as Journal.commit writes them, with the residents' hashes erased as
    the controller erases them once the day is over."""
    events: list[EventRow] = []
    replies: list[ReplyRow] = []
    for commit in commits:
        for event in commit.events:
            events.append((stored_day(day, event), event.at, event.kind.value,
                           to_json(_erased(event.data))))
        if commit.reply is not None:
            device, cid, name, dig, reply = commit.reply
            replies.append((device, cid, name, "" if name in ERASED_COMMANDS else dig,
                            day.isoformat(), commit.at, reply))
    return events, replies


def _erased(data: EventData) -> EventData:
    """An event's data with the resident's hash erased (hall/journal.py erase_identities)."""
    if isinstance(data, TicketIssued | AppointmentBooked):
        return data.model_copy(update={"id_hash": None})
    return data


def _write_day(db: sqlite3.Connection, events: list[EventRow], replies: list[ReplyRow]) -> None:
    db.execute("BEGIN")
    db.executemany("INSERT INTO events(day, at, kind, data) VALUES (?, ?, ?, ?)", events)
    db.executemany("INSERT INTO replies(device, id, name, digest, day, at, reply) "
                   "VALUES (?,?,?,?,?,?,?)", replies)
    db.execute("COMMIT")


class DayRun:
    """One working day played through the controller's command handlers."""

    def __init__(self, config: HallConfig, day: date, rng: random.Random, per_day: int) -> None:
        self.config = config
        self.engine = HallEngine(config, day, SECRET)
        self.rng = rng
        self.per_day = max(0, round(rng.gauss(per_day, per_day * 0.07)))
        self.commits: list[Commit] = []
        self.devices = {d.id: d for d in config.devices}
        self.callers = {d.counter: d.id for d in config.devices
                        if d.counter and d.role == m.Role.CALLER}
        self.idle: set[str] = set()
        self.away: set[str] = set()  # counters on a break, or whose clerk has not come yet
        self.leaving: set[str] = set()  # counters whose clerk goes once the queue is empty
        self.lunch: dict[str, float] = {}  # counters due a break, and its length
        self._heap: list[tuple[float, int, Callable[[float], object]]] = []
        self._order = 0
        self._projection: tuple[float, Projection] | None = None
        assert self.engine.open_at is not None and self.engine.close_at is not None
        self.open_at, self.close_at = self.engine.open_at, self.engine.close_at
        self.last_ticket = self.open_at + _minutes("08:30", "16:00") * 60

    # ------------------------------------------------------------ the clock
    def at(self, t: float, action: Callable[[float], object]) -> None:
        self._order += 1
        heapq.heappush(self._heap, (t, self._order, action))

    def play(self) -> None:
        """The whole day, to its close."""
        self._plan_staff()
        self._plan_residents()
        if self.rng.random() < 0.3:
            notice = m.SetNotice(id=_cid(self.rng), text=self.rng.choice(NOTICES))
            self.at(self.open_at - 1800,
                    lambda t: self.command(t, "manager", "set_notice", notice))
        while self._heap:
            t, _, action = heapq.heappop(self._heap)
            if t >= self.close_at and self._closed_by(t):
                return
            action(t)
        self._closed_by(math.inf)

    def _closed_by(self, t: float) -> bool:
        """Close the day if it was due by ``t``, at the first tick (once a second) after it
        was due, as the controller's tick does; later commands would find it closed."""
        due = self.engine.closes_at()
        if due is None or due > t:
            return False
        tick = math.floor(due) + 1.0
        self.engine.tick(tick)
        self.commits.append(Commit(tick, self.engine.take_events(), None))
        return True

    # ------------------------------------------------------------ commands
    def command(self, t: float, device: str, name: str, cmd: m.Command,
                clerk: str | None = None) -> dict[str, Any] | None:
        """Run one command as the controller does; its result, or None if refused."""
        now = datetime.fromtimestamp(t, self.engine.tz)
        ctx = Context(self.engine, self.devices[device], now, self._projected(t), clerk)
        try:
            result = HANDLERS[name](ctx, cmd).model_dump(mode="json")
        except Refused:
            if self.engine.take_events():
                raise RuntimeError(f"{name} refused half-way: the generator's plan is wrong"
                                   ) from None
            return None
        reply = m.Reply(id=cmd.id, ok=True, result=result)
        events = self.engine.take_events()
        if events:
            self.commits.append(Commit(t, events, (device, cmd.id, name, digest(cmd),
                                                   m.encode(reply).decode())))
        return result

    def _projected(self, t: float) -> Projection:
        if self._projection is None or t - self._projection[0] >= REPROJECT_S:
            self._projection = (t, project(self.engine, t))
        return self._projection[1]

    # ------------------------------------------------------------ residents
    def _plan_residents(self) -> None:
        rng = self.rng
        services, weights = list(SHARES), list(SHARES.values())
        for n, t in enumerate(_arrivals(rng, self.open_at, self.per_day)):
            service = rng.choices(services, weights)[0]
            person = hashlib.sha256(f"{self.engine.day}/{n}".encode()).hexdigest()
            u = rng.random()
            if u < BOOKED:
                self._book(t, person, service)
            elif u < BOOKED + STAFF_ISSUED:
                self.at(t, partial(self._staff_issue, service=service))
            else:
                green = u < BOOKED + STAFF_ISSUED + GREEN
                self.at(t, partial(self._swipe, service=service, person=person, green=green))
        for _ in range(rng.randint(0, 4)):
            t = self.open_at + rng.uniform(0, self.last_ticket - self.open_at)
            self.at(t, lambda t: self.command(t, "kiosk-1", "help", m.RequestHelp(
                id=_cid(self.rng))))

    def _book(self, t: float, person: str, service: str) -> None:
        """Booked the evening before (journaled under this day), checked in near the slot."""
        slot = math.floor(min(max(t, self.open_at + 900), self.last_ticket - 600) / 900) * 900
        booked = self.open_at - 3600 * 14 - self.rng.uniform(0, 3600 * 3)
        self.at(booked, lambda t: self.command(t, "upstream", "book", m.BookAppointment(
            id=_cid(self.rng), id_hash=person, service=service,
            slot=datetime.fromtimestamp(slot, self.engine.tz))))
        arrive = slot + self.rng.uniform(-1200, 600)
        self.at(arrive, lambda t: self._swipe(t, service, person, False, appointment=True))

    def _swipe(self, t: float, service: str, person: str, green: bool,
               appointment: bool = False) -> None:
        kiosk = self.rng.choice(("kiosk-1", "kiosk-2"))
        result = self.command(t, kiosk, "issue", m.IssueTicket(
            id=_cid(self.rng), service=service, id_hash=person, green=green,
            appointment=appointment))
        if result is None:
            return
        ticket = result["ticket"]["ticket"]
        if self.rng.random() < VOIDED:
            self.at(t + 4, lambda t: self._void(t, kiosk, ticket))
            return
        self.at(t + self.rng.uniform(1.5, 3.0), lambda t: self._printed(t, kiosk, ticket))

    def _void(self, t: float, kiosk: str, ticket: str) -> None:
        self.command(t, kiosk, "void", m.VoidTicket(id=_cid(self.rng), ticket=ticket,
                                                    reason="printer: paper out"))

    def _printed(self, t: float, kiosk: str, ticket: str) -> None:
        if self.command(t, kiosk, "printed", m.TicketPrinted(id=_cid(self.rng), ticket=ticket)):
            self._joined(t, ticket)

    def _staff_issue(self, t: float, service: str) -> None:
        result = self.command(t, "manager", "issue", m.IssueTicket(
            id=_cid(self.rng), service=service, print_on_kiosk=False))
        if result is not None:
            self._joined(t, result["ticket"]["ticket"])

    def _joined(self, t: float, ticket_id: str) -> None:
        """A ticket now waits: an idle counter serving it calls; a few residents leave."""
        ticket = self.engine.tickets[ticket_id]
        if self.rng.random() < CANCELLED:
            self.at(t + self.rng.uniform(300, 2400), lambda t: self._cancel(t, ticket))
        idle = [self.engine.desks[c] for c in sorted(self.idle)
                if self.engine.desks[c].serves(ticket.service)]
        if idle:
            self._call(t, self.engine.policy.pick_counter(ticket.service, idle).counter_id)

    def _cancel(self, t: float, ticket: Ticket) -> None:
        if ticket.status is m.TicketStatus.WAITING:
            self.command(t, "manager", "cancel", m.CancelTicket(id=_cid(self.rng),
                                                                 ticket=ticket.ticket_id))

    # ------------------------------------------------------------ counters
    def _plan_staff(self) -> None:
        rng = self.rng
        for n, desk in enumerate(self.engine.desks.values()):
            counter = desk.counter_id
            late = rng.random() < 0.1
            arrive = self.open_at + (rng.uniform(600, 5400) if late else -rng.uniform(60, 900))
            self.away.add(counter)
            self.at(arrive, partial(self._sign_in, counter=counter, staff_no=f"S{n + 1:03d}"))
            lunch = self.open_at + rng.uniform(2.75, 4.5) * 3600
            self.at(lunch, partial(self._lunch, counter=counter))
        self.at(self.last_ticket + 1, self._closing_time)

    def _sign_in(self, t: float, counter: str, staff_no: str) -> None:
        self.command(t, self.callers[counter], "sign_in", m.SignIn(
            id=_cid(self.rng), staff_no=staff_no, pin="1234"), clerk=staff_no)
        self._back(t, counter)

    def _back(self, t: float, counter: str) -> None:
        self.away.discard(counter)
        self.idle.add(counter)
        self._call(t, counter)

    def _lunch(self, t: float, counter: str) -> None:
        self._break(t, counter, self.rng.uniform(1800, 3600))

    def _break(self, t: float, counter: str, length: float) -> None:
        """Lunch: the clerk pauses once the resident in hand is done; back after ``length``."""
        if counter in self.away:
            return
        self.lunch[counter] = length
        if counter in self.idle:
            self._call(t, counter)

    def _pause(self, t: float, counter: str) -> None:
        caller = self.callers[counter]
        if self.engine.desks[counter].ticket is not None:
            self.command(t, caller, "done", m.Done(id=_cid(self.rng)))
        self.idle.discard(counter)
        self.away.add(counter)
        self.command(t, caller, "pause", m.Pause(id=_cid(self.rng)))
        self.at(t + self.lunch.pop(counter), lambda t: self._resume(t, counter))

    def _resume(self, t: float, counter: str) -> None:
        self.command(t, self.callers[counter], "resume", m.Resume(id=_cid(self.rng)))
        self._back(t, counter)

    def _closing_time(self, t: float) -> None:
        """No more tickets: each clerk goes once nothing is left for their counter."""
        for counter in self.engine.desks:
            self.leaving.add(counter)
            if counter in self.idle:
                self._call(t, counter)

    def _call(self, t: float, counter: str) -> None:
        """The counter is free: call the next (finishing the one in hand), or go idle."""
        if counter in self.lunch:
            self._pause(t, counter)
            return
        caller = self.callers[counter]
        result = self.command(t, caller, "call_next", m.CallNext(id=_cid(self.rng)))
        called = result["called"] if result is not None else None
        if called is None:  # the call finished the ticket in hand, if any
            self._idle(t, counter)
            return
        self.idle.discard(counter)
        self._serve(t, counter, called["ticket"])

    def _idle(self, t: float, counter: str) -> None:
        """Nobody to call: the clerk tries again in a minute (the policy may have kept the
        waiting for a specialist), or goes home once nobody waits for this counter."""
        desk = self.engine.desks[counter]
        waiting = any(q.size for s, q in self.engine.queues.items() if desk.serves(s))
        if counter in self.leaving and not waiting:
            self.idle.discard(counter)
            self.away.add(counter)
            self.at(t + self.rng.uniform(30, 300), lambda t: self.command(
                t, self.callers[counter], "sign_out", m.SignOut(id=_cid(self.rng))))
            return
        self.idle.add(counter)
        if waiting and desk.clerk is not None:
            self.at(t + 60, lambda t: self._retry(t, counter))

    def _retry(self, t: float, counter: str) -> None:
        if counter in self.idle:
            self._call(t, counter)

    def _serve(self, t: float, counter: str, ticket: str) -> None:
        rng, caller = self.rng, self.callers[counter]
        if rng.random() < NO_SHOW:
            for k in (1, 2):
                self.at(t + 30 * k, lambda t: self.command(t, caller, "recall", m.Recall(
                    id=_cid(self.rng))))
            self.at(t + 90, lambda t: self._no_show(t, counter))
            return
        walk = rng.uniform(15, 60)
        if rng.random() < STARTED:
            self.at(t + walk, lambda t: self.command(t, caller, "start", m.StartService(
                id=_cid(self.rng))))
        mean = self.engine.services[self.engine.tickets[ticket].service].mean_minutes * SPEED
        sigma = 0.5
        length = rng.lognormvariate(math.log(mean) - sigma ** 2 / 2, sigma)
        self.at(t + walk + length, lambda t: self._finish(t, counter, ticket))

    def _no_show(self, t: float, counter: str) -> None:
        self.command(t, self.callers[counter], "no_show", m.NoShow(id=_cid(self.rng)))
        self._call(t, counter)

    def _finish(self, t: float, counter: str, ticket: str) -> None:
        rng, caller = self.rng, self.callers[counter]
        if rng.random() < TRANSFERRED:
            other = rng.choice([s for s in SHARES if s != self.engine.tickets[ticket].service])
            self.command(t, caller, "transfer", m.Transfer(id=_cid(rng), to_service=other))
            self.at(t + 1, lambda t: self._call(t, counter))
            return
        if rng.random() < RATED:
            rating = rng.choices([r for r, _ in RATINGS], [w for _, w in RATINGS])[0]
            self.command(t, caller, "evaluate", m.Evaluate(id=_cid(rng), rating=rating,
                                                           ticket=ticket))
        self.at(t + rng.uniform(2, 20), lambda t: self._call(t, counter))


NOTICES = ("今天下午社保窗口人多，请耐心等候。", "请提前准备好身份证件。",
           "敬老卡业务请到 13 号窗口。")


def _cid(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def _minutes(a: str, b: str) -> float:
    ta, tb = datetime.strptime(a, "%H:%M"), datetime.strptime(b, "%H:%M")
    return (tb - ta).total_seconds() / 60


def _arrivals(rng: random.Random, open_at: float, count: int) -> list[float]:
    """``count`` arrival times from opening to 16:00, following ``PROFILE``."""
    edges = [open_at + _minutes("08:30", hhmm) * 60 for hhmm, _ in PROFILE]
    edges.append(open_at + _minutes("08:30", "16:00") * 60)
    weights = [w * (edges[k + 1] - edges[k]) for k, (_, w) in enumerate(PROFILE)]
    times = []
    for _ in range(count):
        k = rng.choices(range(len(PROFILE)), weights)[0]
        times.append(rng.uniform(edges[k], edges[k + 1] - 1))
    return sorted(times)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.year_history", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=250)
    parser.add_argument("--per-day", type=int, default=2000)
    parser.add_argument("--counters", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="processes playing days")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    spec = Spec(args.days, args.per_day, args.counters, args.seed)
    history = ensure(spec, workers=args.workers,
                     progress=lambda line: print(line, file=sys.stderr, flush=True))
    result = {"journal": str(history.journal), "hall": str(history.hall),
              "first": history.first.isoformat(), "last": history.last.isoformat(),
              "tickets": history.tickets, "events": history.events,
              "bytes": history.journal.stat().st_size,
              "generated_s": history.built_s, "cached": history.built_s is None}
    print(f"generated in {history.built_s} s" if history.built_s is not None
          else f"reused {history.journal}", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
