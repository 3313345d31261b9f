"""Both screens really rendered by Kivy (offscreen), then read back with tesseract's chi_sim.

``python -m display --screenshot FILE --sample`` draws each picture in its own process, as a
hall technician would; OCR shows the Chinese is drawn as glyphs (an empty-box font reads
as nothing) and that the big ticket number reads from afar (it is read at a quarter of its
size, as from four times the distance).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.display.ocr import read

ROOT = Path(__file__).resolve().parents[2]
SHOTS = {
    "lobby": ["--mode", "lobby"],
    "lobby-flash": ["--mode", "lobby", "--flash", "--offline"],
    "counter": ["--mode", "counter", "--counter", "3"],
    "counter-paused": ["--mode", "counter", "--counter", "5"],
}
pytestmark = pytest.mark.kivy


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Image.Image]]:
    """Every sample screen, rendered in parallel processes."""
    folder = tmp_path_factory.mktemp("screens")
    running = {
        name: subprocess.Popen(
            [sys.executable, "-m", "display", "--sample", "--screenshot",
             str(folder / f"{name}.png"), *args],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for name, args in SHOTS.items()
    }
    for name, process in running.items():
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, f"{name}: {err.decode()[-2000:]}"
        assert f"wrote {folder / name}.png" in out.decode()
    yield {name: Image.open(folder / f"{name}.png").convert("RGB") for name in SHOTS}


def test_the_screens_have_their_design_sizes(shots: dict[str, Image.Image]) -> None:
    assert shots["lobby"].size == (1920, 1080)
    assert shots["counter"].size == (800, 480)


def test_the_lobby_header_names_the_hall_with_date_and_hours(
        shots: dict[str, Image.Image]) -> None:
    text = read(shots["lobby"], (0, 0, 1920, 140))
    assert "社区事务受理服务中心" in text
    assert "10:24:36" in text
    assert "服务时间" in text


def test_the_lobby_call_reads_from_afar(shots: dict[str, Image.Image]) -> None:
    assert read(shots["lobby"], (40, 200, 700, 520), scale=0.25, number=True) == "A037"
    assert "请到3号窗口" in read(shots["lobby"], (690, 220, 1164, 470), scale=0.5)
    assert "请A037号到3号窗口" in read(shots["lobby"], (40, 540, 700, 630), scale=0.6)


def test_the_lobby_lists_waiting_and_window_states(shots: dict[str, Image.Image]) -> None:
    services = read(shots["lobby"], (28, 640, 1164, 990))
    assert "社会保险与就业" in services and "今日已满" in services
    windows = read(shots["lobby"], (1190, 640, 1892, 990))
    assert "窗口状态" in windows and "暂停" in windows


def test_a_new_call_flashes_the_call_panel_amber(shots: dict[str, Image.Image]) -> None:
    corner = (60, 600)  # inside the call panel, clear of its text
    red, green, blue = shots["lobby-flash"].getpixel(corner)
    assert red > 220 and 150 < green < 220 and blue < 90
    red, green, blue = shots["lobby"].getpixel(corner)
    assert max(red, green, blue) < 60


def test_an_offline_display_says_so_and_keeps_its_picture(
        shots: dict[str, Image.Image]) -> None:
    badge = (1335, 40, 1575, 88)
    assert "离线" not in read(shots["lobby"], badge)
    assert "离线" in read(shots["lobby-flash"], badge)
    assert read(shots["lobby-flash"], (40, 200, 700, 520), scale=0.25, number=True) == "A037"


def test_the_counter_screen_shows_its_window_number_and_clerk(
        shots: dict[str, Image.Image]) -> None:
    assert read(shots["counter"], (100, 150, 700, 330), scale=0.3, number=True) == "A037"
    top = read(shots["counter"], (0, 0, 560, 100), scale=0.6)
    assert "3号窗口" in top
    clerk = read(shots["counter"], (0, 380, 800, 480))
    assert "工号" in clerk and "S003" in clerk


def test_the_paused_counter_screen_says_so(shots: dict[str, Image.Image]) -> None:
    face = read(shots["counter-paused"], (60, 150, 740, 330), scale=0.4)
    assert face == "暂停服务"
    assert "请到其他窗口办理" in read(shots["counter-paused"], (0, 320, 800, 390))
