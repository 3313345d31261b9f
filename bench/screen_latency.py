"""Press-to-screen latency: a clerk's call key on GPIO -> the lobby wall's current-call label.

The whole chain is real: a Keypad on gpiozero's MockFactory, the caller's MQTT link, a
real Mosquitto, the real Controller in its own process (``python -m hall``, journal commit
before the reply), the display's link and feed, and the lobby screen in a real Kivy window
rendered offscreen on the same asyncio loop. The clock stops when the label's ``text``
property changes (a Kivy binding, timestamped with ``time.perf_counter()``);
``press_to_frame_ms`` goes on to the end of the next frame Kivy draws and flips after it.

``python -m bench.screen_latency [--presses N] --json``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.machine import machine, percentile
from broker_config.process import MosquittoProcess
from demo.devices import CLERK_PIN
from demo.hallfiles import write_hall_config
from demo.processes import ControllerProcess
from display.feed import DisplayFeed
from display.model import DisplayModel
from display.settings import LOBBY_SIZE, Mode, ScreenSettings
from display.window import prepare_kivy
from hallconfig import load_hall_config
from hardware.gpio import Action, Keypad, KeypadPins, ManualClock, mock_factory, press
from protocol import messages as m
from protocol.link import Link, new_command_id

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
HALL_CONFIG = ROOT / "examples" / "hall.toml"
HALL = "tianping"
COUNTER = "3"
CLERK = "S003"  # the example hall's clerk at window 3
WAIT_S = 5.0
STARTUP_S = 30.0  # the controller process starting on a busy machine


@dataclass
class Stopwatch:
    """Timestamps of the label's changes and of the frames drawn after them."""

    changes: asyncio.Queue[tuple[str, float]] = field(default_factory=asyncio.Queue)
    frames: asyncio.Queue[float] = field(default_factory=asyncio.Queue)
    waiting_for_frame: bool = False

    def label_changed(self, _label: Any, text: str) -> None:
        """The label's text changed (Kivy calls this at once)."""
        self.waiting_for_frame = True
        self.changes.put_nowait((text, time.perf_counter()))

    def frame_flipped(self, *_: Any) -> None:
        """A frame went to the screen."""
        if self.waiting_for_frame:
            self.waiting_for_frame = False
            self.frames.put_nowait(time.perf_counter())


async def measure_press_to_screen(broker: MosquittoProcess, presses: int) -> dict[str, Any]:
    """Press 'next' ``presses`` times; p50/p99/max of press -> label (and -> drawn frame), ms."""
    with tempfile.TemporaryDirectory(prefix="screen-latency-") as tmp:
        prepare_kivy(LOBBY_SIZE, headless=True, home=Path(tmp) / "kivy")
        hall = write_hall_config(Path(tmp) / "hall", broker, source=HALL_CONFIG, all_day=True)
        controller = ControllerProcess(hall, Path(tmp) / "controller.log")
        controller.start()
        try:
            return await _with_display(broker, presses)
        finally:
            controller.stop()


async def _issue_tickets(broker: MosquittoProcess, count: int) -> None:
    """Staff-issued tickets for every item (window 3 serves them all), within the quotas."""
    async with Link(broker.broker_settings("manager"), HALL, "manager", m.Role.MANAGER) as desk:
        for n in range(count):
            command = m.IssueTicket(id=new_command_id(), service="ABCDEFG"[n % 7],
                                    print_on_kiosk=False)
            reply = await desk.request("issue", command, timeout=WAIT_S)
            if not reply.ok:
                raise RuntimeError(f"could not issue a ticket: {reply.error}")


