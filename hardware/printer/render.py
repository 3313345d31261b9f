"""Draws a ticket as a 1-bit image, Chinese included, so that any ESC/POS printer can print it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from hardware.printer.errors import TicketFontMissing
from hardware.printer.printout import TicketPrintout

PAPER_80MM = 576
PAPER_58MM = 384
CJK_FONT_PATHS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
)
LOGO_PATH = Path(__file__).resolve().parents[2] / "images" / "art" / "logo.png"
WHITE, BLACK = 255, 0
_CJK = re.compile(r"[\u3400-\u9fff]")


def find_cjk_font(paths: Sequence[str] = CJK_FONT_PATHS) -> Path:
    """The first installed font that draws both Chinese and Latin text."""
    for candidate in paths:
        if Path(candidate).is_file():
            return Path(candidate)
    raise TicketFontMissing(
        "no CJK font found for tickets; looked for: " + ", ".join(paths)
        + " (install fonts-wqy-zenhei or fonts-noto-cjk)"
    )


@lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(find_cjk_font()), size)


def _largest_font(texts: Sequence[str], size: int, max_width: int) -> ImageFont.FreeTypeFont:
    """The font at size, or smaller until every one of texts fits in max_width."""
    while size > 8 and any(_font(size).getlength(text) > max_width for text in texts):
        size -= 1
    return _font(size)


def _wrap(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Break text into lines no wider than max_width: at spaces if it has any, else anywhere."""
    units = text.split(" ") if " " in text else list(text)
    joiner = " " if " " in text else ""
    lines: list[str] = []
    line = ""
    for unit in units:
        candidate = f"{line}{joiner}{unit}" if line else unit
        if line and font.getlength(candidate) > max_width:
            lines.append(line)
            line = unit
        else:
            line = candidate
    return [*lines, line]


