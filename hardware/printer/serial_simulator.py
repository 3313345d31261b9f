"""A serial ESC/POS printer on a pseudo-terminal, to run the real serial driver against."""

from __future__ import annotations

import logging
import os
import select
import threading
import tty
from types import TracebackType

from PIL import Image

from hardware.printer.errors import EscposDecodeError
from hardware.printer.simulator import Paper, PaperRoll
from hardware.printer.stream import decode_escpos, next_command

log = logging.getLogger(__name__)

_STATUS_BASE = 0x12  # bits 1 and 4 are always set in a DLE EOT reply


class SerialPrinterSimulator(PaperRoll):
    """Stores the bytes a driver writes to `port` and answers DLE EOT n from its own state."""

    def __init__(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self.paper = Paper.PLENTY
        self.cover_open = False
        self.cutter_jammed = False
        self.answering = True
        self.queries: list[int] = []
        self.faults: list[str] = []
        self._received = bytearray()
        self._parsed = 0
        self._changed = threading.Condition()
        self._stop_read, self._stop_write = os.pipe()
        self._thread = threading.Thread(target=self._serve, name="serial-printer", daemon=True)
        self._thread.start()

    def go_offline(self) -> None:
        """The cover is opened: the printer goes offline but still answers."""
        self.cover_open = True

    def jam_cutter(self) -> None:
        """The auto-cutter jams: an error the printer reports."""
        self.cutter_jammed = True

    def come_online(self) -> None:
        """Cover closed and errors cleared."""
        self.cover_open = False
        self.cutter_jammed = False

    def stop_answering(self) -> None:
        """The printer is silent (powered off, wrong cable): status queries get no reply."""
        self.answering = False

    def answer_again(self) -> None:
        """The printer answers status queries again."""
        self.answering = True

    @property
    def received(self) -> bytes:
        """Every byte the driver wrote, status queries included."""
        with self._changed:
            return bytes(self._received)

    @property
    def tickets(self) -> list[Image.Image]:
        """The images printed from the bytes received so far."""
        with self._changed:
            complete = bytes(self._received[:self._parsed])
        return decode_escpos(complete).images

    def wait_for_bytes(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until at least count bytes have arrived and been run; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self._parsed >= count, timeout)

    def reply_to(self, n: int) -> int | None:
        """The byte this printer sends for DLE EOT n, or None for a query it does not know."""
        out = self.paper is Paper.OUT
        low = self.paper is not Paper.PLENTY
        offline = self.cover_open or out or self.cutter_jammed
        replies = {
            1: _STATUS_BASE | (0x08 if offline else 0),
            2: _STATUS_BASE | (0x04 if self.cover_open else 0) | (0x20 if out else 0)
            | (0x40 if self.cutter_jammed else 0),
            3: _STATUS_BASE | (0x08 if self.cutter_jammed else 0),
            4: _STATUS_BASE | (0x0C if low else 0) | (0x60 if out else 0),
        }
        return replies.get(n)

    def _serve(self) -> None:
        while True:
            ready, _, _ = select.select([self._master, self._stop_read], [], [])
            if self._stop_read in ready:
                return
            chunk = os.read(self._master, 65536)
            with self._changed:
                self._received += chunk
                self._run_commands()
                self._changed.notify_all()

    def _run_commands(self) -> None:
        """Run every complete command received; answer status queries as a printer does."""
        while self._parsed < len(self._received):
            try:
                command = next_command(self._received, self._parsed)
            except EscposDecodeError as error:
                self.faults.append(str(error))
                log.warning("simulated printer cannot run its input: %s", error)
                self._parsed += 1
                continue
            if command is None:
                return
            if command.name == "DLE EOT" and command.argument is not None:
                self._answer(command.argument)
            self._parsed = command.end

    def _answer(self, n: int) -> None:
        self.queries.append(n)
        reply = self.reply_to(n)
        if self.answering and reply is not None:
            os.write(self._master, bytes((reply,)))

    def close(self) -> None:
        """Stop serving and close the pseudo-terminal."""
        if not self._thread.is_alive():
            return
        os.write(self._stop_write, b"x")
        self._thread.join(timeout=5)
        for fd in (self._master, self._slave, self._stop_read, self._stop_write):
            os.close(fd)

    def __enter__(self) -> SerialPrinterSimulator:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
