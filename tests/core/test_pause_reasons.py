"""Pause reasons: a window pauses for lunch, a meeting, a system down…; the reason is
journaled, replays, shows in the counter's snapshot, may change while paused without
restarting the pause's clock, and is gone on resume. Journals of old (no reason) replay."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.hall import SECRET, hall_config, start_controller, weekday_morning

from broker_config.process import MosquittoProcess
from hall.controller import Controller
from hall.engine.engine import HallEngine
from hall.engine.events import CounterStatusSet, Kind, event_from_row
from hall.snapshots import counter_state
from protocol import messages as m
from protocol.link import new_command_id


async def pause(controller: Controller, reason: str, device: str = "caller-3") -> m.Reply:
    return await controller.execute(
        "pause", m.Pause(id=new_command_id(), reason=m.PauseReason(reason)), device)


@pytest.mark.parametrize("reason", list(m.PauseReason))
async def test_each_reason_is_journaled_shown_and_replayed(
        fresh_broker: MosquittoProcess, tmp_path: Path, reason: m.PauseReason) -> None:
    controller = await start_controller(fresh_broker, tmp_path)
    try:
        reply = await pause(controller, reason.value)
        assert reply.ok, reply.error
        shown = reply.result_as(m.CounterResult).counter
        assert shown.status is m.CounterStatus.PAUSED and shown.pause_reason is reason
        events = await controller.journal.events_of(controller.engine.day)
        replayed = HallEngine(controller.config, controller.engine.day, SECRET)
        for event in events:
            replayed.apply(event)
        assert replayed.desks["3"].pause_reason == reason.value
    finally:
        await controller.stop()


async def test_a_new_reason_while_paused_keeps_the_pause_clock_and_resume_clears_it(
        fresh_broker: MosquittoProcess, tmp_path: Path) -> None:
    clock = weekday_morning()
    controller = await start_controller(fresh_broker, tmp_path, clock)
    try:
        began = (await pause(controller, "lunch")).result_as(m.CounterResult).counter.since
        clock.advance(600)
        again = (await pause(controller, "meeting")).result_as(m.CounterResult).counter
        assert again.pause_reason is m.PauseReason.MEETING and again.since == began
        same = await pause(controller, "meeting")  # nothing new: no event
        assert same.ok
        kinds = [e.data.reason for e in await controller.journal.events_of(
            controller.engine.day) if isinstance(e.data, CounterStatusSet)
            and e.data.counter == "3"]
        assert kinds == ["lunch", "meeting"]
        resumed = await controller.execute("resume", m.Resume(id=new_command_id()), "caller-3")
        assert resumed.result_as(m.CounterResult).counter.pause_reason is None
    finally:
        await controller.stop()


def test_a_pause_without_a_reason_in_an_old_journal_replays() -> None:
    config = hall_config()
    engine = HallEngine(config, weekday_morning().now().date(), SECRET)
    engine.apply(event_from_row(1, Kind.COUNTER_STATUS, 1.0,
                                '{"counter": "3", "status": "paused"}'))
    desk = engine.desks["3"]
    assert desk.status is m.CounterStatus.PAUSED and desk.pause_reason is None
    assert counter_state(engine, desk, weekday_morning().now()).pause_reason is None


def test_an_unknown_reason_is_refused_naming_it() -> None:
    raw = m.encode(m.Pause(id=new_command_id())).replace(b'"reason":"other"', b'"reason":"nap"')
    with pytest.raises(m.PayloadError, match="reason"):
        m.decode(m.Pause, raw)
