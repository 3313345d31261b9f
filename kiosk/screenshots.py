"""Render every kiosk screen headless from the sample states and save them as PNG files.

`python -m kiosk.screenshots --out images/screenshots [--orientation portrait] [--only idle]`
writes kiosk-<screen>.png (kiosk-<screen>-portrait.png when turned). It runs Kivy with
SDL's offscreen driver, so it needs no display.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kiosk import kivy_env


def render_all(out: Path, orientation: str = "landscape",
               only: list[str] | None = None) -> list[Path]:
    """Render the sample screens into ``out``; return the files written."""
    size = kivy_env.window_size(orientation)
    kivy_env.prepare(size, headless=True)
    from kivy.base import EventLoop
    from kivy.core.window import Window

    from kiosk.samples import SAMPLE_NOW, SCREENS
    from kiosk.screens import build_screen
    from kiosk.view import build_view

    Window.size = size
    out.mkdir(parents=True, exist_ok=True)
    suffix = "" if orientation == "landscape" else f"-{orientation}"
    written = []
    for name, sample in SCREENS.items():
        if only and name not in only:
            continue
        screen = build_screen(build_view(sample(), SAMPLE_NOW), lambda _event: None, size)
        screen.size_hint = (None, None)
        screen.size = size
        Window.add_widget(screen)
        for _ in range(3):
            EventLoop.idle()
        path = out / f"kiosk-{name}{suffix}.png"
        screen.export_to_png(str(path))
        Window.remove_widget(screen)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Write the screenshots; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m kiosk.screenshots", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="directory for the PNG files")
    parser.add_argument("--orientation", choices=("landscape", "portrait"), default="landscape")
    parser.add_argument("--only", action="append", help="render only this screen (repeatable)")
    args = parser.parse_args(argv)
    for path in render_all(args.out, args.orientation, args.only):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
