"""The ticket printer interface every driver and simulator follows, and its print policy."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from enum import StrEnum
from types import TracebackType

from hardware.printer.errors import PaperOut, PrinterError, PrinterOffline
from hardware.printer.printout import TicketPrintout
from hardware.printer.render import PAPER_80MM
from hardware.printer.stream import ticket_bytes

log = logging.getLogger(__name__)


class PrinterStatus(StrEnum):
    """What the printer says about itself."""

    OK = "ok"
    PAPER_LOW = "paper_low"
    PAPER_OUT = "paper_out"
    OFFLINE = "offline"
    ERROR = "error"


class TicketPrinter(ABC):
    """A ticket printer: ask its status, print a ticket (raising on failure), close it."""

    def __init__(self, width_px: int = PAPER_80MM) -> None:
        self.width_px = width_px

    @property
    def name(self) -> str:
        """How logs and errors call this printer."""
        return type(self).__name__

    @abstractmethod
    def status(self) -> PrinterStatus:
        """The printer's state now."""

    @abstractmethod
    def _send(self, data: bytes) -> None:
        """Write a ticket's bytes; raise PrintWriteError or PrinterOffline on failure."""

    def print_ticket(self, printout: TicketPrintout) -> None:
        """Check the printer, send the ticket, check again; raise if the ticket is not out."""
        self._require_ready(self.status(), printout.number, after=False)
        self._send(ticket_bytes(printout, self.width_px))
        self._require_ready(self.status(), printout.number, after=True)
        log.info("%s printed ticket %s", self.name, printout.number)

    def _require_ready(self, status: PrinterStatus, number: str, after: bool) -> None:
        """Raise the error that matches a status; paper low only warns."""
        moment = "after printing" if after else "before printing"
        outcome = "the ticket may be incomplete" if after else "nothing printed"
        if status is PrinterStatus.PAPER_OUT:
            raise PaperOut(f"{self.name}: out of paper {moment} ticket {number}; {outcome}")
        if status is PrinterStatus.OFFLINE:
            raise PrinterOffline(f"{self.name}: offline {moment} ticket {number}; {outcome}")
        if status is PrinterStatus.ERROR:
            raise PrinterError(f"{self.name}: reports an error {moment} ticket {number}; {outcome}")
        if status is PrinterStatus.PAPER_LOW:
            log.warning("%s: paper is low %s ticket %s", self.name, moment, number)

    @abstractmethod
    def close(self) -> None:
        """Release the connection; printing afterwards reopens it where the driver can."""

    def __enter__(self) -> TicketPrinter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