async def _with_display(broker: MosquittoProcess, presses: int) -> dict[str, Any]:
    from kivy.core.window import Window

    from display.app import DisplayApp

    model = DisplayModel()
    feed = DisplayFeed.connect_to(broker.broker_settings("display-lobby"), HALL,
                                  "display-lobby", model)
    app = DisplayApp(ScreenSettings(mode=Mode.LOBBY, voice=False, fullscreen=False), model)
    feed.on_change(app.refresh)
    started = asyncio.Event()
    app.bind(on_start=lambda *_: started.set())
    running = asyncio.create_task(app.async_run(async_lib="asyncio"))
    caller = Link(broker.broker_settings(f"caller-{COUNTER}"), HALL, f"caller-{COUNTER}",
                  m.Role.CALLER)
    try:
        await asyncio.wait_for(started.wait(), WAIT_S)
        await feed.start(wait=WAIT_S)
        await feed.wait_until(lambda seen: not seen.offline and COUNTER in seen.counters,
                              STARTUP_S)
        await _issue_tickets(broker, presses + 1)
        await caller.start(wait=WAIT_S)
        signed_in = await caller.request("sign_in", m.SignIn(  # a window calls with a clerk
            id=new_command_id(), staff_no=CLERK, pin=CLERK_PIN), timeout=WAIT_S)
        if not signed_in.ok:
            raise RuntimeError(f"the clerk could not sign in: {signed_in.error}")
        watch = Stopwatch()
        assert app.view is not None
        app.view.ids.current_number.bind(text=watch.label_changed)
        Window.bind(on_flip=watch.frame_flipped)
        to_label, to_frame = await _press(caller, watch, presses)
    finally:
        app.stop()
        await asyncio.wait_for(running, WAIT_S)
        await caller.close()
        await feed.close()
    return {**_summary(to_label), "press_to_frame_ms": _summary(to_frame),
            "missed_calls": model.missed_calls}


async def _press(caller: Link, watch: Stopwatch, presses: int) -> tuple[list[float], list[float]]:
    """Press the keypad's next key, one press at a time, and time each change on screen."""
    loop = asyncio.get_running_loop()
    replies: asyncio.Queue[m.Reply] = asyncio.Queue()
    keypad_factory, keypad_clock = mock_factory(), ManualClock()
    pins = KeypadPins()
    keypad = Keypad(pins, keypad_factory, keypad_clock)
    keypad.on_action(_call_next_on(loop, caller, replies))
    to_label, to_frame = [], []
    try:
        for _ in range(presses):
            start = time.perf_counter()
            press(keypad_factory, pins.next, keypad_clock)
            number, changed = await asyncio.wait_for(watch.changes.get(), WAIT_S)
            drawn = await asyncio.wait_for(watch.frames.get(), WAIT_S)
            reply = await asyncio.wait_for(replies.get(), WAIT_S)
            if not reply.ok or reply.result is None:
                raise RuntimeError(f"call_next refused: {reply.error}")
            called = reply.result.get("called") or {}
            if called.get("number") != number:
                raise RuntimeError(f"the screen shows {number}, the controller called {called}")
            to_label.append((changed - start) * 1000)
            to_frame.append((drawn - start) * 1000)
    finally:
        keypad.close()
    return to_label, to_frame


def _call_next_on(loop: asyncio.AbstractEventLoop, caller: Link,
                  replies: asyncio.Queue[m.Reply]) -> Callable[[Action], None]:
    """The keypad's listener (on the pin's thread): send call_next from the loop."""
    async def call_next() -> None:
        replies.put_nowait(await caller.request("call_next", m.CallNext(id=new_command_id())))

    def on_action(action: Action) -> None:
        if action is Action.NEXT:
            loop.call_soon_threadsafe(lambda: loop.create_task(call_next()))

    return on_action


def _summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 50), 2), "p99": round(percentile(values, 99), 2),
            "max": round(max(values, default=0.0), 2), "n": len(values)}


def measure(workdir: Path, presses: int) -> dict[str, Any]:
    """Start a broker in ``workdir`` and measure there (for bench.latency)."""
    broker = MosquittoProcess(load_hall_config(HALL_CONFIG), workdir / "broker")
    broker.start()
    try:
        return asyncio.run(measure_press_to_screen(broker, presses))
    finally:
        broker.stop()


def main() -> None:
    """Run the benchmark alone and print its figures (last line: JSON)."""
    parser = argparse.ArgumentParser(prog="python -m bench.screen_latency",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=200, help="key presses to time")
    parser.add_argument("--json", action="store_true", help="print only one JSON line")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="lobby-screen-") as tmp:
        figures = measure(Path(tmp), args.presses)
    result = {"press_to_screen_ms": figures, "presses": args.presses, "machine": machine()}
    if not args.json:
        for key, value in result.items():
            print(f"{key:>20}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