class _Sheet:
    """A ticket built top to bottom from horizontal strips, each as wide as the paper."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.scale = width / PAPER_80MM
        self.margin = self.px(16)
        self._strips: list[Image.Image] = []

    def px(self, n: float) -> int:
        """A length designed for 80 mm paper, scaled to this paper."""
        return max(1, round(n * self.scale))

    def font(self, size: float) -> ImageFont.FreeTypeFont:
        """The ticket font at a size designed for 80 mm paper."""
        return _font(self.px(size))

    def gap(self, height: float) -> None:
        """Blank paper."""
        self._strips.append(Image.new("L", (self.width, self.px(height)), WHITE))

    def text(self, text: str, size: float, bold: bool = False) -> None:
        """Centred text, wrapped to the paper's width."""
        font = self.font(size)
        for line in _wrap(text, font, self.width - 2 * self.margin):
            self._strips.append(_text_strip(line, font, self.width, bold))

    def rule(self, height: float = 18) -> None:
        """A dashed separator line across the paper."""
        strip = Image.new("L", (self.width, self.px(height)), WHITE)
        draw = ImageDraw.Draw(strip)
        y, dash, space = strip.height // 2, self.px(10), self.px(6)
        for x in range(self.margin, self.width - self.margin, dash + space):
            draw.rectangle((x, y - 1, min(x + dash, self.width - self.margin), y), fill=BLACK)
        self._strips.append(strip)

    def add(self, strip: Image.Image) -> None:
        """A strip drawn by the caller, as wide as the paper."""
        self._strips.append(strip)

    def paste(self, image: Image.Image) -> None:
        """An image, centred."""
        strip = Image.new("L", (self.width, image.height), WHITE)
        strip.paste(image, ((self.width - image.width) // 2, 0))
        self._strips.append(strip)

    def image(self) -> Image.Image:
        """The whole ticket in pure black and white."""
        height = sum(strip.height for strip in self._strips)
        sheet = Image.new("L", (self.width, height), WHITE)
        y = 0
        for strip in self._strips:
            sheet.paste(strip, (0, y))
            y += strip.height
        return sheet.point(lambda v: 255 if v >= 128 else 0, mode="1")


def _text_strip(text: str, font: ImageFont.FreeTypeFont, width: int, bold: bool) -> Image.Image:
    ascent, descent = font.getmetrics()
    size = round(font.size)
    strip = Image.new("L", (width, ascent + descent + size // 6), WHITE)
    stroke = size // 30 if bold else 0
    ImageDraw.Draw(strip).text(
        (width // 2, ascent), text, font=font, fill=BLACK, anchor="ms",
        stroke_width=stroke, stroke_fill=BLACK,
    )
    return strip


def _box(font: ImageFont.FreeTypeFont, text: str, stroke: int = 0) -> tuple[int, int, int, int]:
    """The text's ink box in whole dots: left, top, right, bottom."""
    left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
    return round(left), round(top), round(right), round(bottom)


def _logo(height: int) -> Image.Image:
    """The hall's logo, flattened onto white and scaled to the given height."""
    with Image.open(LOGO_PATH) as source:
        rgba = source.convert("RGBA")
    flat = Image.new("RGB", rgba.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba.getchannel("A"))
    width = round(rgba.width * height / rgba.height)
    return flat.convert("L").resize((width, height), Image.Resampling.LANCZOS)


def qr_image(url: str, module_px: int) -> Image.Image:
    """The status URL as a QR code with its quiet zone, each module module_px square."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix)
    image = Image.new("L", (size, size), WHITE)
    image.putdata([BLACK if dark else WHITE for row in matrix for dark in row])
    return image.resize((size * module_px, size * module_px), Image.Resampling.NEAREST)


def _number(sheet: _Sheet, number: str) -> None:
    """The ticket number, as large as the paper allows."""
    font = _largest_font([number], sheet.px(190), sheet.width - 4 * sheet.margin)
    size = round(font.size)
    stroke = max(2, size // 45)
    left, top, right, bottom = _box(font, number, stroke)
    strip = Image.new("L", (sheet.width, bottom - top + sheet.px(12)), WHITE)
    x = (sheet.width - (right - left)) // 2 - left
    ImageDraw.Draw(strip).text(
        (x, sheet.px(6) - top), number, font=font, fill=BLACK,
        stroke_width=stroke, stroke_fill=BLACK,
    )
    sheet.paste(strip)


def _badge(sheet: _Sheet, label: str) -> None:
    """A priority channel label, white on black, so staff see it across the counter."""
    font = sheet.font(26)
    left, top, right, bottom = _box(font, label)
    pad_x, pad_y = sheet.px(18), sheet.px(8)
    badge = Image.new("L", (right - left + 2 * pad_x, bottom - top + 2 * pad_y), WHITE)
    draw = ImageDraw.Draw(badge)
    draw.rounded_rectangle((0, 0, badge.width - 1, badge.height - 1), radius=pad_y, fill=BLACK)
    draw.text((pad_x - left, pad_y - top), label, font=font, fill=WHITE)
    sheet.paste(badge)


def _columns(sheet: _Sheet, cells: Sequence[tuple[str, str]]) -> None:
    """Side-by-side cells of a bold Chinese line over an English one, split by thin rules."""
    cell_width = (sheet.width - 2 * sheet.margin) // len(cells)
    room = cell_width - sheet.px(16)
    zh_font = _largest_font([zh for zh, _ in cells], sheet.px(27), room)
    en_font = _largest_font([en for _, en in cells], sheet.px(20), room)
    zh_asc, zh_desc = zh_font.getmetrics()
    en_asc, en_desc = en_font.getmetrics()
    height = zh_asc + zh_desc + en_asc + en_desc + sheet.px(8)
    strip = Image.new("L", (sheet.width, height), WHITE)
    draw = ImageDraw.Draw(strip)
    for i, (zh, en) in enumerate(cells):
        middle = sheet.margin + cell_width * i + cell_width // 2
        draw.text((middle, zh_asc), zh, font=zh_font, fill=BLACK, anchor="ms",
                  stroke_width=round(zh_font.size) // 27, stroke_fill=BLACK)
        draw.text((middle, zh_asc + zh_desc + sheet.px(8) + en_asc), en, font=en_font,
                  fill=BLACK, anchor="ms")
        if i:
            x = sheet.margin + cell_width * i
            draw.line((x, sheet.px(4), x, height - sheet.px(4)), fill=BLACK, width=sheet.px(2))
    sheet.add(strip)


def _qr_row(sheet: _Sheet, printout: TicketPrintout) -> None:
    """The QR code on the left; what it is for and when the ticket was issued on the right."""
    code = qr_image(printout.status_url, module_px=max(2, sheet.px(5)))
    lines = (
        ("扫码查看排队进度", 26, False), ("Scan to follow your place", 18, False),
        ("", 10, False), ("取号时间 Issued", 18, False), (printout.issued_text, 24, True),
    )
    x = sheet.margin + code.width + sheet.px(16)
    strip = Image.new("L", (sheet.width, code.height), WHITE)
    strip.paste(code, (sheet.margin, 0))
    draw = ImageDraw.Draw(strip)
    fonts = [sheet.font(size) for _, size, _ in lines]
    total = sum(sum(font.getmetrics()) for font in fonts)
    y = (code.height - total) // 2
    for (text, _, bold), font in zip(lines, fonts, strict=True):
        ascent, descent = font.getmetrics()
        draw.text((x, y + ascent), text, font=font, fill=BLACK, anchor="ls",
                  stroke_width=round(font.size) // 24 if bold else 0, stroke_fill=BLACK)
        y += ascent + descent
    sheet.add(strip)


def render_ticket(printout: TicketPrintout, width_px: int = PAPER_80MM) -> Image.Image:
    """The ticket as a 1-bit image width_px wide (576 for 80 mm paper, 384 for 58 mm)."""
    if width_px % 8 or not 256 <= width_px <= 832:
        raise ValueError(f"ticket width {width_px} px must be a multiple of 8 in 256..832")
    sheet = _Sheet(width_px)
    sheet.gap(18)
    sheet.paste(_logo(sheet.px(92)))
    sheet.gap(8)
    sheet.text(printout.hall_name, 30, bold=True)
    sheet.text(printout.hall_name_en, 18)
    sheet.rule()
    sheet.text(printout.service_name, 34, bold=True)
    sheet.text(printout.service_name_en, 20)
    if printout.channel:
        sheet.gap(8)
        _badge(sheet, " · ".join(filter(None, (printout.channel, printout.channel_en))))
        sheet.gap(6)
    _number(sheet, printout.number)
    sheet.rule()
    _columns(sheet, (printout.ahead_lines, printout.wait_lines))
    sheet.rule()
    _qr_row(sheet, printout)
    sheet.rule()
    for line in printout.footer:
        chinese = _CJK.search(line) is not None
        sheet.text(line, 24 if chinese else 17)
    sheet.gap(12)
    return sheet.image()
