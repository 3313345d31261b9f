"""The controller starts from today's journal whatever it holds (a counter and a service
removed, a prefix renamed, a quota changed since it was written), goes on without reusing
a number, closes the day by itself, and a restart after the close rebuilds the same hall."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import pytest
from support.dayplay import Day, renamed, state_of, with_quota, without_counters, without_services
from support.hall import hall_config, start_controller, weekday_morning

from broker_config.process import MosquittoProcess
from hall.clock import VirtualClock
from hall.engine.events import DayEnded, Kind, TicketClosed
from hall.journal import Journal
from protocol import messages as m
from protocol.link import new_command_id


async def write_journal(path: Path, day: Day) -> None:
    journal = await Journal.open(path)
    try:
        await journal.commit(day.engine.day, day.now, day.events)
    finally:
        await journal.close()


async def test_a_journal_of_another_config_starts_the_hall_and_the_day_closes_itself(
        fresh_broker: MosquittoProcess, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    config = hall_config()
    day = Day(config, weekday_morning().now(), 21)
    day.until(day.now + 3 * 3600)
    for counter, clerk in (("12", "S012"), ("11", "S011")):
        day.act("set_counter_status", counter, m.CounterStatus.OPEN)
        day.act("set_counter_services", counter, ["*"])
        day.act("sign_in", counter, clerk)
        for service in ("C", "E"):
            day.act("set_intake", service, True)
            day.act("issue", service, pending_print=False)
        day.act("call_next", counter)
    day.act("set_intake", "A", True)
    assert day.engine.queues["A"].issued > 1
    await write_journal(tmp_path / "journal.sqlite3", day)
    changed = with_quota(renamed(without_services(without_counters(config, "12"), "C"),
                                 {"E": "H"}), "A", 1)
    clock = VirtualClock(datetime.fromtimestamp(day.now + 60, day.engine.tz))
    caplog.set_level(logging.WARNING, "hall.engine.fold")
    controller = await start_controller(fresh_broker, tmp_path, clock, changed)
    try:
        said = " ".join(r.getMessage() for r in caplog.records if r.name == "hall.engine.fold")
        for name in ("counter '12'", "service 'C'", "service 'E'"):
            assert name in said
        engine = controller.engine
        assert set(engine.tickets) == set(day.engine.tickets)
        reply = await controller.execute("issue", m.COMMANDS["issue"](
            id=new_command_id(), service="H"))
        assert reply.ok and reply.result["ticket"]["number"] == "H001", reply
        refused = await controller.execute("issue", m.COMMANDS["issue"](
            id=new_command_id(), service="A"))
        assert not refused.ok and refused.error.code is m.ErrorCode.QUOTA_EXHAUSTED
        assert engine.close_at is not None
        clock.set(datetime.fromtimestamp(engine.close_at + 3 * 3600, engine.tz))
        open_before = {t.ticket_id for t in engine.tickets.values() if t.is_open}
        assert open_before
        await controller.tick(clock.now())
        assert engine.ended
        events = await controller.journal.events_of(engine.day)
        closed = {e.data.ticket for e in events if isinstance(e.data, TicketClosed)}
        assert closed == open_before
        assert events[-1].kind is Kind.DAY_ENDED and events[-1].data == DayEnded(auto=True)
        before = state_of(engine)
    finally:
        await controller.stop()
    again = await start_controller(fresh_broker, tmp_path, clock, changed)
    try:
        assert state_of(again.engine) == before
    finally:
        await again.stop()
