"""Resident ID cards: the number validator, card readers (SAM, line, keyboard) and simulators.

Start with `parse_id_number`, `CardData` and `open_reader`; README.md has the frame layout.
"""

from __future__ import annotations

from hardware.idcard.card import LONG_TERM, CardData, sample_card, sample_number
from hardware.idcard.errors import CardReadError, IdCardError, ReaderConfigError, ReaderNotFound
from hardware.idcard.lines import KeyboardLineReader, LineReader
from hardware.idcard.number import IdNumber, mask_number, parse_id_number
from hardware.idcard.reader import CardReader
from hardware.idcard.sam import SamReader
from hardware.idcard.selection import open_reader
from hardware.idcard.simulator import (
    LineReaderSimulator,
    SamReaderSimulator,
    SimulatedCardReader,
)

__all__ = [
    "LONG_TERM",
    "CardData",
    "CardReadError",
    "CardReader",
    "IdCardError",
    "IdNumber",
    "KeyboardLineReader",
    "LineReader",
    "LineReaderSimulator",
    "ReaderConfigError",
    "ReaderNotFound",
    "SamReader",
    "SamReaderSimulator",
    "SimulatedCardReader",
    "mask_number",
    "open_reader",
    "parse_id_number",
    "sample_card",
    "sample_number",
]
