"""Draw the sample hall once per ticket number, in one Kivy app: many screenshots, one process.

``python -m tests.display.render_calls --mode lobby --resolution 1366x768 --out DIR W888 M888``
writes ``DIR/W888.png`` and so on, each the picture ``python -m display --screenshot F
--sample --call W888`` draws; a window can have one size per process, so the tests run one of
these per screen size. For each picture it prints one JSON line naming, for each label that
matters (the big number, the called window's name, its tile, the first service), its box in
the picture's pixels (left, top, right, bottom), font size, lines and whether Kivy shortened
it; and the boxes of the panels around them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from PIL import Image

from display.sample import HALL, SAMPLE_NOW, Called, hall_state, sample_model
from display.settings import Mode, ScreenSettings
from display.window import prepare_kivy
from protocol import messages as m
from protocol.topics import HallTopics, StateKind, Topic, parse


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=[mode.value for mode in Mode], default="lobby")
    parser.add_argument("--resolution", default=None, help="WIDTHxHEIGHT")
    parser.add_argument("--window", default=None, help="the called window's name")
    parser.add_argument("--service", default=None, help="a name for service A")
    parser.add_argument("--counter", default="3", help="the window called (counter screen's)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("numbers", nargs="+")
    return parser.parse_args(argv)


def _renamed_service(called: Called, name: str) -> tuple[Topic, m.HallState]:
    """The sample hall's information with service A renamed."""
    hall = hall_state(called)
    services = [s.model_copy(update={"name": name}) if s.id == "A" else s
                for s in hall.services]
    return parse(HallTopics(HALL).state(StateKind.HALL)), hall.model_copy(
        update={"services": services})


def _save(root: Any, path: Path) -> None:
    """The picture ``export_to_png`` writes, saved faster (Kivy copies its rows in Python)."""
    texture = root.export_as_image().texture
    picture = Image.frombytes("RGBA", texture.size, texture.pixels)
    picture.convert("RGB").save(path, compress_level=1)


def _box(widget: Any) -> list[float]:
    """``widget``'s rectangle in the exported picture: left, top, right, bottom (y down)."""
    from kivy.core.window import Window

    left, bottom = widget.to_window(widget.x, widget.y)
    right, top = widget.to_window(widget.right, widget.top)
    return [left, Window.height - top, right, Window.height - bottom]


def _label(label: Any) -> dict[str, Any]:
    core = label._label
    return {"text": label.text, "box": _box(label), "font_size": label.font_size,
            "lines": len(core._cached_lines), "shortened": core.is_shortened}


def _widgets(view: Any) -> dict[str, Any]:
    """The labels and panels the tests look at, on either screen."""
    if hasattr(view.ids, "current_number"):
        tile = next(t for t in view.ids.counters.children if t.name == view.ids.current_window.text)
        service = view.ids.services.children[-1]
        return {"number": _label(view.ids.current_number),
                "window": _label(view.ids.current_window),
                "panel": _box(view.ids.call_panel),
                "tile": _label(tile.ids.number), "tile_box": _box(tile),
                "service": _label(service.ids.name), "service_box": _box(service)}
    return {"number": _label(view.ids.number), "window": _label(view.ids.name),
            "panel": _box(view.ids.face), "service": _label(view.ids.services),
            "service_box": _box(view.ids.services)}


def main(argv: list[str] | None = None) -> int:
    """Render every number; one JSON line per picture on stdout."""
    args = _arguments(argv)
    size = tuple(int(side) for side in args.resolution.split("x")) if args.resolution else None
    screen = ScreenSettings(mode=Mode(args.mode), counter=args.counter, resolution=size,
                            voice=False)
    prepare_kivy(screen.size, headless=True,
                 home=Path(tempfile.gettempdir()) / "lobby-display-kivy")
    from display.app import DisplayApp

    class Sheet(DisplayApp):
        """The display app, drawing one number after another and exporting each."""

        def __init__(self, numbers: list[str], **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.numbers = list(numbers)

        def on_start(self) -> None:
            self._next()

        def _next(self) -> None:
            if not self.numbers:
                self.stop()
                return
            number = self.numbers[0]
            called = Called.choose(number, args.window, args.counter)
            self.model = sample_model(0.0, flashing=True, called=called)
            if args.service:
                self.model.fold(*_renamed_service(called, args.service), 0.0)
            self.refresh()
            self._after_frames(3, self._export)

        def _export(self) -> None:
            assert self.root is not None and self.view is not None
            number = self.numbers.pop(0)
            _save(self.root, args.out / f"{number}.png")
            print(json.dumps({"call": number, **_widgets(self.view)}), flush=True)
            self._next()

    args.out.mkdir(parents=True, exist_ok=True)
    moment = screen.flash_seconds + 1
    Sheet(args.numbers, screen=screen, model=sample_model(0.0), wall_clock=lambda: SAMPLE_NOW,
          mono_clock=lambda: moment,
          screenshot=args.out / "unused.png").run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
