"""The ticket printer: draw a ticket, turn it into ESC/POS bytes, print it, read it back.

Start with `device.TicketPrinter` (the interface) and `open_printer` (driver choice).
"""

from __future__ import annotations

from hardware.printer.device import PrinterStatus, TicketPrinter
from hardware.printer.errors import (
    BadPrinterOptions,
    BadPrintout,
    EscposDecodeError,
    PaperOut,
    PrinterError,
    PrinterOffline,
    PrintWriteError,
    TicketFontMissing,
    UnknownPrinterKind,
)
from hardware.printer.escpos_driver import EscposTicketPrinter, StatusReport
from hardware.printer.printout import DEFAULT_FOOTER, TicketPrintout
from hardware.printer.render import PAPER_58MM, PAPER_80MM, render_ticket
from hardware.printer.selection import open_printer
from hardware.printer.serial_simulator import SerialPrinterSimulator
from hardware.printer.simulator import Paper, SimulatedPrinter
from hardware.printer.stream import Decoded, decode_escpos, raster_job, ticket_bytes

__all__ = [
    "DEFAULT_FOOTER",
    "PAPER_58MM",
    "PAPER_80MM",
    "BadPrinterOptions",
    "BadPrintout",
    "Decoded",
    "EscposDecodeError",
    "EscposTicketPrinter",
    "Paper",
    "PaperOut",
    "PrintWriteError",
    "PrinterError",
    "PrinterOffline",
    "PrinterStatus",
    "SerialPrinterSimulator",
    "SimulatedPrinter",
    "StatusReport",
    "TicketFontMissing",
    "TicketPrinter",
    "TicketPrintout",
    "UnknownPrinterKind",
    "decode_escpos",
    "open_printer",
    "raster_job",
    "render_ticket",
    "ticket_bytes",
]
