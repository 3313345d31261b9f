"""GA/T 467 serial frames: build, find in a byte stream, check; shared by driver and simulator.

Every frame, both ways: header AA AA AA 96 69, a 2-byte big-endian length counting the
bytes after it (checksum included), the body, and one checksum byte: the XOR of the two
length bytes and the body. A request body is CMD PARA [data]; a response body is
SW1 SW2 SW3 [data].
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from operator import xor

from hardware.idcard.errors import CardReadError

log = logging.getLogger(__name__)

HEADER = bytes((0xAA, 0xAA, 0xAA, 0x96, 0x69))
MAX_FRAME_LENGTH = 4096


@dataclass(frozen=True)
class Command:
    """A request to the reader: command byte, parameter byte and optional data."""

    code: int
    parameter: int
    name: str
    data: bytes = b""


RESET = Command(0x10, 0xFF, "reset")
STATUS = Command(0x11, 0xFF, "status check")
FIND_CARD = Command(0x20, 0x01, "find card")
SELECT_CARD = Command(0x20, 0x02, "select card")
READ_TEXT_AND_PHOTO = Command(0x30, 0x01, "read text and photo")
COMMANDS = {
    (c.code, c.parameter): c for c in (RESET, STATUS, FIND_CARD, SELECT_CARD, READ_TEXT_AND_PHOTO)
}

SUCCESS = 0x90
CARD_FOUND = 0x9F
CHECKSUM_REJECTED = 0x10
LENGTH_REJECTED = 0x11
COMMAND_REJECTED = 0x21
READ_FAILED = 0x41
NO_CARD = 0x80
SELECT_FAILED = 0x81

STATUS_MEANINGS = {
    SUCCESS: "success",
    CARD_FOUND: "card found",
    CHECKSUM_REJECTED: "the reader got a frame with a bad checksum",
    LENGTH_REJECTED: "the reader got a frame with a bad length",
    COMMAND_REJECTED: "the reader rejected the command",
    0x24: "unrecognised error",
    0x31: "the card failed to authenticate the reader",
    0x32: "the reader failed to authenticate the card",
    0x33: "information verification error",
    0x40: "wrong card type",
    READ_FAILED: "reading the card failed",
    0x47: "getting a random number failed",
    0x60: "reader self-test failed",
    0x66: "reader not authorised",
    NO_CARD: "no card found",
    SELECT_FAILED: "selecting the card failed",
}


@dataclass(frozen=True)
class Response:
    """A reader's answer: the three status bytes and the data after them."""

    sw1: int
    sw2: int
    sw3: int
    data: bytes = b""

    def describe(self) -> str:
        """The reader's own status, e.g. 'status 0x41 (reading the card failed)'."""
        meaning = STATUS_MEANINGS.get(self.sw3, "unknown status")
        return f"status 0x{self.sw3:02X} ({meaning})"


def checksum(data: bytes) -> int:
    """XOR of all bytes."""
    return reduce(xor, data, 0)


def build_frame(body: bytes) -> bytes:
    """Wrap a body in header, length and checksum."""
    length = (len(body) + 1).to_bytes(2, "big")
    return HEADER + length + body + bytes((checksum(length + body),))


def build_request(command: Command) -> bytes:
    """The bytes a terminal sends for `command`."""
    return build_frame(bytes((command.code, command.parameter)) + command.data)


def build_response(response: Response) -> bytes:
    """The bytes a reader sends for `response`."""
    return build_frame(bytes((response.sw1, response.sw2, response.sw3)) + response.data)


def parse_response(body: bytes) -> Response:
    """Split a response body into status bytes and data."""
    if len(body) < 3:
        raise CardReadError(f"reader frame too short for its status bytes: {len(body)} bytes")
    return Response(body[0], body[1], body[2], body[3:])


def parse_request(body: bytes) -> Command:
    """Turn a request body into a known command, or a nameless one for unknown codes."""
    if len(body) < 2:
        raise CardReadError(f"request frame too short for a command: {len(body)} bytes")
    known = COMMANDS.get((body[0], body[1]))
    name = known.name if known else f"unknown 0x{body[0]:02X} 0x{body[1]:02X}"
    return Command(body[0], body[1], name, body[2:])


ReadBytes = Callable[[int], bytes]
"""Reads up to n bytes; returns b"" once its time is up."""


def read_frame(read: ReadBytes) -> bytes | None:
    """Find the next frame in a byte stream and return its checked body.

    Bytes before a header are skipped (resynchronisation). None means nothing at all
    arrived; a partial or damaged frame raises CardReadError naming the problem.
    """
    skipped = _skip_to_header(read)
    if skipped is None:
        return None
    length_bytes = _read_exactly(read, 2, "length field")
    length = int.from_bytes(length_bytes, "big")
    if not 1 <= length <= MAX_FRAME_LENGTH:
        raise CardReadError(f"implausible frame length {length}")
    rest = _read_exactly(read, length, "frame body")
    body, received = rest[:-1], rest[-1]
    computed = checksum(length_bytes + body)
    if computed != received:
        raise CardReadError(
            f"checksum error in reader frame: computed 0x{computed:02X}, "
            f"frame says 0x{received:02X}"
        )
    return body


def _skip_to_header(read: ReadBytes) -> int | None:
    """Read until a header has passed; the number of stray bytes skipped, None if silent."""
    window = b""
    seen = 0
    while window != HEADER:
        byte = read(1)
        if not byte:
            if seen == 0:
                return None
            raise CardReadError(f"no frame header found in {seen} bytes from the reader")
        seen += 1
        window = (window + byte)[-len(HEADER) :]
    skipped = seen - len(HEADER)
    if skipped:
        log.warning("skipped %d stray bytes before a frame header", skipped)
    return skipped


def _read_exactly(read: ReadBytes, count: int, part: str) -> bytes:
    """Read `count` bytes or raise CardReadError for a truncated frame."""
    data = b""
    while len(data) < count:
        chunk = read(count - len(data))
        if not chunk:
            raise CardReadError(f"truncated frame: got {len(data)} of {count} bytes of the {part}")
        data += chunk
    return data
