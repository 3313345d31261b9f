"""ESC/POS bytes of a ticket decoded back: pixel-exact image, readable QR, clear decode errors."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageDraw

from hardware.printer import (
    PAPER_58MM,
    PAPER_80MM,
    EscposDecodeError,
    TicketPrintout,
    decode_escpos,
    raster_job,
    render_ticket,
    ticket_bytes,
)
from hardware.printer.stream import next_command

URL = "https://hall.example.cn/t/Zr4q9mKx2PwT"
PRINTOUT = TicketPrintout(
    hall_name="天平街道社区事务受理服务中心",
    hall_name_en="Tianping Community Affairs Acceptance Centre",
    number="E107",
    service_name="居住证与户籍登记",
    service_name_en="Residence permit & registration",
    ahead=12,
    wait_minutes=58,
    issued_at=datetime(2026, 3, 16, 14, 5, tzinfo=ZoneInfo("Asia/Shanghai")),
    status_url=URL,
)


def zbar(image: Image.Image, tmp_path: Path) -> list[str]:
    path = tmp_path / "decoded.png"
    image.save(path)
    done = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(path)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and a.convert("L").tobytes() == b.convert("L").tobytes()


@pytest.mark.parametrize("width", [PAPER_80MM, PAPER_58MM])
def test_bytes_decode_back_to_the_rendered_image_pixel_for_pixel(width: int) -> None:
    data = ticket_bytes(PRINTOUT, width)
    printed = decode_escpos(data)
    assert printed.commands == ["ESC @", "GS v 0", "ESC d", "GS V"]
    assert printed.cut and printed.feed_lines == 6
    assert len(printed.images) == 1
    assert same_pixels(printed.images[0], render_ticket(PRINTOUT, width))


def test_stream_is_initialise_raster_feed_full_cut() -> None:
    data = ticket_bytes(PRINTOUT)
    image = render_ticket(PRINTOUT)
    header = b"\x1dv0\x00" + (576 // 8).to_bytes(2, "little") + image.height.to_bytes(2, "little")
    assert data.startswith(b"\x1b@" + header)
    assert data.endswith(b"\x1bd\x06\x1dV\x00")
    assert len(data) == 2 + 8 + 72 * image.height + 3 + 3


def test_qr_code_of_the_decoded_ticket_reads_the_status_url(tmp_path: Path) -> None:
    printed = decode_escpos(ticket_bytes(PRINTOUT))
    assert zbar(printed.images[0], tmp_path) == [URL]


def test_qr_code_survives_58mm_paper(tmp_path: Path) -> None:
    printed = decode_escpos(ticket_bytes(PRINTOUT, PAPER_58MM))
    assert zbar(printed.images[0], tmp_path) == [URL]


def test_tall_image_sent_in_fragments_is_joined_back_into_one() -> None:
    tall = Image.new("1", (PAPER_80MM, 2100), 1)
    ImageDraw.Draw(tall).line((0, 0, PAPER_80MM - 1, 2099), fill=0, width=5)
    printed = decode_escpos(raster_job(tall))
    assert printed.commands == ["ESC @", "GS v 0", "GS v 0", "GS v 0", "ESC d", "GS V"]
    assert len(printed.images) == 1
    assert same_pixels(printed.images[0], tall)


def test_two_tickets_in_one_stream_are_two_images_and_two_cuts() -> None:
    printed = decode_escpos(ticket_bytes(PRINTOUT) + ticket_bytes(PRINTOUT, PAPER_58MM))
    assert [image.width for image in printed.images] == [PAPER_80MM, PAPER_58MM]
    assert printed.cuts == 2


def test_double_width_and_height_modes_are_scaled() -> None:
    data = b"\x1dv0\x03" + (1).to_bytes(2, "little") + (2).to_bytes(2, "little") + b"\xf0\x0f"
    image = decode_escpos(data).images[0]
    assert image.size == (16, 4)
    assert image.getpixel((0, 0)) == 0 and image.getpixel((15, 3)) == 0
    assert image.getpixel((8, 0)) == 255


def test_status_queries_alignment_and_feeds_are_understood() -> None:
    printed = decode_escpos(b"\x10\x04\x01\x1ba\x01\x1bJ\x10\n\x1bd\x02\x1dVB\x03")
    assert printed.commands == ["DLE EOT", "ESC a", "ESC J", "LF", "ESC d", "GS V"]
    assert printed.feed_lines == 3 and printed.cuts == 1 and printed.images == []


def test_unknown_command_names_its_offset_and_bytes() -> None:
    with pytest.raises(EscposDecodeError, match=r"byte 2: unknown command starting 1b 7a 09"):
        decode_escpos(b"\x1b@\x1bz\x09")


def test_text_is_refused_clearly() -> None:
    with pytest.raises(EscposDecodeError, match=r"byte 2: text byte 0x48 \('H'\)"):
        decode_escpos(b"\x1b@Hello")


def test_stream_cut_short_inside_the_raster_is_reported() -> None:
    data = ticket_bytes(PRINTOUT)
    with pytest.raises(EscposDecodeError, match=r"stream ends inside a command at byte 2 of 5002"):
        decode_escpos(data[:5002])


def test_bad_cut_mode_is_refused() -> None:
    with pytest.raises(EscposDecodeError, match="unknown cut mode 7"):
        decode_escpos(b"\x1dV\x07")


def test_next_command_waits_for_the_rest_of_a_command() -> None:
    data = ticket_bytes(PRINTOUT)
    assert next_command(data[:40], 2) is None
    assert next_command(b"\x1d", 0) is None
    command = next_command(data, 2)
    assert command is not None and command.name == "GS v 0" and command.end == len(data) - 6
