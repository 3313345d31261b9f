"""A simulated ticket printer that runs the real ESC/POS bytes, with verbs to cause every fault."""

from __future__ import annotations

import logging
import threading
from enum import Enum

from PIL import Image

from hardware.printer.device import PrinterStatus, TicketPrinter
from hardware.printer.errors import PrinterOffline, PrintWriteError
from hardware.printer.render import PAPER_80MM
from hardware.printer.stream import decode_escpos

log = logging.getLogger(__name__)


class Paper(Enum):
    """How much paper is on the roll."""

    PLENTY = "plenty"
    NEAR_END = "near_end"
    OUT = "out"


class PaperRoll:
    """The roll of a simulated printer, with the verbs a test uses to change it."""

    paper: Paper = Paper.PLENTY

    def run_out_of_paper(self) -> None:
        """The roll runs out."""
        self.paper = Paper.OUT

    def paper_low(self) -> None:
        """The roll reaches the near-end sensor: it still prints."""
        self.paper = Paper.NEAR_END

    def refill(self) -> None:
        """A fresh roll is loaded."""
        self.paper = Paper.PLENTY


class SimulatedPrinter(PaperRoll, TicketPrinter):
    """Keeps every byte it receives, decodes the tickets it prints, and fails on command."""

    def __init__(self, width_px: int = PAPER_80MM) -> None:
        super().__init__(width_px)
        self._lock = threading.Lock()
        self._received = bytearray()
        self._tickets: list[Image.Image] = []
        self.paper = Paper.PLENTY
        self.online = True
        self._fail_after: int | None = None
        self.closed = False

    @property
    def received(self) -> bytes:
        """Every byte written to this printer, including those of failed tickets."""
        with self._lock:
            return bytes(self._received)

    @property
    def tickets(self) -> list[Image.Image]:
        """The images of the tickets printed in full and cut, oldest first."""
        with self._lock:
            return list(self._tickets)

    def go_offline(self) -> None:
        """The printer stops answering (unplugged, switched off, cover open)."""
        self.online = False

    def come_online(self) -> None:
        """The printer is back."""
        self.online = True

    def fail_next_write(self, after_bytes: int = 0) -> None:
        """The next ticket's write breaks after after_bytes bytes have gone out."""
        if after_bytes < 0:
            raise ValueError(f"after_bytes must be 0 or more, not {after_bytes}")
        self._fail_after = after_bytes

    def status(self) -> PrinterStatus:
        """The state the verbs have set."""
        if not self.online:
            return PrinterStatus.OFFLINE
        if self.paper is Paper.OUT:
            return PrinterStatus.PAPER_OUT
        if self.paper is Paper.NEAR_END:
            return PrinterStatus.PAPER_LOW
        return PrinterStatus.OK

    def close(self) -> None:
        """Mark the printer closed; the next ticket opens it again, as the real driver does."""
        self.closed = True

    def _send(self, data: bytes) -> None:
        self.closed = False
        if not self.online:
            raise PrinterOffline(f"{self.name}: offline while sending {len(data)} bytes")
        with self._lock:
            if self._fail_after is not None:
                sent, self._fail_after = min(self._fail_after, len(data)), None
                self._received += data[:sent]
                raise PrintWriteError(
                    f"{self.name}: write failed after {sent} of {len(data)} bytes (simulated)"
                )
            self._received += data
        printed = decode_escpos(data)
        if printed.cut:
            with self._lock:
                self._tickets.extend(printed.images)
        log.debug("%s received %d bytes, %d images", self.name, len(data), len(printed.images))
