"""The real ticket printer: python-escpos over USB, serial, network or a device file."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposLibraryError
from escpos.printer import File, Network, Serial, Usb

from hardware.printer.device import PrinterStatus, TicketPrinter
from hardware.printer.errors import BadPrinterOptions, PrinterOffline, PrintWriteError
from hardware.printer.render import PAPER_80MM
from hardware.printer.stream import ASK_OFFLINE_CAUSE, ASK_PAPER, ASK_PRINTER, status_query

log = logging.getLogger(__name__)

OFFLINE_BIT = 0x08  # DLE EOT 1
COVER_OPEN_BIT, PAPER_END_STOP_BIT, ERROR_BIT = 0x04, 0x20, 0x40  # DLE EOT 2
PAPER_NEAR_END_BITS, PAPER_OUT_BITS = 0x0C, 0x60  # DLE EOT 4
_FIXED_MASK, _FIXED_BITS = 0x93, 0x12  # every status byte: bits 1 and 4 set, 0 and 7 clear


class _PromptSerial(Serial):
    """escpos's Serial, returning the one-byte status reply as soon as it arrives."""

    def query_status(self, mode: bytes) -> bytes:
        """Drop stale input first, so the reply read is the one to this query."""
        port = self.device
        assert port is not None, "queried only once open() succeeded (as escpos asserts)"
        port.reset_input_buffer()
        return super().query_status(mode)

    def _read(self) -> bytes:
        port = self.device
        assert port is not None, "read only once open() succeeded (as escpos asserts)"
        return bytes(port.read(1))


class _PromptNetwork(Network):
    """escpos's Network, waiting for a status reply only status_timeout seconds."""

    status_timeout = 1.0

    def _read(self) -> bytes:
        sock = self.device
        assert sock is not None, "read only once open() succeeded (as escpos asserts)"
        sock.settimeout(self.status_timeout)
        try:
            return bytes(sock.recv(1))
        except TimeoutError:
            return b""
        finally:
            sock.settimeout(self.timeout)


@dataclass(frozen=True)
class StatusReport:
    """A status with its evidence: the reply byte to each DLE EOT n asked, and why."""

    status: PrinterStatus
    answered: bool
    replies: dict[int, int] = field(default_factory=dict)
    note: str = ""


def _usb_id(value: int | str) -> int:
    """A USB vendor or product id from an int or a string such as "0x04b8" or "1208"."""
    try:
        number = value if isinstance(value, int) else int(value, 0)
    except ValueError:
        raise BadPrinterOptions(f"USB id {value!r} is not a number like 0x04b8") from None
    if not 0 < number <= 0xFFFF:
        raise BadPrinterOptions(f"USB id {value!r} is outside 1..0xffff")
    return number


def status_from_replies(printer: int, paper: int, cause: int | None) -> PrinterStatus:
    """Interpret DLE EOT 1 (printer), 4 (paper sensor) and, when offline, 2 (cause)."""
    if paper & PAPER_OUT_BITS:
        return PrinterStatus.PAPER_OUT
    if printer & OFFLINE_BIT:
        if cause is not None and cause & ERROR_BIT:
            return PrinterStatus.ERROR
        if cause is not None and cause & PAPER_END_STOP_BIT:
            return PrinterStatus.PAPER_OUT
        return PrinterStatus.OFFLINE
    if paper & PAPER_NEAR_END_BITS:
        return PrinterStatus.PAPER_LOW
    return PrinterStatus.OK


