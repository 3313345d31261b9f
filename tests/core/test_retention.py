"""Residents' hashes are kept only while the hall needs them (issue 16): once a day is over,
no byte of its ID hashes is left in the journal file, its WAL or a backup made after, and the
day still replays; an appointment booked for a later day keeps its hash until its day."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from support.hall import SECRET, SHANGHAI, start_controller, weekday_morning

from broker_config.process import MosquittoProcess
from hall.controller import Controller
from hall.engine.engine import HallEngine
from hall.replies import digest
from protocol import messages as m
from protocol.identity import id_hash
from protocol.link import new_command_id

NUMBERS = ["310104198005170011", "310104195001010027", "11010519491231002X",
           "310115199912310049"]


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), SHANGHAI)


def journal_bytes(controller: Controller) -> bytes:
    """The journal file and its WAL, as they lie on disk."""
    path = controller.journal_path
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def run(controller: Controller, device: str, name: str, command: m.Command) -> m.Reply:
    reply = await controller.execute(name, command, device)
    assert reply.ok, reply.error
    return reply


async def test_a_closed_day_leaves_no_id_hash_in_the_file_and_still_replays(
        fresh_broker: MosquittoProcess, tmp_path: Path) -> None:
    clock = weekday_morning()
    monday = clock.now().date()
    tuesday, wednesday = monday + timedelta(days=1), monday + timedelta(days=2)
    controller = await start_controller(fresh_broker, tmp_path, clock=clock)
    try:
        # Monday: tickets, a green one, lookups, an appointment checked in, and bookings
        # for Tuesday and Wednesday (each hashed with its own day's key by the booking system).
        hashes = [id_hash(SECRET, monday, n) for n in NUMBERS]
        commands: list[m.Command] = []
        for i, h in enumerate(hashes[:3]):
            commands.append(m.Lookup(id=new_command_id(), id_hash=h))
            await run(controller, "kiosk-1", "lookup", commands[-1])
            commands.append(m.IssueTicket(id=new_command_id(), service="A", id_hash=h,
                                          green=i == 1))
            await run(controller, "kiosk-1", "issue", commands[-1])
        await run(controller, "upstream", "book", m.BookAppointment(
            id=new_command_id(), id_hash=hashes[3], service="C", slot=at(monday, 9, 10)))
        await run(controller, "kiosk-2", "issue", m.IssueTicket(
            id=new_command_id(), service="C", id_hash=hashes[3], appointment=True))
        later = {day: id_hash(SECRET, day, NUMBERS[0]) for day in (tuesday, wednesday)}
        for day, h in later.items():
            await run(controller, "upstream", "book", m.BookAppointment(
                id=new_command_id(), id_hash=h, service="C", slot=at(day, 10)))
        digests = [digest(c) for c in commands if isinstance(c, m.IssueTicket)]  # journaled
        before = journal_bytes(controller)
        assert all(h.encode() in before for h in [*hashes, *digests])  # the check can fail

        clock.set(at(tuesday, 9))
        await controller.tick(clock.now())  # the day rolls over: Monday is erased

        after = journal_bytes(controller)
        for h in [*hashes, *digests]:
            assert h.encode() not in after
        assert all(h.encode() in after for h in later.values())  # still to check in
        backup = tmp_path / "after.sqlite3"
        await controller.journal.backup(backup)
        assert not any(h.encode() in backup.read_bytes() for h in hashes)

        # Monday replays, its tickets and channels intact and nobody's hash left.
        replayed = HallEngine(controller.config, monday, SECRET)
        for event in await controller.journal.events_of(monday):
            replayed.apply(event)
        channels = sorted(t.channel.value for t in replayed.tickets.values())
        assert channels == ["appointment", "green", "normal", "normal"]
        assert all(t.id_hash is None for t in replayed.tickets.values())
        assert replayed.appointments == {} and replayed.open_by_person == {}

        # Tuesday's appointment checks in with Tuesday's key, the hash the kiosk makes today.
        clock.set(at(tuesday, 9, 50))
        reply = await run(controller, "kiosk-1", "issue", m.IssueTicket(
            id=new_command_id(), service="C", id_hash=id_hash(SECRET, tuesday, NUMBERS[0]),
            appointment=True))
        assert reply.result is not None and reply.result["ticket"]["channel"] == "appointment"

        # The next day erases Tuesday too, and only now Wednesday's booking is today's.
        clock.set(at(wednesday, 9))
        await controller.tick(clock.now())
        after = journal_bytes(controller)
        assert later[tuesday].encode() not in after and later[wednesday].encode() in after
    finally:
        await controller.stop()


async def test_a_controller_started_days_later_erases_before_it_serves(
        fresh_broker: MosquittoProcess, tmp_path: Path) -> None:
    clock = weekday_morning()
    monday = clock.now().date()
    controller = await start_controller(fresh_broker, tmp_path, clock=clock, staffed=False)
    h = id_hash(SECRET, monday, NUMBERS[0])
    try:
        await run(controller, "kiosk-1", "issue", m.IssueTicket(
            id=new_command_id(), service="A", id_hash=h))
    finally:
        await controller.stop()
    assert h.encode() in journal_bytes(controller)
    later = await start_controller(fresh_broker, tmp_path, staffed=False,
                                   clock=type(clock)(at(monday + timedelta(days=3), 7)))
    try:
        assert h.encode() not in journal_bytes(later)
        assert len(await later.journal.events_of(monday)) > 0
    finally:
        await later.stop()


async def test_debug_logs_hold_no_id_hash_nor_status_token(
        fresh_broker: MosquittoProcess, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    clock = weekday_morning()
    h = id_hash(SECRET, clock.now().date(), NUMBERS[1])
    controller = await start_controller(fresh_broker, tmp_path, clock=clock)
    try:
        reply = await run(controller, "kiosk-1", "issue", m.IssueTicket(
            id=new_command_id(), service="A", id_hash=h))
        assert reply.result is not None
        ticket = controller.engine.tickets[reply.result["ticket"]["ticket"]]
        await run(controller, "kiosk-1", "printed", m.TicketPrinted(
            id=new_command_id(), ticket=ticket.ticket_id))
        await run(controller, "kiosk-1", "lookup", m.Lookup(id=new_command_id(), id_hash=h))
        clock.advance(86_400)
        await controller.tick(clock.now())  # the roll-over and the erasure log too
    finally:
        await controller.stop()
    assert logging.getLogger("hall.controller").isEnabledFor(logging.DEBUG)
    assert any("erased" in r.getMessage() for r in caplog.records)  # the log was caught
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert h not in text and ticket.token not in text
