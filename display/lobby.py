"""The lobby wall (综合屏), designed at 1920x1080 to be read from 10 m across the hall.

Top: the hall's name, the clock, the date and hours. Middle: the current call, huge and
flashing, beside the last calls. Below: waiting per service and every window's state.
Bottom: the manager's notice, scrolling.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from display.picture import CallLine, CounterTile, Header, LobbyPicture, ServiceLine
from display.theme import PANEL, TEXT, tile_colours
from display.widgets import Panel

Row = TypeVar("Row")
Item = TypeVar("Item")

DESIGN_SIZE = (1920, 1080)

LOGO = Path(__file__).resolve().parent.parent / "images" / "art" / "logo.png"

Builder.load_string("""
#:import ACCENT display.theme.ACCENT
#:import ACCENT_DARK display.theme.ACCENT_DARK
#:import HALL_RED display.theme.HALL_RED
#:import MUTED display.theme.MUTED
#:import PANEL display.theme.PANEL
#:import PANEL_EDGE display.theme.PANEL_EDGE
#:import TEXT display.theme.TEXT
#:import LINE display.theme.LINE

<Rows@BoxLayout>:
    orientation: "vertical"
    size_hint_y: None
    height: self.minimum_height

<CallRow>:
    size_hint_y: None
    height: 46
    spacing: 16
    Heavy:
        text: root.number
        max_font_size: 36
        min_font_size: 20
        color: ACCENT
        size_hint_x: None
        width: 150
    Text:
        text: root.window
        max_font_size: 34
        min_font_size: 24
    Text:
        text: root.time
        font_size: 24
        color: MUTED
        halign: "right"
        size_hint_x: None
        width: 90

<ServiceRow>:
    size_hint_y: None
    height: 38
    spacing: 18
    Label:
        text: root.service
        font_size: 26
        color: ACCENT_DARK
        size_hint_x: None
        width: 40
        canvas.before:
            Color:
                rgba: ACCENT if root.open else MUTED
            RoundedRectangle:
                pos: self.x, self.y + 3
                size: self.width, self.height - 6
                radius: [8]
    Text:
        id: name
        text: root.name
        max_font_size: 30
        min_font_size: 22
    Text:
        text: root.waiting
        font_size: 30
        halign: "right"
        size_hint_x: None
        width: 150
    Text:
        text: root.wait
        font_size: 30
        color: root.wait_colour
        halign: "right"
        size_hint_x: None
        width: 220

<CounterTileView>:
    orientation: "vertical"
    padding: 4, 2
    radius: 12
    Text:
        text: root.name
        max_font_size: 22
        min_font_size: 14
        color: root.ink
        halign: "center"
        size_hint_y: None
        height: 28
    Heavy:
        id: number
        text: root.text
        max_font_size: 38
        min_font_size: 20
        color: root.ink
        halign: "center"

<LobbyScreen>:
    orientation: "vertical"
    padding: 28, 20
    spacing: 16
    BoxLayout:
        size_hint_y: None
        height: 118
        spacing: 22
        Image:
            source: root.logo
            size_hint_x: None
            width: 100
            fit_mode: "contain"
        BoxLayout:
            orientation: "vertical"
            padding: 0, 4
            Heavy:
                id: hall_name
                font_size: 58
                size_hint_y: None
                height: 58 * LINE
            Text:
                id: hall_name_en
                font_size: 26
                color: MUTED
        BoxLayout:
            orientation: "vertical"
            size_hint_x: None
            width: 720
            padding: 0, 4
            BoxLayout:
                size_hint_y: None
                height: 62 * LINE
                AnchorLayout:
                    anchor_x: "right"
                    padding: 0, 0, 24, 0
                    OfflineBadge:
                        id: offline
                        text: "● 离线 · 显示最后状态"
                        font_size: 24
                Text:
                    id: clock
                    font_size: 62
                    halign: "right"
                    size_hint_x: None
                    width: 290
            Text:
                id: date
                font_size: 26
                color: MUTED
                halign: "right"
    BoxLayout:
        size_hint_y: None
        height: 470
        spacing: 20
        Panel:
            id: call_panel
            orientation: "vertical"
            padding: 36, 16
            size_hint_x: None
            width: 1136
            fill: ACCENT if root.flash else root.panel_fill
            edge: ACCENT if root.flash or root.current_text else PANEL_EDGE
            Text:
                text: "正在呼叫  Now calling" if root.english else "正在呼叫"
                font_size: 32
                color: ACCENT_DARK if root.flash else MUTED
                size_hint_y: None
                height: 32 * LINE
            BoxLayout:
                spacing: 24
                Heavy:
                    id: current_number
                    text: root.current_text
                    max_font_size: 250
                    min_font_size: 60
                    color: ACCENT_DARK if root.flash else ACCENT
                    size_hint_x: None
                    width: 610
                BoxLayout:
                    orientation: "vertical"
                    padding: 0, 30
                    Text:
                        text: "请到" if root.current_text else ""
                        font_size: 60
                        color: ACCENT_DARK if root.flash else root.ink
                        size_hint_y: None
                        height: 60 * LINE
                    Heavy:
                        id: current_window
                        max_font_size: 104
                        min_font_size: 56
                        color: ACCENT_DARK if root.flash else root.ink
                        size_hint_y: None
                        height: 104 * LINE
                    Widget:
            BoxLayout:
                size_hint_y: None
                height: 40 * LINE
                Text:
                    id: sentence
                    max_font_size: 40
                    min_font_size: 28
                    color: ACCENT_DARK if root.flash else root.ink
                Text:
                    id: sentence_en
                    max_font_size: 28
                    min_font_size: 20
                    color: ACCENT_DARK if root.flash else MUTED
                    halign: "right"
        Panel:
            orientation: "vertical"
            padding: 30, 14
            Text:
                text: "最近呼叫  Recent calls" if root.english else "最近呼叫"
                font_size: 30
                color: MUTED
                size_hint_y: None
                height: 30 * LINE
            Rows:
                id: recent
            Widget:
    BoxLayout:
        spacing: 20
        Panel:
            orientation: "vertical"
            padding: 30, 12
            size_hint_x: None
            width: 1136
            BoxLayout:
                size_hint_y: None
                height: 28 * LINE
                spacing: 18
                Text:
                    id: services_title
                    font_size: 28
                    color: MUTED
                Text:
                    text: "等候人数"
                    font_size: 28
                    color: MUTED
                    halign: "right"
                    size_hint_x: None
                    width: 150
                Text:
                    text: "预计等候"
                    font_size: 28
                    color: MUTED
                    halign: "right"
                    size_hint_x: None
                    width: 220
            Rows:
                id: services
            Widget:
        Panel:
            orientation: "vertical"
            padding: 20, 12
            spacing: 6
            Text:
                text: "窗口状态  Windows" if root.english else "窗口状态"
                font_size: 28
                color: MUTED
                size_hint_y: None
                height: 28 * LINE
            GridLayout:
                id: counters
                cols: 5
                spacing: 10
    Panel:
        size_hint_y: None
        height: 66
        padding: 0
        spacing: 0
        fill: HALL_RED
        edge: HALL_RED
        radius: 14
        Label:
            text: "通 知"
            font_size: 32
            size_hint_x: None
            width: 128
        Ticker:
            id: ticker
            font_size: 36
            canvas.before:
                Color:
                    rgba: PANEL
                Rectangle:
                    pos: self.pos
                    size: self.size
