"""Errors of the ticket printer: one root under HardwareError, each with its builtin."""

from __future__ import annotations

from hardware.errors import HardwareError


class PrinterError(HardwareError):
    """Any failure of the ticket printer or of building what it prints."""


class PaperOut(PrinterError):
    """The paper roll is empty: nothing (or not all of the ticket) was printed."""


class PrinterOffline(PrinterError, ConnectionError):
    """The printer cannot be reached, does not answer, or is offline (cover open)."""


class PrintWriteError(PrinterError, IOError):
    """Writing the ticket's bytes to the printer failed part-way."""


class BadPrintout(PrinterError, ValueError):
    """A ticket's content is unusable (bad number, naive time, negative count...)."""


class TicketFontMissing(PrinterError, FileNotFoundError):
    """No font able to draw Chinese and Latin text is installed."""


class EscposDecodeError(PrinterError, ValueError):
    """An ESC/POS byte stream holds a command the decoder does not know, or is cut short."""


class UnknownPrinterKind(PrinterError, ValueError):
    """The printer kind asked for (argument or LOBBY_PRINTER) is not one we have."""


class BadPrinterOptions(PrinterError, TypeError):
    """The options given for a printer kind do not fit its driver."""
