"""Driver for certified (SAM) ID-card readers speaking GA/T 467 frames over a serial port."""

from __future__ import annotations

import logging
import threading
import time
from datetime import date

import serial

from hardware.idcard.card import CardData
from hardware.idcard.errors import CardReadError, IdCardError, ReaderNotFound
from hardware.idcard.frames import (
    CARD_FOUND,
    FIND_CARD,
    NO_CARD,
    READ_FAILED,
    READ_TEXT_AND_PHOTO,
    SELECT_CARD,
    SELECT_FAILED,
    STATUS,
    SUCCESS,
    Command,
    ReadBytes,
    Response,
    build_request,
    parse_response,
    read_frame,
)
from hardware.idcard.reader import CardReader
from hardware.idcard.textblock import TEXT_BLOCK_SIZE, decode_text_block

log = logging.getLogger(__name__)

BAUD_RATE = 115200


class SamReader(CardReader):
    """A certified reader on any pyserial URL: /dev/ttyUSB0, a pty path, loop://, socket://.

    It polls find-card every `poll_interval` seconds; a found card is selected and read.
    After a read it waits for find-card to fail (card lifted) before reading again.
    """

    def __init__(
        self,
        port: str,
        *,
        poll_interval: float = 0.3,
        reply_timeout: float = 1.0,
        baudrate: int = BAUD_RATE,
        check: bool = True,
    ) -> None:
        self.url = port
        self.poll_interval = poll_interval
        self.reply_timeout = reply_timeout
        self._holding_read_card = False
        self._closed = threading.Event()
        try:
            self._port = serial.serial_for_url(port, baudrate=baudrate, timeout=reply_timeout)
        except (serial.SerialException, ValueError) as error:
            raise ReaderNotFound(f"cannot open ID-card reader port {port}: {error}") from None
        if check:
            self._check_reader()

    def read_card(self, timeout: float) -> CardData | None:
        """Poll until a new card is read or `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        while not self._closed.is_set():
            if self._new_card_waiting():
                return self._read_present_card()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._closed.wait(min(self.poll_interval, remaining))
        return None

    def close(self) -> None:
        """Stop polling and close the port."""
        self._closed.set()
        self._port.close()

    def _check_reader(self) -> None:
        """Ask for the reader's status, so a wrong port fails at start-up, not at first swipe."""
        try:
            response = self._transact(STATUS)
        except CardReadError as problem:
            self._port.close()
            raise ReaderNotFound(
                f"the device on {self.url} does not answer like an ID-card reader: {problem}"
            ) from None
        except IdCardError:
            self._port.close()
            raise
        if response.sw3 != SUCCESS:
            self._port.close()
            raise ReaderNotFound(f"reader on {self.url} is not ready: {response.describe()}")

    def _new_card_waiting(self) -> bool:
        """Find-card; True only for a card not yet read since it was put down."""
        response = self._transact(FIND_CARD)
        if response.sw3 == NO_CARD:
            if self._holding_read_card:
                log.debug("card lifted from the reader")
            self._holding_read_card = False
            return False
        if response.sw3 != CARD_FOUND:
            raise CardReadError(f"find-card failed: {response.describe()}")
        return not self._holding_read_card

    def _read_present_card(self) -> CardData:
        """Select and read the card on the reader."""
        selected = self._transact(SELECT_CARD)
        if selected.sw3 == SELECT_FAILED:
            raise CardReadError(
                f"card moved away before it could be selected ({selected.describe()})"
            )
        if selected.sw3 != SUCCESS:
            raise CardReadError(f"select-card failed: {selected.describe()}")
        response = self._transact(READ_TEXT_AND_PHOTO)
        if response.sw3 == READ_FAILED:
            raise CardReadError(f"card removed during read ({response.describe()})")
        if response.sw3 != SUCCESS:
            raise CardReadError(f"read-card failed: {response.describe()}")
        card = decode_text_block(_text_block(response.data), today=date.today())
        self._holding_read_card = True
        log.info("ID card read")
        return card

    def _transact(self, command: Command) -> Response:
        """Send one command and return the reader's checked response."""
        try:
            self._port.reset_input_buffer()
            self._port.write(build_request(command))
            body = read_frame(self._read_before(time.monotonic() + self.reply_timeout))
        except serial.SerialException as error:
            raise ReaderNotFound(f"ID-card reader on {self.url} failed: {error}") from None
        if body is None:
            raise ReaderNotFound(
                f"no answer from the ID-card reader on {self.url} to {command.name} "
                f"within {self.reply_timeout} s"
            )
        return parse_response(body)

    def _read_before(self, deadline: float) -> ReadBytes:
        """A byte reader for read_frame that gives up once `deadline` has passed."""

        def read(count: int) -> bytes:
            if time.monotonic() > deadline:
                return b""
            return bytes(self._port.read(count))

        return read


def _text_block(data: bytes) -> bytes:
    """The text block out of a read response: text length, photo length, text, photo."""
    if len(data) < 4:
        raise CardReadError(f"read response too short: {len(data)} data bytes")
    text_length = int.from_bytes(data[0:2], "big")
    photo_length = int.from_bytes(data[2:4], "big")
    if text_length != TEXT_BLOCK_SIZE:
        raise CardReadError(f"read response has a {text_length}-byte text block, expected 256")
    if len(data) < 4 + text_length + photo_length:
        raise CardReadError(
            f"read response too short: {len(data)} data bytes for a {text_length}-byte text "
            f"and a {photo_length}-byte photo"
        )
    return data[4 : 4 + text_length]
