"""The display's colours: a dark hall wall with bright type, amber for the number being called."""

from __future__ import annotations

Colour = tuple[float, float, float, float]


def hex_colour(code: str) -> Colour:
    """'#RRGGBB' as Kivy's (r, g, b, a) in 0-1."""
    code = code.lstrip("#")
    r, g, b = (int(code[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return (r, g, b, 1.0)


BACKGROUND = hex_colour("#070D1C")
PANEL = hex_colour("#111A30")
PANEL_EDGE = hex_colour("#1F2B4A")
TEXT = hex_colour("#F3F6FC")
MUTED = hex_colour("#8D9BBA")
ACCENT = hex_colour("#FFBE2E")
ACCENT_DARK = hex_colour("#2A1E03")
HALL_RED = hex_colour("#B3201F")
OFFLINE = hex_colour("#E5483B")

# a window's state -> (fill, text)
STATE_COLOURS: dict[str, tuple[Colour, Colour]] = {
    "called": (hex_colour("#4D3706"), hex_colour("#FFC83D")),
    "serving": (hex_colour("#0E3A2A"), hex_colour("#3EE392")),
    "idle": (hex_colour("#172341"), hex_colour("#A9B8D8")),
    "paused": (hex_colour("#4A1C10"), hex_colour("#FF8A50")),
    "closed": (hex_colour("#0D1324"), hex_colour("#4F5A75")),
    "unknown": (hex_colour("#0D1324"), hex_colour("#4F5A75")),
}


def tile_colours(state: str) -> tuple[Colour, Colour]:
    """(fill, text) colour of a window in ``state``."""
    return STATE_COLOURS.get(state, STATE_COLOURS["unknown"])

LINE = 1.26  # WenQuanYi Zen Hei's line height, in font sizes: a label must be this tall
