"""Try an ID-card reader: read a card and print one JSON line, personal data masked.

    python -m hardware.idcard --port /dev/ttyUSB0 --protocol sam --once
    python -m hardware.idcard --simulate --once            # no hardware needed

Exit status: 0 card read, 1 no card within the timeout, 2 bad arguments, 3 reader error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from hardware.idcard.card import LONG_TERM, CardData, sample_card
from hardware.idcard.errors import CardReadError, IdCardError
from hardware.idcard.lines import LineReader
from hardware.idcard.number import mask_number
from hardware.idcard.reader import CardReader
from hardware.idcard.sam import SamReader
from hardware.idcard.simulator import LineReaderSimulator, SamReaderSimulator

EXIT_NO_CARD = 1
EXIT_READER_ERROR = 3


def card_record(card: CardData, show_personal_data: bool = False) -> dict[str, str | None]:
    """The card as a JSON-ready dict; number, name and address masked unless asked."""
    name, address, number = card.name, card.address, card.id_number
    if not show_personal_data:
        name = name[:1] + "*" * (len(name) - 1)
        address = address[:3] + "***" if address else ""
        number = mask_number(number)
    return {
        "id_number": number,
        "name": name,
        "sex": card.sex,
        "nation": card.nation,
        "birth_date": _date_text(card.birth_date),
        "address": address,
        "authority": card.authority,
        "valid_from": _date_text(card.valid_from),
        "valid_until": _date_text(card.valid_until),
    }


def _date_text(day: date | None) -> str | None:
    """ISO date, 长期 for life, None when the reader did not say."""
    if day == LONG_TERM:
        return "长期"
    return day.isoformat() if day else None


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m hardware.idcard",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", help="pyserial URL: /dev/ttyUSB0, a pty path, socket://...")
    where.add_argument(
        "--simulate",
        action="store_true",
        help="start a simulated reader on a pseudo-terminal with a sample card",
    )
    parser.add_argument(
        "--protocol",
        choices=("sam", "line"),
        default="sam",
        help="sam: certified GA/T 467 reader; line: number sent as a text line",
    )
    parser.add_argument("--once", action="store_true", help="read one card, then exit")
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for a card (default 30)"
    )
    parser.add_argument(
        "--show-personal-data",
        action="store_true",
        help="print the full number, name and address (never in logs)",
    )
    return parser.parse_args(argv)


@contextmanager
def _opened_reader(arguments: argparse.Namespace) -> Iterator[CardReader]:
    """The reader asked for, with a simulator behind it under --simulate."""
    driver = SamReader if arguments.protocol == "sam" else LineReader
    if not arguments.simulate:
        with driver(arguments.port) as reader:
            yield reader
        return
    simulator = SamReaderSimulator() if arguments.protocol == "sam" else LineReaderSimulator()
    try:
        with driver(simulator.port) as reader:
            simulator.present_card(sample_card())
            yield reader
    finally:
        simulator.close()


def _read_cards(reader: CardReader, arguments: argparse.Namespace) -> int:
    """Print each card read; with --once stop after the first (or the timeout)."""
    while True:
        try:
            card = reader.read_card(arguments.timeout)
        except CardReadError as problem:
            if arguments.once:
                raise
            print(f"card not read: {problem}", file=sys.stderr)
            continue
        if card is None:
            if arguments.once:
                print(f"no card within {arguments.timeout:g} s", file=sys.stderr)
                return EXIT_NO_CARD
            continue
        record = card_record(card, arguments.show_personal_data)
        print(json.dumps(record, ensure_ascii=False), flush=True)
        if arguments.once:
            return 0


def main(argv: list[str] | None = None) -> int:
    """Run the tool; returns the exit status."""
    arguments = _arguments(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        with _opened_reader(arguments) as reader:
            return _read_cards(reader, arguments)
    except IdCardError as problem:
        print(f"card reader error: {problem}", file=sys.stderr)
        return EXIT_READER_ERROR
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
