"""Chooses the ticket printer driver: explicit argument, else LOBBY_PRINTER, else the simulator."""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Callable
from typing import Any

from hardware.printer.device import TicketPrinter
from hardware.printer.errors import BadPrinterOptions, UnknownPrinterKind
from hardware.printer.escpos_driver import EscposTicketPrinter
from hardware.printer.simulator import SimulatedPrinter

log = logging.getLogger(__name__)

ENV_VARIABLE = "LOBBY_PRINTER"
DEFAULT_KIND = "sim"
DRIVERS: dict[str, Callable[..., TicketPrinter]] = {
    "usb": EscposTicketPrinter.usb,
    "serial": EscposTicketPrinter.serial,
    "network": EscposTicketPrinter.network,
    "file": EscposTicketPrinter.file,
    "sim": SimulatedPrinter,
}


def open_printer(kind: str | None = None, **options: Any) -> TicketPrinter:
    """The printer of the given kind (usb, serial, network, file, sim) built with options."""
    source = "argument"
    if kind is None:
        kind, source = os.environ.get(ENV_VARIABLE), ENV_VARIABLE
    if not kind:
        kind, source = DEFAULT_KIND, "default"
    driver = DRIVERS.get(kind.strip().lower())
    if driver is None:
        raise UnknownPrinterKind(
            f"unknown printer kind {kind!r} (from {source}); accepted: {', '.join(DRIVERS)}"
        )
    try:
        inspect.signature(driver).bind(**options)
    except TypeError as error:
        raise BadPrinterOptions(f"printer kind {kind!r}: bad options {options}: {error}") from None
    log.info("ticket printer: %s (from %s)", kind, source)
    return driver(**options)
