"""Every ticket number the hall can issue fits on one line, at the largest size that fits.

A number is a prefix letter A-Z and 001-999, or four digits once a daily quota passes 999.
The font's digits are all equally wide (8 is used: it reads back best), so L888 and L8888 are
the widest numbers of each letter. Each screen size draws all 52 in one Kivy app
(``render_calls.py``, one process per size); every picture is then checked from outside: the
number's ink is one line inside its box, not clipped (Q keeps its tail), as large as fits, and
tesseract reads it back (its digits exactly; O, S and Z may read as their look-alike digits).
Long window and service names shrink, then end in an ellipsis, and stay inside their boxes.
"""

from __future__ import annotations

import json
import string
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.display.ocr import (
    AMBER,
    LIGHT,
    Box,
    Colour,
    bands,
    ink,
    read,
    read_tickets,
    reads_as,
)

ROOT = Path(__file__).resolve().parents[2]
NUMBERS = [f"{letter}888" for letter in string.ascii_uppercase] + [
    f"{letter}8888" for letter in string.ascii_uppercase]
SCREENS = {
    "lobby": ["--mode", "lobby"],
    "lobby-1366": ["--mode", "lobby", "--resolution", "1366x768"],
    "counter": ["--mode", "counter"],
}
LOBBIES = ["lobby", "lobby-1366"]
LARGEST = {"lobby": 250, "lobby-1366": 250, "counter": 200}  # the design's font sizes
DESIGN_WIDTH = {"lobby": 1920, "lobby-1366": 1920, "counter": 800}
WINDOW = "13号窗口 · 综合"
LONG_WINDOW = "13号窗口 · 综合受理（社保、医保、公积金、户籍）"
LONG_SERVICE = "社会保险与就业失业登记及职业技能培训补贴申领与养老金资格认证"
MUTED: Colour = ((110, 255), (120, 255), (150, 255))  # the counter screen's grey service line
pytestmark = pytest.mark.kivy


@dataclass(frozen=True)
class Shot:
    """One rendered picture and what the app said about its labels (render_calls.py)."""

    image: Image.Image
    facts: dict[str, Any]

    def box(self, name: str, inset: int = 0) -> Box:
        """A label's or panel's box in the picture, rounded outwards, less ``inset``."""
        fact = self.facts[name]
        left, top, right, bottom = fact["box"] if isinstance(fact, dict) else fact
        return (int(left) + inset, int(top) + inset, -int(-right) - inset,
                -int(-bottom) - inset)


def render(folder: Path, args: list[str], numbers: list[str]) -> subprocess.Popen[bytes]:
    """Start drawing ``numbers`` into ``folder``."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.display.render_calls", "--out", str(folder), *args,
         *numbers], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def collect(folder: Path, process: subprocess.Popen[bytes]) -> dict[str, Shot]:
    """The pictures of a finished ``render``, by number."""
    out, err = process.communicate(timeout=240)
    assert process.returncode == 0, err.decode()[-2000:]
    facts = [json.loads(line) for line in out.decode().splitlines()]
    return {fact["call"]: Shot(Image.open(folder / f"{fact['call']}.png").convert("RGB"),
                                 fact) for fact in facts}


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Shot]]:
    """All 52 widest numbers on each screen size, the sizes drawn in parallel processes."""
    folders = {screen: tmp_path_factory.mktemp(screen) for screen in SCREENS}
    running = {screen: render(folders[screen], args, NUMBERS) for screen, args in SCREENS.items()}
    drawn = {screen: collect(folders[screen], process) for screen, process in running.items()}
    for screen in SCREENS:
        assert list(drawn[screen]) == NUMBERS, screen
    return drawn


def misread(lines: list[str]) -> list[tuple[str, str]]:
    """The numbers tesseract read otherwise than drawn: (drawn, read)."""
    assert len(lines) == len(NUMBERS), lines
    return [(drawn, line) for drawn, line in zip(NUMBERS, lines, strict=True)
            if not reads_as(drawn, line)]


def ink_box(shot: Shot, area: Box, colour: Colour) -> tuple[Box | None, int]:
    """Where ``colour``'s ink lies inside ``area`` (picture pixels), and in how many lines."""
    mask = ink(shot.image, area, colour)
    found = mask.getbbox()
    if found is None:
        return None, 0
    left, top, right, bottom = found
    return (area[0] + left, area[1] + top, area[0] + right, area[1] + bottom), len(bands(mask))


