"""Prepare Kivy before anything imports it: window size, headless mode, and the CJK font.

Kivy reads its environment and Config when first imported, and has no font fallback: a
label in the default Roboto draws Chinese as empty boxes. `prepare()` must therefore run
before `kiosk.app` or `kiosk.screens` is imported; it registers WenQuanYi Zen Hei (Latin
and Chinese in one face) as Kivy's default font, so no label can fall back to Roboto.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
LANDSCAPE = (1280, 800)


class KioskFontMissing(FileNotFoundError):
    """No font that draws both Chinese and Latin text is installed."""


def find_font() -> str:
    """The first installed CJK font; the kiosk refuses to start without one."""
    for path in CJK_FONTS:
        if Path(path).is_file():
            return path
    raise KioskFontMissing("no CJK font found; install fonts-wqy-zenhei (looked for "
                           + ", ".join(CJK_FONTS) + ")")


def window_size(orientation: str) -> tuple[int, int]:
    """The window for a 10-inch 1280x800 panel turned the given way."""
    width, height = LANDSCAPE
    return (height, width) if orientation == "portrait" else (width, height)


def prepare(size: tuple[int, int], *, fullscreen: bool = False, headless: bool = False) -> str:
    """Set Kivy's environment and Config, and make the CJK font the default; return its path."""
    font = find_font()
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_HOME", str(Path(tempfile.gettempdir()) / "lobby-kiosk-kivy"))
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
    from kivy.config import Config

    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("input", "mouse", "mouse,multitouch_on_demand")
    from kivy.core.text import DEFAULT_FONT, LabelBase

    LabelBase.register(DEFAULT_FONT, fn_regular=font, fn_bold=font)
    return font
