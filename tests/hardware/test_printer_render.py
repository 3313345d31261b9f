"""The ticket image: size, content read back by OCR, the huge number, and clear errors."""

from __future__ import annotations

import dataclasses
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageOps

from hardware.printer import (
    PAPER_58MM,
    PAPER_80MM,
    BadPrintout,
    TicketFontMissing,
    TicketPrintout,
    render_ticket,
)
from hardware.printer.render import find_cjk_font

PRINTOUT = TicketPrintout(
    hall_name="天平街道社区事务受理服务中心",
    hall_name_en="Tianping Community Affairs Acceptance Centre",
    number="A012",
    service_name="社会保险与就业",
    service_name_en="Social insurance & employment",
    ahead=5,
    wait_minutes=37.4,
    issued_at=datetime(2026, 3, 16, 9, 41, tzinfo=ZoneInfo("Asia/Shanghai")),
    status_url="http://127.0.0.1:8080/t/q7Hc2kLm9XwB",
    channel="绿色通道",
    channel_en="Green channel",
)


def ocr(image: Image.Image, tmp_path: Path, *options: str) -> str:
    path = tmp_path / "ocr.png"
    image.save(path)
    done = subprocess.run(
        ["tesseract", str(path), "-", *options], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def ink_bands(image: Image.Image) -> list[tuple[int, int]]:
    """Runs of rows that hold black dots, top to bottom."""
    grey = image.convert("L")
    inked = [grey.crop((0, y, grey.width, y + 1)).getextrema()[0] < 128 for y in range(grey.height)]
    bands, start = [], None
    for y, has_ink in enumerate([*inked, False]):
        if has_ink and start is None:
            start = y
        elif not has_ink and start is not None:
            bands.append((start, y))
            start = None
    return bands


@pytest.mark.parametrize("width", [PAPER_80MM, PAPER_58MM])
def test_ticket_is_a_one_bit_image_as_wide_as_the_paper(width: int) -> None:
    image = render_ticket(PRINTOUT, width)
    assert image.mode == "1"
    assert image.width == width
    assert 1.2 * width < image.height < 2.0 * width
    assert image.getpixel((0, 0)) == 255


def test_logo_is_at_the_top_and_centred() -> None:
    image = render_ticket(PRINTOUT).convert("L")
    top, bottom = ink_bands(image)[0]
    left, _, right, _ = ImageOps.invert(image.crop((0, top, image.width, bottom))).getbbox()
    assert bottom - top > 80
    assert abs((left + right) / 2 - image.width / 2) < 4


def test_ocr_reads_the_chinese_and_english_lines(tmp_path: Path) -> None:
    text = ocr(render_ticket(PRINTOUT), tmp_path, "-l", "chi_sim+eng").replace(" ", "")
    expected_lines = ("社区事务受理服务中心", "社会保险与就业", "前面还有5人", "分钟",
                      "过号请重新取号", "5aheadofyou", "2026-03-1609:41")
    for expected in expected_lines:
        assert expected in text


def test_the_number_is_huge_and_ocr_reads_it(tmp_path: Path) -> None:
    image = render_ticket(PRINTOUT).convert("L")
    bands = ink_bands(image)
    hall_name_height = bands[1][1] - bands[1][0]
    readings = {}
    for top, bottom in bands[1:]:
        if bottom - top >= 4 * hall_name_height:
            crop = image.crop((0, top - 20, image.width, bottom + 20))
            small = crop.resize((crop.width // 3, crop.height // 3), Image.Resampling.LANCZOS)
            readings[(top, bottom)] = ocr(small, tmp_path, "-l", "eng", "--psm", "8")
    number_bands = [band for band, text in readings.items() if "A012" in text]
    assert len(number_bands) == 1, readings
    assert number_bands[0][1] - number_bands[0][0] > 120


def test_number_too_wide_for_the_paper_is_drawn_smaller_and_stays_on_paper() -> None:
    wide = dataclasses.replace(PRINTOUT, number="W8888")
    image = render_ticket(wide, PAPER_58MM).convert("L")
    assert image.crop((0, 0, 4, image.height)).getextrema()[0] == 255
    assert image.crop((image.width - 4, 0, image.width, image.height)).getextrema()[0] == 255


def test_no_channel_means_no_badge() -> None:
    plain = render_ticket(dataclasses.replace(PRINTOUT, channel=None, channel_en=None))
    badge = render_ticket(PRINTOUT)
    assert plain.height < badge.height


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"number": "12"}, "letter and 3-4 digits"),
        ({"ahead": -1}, "ahead is negative"),
        ({"wait_minutes": float("nan")}, "wait_minutes"),
        ({"issued_at": datetime(2026, 3, 16, 9, 41)}, "no time zone"),
        ({"status_url": "ftp://x"}, "status_url 'ftp://x'"),
        ({"service_name": " "}, "service_name is empty"),
    ],
)
def test_bad_printout_is_refused_naming_the_field(
    change: dict[str, object], complaint: str
) -> None:
    with pytest.raises(BadPrintout, match=complaint):
        dataclasses.replace(PRINTOUT, **change)


def test_wait_and_ahead_wording_for_the_edge_cases() -> None:
    next_up = dataclasses.replace(PRINTOUT, ahead=0, wait_minutes=0.2)
    assert next_up.ahead_lines == ("前面没有人", "You are next")
    assert next_up.wait_lines == ("预计等候不到 1 分钟", "under 1 min")
    assert PRINTOUT.wait_lines == ("预计等候约 37 分钟", "about 37 min")


def test_missing_font_names_every_path_looked_at(tmp_path: Path) -> None:
    paths = (str(tmp_path / "a.ttc"), str(tmp_path / "b.otf"))
    with pytest.raises(TicketFontMissing) as caught:
        find_cjk_font(paths)
    assert all(path in str(caught.value) for path in paths)
    assert isinstance(caught.value, FileNotFoundError)


def test_width_that_is_not_whole_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="multiple of 8"):
        render_ticket(PRINTOUT, 570)
