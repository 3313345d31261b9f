"""ESC/POS streams: a ticket's bytes (made by python-escpos) and a decoder reading them back."""

from __future__ import annotations

from dataclasses import dataclass, field

from escpos.printer import Dummy
from PIL import Image

from hardware.printer.errors import EscposDecodeError
from hardware.printer.printout import TicketPrintout
from hardware.printer.render import PAPER_80MM, render_ticket

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
DLE_EOT = b"\x10\x04"
ASK_PRINTER = 1  # DLE EOT 1: printer status (bit 3 = offline)
ASK_OFFLINE_CAUSE = 2  # DLE EOT 2: why offline (bit 2 cover, bit 5 paper end, bit 6 error)
ASK_PAPER = 4  # DLE EOT 4: roll paper sensor (bits 2-3 near end, bits 5-6 paper end)


def status_query(n: int) -> bytes:
    """The real-time status request DLE EOT n."""
    return DLE_EOT + bytes((n,))


def _escpos_for_paper(width_px: int) -> Dummy:
    """A byte-capturing escpos printer that knows the paper width (so image() checks it)."""
    printer = Dummy()
    profile = dict(printer.profile.profile_data)
    profile["media"] = {"dpi": 203, "width": {"mm": round(width_px / 8), "pixels": width_px}}
    printer.profile.profile_data = profile
    return printer


def raster_job(image: Image.Image) -> bytes:
    """Initialise, the image as GS v 0 raster (in fragments if tall), feed, full cut."""
    printer = _escpos_for_paper(image.width)
    printer.hw("INIT")
    printer.image(image, impl="bitImageRaster", center=False)
    printer.cut(mode="FULL", feed=True)
    return bytes(printer.output)


def ticket_bytes(printout: TicketPrintout, width_px: int = PAPER_80MM) -> bytes:
    """Exactly what the kiosk sends to the printer for this ticket."""
    return raster_job(render_ticket(printout, width_px))


_PARAMETER_COUNTS: dict[bytes, tuple[str, int]] = {
    b"\x1b@": ("ESC @", 0),
    b"\x1ba": ("ESC a", 1),
    b"\x1bd": ("ESC d", 1),
    b"\x1bJ": ("ESC J", 1),
    b"\x1b2": ("ESC 2", 0),
    b"\x1b3": ("ESC 3", 1),
    b"\x1bE": ("ESC E", 1),
    b"\x1b!": ("ESC !", 1),
    b"\x1b-": ("ESC -", 1),
    b"\x1bM": ("ESC M", 1),
    b"\x1bt": ("ESC t", 1),
    b"\x1bc5": ("ESC c 5", 1),
    b"\x1d!": ("GS !", 1),
    b"\x1dB": ("GS B", 1),
    b"\x1dL": ("GS L", 2),
    b"\x1dW": ("GS W", 2),
    b"\x1c.": ("FS .", 0),
    b"\x1c&": ("FS &", 0),
    b"\x10\x04": ("DLE EOT", 1),
    b"\n": ("LF", 0),
    b"\r": ("CR", 0),
}
_CUT_MODES_WITH_FEED = frozenset({65, 66, 97, 98, 103, 104})
_CUT_MODES = frozenset({0, 1, 48, 49}) | _CUT_MODES_WITH_FEED
_RASTER_MODES = frozenset({0, 1, 2, 3, 48, 49, 50, 51})
_RASTER_HEADER = 8


@dataclass(frozen=True, slots=True)
class Command:
    """One command found in a stream, with where it starts and ends."""

    name: str
    start: int
    end: int
    argument: int | None = None
    raster: Image.Image | None = None


@dataclass(frozen=True)
class Decoded:
    """What a printer makes of a stream: the images it prints, in order, and its commands."""

    images: list[Image.Image] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    cuts: int = 0
    feed_lines: int = 0

    @property
    def cut(self) -> bool:
        """Whether the paper was cut at least once."""
        return self.cuts > 0


