"""The Kivy app of a display: draws the lobby wall or a counter screen from the model.

It never talks MQTT itself: the feed calls ``refresh`` on the asyncio loop Kivy shares
(``App.async_run(async_lib="asyncio")``), so widgets are only ever touched on Kivy's thread.
Import this only after ``display.window.prepare_kivy``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window

from display import counter, lobby
from display.model import DisplayModel
from display.picture import counter_picture, lobby_picture
from display.settings import Mode, ScreenSettings
from display.theme import BACKGROUND
from display.widgets import Stage
from display.window import use_font

log = logging.getLogger(__name__)

TICK_S = 0.125
TICKER_FPS = 30
SETTLE_FRAMES = 3
DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")


class DisplayApp(App):
    """One display's window: the lobby wall or the screen above one counter."""

    def __init__(self, screen: ScreenSettings, model: DisplayModel, *,
                 wall_clock: Callable[[], datetime] | None = None,
                 mono_clock: Callable[[], float] = time.monotonic,
                 screenshot: Path | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.screen = screen
        self.model = model
        self.wall_clock = wall_clock or self._hall_time
        self.mono_clock = mono_clock
        self.screenshot = screenshot
        self.view: lobby.LobbyScreen | counter.CounterScreen | None = None
        self.title = "综合屏" if screen.mode is Mode.LOBBY else f"{screen.counter}号窗口屏"
        self._events: list[Any] = []

    # ------------------------------------------------------------ Kivy
    def build(self) -> Stage:
        """The screen of this display's mode, scaled to the window."""
        use_font(self.screen.font)
        Window.clearcolor = BACKGROUND
        if self.screen.mode is Mode.LOBBY:
            self.view = lobby.LobbyScreen(english=self.screen.english)
            design = lobby.DESIGN_SIZE
        else:
            self.view = counter.CounterScreen(english=self.screen.english)
            design = counter.DESIGN_SIZE
        self.refresh()
        return Stage(self.view, design, paint_background=self.screenshot is not None)

    def on_start(self) -> None:
        """Start the clock and the notice, or take the screenshot and stop."""
        if self.screenshot is not None:
            self._after_frames(SETTLE_FRAMES, self._take_screenshot)
            return
        self._events = [Clock.schedule_interval(self._tick, TICK_S),
                        Clock.schedule_interval(self._scroll, 1 / TICKER_FPS)]

    def on_stop(self) -> None:
        """Stop the clock and the notice."""
        for event in self._events:
            event.cancel()

    # ------------------------------------------------------------ drawing
    def refresh(self) -> None:
        """Redraw from the model now; the feed calls this on every change."""
        if self.view is None:
            return
        mono = self.mono_clock()
        if isinstance(self.view, lobby.LobbyScreen):
            self.view.show(lobby_picture(self.model, self.wall_clock(), mono))
        else:
            assert self.screen.counter is not None
            self.view.show(counter_picture(self.model, self.screen.counter, mono))

    def _tick(self, _dt: float) -> None:
        """Clock, flashing and the offline badge move with time even when nothing arrives."""
        self.refresh()

    def _scroll(self, dt: float) -> None:
        if isinstance(self.view, lobby.LobbyScreen):
            self.view.ids.ticker.advance(self.screen.notice_speed * dt)

    def _hall_time(self) -> datetime:
        hall = self.model.hall
        zone = ZoneInfo(hall.timezone) if hall else DEFAULT_ZONE
        return datetime.now(zone)

    # ------------------------------------------------------------ screenshots
    def _after_frames(self, frames: int, then: Callable[[], None]) -> None:
        """Run ``then`` once ``frames`` frames have been drawn (text textures are ready)."""
        if frames <= 0:
            then()
            return
        Clock.schedule_once(lambda _dt: self._after_frames(frames - 1, then), 0)

    def _take_screenshot(self) -> None:
        assert self.screenshot is not None and self.root is not None
        self.screenshot.parent.mkdir(parents=True, exist_ok=True)
        self.root.export_to_png(str(self.screenshot))
        log.info("screenshot written to %s", self.screenshot)
        self.stop()
