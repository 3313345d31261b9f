"""The small screen above one window, designed at 800x480 (the Raspberry Pi 7" screen).

It shows the window's name, the number in service (flashing while it is being called),
暂停服务 when the window is paused or closed, 欢迎光临 when it waits for the next
resident, and the clerk's name and staff number (亮出身份).
"""

from __future__ import annotations

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from display.picture import CounterPicture
from display.theme import PANEL, TEXT, tile_colours

DESIGN_SIZE = (800, 480)

Builder.load_string("""
#:import ACCENT display.theme.ACCENT
#:import PANEL display.theme.PANEL
#:import TEXT display.theme.TEXT
#:import ACCENT_DARK display.theme.ACCENT_DARK
#:import MUTED display.theme.MUTED
#:import HALL_RED display.theme.HALL_RED

<CounterScreen>:
    orientation: "vertical"
    padding: 22, 16
    spacing: 12
    BoxLayout:
        size_hint_y: None
        height: 78
        spacing: 14
        canvas.after:
            Color:
                rgba: HALL_RED
            Rectangle:
                pos: self.x, self.y - 6
                size: self.width, 4
        Heavy:
            id: name
            max_font_size: 62
            min_font_size: 36
        OfflineBadge:
            id: offline
            text: "● 离线"
            font_size: 24
            pos_hint: {"center_y": 0.5}
        Text:
            id: name_en
            max_font_size: 28
            min_font_size: 20
            color: MUTED
            halign: "right"
            size_hint_x: None
            width: 190
    Panel:
        id: face
        orientation: "vertical"
        padding: 16, 6
        fill: ACCENT if root.flash else root.face_fill
        edge: ACCENT if root.flash else root.face_fill
        Text:
            id: headline
            text: root.headline if root.number else ""
            font_size: 44
            color: ACCENT_DARK if root.flash else TEXT
            halign: "center"
            size_hint_y: None
            height: 52 if root.number else 0
        Heavy:
            id: number
            text: root.number or root.headline
            max_font_size: 200 if root.number else 120
            min_font_size: 60
            weight: 50 if root.number else 1000
            color: ACCENT_DARK if root.flash else root.ink
            halign: "center"
            whole_line: True  # the line is taller than the box: keep Q's tail
        Text:
            id: caption
            font_size: 36
            color: ACCENT_DARK if root.flash else TEXT
            halign: "center"
            size_hint_y: None
            height: 48
    BoxLayout:
        orientation: "vertical"
        size_hint_y: None
        height: 76
        Text:
            id: clerk
            max_font_size: 36
            min_font_size: 26
        Text:
            id: services
            max_font_size: 24
            min_font_size: 18
            color: MUTED
""")


class CounterScreen(BoxLayout):
    """The window's own screen; ``show`` draws a CounterPicture."""

    headline = StringProperty("")
    number = StringProperty("")
    flash = NumericProperty(0)
    ink = ColorProperty(TEXT)
    face_fill = ColorProperty(PANEL)
    english = BooleanProperty(True)

    def show(self, picture: CounterPicture) -> None:
        """Draw ``picture``."""
        fill, ink = tile_colours(picture.state)
        self.face_fill = PANEL if picture.state in ("called", "serving", "idle") else fill
        self.ink = ACCENT_INK if picture.state == "called" else ink
        self.headline = picture.headline
        self.number = picture.number
        self.flash = 1 if picture.flash else 0
        self.ids.name.text = picture.name
        self.ids.name_en.text = picture.name_en if self.english else ""
        self.ids.caption.text = picture.caption
        self.ids.clerk.text = picture.clerk
        self.ids.services.text = picture.services
        self.ids.offline.shown = picture.offline


ACCENT_INK = tile_colours("called")[1]
