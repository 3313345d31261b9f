"""Simple readers that deliver only the 18-character number as a text line.

`LineReader` gets the line over a serial port (any pyserial URL); `KeyboardLineReader`
gets it from a text stream, for readers that type like a keyboard (stdin, a tty).
"""

from __future__ import annotations

import logging
import os
import re
import select
import sys
import time
from abc import abstractmethod
from typing import IO

import serial

from hardware.idcard.card import CardData
from hardware.idcard.errors import CardReadError, ReaderNotFound
from hardware.idcard.number import parse_id_number
from hardware.idcard.reader import CardReader

log = logging.getLogger(__name__)

MAX_LINE = 64
LINE_BAUD_RATE = 9600
_LINE_END = re.compile(rb"[\r\n]")


def card_from_line(line: bytes) -> CardData:
    """Turn one line from a simple reader into CardData; CardReadError names the problem."""
    try:
        text = line.decode("ascii")
    except UnicodeDecodeError:
        raise CardReadError("unreadable ID line: it is not ASCII text") from None
    try:
        number = parse_id_number(text)
    except ValueError as reason:
        raise CardReadError(f"unreadable ID line: {reason}") from None
    return CardData.from_number(number)


class _LineCardReader(CardReader):
    """Line splitting shared by both line readers: CR or LF ends a line, blank lines are skipped."""

    def __init__(self) -> None:
        self._pending = b""

    def read_card(self, timeout: float) -> CardData | None:
        """The next number line within `timeout` seconds, or None."""
        line = self._next_line(timeout, "ID line")
        return None if line is None else card_from_line(line)

    def _next_line(self, timeout: float, what: str) -> bytes | None:
        """The next non-blank line within `timeout` seconds, or None; CardReadError (naming
        `what`) when MAX_LINE bytes come without a line end."""
        deadline = time.monotonic() + timeout
        while (line := self._take_line()) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._pending += self._read_chunk(remaining)
            if len(self._pending) > MAX_LINE and not _LINE_END.search(self._pending):
                self._pending = b""
                raise CardReadError(f"unreadable {what}: no line end within {MAX_LINE} bytes")
        return line

    def _take_line(self) -> bytes | None:
        """Remove and return the first non-blank complete line, if there is one."""
        while match := _LINE_END.search(self._pending):
            line = self._pending[: match.start()]
            self._pending = self._pending[match.end() :]
            if line.strip():
                return line.strip()
        return None

    @abstractmethod
    def _read_chunk(self, timeout: float) -> bytes:
        """Whatever bytes arrive within `timeout` seconds (b"" if none)."""


class LineReader(_LineCardReader):
    """A reader that sends the number and a line end over serial, once per swipe.

    `port` is the open pyserial port; with loop:// a test writes the reader's lines into it.
    """

    def __init__(self, port: str, *, baudrate: int = LINE_BAUD_RATE) -> None:
        super().__init__()
        self.url = port
        try:
            self.port = serial.serial_for_url(port, baudrate=baudrate, timeout=0)
        except (serial.SerialException, ValueError) as error:
            raise ReaderNotFound(f"cannot open ID line reader port {port}: {error}") from None

    def close(self) -> None:
        """Close the port."""
        self.port.close()

    def _read_chunk(self, timeout: float) -> bytes:
        try:
            self.port.timeout = timeout
            first = self.port.read(1)
            return bytes(first + self.port.read(self.port.in_waiting)) if first else b""
        except serial.SerialException as error:
            raise ReaderNotFound(f"ID line reader on {self.url} failed: {error}") from None


class KeyboardLineReader(_LineCardReader):
    """A reader that types the number and Enter, read from a text stream (stdin by default).

    The stream belongs to the caller: `close` does not close it. The end of the stream
    means the device is gone and raises ReaderNotFound.
    """

    def __init__(self, stream: IO[str] | IO[bytes] | None = None) -> None:
        super().__init__()
        self.stream = stream if stream is not None else sys.stdin
        self._fd = _fileno(self.stream)

    def close(self) -> None:
        """Nothing to release: the stream is the caller's."""

    def _read_chunk(self, timeout: float) -> bytes:
        if self._fd is None:
            data = self.stream.readline()
        else:
            readable, _, _ = select.select([self._fd], [], [], timeout)
            if not readable:
                return b""
            data = os.read(self._fd, 256)
        if not data:
            raise ReaderNotFound("the keyboard reader's input stream has ended")
        return data.encode("utf-8", "replace") if isinstance(data, str) else data


def _fileno(stream: IO[str] | IO[bytes]) -> int | None:
    """The stream's file descriptor, or None for in-memory streams."""
    try:
        return stream.fileno()
    except (OSError, AttributeError):
        return None
