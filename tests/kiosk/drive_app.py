"""Run the real KioskApp headless against a broker and touch one ticket through it.

Used by test_screens_kiosk_app.py in a child process (Kivy closes its window when an app stops,
so the app gets a process of its own). Arguments: PORT PASSWORD SECRET_HEX ISO_TIME.
Prints one JSON line: the phases seen, the ticket number shown, the tickets printed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime

from kiosk import kivy_env

kivy_env.prepare(kivy_env.window_size("landscape"), headless=True)

from kivy.clock import Clock  # noqa: E402
from kivy.tests.common import UnitTestTouch  # noqa: E402
from kivy.uix.label import Label  # noqa: E402
from kivy.uix.widget import Widget  # noqa: E402

from hardware.idcard import SimulatedCardReader  # noqa: E402
from hardware.printer import SimulatedPrinter  # noqa: E402
from kiosk.app import KioskApp  # noqa: E402
from kiosk.events import Phase  # noqa: E402
from kiosk.runtime import KioskRuntime  # noqa: E402
from kiosk.screens import Tap  # noqa: E402
from protocol.link import BrokerSettings, Link  # noqa: E402
from protocol.messages import Role  # noqa: E402


async def next_frame() -> None:
    """Wait until Kivy has drawn a frame (so new widgets have their positions)."""
    drawn = asyncio.Event()
    Clock.schedule_once(lambda _dt: drawn.set(), 0)
    await drawn.wait()
    drawn.clear()
    Clock.schedule_once(lambda _dt: drawn.set(), 0)
    await drawn.wait()


def tap_with(root: Widget, text: str) -> Tap:
    return next(t for t in root.walk() if isinstance(t, Tap) and any(
        isinstance(w, Label) and text in w.text for w in t.walk(restrict=True)))


def touch(widget: Widget) -> None:
    finger = UnitTestTouch(*widget.to_window(*widget.center))
    finger.touch_down()
    finger.touch_up()


async def drive(app: KioskApp, runtime: KioskRuntime, printer: SimulatedPrinter) -> dict:
    phases = []
    runtime.on_view(lambda view: phases.append(view.phase.value))
    await runtime.wait_for(lambda flow: flow.phase is Phase.IDLE, 10.0)
    await next_frame()
    touch(tap_with(app.root, "Demo swipe"))
    await runtime.wait_for(lambda flow: flow.phase is Phase.CHOOSING, 5.0)
    await next_frame()
    touch(tap_with(app.root, "社会保险与就业"))
    await runtime.wait_for(lambda flow: flow.phase is Phase.DONE and not flow.awaiting, 5.0)
    await next_frame()
    shown = [w.text for w in app.root.walk() if isinstance(w, Label)]
    app.stop()
    return {"phases": phases, "labels": shown, "printed": len(printer.tickets)}


async def main(port: int, password: str, secret: bytes, now: datetime) -> dict:
    link = Link(BrokerSettings(port=port, username="kiosk-1", password=password), "tianping",
                "kiosk-1", Role.KIOSK)
    reader, printer = SimulatedCardReader(), SimulatedPrinter()
    runtime = KioskRuntime(link, secret, lambda: reader, printer, clock=lambda: now)
    await runtime.start(connect_wait=5.0)
    app = KioskApp(runtime, demo_reader=reader)
    try:
        _, result = await asyncio.gather(app.async_run(async_lib="asyncio"),
                                         drive(app, runtime, printer))
    finally:
        await runtime.stop()
    return result


if __name__ == "__main__":
    outcome = asyncio.run(main(int(sys.argv[1]), sys.argv[2], bytes.fromhex(sys.argv[3]),
                               datetime.fromisoformat(sys.argv[4])))
    print(json.dumps(outcome, ensure_ascii=False))
