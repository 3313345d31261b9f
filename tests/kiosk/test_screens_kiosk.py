"""Every kiosk screen really rendered by Kivy (SDL offscreen), screenshotted and read back
with tesseract: the Chinese must be drawn glyphs, not the empty boxes Roboto would give."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from kiosk import kivy_env

SIZE = kivy_env.window_size("landscape")
kivy_env.prepare(SIZE, headless=True)

import kivy  # noqa: E402
from kivy.base import EventLoop  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.graphics import Color, Rectangle  # noqa: E402
from kivy.tests.common import UnitTestTouch  # noqa: E402
from kivy.uix.label import Label  # noqa: E402
from kivy.uix.widget import Widget  # noqa: E402

from kiosk.events import Event, HelpRequested, ServicePicked, SpeakRequested  # noqa: E402
from kiosk.samples import SAMPLE_NOW, SCREENS  # noqa: E402
from kiosk.screens import Tap, build_screen  # noqa: E402
from kiosk.texts import Language  # noqa: E402
from kiosk.view import View, build_view  # noqa: E402

pytestmark = pytest.mark.kivy
ROOT = Path(__file__).resolve().parents[2]
PANEL_DPI = 1509.5 / 10.1  # a 10.1-inch 1280x800 panel: about 149 pixels per inch
MIN_TARGET_PX = 15 / 25.4 * PANEL_DPI
_WORD = re.compile(r"[A-Za-z]+")


def show(widget: Widget) -> None:
    Window.size = SIZE
    Window.add_widget(widget)
    for _ in range(3):
        EventLoop.idle()


def render(widget: Widget, path: Path) -> Path:
    widget.size_hint = (None, None)
    widget.size = SIZE
    show(widget)
    widget.export_to_png(str(path))
    Window.remove_widget(widget)
    return path


NUMBERS = ["-l", "eng", "--psm", "11", "-c", "tessedit_char_whitelist=ABCDEFG0123456789"]


def ocr(jobs: dict[str, tuple[Path, list[str]]]) -> dict[str, str]:
    """Run tesseract on every image at once (one thread each); name -> recognised text."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    running = {name: subprocess.Popen(["tesseract", str(path), "-", *options],
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
               for name, (path, options) in jobs.items()}
    return {name: proc.communicate(timeout=60)[0].decode() for name, proc in running.items()}


def recognised(expected: str, text: str) -> float:
    """Share of the expected characters (Chinese) or words (English) found in the OCR text."""
    if _WORD.search(expected):
        words = [w.lower() for w in _WORD.findall(expected)]
        return sum(w in text.lower() for w in words) / len(words)
    wanted = [c for c in expected if "\u4e00" <= c <= "\u9fff"]
    squeezed = "".join(text.split())
    return sum(c in squeezed for c in wanted) / len(wanted)


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[View, str]]:
    """Render every sample screen; name -> (its view, what tesseract read)."""
    out = tmp_path_factory.mktemp("screens")
    views, images = {}, {}
    for name, sample in SCREENS.items():
        view = build_view(sample(), SAMPLE_NOW)
        views[name] = view
        path = render(build_screen(view, lambda _e: None, SIZE), out / f"kiosk-{name}.png")
        images[name] = (path, ["-l", "chi_sim" if view.language is Language.ZH else "eng"])
        if view.number:  # the huge ticket number reads best at half size, Latin only
            half = out / f"kiosk-{name}-half.png"
            with Image.open(path) as image:
                image.convert("L").reduce(2).save(half)
            images[f"{name}:number"] = (half, NUMBERS)
    texts = ocr(images)
    return {name: (views[name], texts[name] + texts.get(f"{name}:number", ""))
            for name in SCREENS}


@pytest.mark.parametrize("name", list(SCREENS))
def test_each_screen_draws_its_title_in_real_glyphs(
        name: str, screens: dict[str, tuple[View, str]]) -> None:
    view, text = screens[name]
    assert recognised(view.title, text) >= 0.6, f"{view.title!r} not found in OCR: {text!r}"
    if view.number:
        assert view.number in text
    assert recognised(view.hall_name, text) >= 0.6


