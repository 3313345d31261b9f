"""Start a display: its feed from the broker, its Kivy window and its voice, on one loop.

Start-up order: the model, the feed's link (connecting in the background, so a display
without a broker still comes up and says it is offline), the voice, then the window, with
systemd told READY and its watchdog pinged from the same loop (a frozen screen stops the
pings and gets restarted). Stopping undoes them in reverse.
Import only after ``display.window.prepare_kivy``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from display.announcing import speak
from display.app import DisplayApp
from display.feed import DisplayFeed
from display.model import DisplayModel
from display.sample import SAMPLE_CALL, SAMPLE_NOW, Called, sample_model
from display.settings import DisplaySettings, ScreenSettings
from protocol.service import supervised

log = logging.getLogger(__name__)


def render_sample(screen: ScreenSettings, path: Path, *, flash: bool = False,
                  offline: bool = False, called: Called = SAMPLE_CALL) -> int:
    """Draw the sample hall into ``path`` and exit; ``flash``: its newest call mid-flash.

    ``called``: the newest call (number, window and its name) in place of the sample's own.
    """
    model = sample_model(0.0, flashing=True, called=called)
    model.set_link(not offline)
    moment = 0.0 if flash else screen.flash_seconds + 1
    app = DisplayApp(screen, model, wall_clock=lambda: SAMPLE_NOW, mono_clock=lambda: moment,
                     screenshot=path)
    app.run()
    if not path.is_file():
        log.error("no screenshot was written to %s", path)
        return 1
    print(f"wrote {path} ({screen.mode} display, {screen.size[0]}x{screen.size[1]})")
    return 0


async def run_display(settings: DisplaySettings) -> int:
    """Run the display until its window closes."""
    screen = settings.display
    model = DisplayModel(flash_s=screen.flash_seconds)
    feed = DisplayFeed.connect_to(settings.broker, settings.device.hall, settings.device.id,
                                  model)
    app = DisplayApp(screen, model)
    feed.on_change(app.refresh)
    loop = asyncio.get_running_loop()
    for stop in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stop, app.stop)
    await feed.start(wait=None)
    voice = asyncio.create_task(speak(screen, feed), name="voice") if screen.voice else None
    try:
        async with supervised():  # READY, then watchdog pings from the loop Kivy shares
            await app.async_run(async_lib="asyncio")
    finally:
        if voice is not None:
            voice.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await voice
        await feed.close()
    return 0