def inside(ink_at: Box | None, box: Box) -> bool:
    """Ink strictly within ``box`` left to right (a clipped glyph touches the edge)."""
    return ink_at is not None and box[0] < ink_at[0] and ink_at[2] < box[2]


def one_line_inside(shot: Shot, label: str, area: Box, colour: Colour) -> str:
    """'' if the label is drawn whole on one line inside its box, else what is wrong."""
    fact = shot.facts[label]
    ink_at, lines = ink_box(shot, area, colour)
    wrong = []
    if fact["lines"] != 1 or lines != 1:
        wrong.append(f"{fact['lines']} lines laid out, {lines} drawn")
    if fact["shortened"]:
        wrong.append("shortened")
    if not inside(ink_at, shot.box(label)):
        wrong.append(f"ink at {ink_at}, box {shot.box(label)}")
    return f"{fact['text']}: {', '.join(wrong)}" if wrong else ""


@pytest.mark.parametrize("screen", SCREENS)
def test_every_number_is_one_line_inside_its_box(
        shots: dict[str, dict[str, Shot]], screen: str) -> None:
    problems = [one_line_inside(shot, "number", shot.box("panel", inset=8), AMBER)
                for shot in shots[screen].values()]
    assert [problem for problem in problems if problem] == []


@pytest.mark.parametrize("screen", SCREENS)
def test_every_number_reads_back(shots: dict[str, dict[str, Shot]], screen: str) -> None:
    regions = [(shot.image, shot.box("panel", inset=8)) for shot in shots[screen].values()]
    wrong = misread(read_tickets(regions, AMBER))
    assert not wrong, wrong


@pytest.mark.parametrize("screen", SCREENS)
def test_every_number_is_as_large_as_fits(
        shots: dict[str, dict[str, Shot]], screen: str) -> None:
    """Full design size, or filling its box: a size more would not fit."""
    small = []
    for number, shot in shots[screen].items():
        box = shot.box("number")
        ink_at, _ = ink_box(shot, shot.box("panel", inset=8), AMBER)
        assert ink_at is not None, number
        full = shot.facts["number"]["font_size"] == LARGEST[screen]
        if not full and ink_at[2] - ink_at[0] < 0.9 * (box[2] - box[0]):
            small.append((number, shot.facts["number"]["font_size"], ink_at, box))
    assert small == []
    assert shots[screen]["A888"].facts["number"]["font_size"] == LARGEST[screen]


@pytest.mark.parametrize("screen", SCREENS)
def test_q_keeps_its_tail(shots: dict[str, dict[str, Shot]], screen: str) -> None:
    """Q reaches below the line the others stand on (the box is shorter than the line)."""
    feet = {}
    for number in ("A888", "Q888"):
        shot = shots[screen][number]
        ink_at, _ = ink_box(shot, shot.box("panel", inset=8), AMBER)
        assert ink_at is not None
        feet[number] = ink_at[3]
    shot = shots[screen]["Q888"]
    em = shot.facts["number"]["font_size"] * shot.image.width / DESIGN_WIDTH[screen]
    assert feet["Q888"] - feet["A888"] > 0.12 * em  # WenQuanYi's tail: 0.14-0.15 em


@pytest.mark.parametrize("screen", LOBBIES)
def test_the_called_windows_tile_shows_every_number_on_one_line(
        shots: dict[str, dict[str, Shot]], screen: str) -> None:
    problems = [one_line_inside(shot, "tile", shot.box("tile"), AMBER)
                for shot in shots[screen].values()]
    assert [problem for problem in problems if problem] == []


def test_the_called_windows_tile_reads_back(shots: dict[str, dict[str, Shot]]) -> None:
    """On the 1920 wall: at 1366 its type is too small for tesseract to count four 8s."""
    regions = [(shot.image, shot.box("tile")) for shot in shots["lobby"].values()]
    wrong = misread(read_tickets(regions, AMBER))
    assert not wrong, wrong


@pytest.fixture(scope="module")
def names(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Shot]:
    """W8888 called to a window with a long name, and one with a name too long to fit."""
    runs = {
        "lobby": ["--mode", "lobby", "--window", WINDOW, "--service", LONG_SERVICE],
        "lobby-long": ["--mode", "lobby", "--window", LONG_WINDOW],
        "counter": ["--mode", "counter", "--window", WINDOW, "--service", LONG_SERVICE,
                    "--counter", "10"],
        "counter-long": ["--mode", "counter", "--window", LONG_WINDOW],
    }
    folders = {name: tmp_path_factory.mktemp(name) for name in runs}
    running = {name: render(folders[name], args, ["W8888"]) for name, args in runs.items()}
    return {name: collect(folders[name], process)["W8888"] for name, process in running.items()}


