"""The display's building blocks: colours, a scaled stage, panels, the notice ticker, the badge.

Screens are designed at a fixed pixel size (1920x1080 lobby, 800x480 counter); the Stage
scales that design to whatever screen the display drives. Text of any length (a ticket
number, a window's or service's name) stays on one line in its box: a label given
``max_font_size`` is drawn at the largest size that fits (measured with the real font), down
to ``min_font_size``, and below that it ends in an ellipsis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Rectangle
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.label import Label
from kivy.uix.scatter import Scatter
from kivy.uix.stencilview import StencilView
from kivy.uix.widget import Widget

from display.theme import BACKGROUND, PANEL, PANEL_EDGE

Builder.load_string("""
#:import TEXT display.theme.TEXT
#:import MUTED display.theme.MUTED
#:import OFFLINE display.theme.OFFLINE

<Text>:
    color: TEXT
    text_size: self.width, (None if self.whole_line else self.height)
    halign: "left"
    valign: "middle"
    shorten: True
    shorten_from: "right"

<Heavy>:
    outline_color: self.color

<Panel>:
    canvas.before:
        Color:
            rgba: self.fill
        RoundedRectangle:
            pos: self.pos
            size: self.size
            radius: [self.radius]
        Color:
            rgba: self.edge
        Line:
            rounded_rectangle: (*self.pos, *self.size, self.radius)
            width: 1.4

<Ticker>:
    Label:
        id: words
        text: root.text
        font_size: root.font_size
        color: TEXT
        size_hint: None, None
        size: self.texture_size
        y: root.y + (root.height - self.height) / 2
        x: root.x + root.offset

<OfflineBadge>:
    size_hint: None, None
    size: self.texture_size[0] + 2 * self.pad, self.texture_size[1] + self.pad
    color: TEXT
    opacity: 1 if self.shown else 0
    canvas.before:
        Color:
            rgba: OFFLINE
        RoundedRectangle:
            pos: self.pos
            size: self.size
            radius: [self.height / 2]
""")


SHORTEN_MARGIN = 2  # kivy.core.text.LabelBase.shorten shortens a line wider than its box less 2


def largest_fitting(width: float, largest: int, smallest: int,
                    measure: Callable[[int], float]) -> int:
    """The largest whole size from ``smallest`` to ``largest`` whose ``measure`` is <= ``width``.

    Text grows about in step with its size, so one measurement gives a close guess; the rest
    only corrects hinting. ``smallest`` when even that is too wide.
    """
    widest = measure(largest)
    if widest <= width:
        return largest
    size = max(smallest, min(largest - 1, int(largest * width / widest)))
    while size > smallest and measure(size) > width:
        size -= 1
    while size + 1 < largest and measure(size + 1) <= width:
        size += 1
    return size


class Text(Label):
    """A label that fills its box, aligned left and shortened rather than overflowing.

    With ``max_font_size`` set, ``font_size`` follows the text and the box: the largest size
    from ``max_font_size`` down to ``min_font_size`` that draws the text on one line.
    """

    max_font_size = NumericProperty(0)
    min_font_size = NumericProperty(0)
    whole_line = BooleanProperty(False)  # a line taller than the box shows whole (Q's tail)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name in ("text", "width", "padding", "font_name", "max_font_size",
                     "min_font_size"):
            self.fbind(name, self._fit)

    def outline_at(self, _size: float) -> int:
        """The outline this label draws at font size ``size``."""
        return 0

    def text_width(self, size: int) -> float:
        """How wide this label's text is at font ``size``, outline included, in this font."""
        outline = self.outline_at(size)
        core = CoreLabel(font_name=self.font_name, font_size=size,
                         outline_width=outline or None, font_hinting=self.font_hinting,
                         font_kerning=self.font_kerning)
        return float(core.get_extents(self.text)[0])

    def _fit(self, *_: Any) -> None:
        if not self.max_font_size or not self.text:
            return
        largest = int(self.max_font_size)
        smallest = min(largest, int(self.min_font_size or largest))
        # the room Kivy's shorten leaves a line: whole pixels, less padding and its margin
        room = int(self.width - self.padding[0] - self.padding[2]) - SHORTEN_MARGIN
        self.font_size = largest_fitting(room, largest, smallest, self.text_width)


class Heavy(Text):
    """Bold type: the font has no bold face, so the glyphs get an outline of their own colour.

    One outline pixel per ``weight`` of font size (at least one).
    """

    weight = NumericProperty(50)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fbind("weight", self._fit)
        for name in ("font_size", "weight"):
            self.fbind(name, self._outline)
        self._outline()

    def _outline(self, *_: Any) -> None:
        self.outline_width = self.outline_at(self.font_size)

    def outline_at(self, size: float) -> int:
        """The outline drawn at font size ``size``."""
        return max(1, int(size / self.weight))


class Panel(BoxLayout):
    """A rounded card: the hall wall's panels and tiles."""

    fill = ColorProperty(PANEL)
    edge = ColorProperty(PANEL_EDGE)
    radius = NumericProperty(18)


class Ticker(StencilView):
    """A notice line scrolling right to left, clipped to its box; ``advance`` moves it."""

    text = StringProperty("")
    font_size = NumericProperty(40)
    offset = NumericProperty(0.0)
    gap = NumericProperty(160)

    def advance(self, pixels: float) -> None:
        """Move the text left; it comes back in from the right once it has gone."""
        width = self.ids.words.width
        if width <= self.width - 16:
            self.offset = 16
            return
        self.offset -= pixels
        if self.offset < -width - self.gap:
            self.offset = self.width

    def on_text(self, *_: Any) -> None:
        """A new notice starts at the left edge."""
        self.offset = 16


class OfflineBadge(Label):
    """A red pill saying the picture may be stale: no broker or no controller."""

    shown = BooleanProperty(False)
    pad = NumericProperty(18)


class Stage(FloatLayout):
    """Shows a fixed-size design scaled to fit the window.

    The window's clear colour is the background; ``paint_background`` paints it once more
    for a screenshot (an exported widget has no window behind it). Software rendering pays
    for every full-screen layer, so a live screen does without.
    """

    def __init__(self, design: Widget, design_size: tuple[int, int], *,
                 paint_background: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.design = design
        self.design_size = design_size
        self._fill: Rectangle | None = None
        if paint_background:
            with self.canvas.before:
                Color(*BACKGROUND)
                self._fill = Rectangle(pos=self.pos, size=self.size)
        self._scaler = Scatter(do_rotation=False, do_scale=False, do_translation=False,
                               size_hint=(None, None), size=design_size)
        design.size_hint = (None, None)
        design.size = design_size
        design.pos = (0, 0)
        self._scaler.add_widget(design)
        self.add_widget(self._scaler)
        self.bind(pos=self._fit, size=self._fit)

    def _fit(self, *_: Any) -> None:
        if self._fill is not None:
            self._fill.pos, self._fill.size = self.pos, self.size
        width, height = self.design_size
        scale = min(self.width / width, self.height / height)
        self._scaler.scale = scale
        self._scaler.pos = (self.x + (self.width - width * scale) / 2,
                            self.y + (self.height - height * scale) / 2)

