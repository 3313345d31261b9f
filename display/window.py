"""Set Kivy up before it is imported: window size, headless rendering, quiet logs, the font.

Kivy reads its configuration when first imported and has no font fallback, so this runs
first: ``prepare_kivy(...)``, then import ``display.app``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

_prepared: dict[str, object] = {}


def prepare_kivy(size: tuple[int, int], *, headless: bool = False, fullscreen: bool = False,
                 home: Path | None = None) -> None:
    """Configure Kivy's window; ``headless`` renders offscreen (screenshots, tests, benches)."""
    if "size" in _prepared:
        return
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")  # leave the root logger to the app
    if headless:
        logging.getLogger("kivy").addFilter(lambda record: record.levelno >= logging.WARNING)
        os.environ["SDL_VIDEODRIVER"] = os.environ.get("SDL_VIDEODRIVER") or "offscreen"
    if home is not None:
        home.mkdir(parents=True, exist_ok=True)
        os.environ["KIVY_HOME"] = str(home)
    from kivy.config import Config

    width, height = size
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "fullscreen", "auto" if fullscreen and not headless else "0")
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")
    Config.set("kivy", "exit_on_escape", "0" if fullscreen else "1")
    _prepared["size"] = size


def use_font(font: Path) -> None:
    """Make ``font`` Kivy's default for every label (Roboto draws Chinese as empty boxes)."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    path = str(font)
    LabelBase.register(DEFAULT_FONT, fn_regular=path, fn_bold=path, fn_italic=path,
                       fn_bolditalic=path)