""")



class CallRow(BoxLayout):
    """One of the last calls: number, window, time."""

    number = StringProperty("")
    window = StringProperty("")
    time = StringProperty("")


class ServiceRow(BoxLayout):
    """One service: its letter, name, how many wait and for how long."""

    service = StringProperty("")
    name = StringProperty("")
    waiting = StringProperty("")
    wait = StringProperty("")
    open = NumericProperty(1)
    wait_colour = ColorProperty(TEXT)


class CounterTileView(Panel):
    """One window on the wall, coloured by its state."""

    name = StringProperty("")
    text = StringProperty("")
    ink = ColorProperty(TEXT)


class LobbyScreen(BoxLayout):
    """The whole wall; ``show`` draws a LobbyPicture."""

    flash = NumericProperty(0)
    current_text = StringProperty("")
    panel_fill = ColorProperty(PANEL)
    ink = ColorProperty(TEXT)
    logo = StringProperty(str(LOGO))
    english = BooleanProperty(True)

    def show(self, picture: LobbyPicture) -> None:
        """Draw ``picture``; only labels whose text changed are re-rendered."""
        self.show_call(picture)
        self.show_header(picture.header, picture.offline)
        self._rows(self.ids.recent, picture.recent, CallRow, _fill_call_row)
        self._rows(self.ids.services, picture.services, ServiceRow, _fill_service_row)
        self._rows(self.ids.counters, picture.counters, CounterTileView, _fill_tile)
        self.ids.ticker.text = picture.notice
        services = "办理事项  Services" if self.english else "办理事项"
        self.ids.services_title.text = f"{services} · 共 {picture.waiting_total} 人等候"

    def show_call(self, picture: LobbyPicture) -> None:
        """The current call: the part that must change first."""
        current = picture.current
        self.current_text = current.number if current else ""
        self.ids.current_window.text = current.window if current else ""
        self.ids.sentence.text = picture.sentence
        self.ids.sentence_en.text = picture.sentence_en if self.english else ""
        self.flash = 1 if picture.flash else 0

    def show_header(self, header: Header, offline: bool) -> None:
        """Hall name, clock, date and hours, and the offline badge."""
        self.ids.hall_name.text = header.name
        self.ids.hall_name_en.text = header.name_en if self.english else ""
        self.ids.clock.text = header.clock
        self.ids.date.text = f"{header.date}   {header.hours}"
        self.ids.offline.shown = offline

    @staticmethod
    def _rows(box: Any, items: tuple[Item, ...], kind: Callable[[], Row],
              fill: Callable[[Row, Item], None]) -> None:
        """Reuse row widgets: add or drop rows to match, then fill them in order."""
        rows = list(reversed(box.children))
        while len(rows) < len(items):
            rows.append(kind())
            box.add_widget(rows[-1])
        for row in rows[len(items):]:
            box.remove_widget(row)
        for row, item in zip(rows, items, strict=False):
            fill(row, item)


def _fill_call_row(row: CallRow, line: CallLine) -> None:
    row.number = line.number
    row.window = line.window + ("  重呼" if line.recall else "")
    row.time = line.time


def _fill_service_row(row: ServiceRow, line: ServiceLine) -> None:
    row.service = line.id
    row.name = line.name
    row.waiting = line.waiting
    row.wait = line.wait
    row.open = 1 if line.open else 0
    row.wait_colour = TEXT if line.open else tile_colours("paused")[1]


def _fill_tile(tile: CounterTileView, line: CounterTile) -> None:
    fill, ink = tile_colours(line.state)
    tile.name = line.name
    tile.text = line.text
    tile.fill = fill
    tile.edge = fill
    tile.ink = ink