@pytest.mark.parametrize("name", ["idle", "idle-en"])
def test_the_idle_screen_shows_the_nearby_centres_and_their_waits(
        name: str, screens: dict[str, tuple[View, str]]) -> None:
    view, text = screens[name]
    assert len(view.nearby) == 3 and recognised(view.nearby_title, text) >= 0.75
    squeezed = "".join(text.split())
    for centre in view.nearby:
        assert recognised(centre.name, text) >= 0.75, f"{centre.name!r} not in OCR: {text!r}"
        if view.language is Language.ZH:
            assert "".join(centre.wait.split()) in squeezed, f"{centre.wait!r}: {text!r}"
        else:
            assert recognised(centre.wait, text) == 1.0, f"{centre.wait!r}: {text!r}"


def test_the_ocr_check_fails_on_roboto_boxes(tmp_path: Path) -> None:
    roboto = Path(kivy.__file__).parent / "data" / "fonts" / "Roboto-Regular.ttf"
    words = "请刷身份证取号"
    labels = {"default": Label(text=words, font_size=90, color=(0, 0, 0, 1)),
              "roboto": Label(text=words, font_size=90, color=(0, 0, 0, 1),
                              font_name=str(roboto))}
    images = {}
    for name, label in labels.items():
        box = Widget()
        with box.canvas.before:
            Color(1, 1, 1, 1)
            Rectangle(pos=(0, 0), size=SIZE)
        label.pos, label.size = (0, 0), SIZE
        box.add_widget(label)
        images[name] = (render(box, tmp_path / f"{name}.png"), ["-l", "chi_sim"])
    texts = ocr(images)
    assert recognised(words, texts["default"]) >= 0.8
    assert recognised(words, texts["roboto"]) == 0.0


@pytest.fixture
def choosing() -> Iterator[tuple[Widget, list[Event]]]:
    emitted: list[Event] = []
    screen = build_screen(build_view(SCREENS["choosing"](), SAMPLE_NOW), emitted.append, SIZE)
    screen.size_hint, screen.size = (None, None), SIZE
    show(screen)
    yield screen, emitted
    Window.remove_widget(screen)


def taps(widget: Widget) -> list[Tap]:
    return [w for w in widget.walk() if isinstance(w, Tap)]


def labelled(widget: Widget, text: str) -> Tap:
    return next(t for t in taps(widget) if any(
        isinstance(w, Label) and w.text == text for w in t.walk(restrict=True)))


def touch(widget: Widget) -> None:
    x, y = widget.to_window(*widget.center)
    finger = UnitTestTouch(x, y)
    finger.touch_down()
    finger.touch_up()


def test_touching_a_service_picks_it_and_a_greyed_one_does_nothing(
        choosing: tuple[Widget, list[Event]]) -> None:
    screen, emitted = choosing
    touch(labelled(screen, "社会保险与就业"))
    touch(labelled(screen, "敬老卡与社保卡"))
    touch(labelled(screen, "寻求帮助"))
    assert emitted == [ServicePicked("A"), HelpRequested()]


def test_the_appointment_is_offered_above_the_services(
        choosing: tuple[Widget, list[Event]]) -> None:
    screen, emitted = choosing
    offer = labelled(screen, "预约签到  10:00 · 社会救助与助老助残")
    assert offer.y > labelled(screen, "社会保险与就业").top
    touch(offer)
    assert emitted == [ServicePicked("C", appointment=True)]


@pytest.mark.parametrize("name", list(SCREENS))
def test_touch_targets_are_at_least_15_mm(name: str) -> None:
    screen = build_screen(build_view(SCREENS[name](), SAMPLE_NOW), lambda _e: None, SIZE)
    screen.size_hint, screen.size = (None, None), SIZE
    show(screen)
    try:
        targets = taps(screen)
        assert targets, "every screen has at least the language and help buttons"
        for target in targets:
            assert min(target.size) >= MIN_TARGET_PX, (name, target.size)
    finally:
        Window.remove_widget(screen)


