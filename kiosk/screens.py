"""The kiosk's screens in Kivy: each lays out one `View`; touches become flow events.

Sizes follow the panel: `u` is the short side / 800, so a 1280x800 10-inch panel at about
150 dpi gets 28-80 px type and touch targets at least 100 px (17 mm) high.
Call kiosk.kivy_env.prepare() before importing this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.graphics import Color, Ellipse, Line, Rectangle, RoundedRectangle, Triangle
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.events import (
    Back,
    Event,
    HelpRequested,
    LanguageToggled,
    Phase,
    ServicePicked,
    SpeakRequested,
)
from kiosk.texts import Language
from kiosk.view import NearbyCentre, ServiceButton, View

RGBA = tuple[float, float, float, float]
BLUE: RGBA = (0.07, 0.29, 0.58, 1)
BLUE_SOFT: RGBA = (0.89, 0.93, 0.98, 1)
PAPER: RGBA = (0.95, 0.96, 0.98, 1)
WHITE: RGBA = (1, 1, 1, 1)
INK: RGBA = (0.09, 0.12, 0.17, 1)
MUTED: RGBA = (0.36, 0.41, 0.48, 1)
GREEN: RGBA = (0.04, 0.50, 0.29, 1)
RED: RGBA = (0.74, 0.11, 0.11, 1)
RED_SOFT: RGBA = (0.99, 0.92, 0.91, 1)
ORANGE: RGBA = (0.85, 0.38, 0.02, 1)
DISABLED: RGBA = (0.88, 0.89, 0.91, 1)

Emit = Callable[[Event], None]
NEARBY_SHOWN = {True: 3, False: 4}  # nearby centres on the idle screen: landscape, portrait
QUEUE_TILE, CENTRE_TILE = 136, 96  # tile heights in u: the waits and centres in large type


class Panel(BoxLayout):
    """A box with a flat (optionally rounded) background colour."""

    def __init__(self, color: RGBA, radius: float = 0, **kwargs: object) -> None:
        super().__init__(**kwargs)
        with self.canvas.before:
            self._paint = Color(*color)
            self._shape = RoundedRectangle(pos=self.pos, size=self.size, radius=[radius])
        self.bind(pos=self._follow, size=self._follow)

    def _follow(self, *_: object) -> None:
        self._shape.pos, self._shape.size = self.pos, self.size


class Tap(ButtonBehavior, Panel):
    """A touch target: a coloured panel that runs ``action`` when released."""

    def __init__(self, color: RGBA, action: Callable[[], None] | None, **kwargs: Any) -> None:
        super().__init__(color=color, **kwargs)
        self._action, self._color = action, color

    def on_press(self) -> None:
        if self._action is not None:
            self._paint.rgba = (*(c * 0.85 for c in self._color[:3]), 1)

    def on_release(self) -> None:
        self._paint.rgba = self._color
        if self._action is not None:
            self._action()


class Listen(ButtonBehavior, BoxLayout):
    """A screen's body that runs ``action`` when touched (the spoken prompt, again)."""

    def __init__(self, action: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._action = action

    def on_release(self) -> None:
        self._action()


def text(value: str, size: float, color: RGBA = INK, *, bold: bool = False,
         halign: str = "center", **kwargs: object) -> Label:
    """A label that wraps inside its own box."""
    kwargs.setdefault("valign", "middle")
    label = Label(text=value, font_size=size, color=color, bold=bold, halign=halign, **kwargs)
    label.bind(size=lambda widget, box: setattr(widget, "text_size", box))
    return label


def paragraph(value: str, size: float, color: RGBA = INK) -> Label:
    """A centred label as tall as its wrapped text."""
    label = Label(text=value, font_size=size, color=color, halign="center", valign="middle",
                  size_hint_y=None, line_height=1.15)
    label.bind(width=lambda widget, width: setattr(widget, "text_size", (width, None)),
               texture_size=lambda widget, box: setattr(widget, "height", box[1] + size * 0.5))
    return label


class CardPicture(Widget):
    """An ID card over an arrow pointing down to the reader slot."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.bind(pos=self._draw, size=self._draw)

    def _draw(self, *_: object) -> None:
        self.canvas.clear()
        x, y, w, h = self.x, self.y, self.width, self.height
        cw = min(w * 0.8, h * 0.9)
        ch, cx, cy = cw * 0.63, x + (w - cw) / 2, y + h * 0.42
        with self.canvas:
            Color(*BLUE_SOFT)
            RoundedRectangle(pos=(cx, cy), size=(cw, ch), radius=[cw * 0.06])
            Color(*BLUE)
            Line(rounded_rectangle=(cx, cy, cw, ch, cw * 0.06), width=3)
            Ellipse(pos=(cx + cw * 0.08, cy + ch * 0.3), size=(cw * 0.26, cw * 0.26))
            for row in range(3):
                Rectangle(pos=(cx + cw * 0.42, cy + ch * (0.62 - row * 0.18)),
                          size=(cw * (0.46 - row * 0.08), ch * 0.07))
            Color(*ORANGE)
            mid, top = x + w / 2, cy - h * 0.05
            Triangle(points=[mid - w * 0.16, top, mid + w * 0.16, top, mid, y + h * 0.04])


# ---------------------------------------------------------------- frame
def build_screen(view: View, emit: Emit, size: tuple[int, int]) -> Widget:
    """The whole screen for ``view``: header, body, footer."""
    u = min(size) / 800
    wide = size[0] > size[1]
    root = Panel(RED_SOFT if view.alarm else PAPER, orientation="vertical")
    root.add_widget(_header(view, u, wide))
    body = _BODIES.get(view.phase, _message)(view, emit, u, wide)
    if view.phase is Phase.CHOOSING:
        root.add_widget(body)
    else:  # no choices on it: a touch anywhere on the body says the screen again
        listen = Listen(lambda: emit(SpeakRequested()))
        listen.add_widget(body)
        root.add_widget(listen)
    root.add_widget(_footer(view, emit, u, wide))
    return root


def _header(view: View, u: float, wide: bool) -> Widget:
    bar = Panel(RED if view.alarm else BLUE, orientation="horizontal", size_hint_y=None,
                height=84 * u, padding=(28 * u, 0), spacing=16 * u)
    bar.add_widget(text(view.hall_name, 30 * u, WHITE, bold=True, halign="left"))
    if wide:
        bar.add_widget(text(view.date, 24 * u, WHITE, halign="right", size_hint_x=None,
                            width=330 * u))
        bar.add_widget(text(view.clock, 44 * u, WHITE, bold=True, halign="right",
                            size_hint_x=None, width=130 * u))
        return bar
    when = BoxLayout(orientation="vertical", size_hint_x=None, width=250 * u)
    when.add_widget(text(view.clock, 40 * u, WHITE, bold=True, halign="right"))
    when.add_widget(text(view.date, 20 * u, WHITE, halign="right", size_hint_y=0.6))
    bar.add_widget(when)
    return bar


def _footer(view: View, emit: Emit, u: float, wide: bool) -> Widget:
    bar = BoxLayout(orientation="horizontal", size_hint_y=None, height=124 * u,
                    padding=(24 * u, 12 * u), spacing=20 * u)
    busy = view.phase in (Phase.READING, Phase.CONFIRMING, Phase.PRINTING)
    small, large = (220 * u, 300 * u) if wide else (170 * u, 265 * u)
    bar.add_widget(_button(view.switch_language, lambda: emit(LanguageToggled()), BLUE_SOFT,
                           BLUE, u, small))
    bar.add_widget(Widget())
    if view.back:
        main = GREEN if view.phase is Phase.DONE else BLUE
        bar.add_widget(_button(view.back, lambda: emit(Back()), main, WHITE, u, large))
    if not busy and view.phase is not Phase.STAFF_HELP:
        bar.add_widget(_button(view.help, lambda: emit(HelpRequested()), ORANGE, WHITE, u,
                               large))
    return bar


def _button(label: str, action: Callable[[], None], color: RGBA, ink: RGBA, u: float,
            width: float) -> Widget:
    tap = Tap(color, action, radius=14 * u, size_hint_x=None, width=width, padding=8 * u)
    tap.add_widget(text(label, 30 * u, ink, bold=True))
    return tap


# ---------------------------------------------------------------- bodies
def _idle(view: View, emit: Emit, u: float, wide: bool) -> Widget:
    body = BoxLayout(orientation="vertical", padding=(36 * u, 20 * u), spacing=14 * u)
    top = BoxLayout(orientation="horizontal", spacing=20 * u)  # side by side: room for the waits
    words = BoxLayout(orientation="vertical", spacing=4 * u, padding=(0, 4 * u))
    latin = view.language is Language.EN  # longer words: smaller type, or they are cut off
    words.add_widget(text(view.title, (52 if latin else 72 if wide else 64) * u, BLUE, bold=True,
                          valign="bottom"))
    words.add_widget(text(view.lines[0] if view.lines else "", 30 * u, INK,
                          valign="top", size_hint_y=0.55))
    top.add_widget(words)
    top.add_widget(CardPicture(size_hint_x=0.45 if wide else 0.3))
    body.add_widget(top)
    if view.hall_notice:
        body.add_widget(text(view.hall_notice, 26 * u, INK, size_hint_y=None, height=44 * u))
    grid = GridLayout(cols=4 if wide else 2, spacing=12 * u, size_hint_y=None,
                      height=(2 if wide else 4) * (QUEUE_TILE + 12) * u - 12 * u)
    for button in view.services:
        grid.add_widget(_queue_tile(button, u, latin))
    body.add_widget(grid)
    if view.nearby:
        body.add_widget(_nearby(view, u, wide))
    return body


def _nearby(view: View, u: float, wide: bool) -> Widget:
    """附近中心: a row (two in portrait) of small tiles under the hall's own queues.

    The best 3 (4 in portrait) are shown: more would squeeze the swipe prompt off the top."""
    cols = 3 if wide else 2
    shown = view.nearby[:NEARBY_SHOWN[wide]]
    rows = -(-len(shown) // cols)
    tiles = rows * CENTRE_TILE * u + (rows - 1) * 8 * u
    heading = 40 * u
    strip = BoxLayout(orientation="horizontal" if wide else "vertical", spacing=8 * u,
                      size_hint_y=None, height=tiles if wide else tiles + heading + 8 * u)
    strip.add_widget(text(view.nearby_title, 30 * u, INK, bold=True, halign="left",
                          **({"size_hint_x": None, "width": 150 * u} if wide
                             else {"size_hint_y": None, "height": heading})))
    grid = GridLayout(cols=cols, spacing=8 * u)
    for centre in shown:
        grid.add_widget(_centre_tile(centre, u, view.language is Language.EN))
    strip.add_widget(grid)
    return strip


def _centre_tile(centre: NearbyCentre, u: float, latin: bool) -> Widget:
    tile = Panel(WHITE if centre.current else DISABLED, radius=10 * u, orientation="vertical",
                 padding=(12 * u, 8 * u))
    tile.add_widget(text(centre.name, 28 * u, INK, bold=True, halign="left"))
    comma = ", " if latin else "，"  # a middle dot here made tesseract misread the next glyph
    figures = f"{centre.waiting}{comma}{centre.wait}" if centre.waiting else centre.wait
    size = 26 if latin else 30  # English runs longer: it must fit on one line
    tile.add_widget(text(figures, size * u, BLUE if centre.current else INK, halign="left"))
    return tile


def _queue_tile(button: ServiceButton, u: float, latin: bool) -> Widget:
    tile = Panel(WHITE, radius=12 * u, orientation="horizontal",
                 padding=(12 * u, 4 * u), spacing=10 * u)
    tile.add_widget(_letter(button.service, u, BLUE if button.enabled else MUTED, 56))
    words = BoxLayout(orientation="vertical")
    words.add_widget(text(button.name, (18 if latin else 22) * u, INK, halign="left",
                          size_hint_y=1.3 if latin else 0.8))
    if button.status:
        words.add_widget(text(button.status, (24 if latin else 30) * u, RED, halign="left"))
    else:
        words.add_widget(text(button.waiting, (24 if latin else 30) * u, INK, halign="left"))
        words.add_widget(text(button.wait, (24 if latin else 30) * u, BLUE, halign="left"))
    tile.add_widget(words)
    return tile


def _letter(letter: str, u: float, color: RGBA, side: float, centre: str = "center_y") -> Widget:
    badge = Panel(color, radius=side * u / 2, size_hint=(None, None), size=(side * u, side * u),
                  pos_hint={centre: 0.5})
    badge.add_widget(text(letter, side * 0.55 * u, WHITE, bold=True))
    return badge


def _choosing(view: View, emit: Emit, u: float, wide: bool) -> Widget:
    body = BoxLayout(orientation="vertical", padding=(28 * u, 12 * u), spacing=10 * u)
    heading = BoxLayout(orientation="horizontal", size_hint_y=None, height=60 * u)
    heading.add_widget(text(view.title, 44 * u, INK, bold=True, halign="left"))
    if view.badge:
        badge = Panel(GREEN, radius=10 * u, size_hint_x=None, width=340 * u, padding=6 * u)
        badge.add_widget(text(view.badge, 26 * u, WHITE, bold=True))
        heading.add_widget(badge)
    body.add_widget(heading)
    if view.appointment is not None:
        offer = view.appointment
        pick = (lambda: emit(ServicePicked(offer.service, appointment=True))) \
            if offer.enabled else None
        tap = Tap(GREEN if offer.enabled else DISABLED, pick, radius=14 * u, size_hint_y=None,
                  height=96 * u, padding=(20 * u, 6 * u))
        tap.add_widget(text(offer.label, 32 * u, WHITE if offer.enabled else MUTED, bold=True))
        body.add_widget(tap)
    grid = GridLayout(cols=2 if wide else 1, spacing=10 * u)
    for button in view.services:
        grid.add_widget(_service_button(button, emit, u))
    body.add_widget(grid)
    return body


def _service_button(button: ServiceButton, emit: Emit, u: float) -> Widget:
    service = button.service
    action = (lambda: emit(ServicePicked(service))) if button.enabled else None
    tap = Tap(WHITE if button.enabled else DISABLED, action, radius=14 * u,
              orientation="horizontal", padding=(16 * u, 6 * u), spacing=14 * u)
    tap.add_widget(_letter(service, u, BLUE if button.enabled else MUTED, 68))
    tap.add_widget(text(button.name, 30 * u, INK if button.enabled else MUTED, bold=True,
                        halign="left"))
    side = BoxLayout(orientation="vertical", size_hint_x=None, width=190 * u)
    if button.status:
        side.add_widget(text(button.status, 26 * u, RED, bold=True, halign="right"))
    else:
        side.add_widget(text(button.waiting, 28 * u, INK, halign="right"))
        side.add_widget(text(button.wait, 28 * u, BLUE, halign="right"))
    tap.add_widget(side)
    return tap


def _done(view: View, emit: Emit, u: float, wide: bool) -> Widget:
    body = BoxLayout(orientation="vertical", padding=(40 * u, 6 * u), spacing=6 * u)
    body.add_widget(text(view.title, 52 * u, GREEN, bold=True, size_hint_y=None,
                         height=72 * u))
    card = Panel(WHITE, radius=20 * u, orientation="vertical", padding=(20 * u, 8 * u),
                 size_hint=(None, None), width=(640 if wide else 700) * u,
                 height=(260 if wide else 420) * u, pos_hint={"center_x": 0.5})
    if view.badge:
        card.add_widget(text(view.badge, 28 * u, GREEN, bold=True, size_hint_y=None,
                             height=40 * u))
    card.add_widget(text(view.number, (160 if wide else 230) * u, BLUE, bold=True))
    card.add_widget(text(view.service_name, 32 * u, INK, size_hint_y=None, height=52 * u))
    body.add_widget(card)
    latin = view.language is Language.EN
    body.add_widget(text(view.lines[0] if view.lines else "", (44 if latin else 56) * u, INK,
                         bold=True))
    body.add_widget(text(view.lines[1] if len(view.lines) > 1 else "", 34 * u, INK,
                         size_hint_y=None, height=48 * u))
    return body


def _message(view: View, emit: Emit, u: float, wide: bool) -> Widget:
    """Reading, confirming, printing, notices, out of service and staff help."""
    mark, mark_color, title_color = _MARKS.get(view.phase, ("…", BLUE, BLUE))
    body = BoxLayout(orientation="vertical", padding=(60 * u, 10 * u), spacing=10 * u)
    body.add_widget(Widget())
    body.add_widget(_letter(mark, u, mark_color, 96, "center_x"))
    body.add_widget(text(view.title, (76 if view.alarm else 60) * u, title_color, bold=True,
                         size_hint_y=None, height=100 * u))
    stressed = 2 if view.alarm else 1
    for index, line in enumerate(view.lines):
        body.add_widget(paragraph(line, (36 if index < stressed else 30) * u,
                                  INK if index < stressed else MUTED))
    body.add_widget(Widget())
    return body


_MARKS: dict[Phase, tuple[str, RGBA, RGBA]] = {
    Phase.OUT_OF_SERVICE: ("!", RED, RED),
    Phase.NOTICE: ("!", ORANGE, INK),
    Phase.STAFF_HELP: ("?", ORANGE, INK),
}


_BODIES: dict[Phase, Callable[[View, Emit, float, bool], Widget]] = {
    Phase.IDLE: _idle,
    Phase.CHOOSING: _choosing,
    Phase.DONE: _done,
}
