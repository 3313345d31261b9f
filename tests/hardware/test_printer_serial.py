"""The real EscposTicketPrinter over a pseudo-terminal against SerialPrinterSimulator, and File."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from hardware.printer import (
    EscposTicketPrinter,
    PaperOut,
    PrinterError,
    PrinterOffline,
    PrinterStatus,
    PrintWriteError,
    SerialPrinterSimulator,
    TicketPrintout,
    decode_escpos,
    render_ticket,
    ticket_bytes,
)

URL = "http://127.0.0.1:8080/t/Lw3vQ8nR"
PRINTOUT = TicketPrintout(
    hall_name="天平街道社区事务受理服务中心",
    hall_name_en="Tianping Community Affairs Acceptance Centre",
    number="C004",
    service_name="社会救助、养老与助残",
    service_name_en="Social assistance, elderly & disability",
    ahead=0,
    wait_minutes=0,
    issued_at=datetime(2026, 3, 16, 8, 31, tzinfo=ZoneInfo("Asia/Shanghai")),
    status_url=URL,
    channel="绿色通道",
    channel_en="Green channel",
)


@pytest.fixture
def simulator() -> Iterator[SerialPrinterSimulator]:
    with SerialPrinterSimulator() as simulated:
        yield simulated


@pytest.fixture
def printer(simulator: SerialPrinterSimulator) -> Iterator[EscposTicketPrinter]:
    real = EscposTicketPrinter.serial(simulator.port, baudrate=115200, timeout=0.3)
    yield real
    real.close()


def zbar(image: Image.Image, tmp_path: Path) -> list[str]:
    path = tmp_path / "ticket.png"
    image.save(path)
    done = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(path)], capture_output=True, text=True, timeout=30
    )
    return done.stdout.splitlines()


@pytest.mark.parametrize(
    ("fault", "status", "replies"),
    [
        ("refill", PrinterStatus.OK, {1: 0x12, 4: 0x12}),
        ("paper_low", PrinterStatus.PAPER_LOW, {1: 0x12, 4: 0x1E}),
        ("run_out_of_paper", PrinterStatus.PAPER_OUT, {1: 0x1A, 4: 0x7E, 2: 0x32}),
        ("go_offline", PrinterStatus.OFFLINE, {1: 0x1A, 4: 0x12, 2: 0x16}),
        ("jam_cutter", PrinterStatus.ERROR, {1: 0x1A, 4: 0x12, 2: 0x52}),
    ],
)
def test_status_replies_are_decoded(
    simulator: SerialPrinterSimulator,
    printer: EscposTicketPrinter,
    fault: str,
    status: PrinterStatus,
    replies: dict[int, int],
) -> None:
    getattr(simulator, fault)()
    report = printer.query()
    assert report.status is status
    assert report.answered
    assert report.replies == replies
    assert simulator.queries == list(replies)


def test_silent_printer_is_offline_and_reported_as_not_answering(
    simulator: SerialPrinterSimulator, printer: EscposTicketPrinter
) -> None:
    simulator.stop_answering()
    report = printer.query()
    assert report.status is PrinterStatus.OFFLINE
    assert not report.answered
    assert report.note == "no reply to DLE EOT 1"
    with pytest.raises(PrinterOffline, match="nothing printed"):
        printer.print_ticket(PRINTOUT)
    simulator.answer_again()
    assert printer.status() is PrinterStatus.OK


def test_ticket_printed_over_serial_decodes_to_the_rendered_image(
    simulator: SerialPrinterSimulator, printer: EscposTicketPrinter, tmp_path: Path
) -> None:
    printer.print_ticket(PRINTOUT)
    query = b"\x10\x04\x01\x10\x04\x04"
    assert simulator.received == query + ticket_bytes(PRINTOUT) + query
    printed = decode_escpos(simulator.received)
    assert printed.commands[2:6] == ["ESC @", "GS v 0", "ESC d", "GS V"]
    tickets = simulator.tickets
    assert len(tickets) == 1
    assert tickets[0].convert("L").tobytes() == render_ticket(PRINTOUT).convert("L").tobytes()
    assert zbar(tickets[0], tmp_path) == [URL]


def test_paper_out_over_serial_raises_before_any_ticket_byte(
    simulator: SerialPrinterSimulator, printer: EscposTicketPrinter
) -> None:
    simulator.run_out_of_paper()
    with pytest.raises(PaperOut, match="before printing ticket C004"):
        printer.print_ticket(PRINTOUT)
    assert simulator.received == b"\x10\x04\x01\x10\x04\x04\x10\x04\x02"
    assert simulator.tickets == []


def test_offline_and_jammed_printers_refuse_the_ticket(
    simulator: SerialPrinterSimulator, printer: EscposTicketPrinter
) -> None:
    simulator.go_offline()
    with pytest.raises(PrinterOffline):
        printer.print_ticket(PRINTOUT)
    simulator.come_online()
    simulator.jam_cutter()
    with pytest.raises(PrinterError, match="reports an error"):
        printer.print_ticket(PRINTOUT)
    assert simulator.tickets == []


def test_paper_low_prints_and_the_report_says_low(
    simulator: SerialPrinterSimulator, printer: EscposTicketPrinter
) -> None:
    simulator.paper_low()
    printer.print_ticket(PRINTOUT)
    assert len(simulator.tickets) == 1
    assert printer.last_report is not None
    assert printer.last_report.status is PrinterStatus.PAPER_LOW


def test_missing_serial_device_is_offline_not_a_crash(tmp_path: Path) -> None:
    printer = EscposTicketPrinter.serial(str(tmp_path / "ttyUSB9"), timeout=0.3)
    report = printer.query()
    assert report.status is PrinterStatus.OFFLINE and not report.answered
    assert "cannot be opened" in report.note
    with pytest.raises(PrinterOffline):
        printer.print_ticket(PRINTOUT)


def test_file_printer_cannot_report_status_so_it_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "lp0"
    printer = EscposTicketPrinter.file(str(path))
    with caplog.at_level(logging.INFO, logger="hardware.printer"):
        printer.print_ticket(PRINTOUT)
        printer.print_ticket(PRINTOUT)
    printer.close()
    assert caplog.text.count("cannot report its status; treating it as ok") == 1
    assert path.read_bytes() == ticket_bytes(PRINTOUT) * 2


def test_write_failure_on_a_real_device_raises_print_write_error() -> None:
    printer = EscposTicketPrinter.file("/dev/full")
    with pytest.raises(PrintWriteError, match=r"writing \d+ ticket bytes failed") as caught:
        printer.print_ticket(PRINTOUT)
    assert isinstance(caught.value, OSError)
