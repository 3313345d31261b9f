"""The Kivy app: shows the runtime's current View and turns touches into flow events.

Kivy and the MQTT link share one asyncio loop (`App.async_run(async_lib="asyncio")`), so
the runtime's view listener and every touch handler run on the same thread as the flow.
Call kiosk.kivy_env.prepare() before importing this module.
"""

from __future__ import annotations

import logging
from datetime import date
from itertools import count

from kivy.app import App
from kivy.core.window import Window
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.widget import Widget

from hardware.idcard import CardData, SimulatedCardReader, sample_card
from kiosk.events import Event, Phase
from kiosk.runtime import KioskRuntime
from kiosk.screens import ORANGE, PAPER, WHITE, Tap, build_screen, text
from kiosk.view import View

log = logging.getLogger(__name__)


class KioskApp(App):
    """One full-screen window that re-lays itself out whenever the View changes."""

    title = "lobby kiosk"

    def __init__(self, runtime: KioskRuntime, demo_reader: SimulatedCardReader | None = None,
                 **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.runtime = runtime
        self.demo = DemoCards(demo_reader) if demo_reader is not None else None
        self._root = FloatLayout()

    def build(self) -> Widget:
        Window.clearcolor = PAPER
        self.runtime.on_view(self.show)
        self.show(self.runtime.view())
        return self._root

    def show(self, view: View) -> None:
        """Replace the screen with the one for ``view``."""
        size = (int(Window.width), int(Window.height))
        screen = build_screen(view, self.emit, size)
        self._root.clear_widgets()
        self._root.add_widget(screen)
        if self.demo is not None and view.phase is Phase.IDLE:
            self._root.add_widget(self.demo.button(size))

    def emit(self, event: Event) -> None:
        """A touch: step the flow."""
        self.runtime.dispatch(event)


class DemoCards:
    """The demo hall's swipe button: presents fake cards, every third one a resident over 70."""

    def __init__(self, reader: SimulatedCardReader) -> None:
        self.reader = reader
        self._serials = count(1)

    def next_card(self) -> CardData:
        serial = next(self._serials) % 499
        if serial % 3 == 0:
            return sample_card(birth_date=_birthday(1948, serial), serial=serial)
        return sample_card(birth_date=_birthday(1985, serial), serial=serial)

    def swipe(self) -> None:
        self.reader.present_card(self.next_card())

    def button(self, size: tuple[int, int]) -> Widget:
        u = min(size) / 800
        tap = Tap(ORANGE, self.swipe, radius=12 * u, size_hint=(None, None),
                  size=(220 * u, 64 * u), pos=(size[0] / 2 - 110 * u, 150 * u))
        tap.add_widget(text("演示：刷卡 Demo swipe", 20 * u, WHITE))
        return tap


def _birthday(year: int, serial: int) -> date:
    return date(year, 1 + serial % 12, 1 + serial % 28)