def _raster(data: bytes | bytearray, pos: int) -> Command | None:
    """GS v 0 m xL xH yL yH d1..dk: a raster bit image, bit 1 = a black dot."""
    if len(data) < pos + _RASTER_HEADER:
        return None
    mode = data[pos + 3]
    if mode not in _RASTER_MODES:
        raise EscposDecodeError(f"GS v 0 at byte {pos} has an unknown density mode {mode}")
    width_bytes = int.from_bytes(data[pos + 4:pos + 6], "little")
    height = int.from_bytes(data[pos + 6:pos + 8], "little")
    end = pos + _RASTER_HEADER + width_bytes * height
    if len(data) < end:
        return None
    if width_bytes == 0 or height == 0:
        raise EscposDecodeError(f"GS v 0 at byte {pos} has an empty {width_bytes}x{height} image")
    image = Image.frombytes(
        "1", (width_bytes * 8, height), data[pos + _RASTER_HEADER:end], "raw", "1;I"
    )
    scale_x, scale_y = 1 + (mode & 1), 1 + ((mode >> 1) & 1)
    if (scale_x, scale_y) != (1, 1):
        size = (image.width * scale_x, image.height * scale_y)
        image = image.resize(size, Image.Resampling.NEAREST)
    return Command("GS v 0", pos, end, mode, image)


def _cut(data: bytes | bytearray, pos: int) -> Command | None:
    """GS V m, or GS V m n for the modes that feed n lines before cutting."""
    if len(data) < pos + 3:
        return None
    mode = data[pos + 2]
    if mode not in _CUT_MODES:
        raise EscposDecodeError(f"GS V at byte {pos} has an unknown cut mode {mode}")
    end = pos + (4 if mode in _CUT_MODES_WITH_FEED else 3)
    return None if len(data) < end else Command("GS V", pos, end, mode)


def _describe(data: bytes | bytearray, pos: int) -> str:
    byte = data[pos]
    if 0x20 <= byte < 0x7F:
        return f"text byte {byte:#04x} ({chr(byte)!r}); this decoder reads image tickets only"
    return f"unknown command starting {data[pos:pos + 3].hex(' ')}"


def next_command(data: bytes | bytearray, pos: int) -> Command | None:
    """The command starting at pos, or None when the data ends before the command does."""
    if data[pos] == GS and data[pos + 1:pos + 3] == b"v0":
        return _raster(data, pos)
    if data[pos] == GS and data[pos + 1:pos + 2] == b"V":
        return _cut(data, pos)
    for length in (3, 2, 1):
        prefix = bytes(data[pos:pos + length])
        if prefix in _PARAMETER_COUNTS:
            name, count = _PARAMETER_COUNTS[prefix]
            end = pos + length + count
            if len(data) < end:
                return None
            return Command(name, pos, end, data[end - 1] if count == 1 else None)
    if data[pos] in (ESC, GS, FS, DLE) and len(data) < pos + 3:
        return None
    raise EscposDecodeError(f"byte {pos}: {_describe(data, pos)}")


def decode_escpos(data: bytes) -> Decoded:
    """Run a whole stream: consecutive raster fragments join into one image, as on paper."""
    images: list[Image.Image] = []
    names: list[str] = []
    fragments: list[Image.Image] = []
    feed_lines = cuts = pos = 0
    while pos < len(data):
        command = next_command(data, pos)
        if command is None:
            raise EscposDecodeError(
                f"stream ends inside a command at byte {pos} of {len(data)}: "
                f"{data[pos:pos + 8].hex(' ')}"
            )
        if command.raster is None or (fragments and fragments[0].width != command.raster.width):
            _join(fragments, images)
        if command.raster is not None:
            fragments.append(command.raster)
        feed_lines += _feed_of(command)
        cuts += command.name == "GS V"
        names.append(command.name)
        pos = command.end
    _join(fragments, images)
    return Decoded(images, names, cuts, feed_lines)


def _feed_of(command: Command) -> int:
    if command.name == "ESC d" and command.argument is not None:
        return command.argument
    return 1 if command.name == "LF" else 0


def _join(fragments: list[Image.Image], images: list[Image.Image]) -> None:
    """Stack pending raster fragments into one image and clear them."""
    if not fragments:
        return
    joined = Image.new("1", (fragments[0].width, sum(f.height for f in fragments)), 1)
    y = 0
    for fragment in fragments:
        joined.paste(fragment, (0, y))
        y += fragment.height
    images.append(joined)
    fragments.clear()
