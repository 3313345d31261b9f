"""The GPIO caller end to end: gpiozero MockFactory presses -> real broker -> real controller.

The caller runs as ``CallerApp`` on examples/caller-3.toml (pins and all), pointed at a broker
of the test's own; a display-role link sees the calls, a manager-role link the alerts, and the
controller's journal holds the ratings.
"""

from __future__ import annotations

import asyncio
import json
import tomllib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support.hall import start_controller

from broker_config.process import MosquittoProcess
from caller.app import CallerApp
from caller.session import BEEP_HOLD, BEEP_NO_ANSWER, Lights
from caller.settings import CallerSettings
from hall.controller import Controller
from hardware.gpio import ManualClock, WindowState, mock_factory, press
from protocol import messages as m
from protocol.link import Inbound, Link, new_command_id
from protocol.topics import EventKind, StateKind

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "caller-3.toml"
NEXT, RECALL, NO_SHOW, TRANSFER, PAUSE, DONE = 5, 6, 13, 19, 26, 12
GREEN, AMBER, RED = 17, 27, 22
VERY_SATISFIED, VERY_DISSATISFIED, PLEASE_RATE = 23, 20, 21
WAIT_S = 10.0


def caller_settings(broker: MosquittoProcess, **counter: Any) -> CallerSettings:
    """examples/caller-3.toml, pointed at this broker."""
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    raw["broker"] = broker.broker_settings("caller-3").model_dump()
    raw["counter"].update(counter)
    return CallerSettings.model_validate(raw)


@dataclass
class Window:
    """Window 3 of the example hall: its caller on mock pins, and the hall around it."""

    broker: MosquittoProcess
    controller: Controller
    app: CallerApp
    clock: ManualClock = field(default_factory=ManualClock)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.factory = self.app.factory
        self.app.station.on_change(self.changed.set)

    def press(self, pin: int, held_s: float = 0.1) -> None:
        press(self.factory, pin, self.clock, held_s=held_s)

    def lit(self, pin: int) -> bool:
        return bool(self.factory.pin(pin).state)

    @property
    def lights(self) -> Lights:
        return self.app.station.session.lights

    def told(self, start: str) -> bool:
        """Whether the window's last outcome begins with ``start``."""
        last = self.app.station.last
        return last is not None and last.text.startswith(start)

    async def until(self, ready: Callable[[], bool], timeout: float = WAIT_S) -> None:
        """Wait for the station to reach a condition, woken by each change it reports."""
        async with asyncio.timeout(timeout):
            while not ready():
                self.changed.clear()
                await self.changed.wait()

    async def issue(self, service: str = "A") -> str:
        reply = await self.controller.execute(
            "issue", m.IssueTicket(id=new_command_id(), service=service))
        assert reply.ok and reply.result is not None, reply
        return str(reply.result["ticket"]["ticket"])

    async def rated(self) -> list[dict[str, Any]]:
        rows = await self.controller.journal.query(
            "SELECT data FROM events WHERE kind = 'rated' ORDER BY seq")
        return [json.loads(row[0]) for row in rows]


async def follower(broker: MosquittoProcess, device: str, role: m.Role,
                   topic: str, ready_topic: str) -> tuple[Link, asyncio.Queue[m.Message]]:
    """A link that queues what arrives on ``topic``; it returns once the retained
    ``ready_topic`` came in, which proves the subscription is active."""
    link = Link(broker.broker_settings(device), "tianping", device, role,
                follow=[topic, ready_topic])
    received: asyncio.Queue[m.Message] = asyncio.Queue()
    ready = asyncio.Event()

    def on_message(inbound: Inbound) -> None:
        if str(inbound.topic) == ready_topic:
            ready.set()
        elif inbound.payload is not None:
            received.put_nowait(inbound.payload)

    link.on_message(on_message)
    await link.start()
    await asyncio.wait_for(ready.wait(), WAIT_S)
    return link, received


@pytest.fixture
async def window(fresh_broker: MosquittoProcess, tmp_path: Path) -> AsyncIterator[Window]:
    controller = await start_controller(fresh_broker, tmp_path)
    clock = ManualClock()
    factory = mock_factory()
    app = CallerApp(caller_settings(fresh_broker, request_timeout_s=2.0, attempts=2),
                    factory=factory, clock=clock)
    await app.start()
    window = Window(fresh_broker, controller, app, clock)
    try:
        session = app.station.session
        await window.until(lambda: session.controller_online and session.state is not None)
        assert window.lights is Lights.OFFLINE  # the retained 'online' alone is not enough
        controller.republish_presence()  # as its tick does every 10 s
        await window.until(lambda: window.lights is Lights.IDLE)
        yield window
    finally:
        await app.stop()
        await window.controller.stop()
        factory.reset()


async def test_a_keypad_press_calls_the_next_resident_on_the_lobby_display(
        window: Window) -> None:
    ticket = await window.issue("A")
    topics = window.app.station.link.topics
    display, calls = await follower(window.broker, "display-lobby", m.Role.DISPLAY,
                                    topics.event(EventKind.CALL), topics.state(StateKind.CALLS))
    try:
        assert not window.lit(GREEN)
        window.press(NEXT)
        call = await asyncio.wait_for(calls.get(), WAIT_S)
        assert isinstance(call, m.CallEvent)
        assert (call.ticket, call.number, call.counter, call.recall) == (ticket, "A001", "3",
                                                                         False)
        await window.until(lambda: window.told("called A001"))
        assert window.lights is Lights.SERVING
        assert (window.lit(GREEN), window.lit(AMBER), window.lit(RED)) == (True, False, False)

        window.press(RECALL)
        recall = await asyncio.wait_for(calls.get(), WAIT_S)
        assert isinstance(recall, m.CallEvent) and recall.recall and recall.number == "A001"
    finally:
        await display.close()


