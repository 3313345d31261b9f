"""A broker killed with -9 hands back its last saved retained state: no display may show an
older call as current, whether it starts afresh or was running all along."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.broker import connect
from support.hall import start_controller

import hall.controller
from broker_config.process import MosquittoProcess
from display.feed import DisplayFeed
from display.model import DisplayModel
from hall.controller import Controller
from protocol import messages as m
from protocol.link import new_command_id
from protocol.topics import CONTROLLER_ID, HallTopics, StateKind, parse

HALL = "tianping"
TOPICS = HallTopics(HALL)
SAVED = "Saving in-memory database"
WAIT_S = 10.0


async def called(controller: Controller, count: int) -> None:
    """Issue ``count`` tickets of service A and call each at window 1 in turn."""
    for _ in range(count):
        issued = await controller.execute(
            "issue", m.IssueTicket(id=new_command_id(), service="A"), "kiosk-1")
        assert issued.ok and issued.result is not None, issued.error
        ticket = issued.result["ticket"]["ticket"]
        printed = await controller.execute(
            "printed", m.TicketPrinted(id=new_command_id(), ticket=ticket), "kiosk-1")
        assert printed.ok, printed.error
        call = await controller.execute("call_next", m.CallNext(id=new_command_id()), "caller-1")
        assert call.ok, call.error


def showing(number: str) -> object:
    """A predicate: window 1 and the newest call both show ``number``."""
    def ready(model: DisplayModel) -> bool:
        counter = model.counters.get("1")
        return (counter is not None and counter.number == number
                and model.current is not None and model.current.number == number)
    return ready


async def display(broker: MosquittoProcess) -> DisplayFeed:
    feed = DisplayFeed.connect_to(broker.broker_settings("display-lobby"), HALL, "display-lobby")
    await feed.start(wait=WAIT_S)
    return feed


async def saved_now(broker: MosquittoProcess) -> None:
    """Make the broker save its store now (SIGUSR1), as its periodic autosave would, and
    wait until its log says it did."""
    before = broker.log_path.read_text(encoding="utf-8").count(SAVED)
    assert broker.pid is not None
    os.kill(broker.pid, signal.SIGUSR1)
    async with asyncio.timeout(WAIT_S):
        while broker.log_path.read_text(encoding="utf-8").count(SAVED) <= before:
            await asyncio.sleep(0.02)  # polling the log: the broker tells nothing else


def retained_presence(broker: MosquittoProcess) -> m.Presence:
    client = connect(broker.broker_settings("display-lobby"), client_id="presence-probe")
    try:
        client.subscribe(TOPICS.presence(CONTROLLER_ID))
        message = client.wait_message(TOPICS.presence(CONTROLLER_ID))
        return m.decode(m.Presence, message.payload)
    finally:
        client.close()


async def test_a_sign_started_after_a_kill_nine_shows_the_true_current_call(
        fresh_broker: MosquittoProcess, tmp_path: Path, controller: Controller) -> None:
    """The vendor's case: saved at A002 (the periodic save), A003 called, controller
    stopped, broker killed with -9 and restarted: its store says A002 and 'online'. A sign
    started now shows that picture only as not live, until the controller is back and it
    shows A003 live."""
    watcher = await display(fresh_broker)
    await called(controller, 2)
    await watcher.wait_until(showing("A002"), WAIT_S)
    await saved_now(fresh_broker)  # the last periodic save (up to 60 s old)
    await called(controller, 1)
    await watcher.wait_until(showing("A003"), WAIT_S)
    await controller.stop()
    await watcher.wait_until(lambda model: not model.controller_online, WAIT_S)
    await watcher.close()

    fresh_broker.kill()
    fresh_broker.start()
    assert retained_presence(fresh_broker).state is m.PresenceState.ONLINE  # the old save
    sign = await display(fresh_broker)
    live_pictures: list[tuple[str | None, str | None]] = []  # (window 1, current call)

    def picture() -> None:
        model = sign.model
        if not model.offline:
            counter = model.counters.get("1")
            live_pictures.append((counter.number if counter else None,
                                  model.current.number if model.current else None))

    sign.on_change(picture)
    try:
        await sign.wait_until(lambda model: model.controller_online and "1" in model.counters
                              and model.current is not None, WAIT_S)
        assert sign.model.counters["1"].number == "A002"  # the save's stale picture...
        assert sign.model.offline  # ...never shown as live
        back = await start_controller(fresh_broker, tmp_path, staffed=False)
        try:
            await sign.wait_until(lambda model: not model.offline and showing("A003")(model),
                                  WAIT_S)
        finally:
            await back.stop()
    finally:
        await sign.close()
    assert live_pictures and all("A002" not in shown for shown in live_pictures), live_pictures


async def test_a_running_sign_never_goes_back_to_an_older_save(
        fresh_broker: MosquittoProcess, tmp_path: Path, controller: Controller) -> None:
    """The broker saves only every 60 s: back from a kill -9 it has window 1 at A002; the
    sign that already showed A003 never shows A002 again, and takes the controller's state
    when it is back."""
    assert "autosave_on_changes false\nautosave_interval 60\n" in fresh_broker.files.conf.read_text(
        encoding="utf-8")
    sign = await display(fresh_broker)
    shown: list[str | None] = []

    def window_1() -> None:
        counter = sign.model.counters.get("1")
        shown.append(counter.number if counter else None)

    sign.on_change(window_1)
    try:
        await called(controller, 2)
        await sign.wait_until(showing("A002"), WAIT_S)
        await saved_now(fresh_broker)
        await called(controller, 1)
        await sign.wait_until(showing("A003"), WAIT_S)
        await controller.stop()
        fresh_broker.kill()
        fresh_broker.start()
        await sign.wait_until(lambda model: model.stale_dropped > 0
                              or model.counters["1"].number != "A003", WAIT_S)
        assert sign.model.counters["1"].number == "A003"
        back = await start_controller(fresh_broker, tmp_path, staffed=False)
        try:
            await sign.wait_until(lambda model: not model.offline, WAIT_S)
            await called(back, 1)
            await sign.wait_until(showing("A004"), WAIT_S)
        finally:
            await back.stop()
    finally:
        await sign.close()
    after_a003 = shown[shown.index("A003"):]
    assert "A002" not in after_a003, shown


async def test_a_sign_started_in_a_quiet_hall_goes_live_on_the_controllers_tick(
        fresh_broker: MosquittoProcess, controller: Controller,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing happens in the hall: the sign goes live on the presence the controller's tick
    republishes (every 10 s; here every tick, to keep the test short)."""
    await called(controller, 1)
    sign = await display(fresh_broker)
    try:
        await sign.wait_until(lambda model: model.controller_online and showing("A001")(model),
                              WAIT_S)
        assert sign.model.offline  # the retained state alone
        monkeypatch.setattr(hall.controller, "PRESENCE_EVERY_S", 0.0)
        await sign.wait_until(lambda model: not model.offline, WAIT_S)
    finally:
        await sign.close()