@pytest.mark.parametrize("screen", ["lobby", "counter"])
def test_a_long_window_name_shrinks_to_fit(names: dict[str, Shot], screen: str) -> None:
    shot = names[screen]
    assert one_line_inside(shot, "window", shot.box("window"), LIGHT) == ""
    name = read(shot.image, shot.box("window"), scale=0.6)
    assert name.startswith("13号窗口") and name.endswith("综合"), name  # the dot reads as . or -
    assert one_line_inside(shot, "number", shot.box("panel", inset=8), AMBER) == ""


@pytest.mark.parametrize("screen", ["lobby-long", "counter-long"])
def test_a_window_name_too_long_ends_in_an_ellipsis(names: dict[str, Shot], screen: str) -> None:
    shot = names[screen]
    fact = shot.facts["window"]
    assert fact["lines"] == 1 and fact["shortened"]
    ink_at, lines = ink_box(shot, shot.box("window"), LIGHT)
    assert lines == 1 and inside(ink_at, shot.box("window"))
    assert read(shot.image, shot.box("window"), scale=0.6).startswith("13号窗口")
    assert one_line_inside(shot, "number", shot.box("panel", inset=8), AMBER) == ""


@pytest.mark.parametrize("screen", ["lobby", "counter"])
def test_a_long_service_name_stays_in_its_row(names: dict[str, Shot], screen: str) -> None:
    shot = names[screen]
    fact = shot.facts["service"]
    assert fact["lines"] == 1
    ink_at, lines = ink_box(shot, shot.box("service"), LIGHT if screen == "lobby" else MUTED)
    assert lines == 1 and inside(ink_at, shot.box("service"))
    assert "社会保险与就业" in read(shot.image, shot.box("service_box"), scale=1.5)


def scaled(box: Box, scale: float) -> Box:
    """A box of the 1920x1080 design on a wall of another size."""
    left, top, right, bottom = (round(side * scale) for side in box)
    return left, top, right, bottom


def test_the_preview_draws_the_hall_s_own_number(tmp_path: Path) -> None:
    """The issue's check: --call W888 --window 13 on both lobby sizes and the counter screen."""
    sizes = {"lobby": ([], 1.0), "lobby-1366": (["--resolution", "1366x768"], 1366 / 1920),
             "counter": (["--mode", "counter"], 1.0)}
    running = {
        name: subprocess.Popen(
            [sys.executable, "-m", "display", "--sample", "--screenshot",
             str(tmp_path / f"{name}.png"), "--call", "W888", "--window", "13", *args],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for name, (args, _) in sizes.items()}
    for name, process in running.items():
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, f"{name}: {err.decode()[-2000:]}"
    for name in LOBBIES:
        scale = sizes[name][1]
        image = Image.open(tmp_path / f"{name}.png").convert("RGB")
        number = read(image, scaled((40, 200, 700, 520), scale), 0.25 / scale, number=True)
        assert number == "W888"
        assert "请到13号窗口" in read(image, scaled((690, 220, 1164, 470), scale), 0.5 / scale)
    counter = Image.open(tmp_path / "counter.png").convert("RGB")
    assert read(counter, (40, 150, 760, 330), scale=0.3, number=True) == "W888"
    assert "13号窗口" in read(counter, (0, 0, 560, 100), scale=0.6)


@pytest.mark.parametrize("bad", ["12", "w888", "A12", "AB123", "A12345"])
def test_a_number_the_hall_cannot_issue_is_refused(bad: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "display", "--sample", "--screenshot", str(tmp_path / "x.png"),
         "--call", bad], cwd=ROOT, capture_output=True, timeout=60)
    assert done.returncode == 2 and not (tmp_path / "x.png").exists()
    assert f"--call {bad!r}" in done.stderr.decode()


def test_an_empty_window_name_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "display", "--sample", "--screenshot", str(tmp_path / "x.png"),
         "--window", "  "], cwd=ROOT, capture_output=True, timeout=60)
    assert done.returncode == 2 and "--window" in done.stderr.decode()