async def test_the_lights_follow_pause_and_resume(window: Window) -> None:
    window.press(PAUSE)
    await window.until(lambda: window.told("paused"))
    assert window.lights is Lights.PAUSED
    assert (window.lit(GREEN), window.lit(AMBER), window.lit(RED)) == (False, True, False)
    assert window.controller.engine.desks["3"].status is m.CounterStatus.PAUSED

    window.press(PAUSE)
    await window.until(lambda: window.told("resumed"))
    assert window.lights is Lights.IDLE
    assert (window.lit(GREEN), window.lit(AMBER), window.lit(RED)) == (False, False, False)
    assert window.controller.engine.desks["3"].status is m.CounterStatus.OPEN


async def test_the_red_light_blinks_while_the_broker_is_down(window: Window) -> None:
    await window.issue("A")
    window.press(NEXT)
    await window.until(lambda: window.told("called"))

    window.broker.kill()
    await window.until(lambda: window.lights is Lights.OFFLINE)
    assert window.app.devices is not None
    assert window.app.devices.lights.state is WindowState.OFFLINE
    assert not window.lit(GREEN) and not window.lit(AMBER)

    window.broker.restart()
    await window.until(lambda: window.lights is Lights.SERVING, timeout=20)
    assert window.lit(GREEN) and not window.lit(RED)


async def test_a_rating_after_done_is_journalled_with_ticket_counter_and_clerk(
        window: Window) -> None:
    signed_in = await window.app.station.sign_in("S003", "1234")
    assert signed_in.ok, signed_in.text
    ticket = await window.issue("B")
    window.press(NEXT)
    await window.until(lambda: window.told("called"))
    assert not window.lit(PLEASE_RATE)

    window.press(DONE)
    await window.until(lambda: window.told("B001 done"))
    assert window.lights is Lights.IDLE
    assert window.lit(PLEASE_RATE)
    assert await window.rated() == []

    window.press(VERY_SATISFIED)
    await window.until(lambda: window.told("rated"))
    assert not window.lit(PLEASE_RATE)
    assert await window.rated() == [
        {"ticket": ticket, "counter": "3", "clerk": "S003", "rating": 5}]


async def test_a_bad_rating_raises_an_alert_for_the_manager(window: Window) -> None:
    topics = window.app.station.link.topics
    manager, alerts = await follower(window.broker, "manager", m.Role.MANAGER,
                                     topics.event(EventKind.ALERT), topics.state(StateKind.HALL))
    try:
        ticket = await window.issue("A")
        window.press(NEXT)
        await window.until(lambda: window.told("called"))
        window.press(DONE)
        await window.until(lambda: window.told("A001 done"))
        assert window.lit(PLEASE_RATE)
        window.press(VERY_DISSATISFIED)
        alert = await asyncio.wait_for(alerts.get(), WAIT_S)
        assert isinstance(alert, m.Alert)
        assert (alert.kind, alert.subject) == (m.AlertKind.BAD_RATING, f"3:{ticket}")
        assert [r["rating"] for r in await window.rated()] == [1]
    finally:
        await manager.close()


async def test_no_show_acts_only_when_held(window: Window) -> None:
    ticket = await window.issue("A")
    window.press(NEXT)
    await window.until(lambda: window.told("called"))

    window.press(NO_SHOW, held_s=0.2)
    await window.until(lambda: window.app.station.last is not None
                       and window.app.station.last.beeps == BEEP_HOLD)
    assert window.controller.engine.tickets[ticket].status is m.TicketStatus.CALLED

    window.press(NO_SHOW, held_s=1.0)
    await window.until(lambda: window.told("no-show"))
    assert window.lights is Lights.IDLE
    assert window.controller.engine.tickets[ticket].status is m.TicketStatus.NO_SHOW


async def test_a_held_transfer_puts_the_ticket_back_at_the_front_of_its_queue(
        window: Window) -> None:
    first = await window.issue("A")
    window.press(NEXT)
    await window.until(lambda: window.told("called"))
    await window.issue("A")

    window.press(TRANSFER, held_s=1.0)
    await window.until(lambda: window.told("A001 back to the front of queue A"))
    assert window.lights is Lights.IDLE
    engine = window.controller.engine
    assert engine.tickets[first].status is m.TicketStatus.WAITING
    assert engine.queues["A"].head(m.Channel.NORMAL) is engine.tickets[first]


async def test_silence_beeps_three_times_and_a_press_given_up_never_runs_later(
        window: Window, fresh_broker: MosquittoProcess, tmp_path: Path) -> None:
    """The clerk heard "no answer": the press must not call anyone when the controller
    returns (its tries expired at the broker); the next press calls exactly once."""
    await window.issue("A")
    await window.controller.stop()
    await window.until(lambda: window.lights is Lights.OFFLINE)

    window.press(NEXT)
    await window.until(lambda: window.app.station.last is not None
                       and window.app.station.last.beeps == BEEP_NO_ANSWER)
    assert window.app.devices is not None
    assert window.app.devices.lights.state is WindowState.OFFLINE

    window.controller = await start_controller(fresh_broker, tmp_path)
    await window.until(lambda: window.lights is Lights.IDLE)
    window.press(NEXT)
    await window.until(lambda: window.lights is Lights.SERVING)
    rows = await window.controller.journal.query(
        "SELECT count(*) FROM events WHERE kind = 'ticket_called'")
    assert rows == [(1,)]
    commands = await window.controller.journal.query(
        "SELECT count(*) FROM replies WHERE name = 'call_next'")
    assert commands == [(1,)]