class EscposTicketPrinter(TicketPrinter):
    """A python-escpos connection that checks the printer before and after every ticket."""

    def __init__(
        self, connection: Escpos, width_px: int = PAPER_80MM, name: str | None = None
    ) -> None:
        super().__init__(width_px)
        self._connection = connection
        self._name = name or type(connection).__name__
        self._open = False
        self._reads_status = type(connection)._read is not Escpos._read
        self._said_unreadable = False
        self.last_report: StatusReport | None = None

    @classmethod
    def usb(
        cls, vendor: int | str, product: int | str, width_px: int = PAPER_80MM
    ) -> EscposTicketPrinter:
        """A USB printer found by its vendor and product ids (ints, or strings like "0x04b8")."""
        vendor_id, product_id = _usb_id(vendor), _usb_id(product)
        name = f"usb {vendor_id:04x}:{product_id:04x}"
        return cls(Usb(vendor_id, product_id), width_px, name)

    @classmethod
    def serial(
        cls, devfile: str, baudrate: int = 115200, timeout: float = 1.0,
        xonxoff: bool = False, width_px: int = PAPER_80MM,
    ) -> EscposTicketPrinter:
        """A serial printer; timeout bounds the wait for a status reply.

        Image tickets overrun a printer's small buffer without flow control: set the printer
        to XON/XOFF and pass xonxoff=True (escpos offers no RTS/CTS).
        """
        connection = _PromptSerial(
            devfile=devfile, baudrate=baudrate, timeout=timeout, xonxoff=xonxoff
        )
        return cls(connection, width_px, f"serial {devfile}")

    @classmethod
    def network(
        cls, host: str, port: int = 9100, timeout: float = 1.0, width_px: int = PAPER_80MM
    ) -> EscposTicketPrinter:
        """A network printer on its raw port; timeout bounds the wait for a status reply."""
        connection = _PromptNetwork(host=host, port=port)
        connection.status_timeout = timeout
        return cls(connection, width_px, f"network {host}:{port}")

    @classmethod
    def file(cls, path: str, width_px: int = PAPER_80MM) -> EscposTicketPrinter:
        """A device file such as /dev/usb/lp0: it cannot answer status queries."""
        return cls(File(path), width_px, f"file {path}")

    @property
    def name(self) -> str:
        """How logs and errors call this printer."""
        return self._name

    def status(self) -> PrinterStatus:
        """The printer's state now, from its real-time status replies."""
        return self.query().status

    def query(self) -> StatusReport:
        """Ask DLE EOT 1 and 4 (and 2 when offline); no reply at all is reported as such."""
        if not self._reads_status:
            if not self._said_unreadable:
                log.info("%s cannot report its status; treating it as ok", self.name)
                self._said_unreadable = True
            return StatusReport(PrinterStatus.OK, False, note="connection cannot read status")
        try:
            self._ensure_open()
            report = self._ask_all()
        except PrinterOffline as error:
            report = StatusReport(PrinterStatus.OFFLINE, False, note=str(error))
        self._log_change(report)
        self.last_report = report
        return report

    def _ask_all(self) -> StatusReport:
        replies: dict[int, int] = {}
        for n in (ASK_PRINTER, ASK_PAPER):
            problem = self._ask(n, replies)
            if problem:
                return problem
        cause = None
        if replies[ASK_PRINTER] & OFFLINE_BIT and not self._ask(ASK_OFFLINE_CAUSE, replies):
            cause = replies[ASK_OFFLINE_CAUSE]
        status = status_from_replies(replies[ASK_PRINTER], replies[ASK_PAPER], cause)
        return StatusReport(status, True, replies)

    def _ask(self, n: int, replies: dict[int, int]) -> StatusReport | None:
        """Send DLE EOT n and store the reply byte; a report instead if there is none."""
        try:
            reply = self._connection.query_status(status_query(n))
        except OSError as error:
            self._drop()
            return StatusReport(PrinterStatus.OFFLINE, False, replies, f"DLE EOT {n}: {error}")
        if not reply:
            return StatusReport(PrinterStatus.OFFLINE, False, replies, f"no reply to DLE EOT {n}")
        replies[n] = reply[-1]
        if reply[-1] & _FIXED_MASK != _FIXED_BITS:
            note = f"reply {reply[-1]:#04x} to DLE EOT {n} is not a status byte (baud rate?)"
            return StatusReport(PrinterStatus.ERROR, True, replies, note)
        return None

    def _log_change(self, report: StatusReport) -> None:
        previous = self.last_report.status if self.last_report else PrinterStatus.OK
        if report.status is previous:
            return
        level = logging.INFO if report.status is PrinterStatus.OK else logging.WARNING
        log.log(level, "%s status %s -> %s %s", self.name, previous, report.status, report.note)

    def _ensure_open(self) -> None:
        if self._open:
            return
        try:
            self._connection.open()
        except (EscposLibraryError, OSError) as error:
            raise PrinterOffline(f"{self.name} cannot be opened: {error}") from error
        self._open = True

    def _send(self, data: bytes) -> None:
        self._ensure_open()
        try:
            self._connection._raw(data)
        except OSError as error:
            self._drop()
            raise PrintWriteError(
                f"{self.name}: writing {len(data)} ticket bytes failed: {error}"
            ) from error

    def _drop(self) -> None:
        """Close a broken connection so that the next ticket opens it afresh."""
        self._open = False
        try:
            self._connection.close()
        except (EscposLibraryError, OSError) as error:
            log.warning("%s: closing the broken connection failed: %s", self.name, error)

    def close(self) -> None:
        """Close the connection to the printer."""
        if self._open:
            self._drop()
