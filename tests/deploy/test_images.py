"""The artwork: every PNG is its SVG source rendered by images/art/render.sh, at its size, so a
changed SVG without a fresh PNG (or the reverse) is caught."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "images" / "art"
ARTWORK = [
    ("images/art/logo.svg", (512, 512)),
    *((f"images/art/services/{c}.svg", (128, 128)) for c in "ABCDEFG"),
    ("images/art/display-background.svg", (1920, 1080)),
    ("docs/wiring.svg", (1600, 1040)),
]


def rsvg_convert() -> str:
    found = shutil.which("rsvg-convert")
    assert found, "rsvg-convert is missing: apt-get install librsvg2-bin"
    return found


@pytest.mark.parametrize(("svg", "size"), ARTWORK, ids=[a[0] for a in ARTWORK])
def test_png_is_the_rendered_svg(tmp_path: Path, svg: str, size: tuple[int, int]) -> None:
    source = ROOT / svg
    assert "<title>" in source.read_text(encoding="utf-8")  # says what it shows
    committed = Image.open(source.with_suffix(".png")).convert("RGBA")
    assert committed.size == size
    fresh = tmp_path / "fresh.png"
    subprocess.run([rsvg_convert(), "-w", str(size[0]), "-h", str(size[1]), str(source),
                    "-o", str(fresh)], check=True, timeout=60)
    difference = ImageChops.difference(committed, Image.open(fresh).convert("RGBA"))
    assert max(ImageStat.Stat(difference).mean) < 0.5, \
        f"run images/art/render.sh after editing {svg}"


@pytest.mark.parametrize("letter", "ABCDEFG")
def test_service_icons_are_line_art_on_transparent(letter: str) -> None:
    icon = Image.open(IMAGES / "services" / f"{letter}.png").convert("RGBA")
    assert icon.getpixel((0, 0))[3] == 0 and icon.getpixel((64, 127))[3] == 0
    inked = sum(icon.getchannel("A").histogram()[129:]) / (128 * 128)
    assert 0.05 < inked < 0.35  # strokes, not a filled tile and not an empty one
    solid = {rgba[:3] for _, rgba in icon.getcolors(128 * 128) if rgba[3] == 255}
    blue = (0x12, 0x4A, 0x94)  # one ink, the kiosk's blue (give or take a rounding)
    assert solid and all(max(abs(a - b) for a, b in zip(rgb, blue, strict=True)) <= 1
                         for rgb in solid), solid


def test_render_script_renders_every_artwork() -> None:
    script = (IMAGES / "render.sh").read_text(encoding="utf-8")
    for svg, _ in ARTWORK:
        name = svg.removeprefix("images/art/")
        if name.startswith("services/"):
            assert "services/*.svg" in script
        else:
            assert (name if not name.startswith("docs/") else f"../../{name}") in script
