"""Simulated ID-card readers with verbs a test (or the simulated hall) can drive.

- `SamReaderSimulator` plays a certified reader on a pseudo-terminal, answering the
  driver's real GA/T 467 frames with real frames; open `SamReader(sim.port)` on it.
- `LineReaderSimulator` plays a simple reader that sends the number as a line on a pty.
- `SimulatedCardReader` is a CardReader with no serial at all, for the kiosk in the
  simulated hall: `present_card(card)` and the next `read_card` returns it.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import tty
from collections import deque

from hardware.idcard.card import CardData
from hardware.idcard.errors import CardReadError
from hardware.idcard.frames import (
    CARD_FOUND,
    CHECKSUM_REJECTED,
    COMMAND_REJECTED,
    FIND_CARD,
    NO_CARD,
    READ_FAILED,
    READ_TEXT_AND_PHOTO,
    RESET,
    SELECT_CARD,
    SELECT_FAILED,
    STATUS,
    SUCCESS,
    Command,
    Response,
    build_response,
    parse_request,
    read_frame,
)
from hardware.idcard.reader import CardReader
from hardware.idcard.textblock import PHOTO_SIZE, TEXT_BLOCK_SIZE, encode_text_block

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.05


class PseudoTerminal:
    """A pty pair in raw mode: the simulator keeps the master, drivers open `port`."""

    def __init__(self) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)

    def write(self, data: bytes) -> None:
        """Send bytes to whoever opened `port`."""
        view = memoryview(data)
        while view:
            view = view[os.write(self.master, view) :]

    def read(self, count: int, timeout: float) -> bytes:
        """Up to `count` bytes the driver sent, waiting at most `timeout` seconds."""
        readable, _, _ = select.select([self.master], [], [], timeout)
        return os.read(self.master, count) if readable else b""

    def close(self) -> None:
        """Close both ends."""
        os.close(self.master)
        os.close(self._slave)


class SamReaderSimulator:
    """A certified reader on a pseudo-terminal; a thread answers each frame the driver sends.

    Verbs: `present_card`, `remove_card`, `corrupt_next_frame`, `truncate_next_frame`,
    `remove_card_during_read`, `send_garbage`. `commands` lists the names of the
    commands received, and `wait_for_commands` lets a test wait for the driver's polls.
    """

    def __init__(self) -> None:
        self._pty = PseudoTerminal()
        self.port = self._pty.port
        self.commands: list[str] = []
        self._changed = threading.Condition()
        self._text_block: bytes | None = None
        self._corrupt_next = False
        self._truncate_next = False
        self._remove_during_read = False
        self._garbage = b""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="sam-simulator", daemon=True)
        self._thread.start()

    def present_card(self, card: CardData) -> None:
        """Put `card` on the reader (it stays until removed)."""
        block = encode_text_block(card)
        with self._changed:
            self._text_block = block

    def remove_card(self) -> None:
        """Lift the card off the reader."""
        with self._changed:
            self._text_block = None

    def corrupt_next_frame(self) -> None:
        """Send the next reply with a wrong checksum."""
        with self._changed:
            self._corrupt_next = True

    def truncate_next_frame(self) -> None:
        """Send only the first half of the next reply."""
        with self._changed:
            self._truncate_next = True

    def remove_card_during_read(self) -> None:
        """The card is lifted while the next read-card command runs: it fails with 0x41."""
        with self._changed:
            self._remove_during_read = True

    def send_garbage(self, noise: bytes) -> None:
        """Line noise: these bytes arrive just before the next reply."""
        with self._changed:
            self._garbage += noise

    def wait_for_commands(self, count: int, timeout: float) -> bool:
        """Wait until `count` commands in all have arrived; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self.commands) >= count, timeout)

    def close(self) -> None:
        """Stop answering and close the pseudo-terminal."""
        self._stop.set()
        self._thread.join()
        self._pty.close()

    def __enter__(self) -> SamReaderSimulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _serve(self) -> None:
        """Answer frames until closed."""
        while not self._stop.is_set():
            try:
                body = read_frame(lambda count: self._pty.read(count, _POLL_SECONDS))
            except CardReadError as problem:
                log.warning("simulated reader got a damaged frame: %s", problem)
                self._pty.write(build_response(Response(0, 0, CHECKSUM_REJECTED)))
                continue
            if body is not None:
                self._pty.write(self._reply_to(parse_request(body)))

    def _reply_to(self, command: Command) -> bytes:
        """The frame bytes answering `command`, with any noise or damage asked for."""
        with self._changed:
            self.commands.append(command.name)
            self._changed.notify_all()
            frame = build_response(self._response_to(command))
            if self._corrupt_next:
                frame = frame[:-1] + bytes((frame[-1] ^ 0xFF,))
            if self._truncate_next:
                frame = frame[: len(frame) // 2]
            frame = self._garbage + frame
            self._corrupt_next = self._truncate_next = False
            self._garbage = b""
            return frame

    def _response_to(self, command: Command) -> Response:
        """What a reader with the current card (or none) answers."""
        key = (command.code, command.parameter)
        block = self._text_block
        if key in ((STATUS.code, STATUS.parameter), (RESET.code, RESET.parameter)):
            return Response(0, 0, SUCCESS)
        if key == (FIND_CARD.code, FIND_CARD.parameter):
            return Response(0, 0, CARD_FOUND, bytes(4)) if block else Response(0, 0, NO_CARD)
        if key == (SELECT_CARD.code, SELECT_CARD.parameter):
            return Response(0, 0, SUCCESS, bytes(8)) if block else Response(0, 0, SELECT_FAILED)
        if key == (READ_TEXT_AND_PHOTO.code, READ_TEXT_AND_PHOTO.parameter):
            if self._remove_during_read:
                self._remove_during_read = False
                self._text_block = block = None
            if block is None:
                return Response(0, 0, READ_FAILED)
            return Response(0, 0, SUCCESS, _read_payload(block))
        return Response(0, 0, COMMAND_REJECTED)


def _read_payload(text_block: bytes) -> bytes:
    """Read-card data: text length, photo length, text block, photo (blank here)."""
    return (
        TEXT_BLOCK_SIZE.to_bytes(2, "big")
        + PHOTO_SIZE.to_bytes(2, "big")
        + text_block
        + bytes(PHOTO_SIZE)
    )


class LineReaderSimulator:
    """A simple reader on a pseudo-terminal that sends each swiped number as a line."""

    def __init__(self) -> None:
        self._pty = PseudoTerminal()
        self.port = self._pty.port

    def present_card(self, card: CardData) -> None:
        """Swipe: the reader sends the card's number and CR LF."""
        self.send_line(card.id_number.encode("ascii") + b"\r\n")

    def send_line(self, raw: bytes) -> None:
        """Send raw bytes, e.g. a damaged line."""
        self._pty.write(raw)

    def close(self) -> None:
        """Close the pseudo-terminal."""
        self._pty.close()


class SimulatedCardReader(CardReader):
    """A card reader with no device behind it: each presented card is read once, in order."""

    def __init__(self) -> None:
        self._queue: deque[CardData | str] = deque()
        self._changed = threading.Condition()
        self._closed = False

    def present_card(self, card: CardData) -> None:
        """A resident swipes `card`."""
        with self._changed:
            self._queue.append(card)
            self._changed.notify_all()

    def fail_next_read(self, problem: str = "card removed during read") -> None:
        """The next read raises CardReadError with `problem`."""
        with self._changed:
            self._queue.append(problem)
            self._changed.notify_all()

    def read_card(self, timeout: float) -> CardData | None:
        """The next presented card within `timeout` seconds, or None."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._queue or self._closed, timeout):
                return None
            if self._closed:
                return None
            item = self._queue.popleft()
        if isinstance(item, str):
            raise CardReadError(item)
        return item

    def close(self) -> None:
        """Wake any waiting read, which then returns None."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