def test_the_committed_screenshots_are_there_and_in_the_readme() -> None:
    readme = (ROOT / "kiosk" / "README.md").read_text(encoding="utf-8")
    for name in SCREENS:
        shot = ROOT / "images" / "screenshots" / f"kiosk-{name}.png"
        assert shot.is_file(), "run python -m kiosk.screenshots --out images/screenshots"
        assert f"kiosk-{name}.png" in readme


def test_the_waits_are_large_enough_to_be_read_back(screens: dict[str, tuple[View, str]]) -> None:
    """The idle screen's waits per service and the ticket's ahead and wait, read by OCR."""
    view, text = screens["idle"]
    squeezed = "".join(text.split())
    waits = [b.wait for b in view.services if b.wait]
    assert len(waits) == 6
    for wait in waits:
        assert "".join(wait.split()) in squeezed, f"{wait!r} not in OCR: {text!r}"
    view, text = screens["done"]
    squeezed = "".join(text.split())
    assert recognised(view.lines[0], text) == 1.0 and "5人" in squeezed and "12分钟" in squeezed


def luminance(rgb: tuple[int, ...]) -> float:
    """WCAG relative luminance of an sRGB pixel."""
    linear = [c / 255 / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4
              for c in rgb[:3]]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def ink_and_contrast(image: Image.Image, label: Label) -> tuple[int, float]:
    """The drawn text's height in pixels and its WCAG contrast with the paper around it,
    measured on the rendered image inside the label's box."""
    x, y = label.to_window(*label.pos)
    box = (int(x), int(SIZE[1] - y - label.height), int(x + label.width), int(SIZE[1] - y))
    crop = image.convert("RGB").crop(box)
    colours = crop.getcolors(crop.width * crop.height) or []
    paper = max(colours)[1]
    far = max((abs(luminance(c) - luminance(paper)), c) for _n, c in colours)[1]
    rows = [r for r in range(crop.height)
            if any(abs(luminance(crop.getpixel((c, r))) - luminance(paper)) > 0.2
                   for c in range(crop.width))]
    lighter, darker = sorted((luminance(paper), luminance(far)), reverse=True)
    return (rows[-1] - rows[0] + 1 if rows else 0), (lighter + 0.05) / (darker + 0.05)


@pytest.mark.parametrize(("name", "min_px"), [("idle", 26), ("done", 44)])
def test_the_waits_are_drawn_large_and_dark_on_light(tmp_path: Path, name: str,
                                                     min_px: int) -> None:
    """Waits and nearby centres: glyphs at least min_px tall (about 4.5 mm, 7.5 mm on the
    panel) and WCAG AAA contrast (7:1), not small grey text."""
    view = build_view(SCREENS[name](), SAMPLE_NOW)
    wanted = [b.wait for b in view.services if b.wait] + [c.name for c in view.nearby]
    wanted += [line for line in view.lines[:1] if name == "done"]
    screen = build_screen(view, lambda _e: None, SIZE)
    screen.size_hint, screen.size = (None, None), SIZE
    show(screen)
    try:
        path = tmp_path / f"{name}.png"
        screen.export_to_png(str(path))
        labels = {w.text: w for w in screen.walk() if isinstance(w, Label)}
        with Image.open(path) as image:
            for words in wanted:
                label = next(lab for text_, lab in labels.items() if words in text_)
                height, contrast = ink_and_contrast(image, label)
                assert height >= min_px, (words, height)
                assert contrast >= 7.0, (words, contrast)
    finally:
        Window.remove_widget(screen)


@pytest.mark.parametrize("name", ["idle", "done", "notice", "out-of-service", "staff-help"])
def test_a_touch_on_a_screen_without_choices_asks_to_hear_it(name: str) -> None:
    emitted: list[Event] = []
    screen = build_screen(build_view(SCREENS[name](), SAMPLE_NOW), emitted.append, SIZE)
    screen.size_hint, screen.size = (None, None), SIZE
    show(screen)
    try:
        finger = UnitTestTouch(SIZE[0] / 2, SIZE[1] * 0.55)
        finger.touch_down()
        finger.touch_up()
    finally:
        Window.remove_widget(screen)
    assert emitted == [SpeakRequested()]