async def test_rev_survives_a_controller_restart(fresh_broker: MosquittoProcess,
                                                 tmp_path: Path) -> None:
    """rev counts the day's committed events in the journal: a restarted controller goes on
    from where it was, and its first snapshots are not older than its last ones."""
    first = await start_controller(fresh_broker, tmp_path)
    sign = await display(fresh_broker)
    try:
        await called(first, 2)
        await sign.wait_until(showing("A002"), WAIT_S)
        before = sign.model.counters["1"].rev
        assert before == first.rev > 0
        await first.stop()
        second = await start_controller(fresh_broker, tmp_path, staffed=False)
        try:
            assert second.rev == before
            await called(second, 1)
            await sign.wait_until(showing("A003"), WAIT_S)
            assert sign.model.counters["1"].rev > before
        finally:
            await second.stop()
    finally:
        await sign.close()


def snapshot(number: str, rev: int) -> m.CounterState:
    return m.CounterState(counter="1", name="1号窗口", status=m.CounterStatus.OPEN,
                          services=["*"], ticket=f"20261123-{number}", number=number,
                          ticket_status=m.TicketStatus.CALLED,
                          updated=datetime(2026, 11, 23, 9, tzinfo=ZoneInfo("Asia/Shanghai")),
                          day="2026-11-23", rev=rev)


@pytest.mark.parametrize(("retained", "taken"), [(True, False), (False, True)])
def test_a_live_snapshot_is_current_at_any_rev_a_retained_older_one_is_not(
        retained: bool, taken: bool) -> None:
    """A controller on another journal publishes lower revs live: they are current. A
    retained one below the floor is the broker's old save, even after a live 'online'."""
    model = DisplayModel()
    counter = parse(TOPICS.state(StateKind.COUNTER, "1"))
    presence = parse(TOPICS.presence(CONTROLLER_ID))
    model.fold(counter, snapshot("A003", 12), 0.0)
    model.fold(presence, m.Presence(state=m.PresenceState.ONLINE, role=m.Role.CONTROLLER), 0.0)
    assert model.fold(counter, snapshot("A001", 2), 0.0, retained).changed is taken
    assert model.counters["1"].number == ("A001" if taken else "A003")
