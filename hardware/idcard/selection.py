"""Choosing the card-reader driver: explicit argument, then $LOBBY_CARD_READER, then "sim"."""

from __future__ import annotations

import logging
import os
from typing import Any

from hardware.idcard.errors import ReaderConfigError
from hardware.idcard.lines import KeyboardLineReader, LineReader
from hardware.idcard.reader import CardReader
from hardware.idcard.sam import SamReader
from hardware.idcard.simulator import SimulatedCardReader

log = logging.getLogger(__name__)

KIND_VARIABLE = "LOBBY_CARD_READER"
PORT_VARIABLE = "LOBBY_CARD_READER_PORT"
DEFAULT_KIND = "sim"
KINDS = ("sam", "line", "keyboard", "sim")


def open_reader(kind: str | None = None, port: str | None = None, **opts: Any) -> CardReader:
    """Open the configured card reader.

    `kind` is 'sam', 'line', 'keyboard' or 'sim'; when None (nothing in the hall's config)
    it comes from $LOBBY_CARD_READER, else 'sim'. `port` (a pyserial URL) falls back to
    $LOBBY_CARD_READER_PORT. Other keyword options go to the driver, e.g.
    `poll_interval` for 'sam', `baudrate` for 'line', `stream` for 'keyboard'.
    """
    chosen = (kind or os.environ.get(KIND_VARIABLE) or DEFAULT_KIND).strip().lower()
    if chosen not in KINDS:
        raise ReaderConfigError(
            f"unknown card reader kind {chosen!r}: use one of {', '.join(KINDS)}"
        )
    port = port or os.environ.get(PORT_VARIABLE)
    log.info("opening %s card reader on %s", chosen, port or "no port")
    if chosen == "sim":
        return SimulatedCardReader()
    if chosen == "keyboard":
        return KeyboardLineReader(**opts)
    if port is None:
        raise ReaderConfigError(
            f"a {chosen!r} card reader needs a port: pass port= or set {PORT_VARIABLE}"
        )
    if chosen == "sam":
        return SamReader(port, **opts)
    return LineReader(port, **opts)
