"""Every printer fault, driven through SimulatedPrinter's verbs, and the driver choice."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from hardware.errors import HardwareError
from hardware.printer import (
    PAPER_58MM,
    BadPrinterOptions,
    EscposTicketPrinter,
    PaperOut,
    PrinterOffline,
    PrinterStatus,
    PrintWriteError,
    SimulatedPrinter,
    TicketPrintout,
    UnknownPrinterKind,
    open_printer,
    render_ticket,
    ticket_bytes,
)

PRINTOUT = TicketPrintout(
    hall_name="天平街道社区事务受理服务中心",
    hall_name_en="Tianping Community Affairs Acceptance Centre",
    number="F033",
    service_name="敬老卡与社保卡",
    service_name_en="Senior card & social security card",
    ahead=2,
    wait_minutes=9.5,
    issued_at=datetime(2026, 3, 16, 10, 2, tzinfo=ZoneInfo("Asia/Shanghai")),
    status_url="http://127.0.0.1:8080/t/9dKq2mXa",
    channel="预约",
    channel_en="Appointment",
)


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and a.convert("L").tobytes() == b.convert("L").tobytes()


def test_a_ticket_is_received_as_bytes_and_printed_as_the_rendered_image() -> None:
    printer = SimulatedPrinter()
    printer.print_ticket(PRINTOUT)
    assert printer.received == ticket_bytes(PRINTOUT)
    assert len(printer.tickets) == 1
    assert same_pixels(printer.tickets[0], render_ticket(PRINTOUT))
    assert printer.status() is PrinterStatus.OK


def test_paper_out_before_printing_raises_and_prints_nothing() -> None:
    printer = SimulatedPrinter()
    printer.run_out_of_paper()
    assert printer.status() is PrinterStatus.PAPER_OUT
    with pytest.raises(PaperOut, match="F033; nothing printed"):
        printer.print_ticket(PRINTOUT)
    assert printer.received == b"" and printer.tickets == []
    printer.refill()
    printer.print_ticket(PRINTOUT)
    assert len(printer.tickets) == 1


def test_offline_printer_raises_a_connection_error_and_prints_nothing() -> None:
    printer = SimulatedPrinter()
    printer.go_offline()
    with pytest.raises(PrinterOffline) as caught:
        printer.print_ticket(PRINTOUT)
    assert isinstance(caught.value, ConnectionError) and isinstance(caught.value, HardwareError)
    assert printer.received == b""
    printer.come_online()
    printer.print_ticket(PRINTOUT)
    assert printer.status() is PrinterStatus.OK and len(printer.tickets) == 1


def test_write_error_mid_ticket_raises_and_keeps_the_partial_bytes() -> None:
    printer = SimulatedPrinter()
    printer.fail_next_write(after_bytes=1000)
    with pytest.raises(PrintWriteError, match="after 1000 of") as caught:
        printer.print_ticket(PRINTOUT)
    assert isinstance(caught.value, OSError)
    assert printer.received == ticket_bytes(PRINTOUT)[:1000]
    assert printer.tickets == []
    printer.print_ticket(PRINTOUT)
    assert len(printer.tickets) == 1
    assert printer.received[1000:] == ticket_bytes(PRINTOUT)


def test_paper_low_still_prints_but_status_says_low(caplog: pytest.LogCaptureFixture) -> None:
    printer = SimulatedPrinter()
    printer.paper_low()
    with caplog.at_level(logging.WARNING, logger="hardware.printer"):
        printer.print_ticket(PRINTOUT)
    assert len(printer.tickets) == 1
    assert printer.status() is PrinterStatus.PAPER_LOW
    assert "paper is low before printing ticket F033" in caplog.text


def test_58mm_simulator_prints_58mm_tickets() -> None:
    printer = SimulatedPrinter(width_px=PAPER_58MM)
    printer.print_ticket(PRINTOUT)
    assert printer.tickets[0].width == PAPER_58MM


def test_close_is_recorded_and_printing_reopens() -> None:
    with SimulatedPrinter() as printer:
        pass
    assert printer.closed
    printer.print_ticket(PRINTOUT)
    assert not printer.closed


def test_negative_failure_point_is_refused() -> None:
    with pytest.raises(ValueError, match="after_bytes must be 0 or more"):
        SimulatedPrinter().fail_next_write(after_bytes=-1)


def test_driver_choice_defaults_to_the_simulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOBBY_PRINTER", raising=False)
    assert isinstance(open_printer(), SimulatedPrinter)


def test_environment_chooses_when_no_argument_does(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LOBBY_PRINTER", "file")
    printer = open_printer(path=str(tmp_path / "lp0"))
    assert isinstance(printer, EscposTicketPrinter) and printer.name.startswith("file ")
    assert isinstance(open_printer("SIM"), SimulatedPrinter)


def test_unknown_kind_names_the_accepted_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOBBY_PRINTER", "bluetooth")
    with pytest.raises(UnknownPrinterKind) as caught:
        open_printer()
    message = str(caught.value)
    assert "'bluetooth' (from LOBBY_PRINTER)" in message
    assert "usb, serial, network, file, sim" in message


def test_options_that_do_not_fit_the_driver_are_named() -> None:
    with pytest.raises(BadPrinterOptions, match=r"'serial'.*baud"):
        open_printer("serial", devfile="/dev/ttyUSB0", baud=9600)
    with pytest.raises(BadPrinterOptions, match="not a number like 0x04b8"):
        open_printer("usb", vendor="epson", product="0x0202")
