"""Printer faults at the kiosk: out of service, the confirmed ticket voided, health published
(and turned into the manager's alert by the controller), then recovery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import date

import pytest
from kiosk_support import HALL, KIOSK, MakeKiosk

from broker_config.process import MosquittoProcess
from hall.controller import Controller
from hall.wording import PRINTER_TROUBLE
from hardware.idcard import SimulatedCardReader, sample_card
from hardware.printer import EscposDecodeError, SimulatedPrinter, decode_escpos
from kiosk.events import Phase, ServicePicked
from kiosk.view import View
from protocol.link import Inbound, Link
from protocol.messages import (
    Alert,
    AlertKind,
    DeviceHealth,
    Message,
    PrinterHealth,
    Role,
    TicketStatus,
)

HEALTH = f"lobby/{HALL}/health/{KIOSK}"
ALERTS = f"lobby/{HALL}/event/alert"


class Watch:
    """What the manager sees: every health report and alert, as typed payloads."""

    def __init__(self) -> None:
        self.seen: list[Message] = []
        self.changed = asyncio.Event()

    def __call__(self, inbound: Inbound) -> None:
        if inbound.payload is not None:
            self.seen.append(inbound.payload)
            self.changed.set()

    async def first(self, wanted: Callable[[Message], bool], since: int = 0,
                    timeout: float = 5.0) -> Message:
        """The first payload from index ``since`` on that is ``wanted``."""
        async with asyncio.timeout(timeout):
            while True:
                found = next((m for m in self.seen[since:] if wanted(m)), None)
                if found is not None:
                    return found
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
async def manager(fresh_broker: MosquittoProcess) -> AsyncIterator[Watch]:
    """The manager's link, following device health and alerts."""
    watch = Watch()
    link = Link(fresh_broker.broker_settings("manager"), HALL, "manager", Role.MANAGER,
                follow=[HEALTH, ALERTS])
    link.on_message(watch)
    await link.start()
    yield watch
    await link.close()


def when_printing(action: Callable[[], None]) -> Callable[[View], None]:
    """A view listener that runs ``action`` once the controller has confirmed the ticket,
    before a single byte goes to the printer."""
    def listener(view: View) -> None:
        if view.phase is Phase.PRINTING:
            action()
    return listener


@pytest.mark.parametrize(("fault", "printer_health", "first_line"), [
    ("paper_out", "paper_out", "打印机缺纸"),
    ("offline", "offline", "打印机离线"),
    ("write_error", "error", "打印机故障"),
])
async def test_a_printer_fault_voids_the_ticket_and_alerts_the_manager(
        make_kiosk: MakeKiosk, controller: Controller, manager: Watch, fault: str,
        printer_health: str, first_line: str) -> None:
    reader, printer = SimulatedCardReader(), SimulatedPrinter()
    kiosk = await make_kiosk(lambda: reader, printer)
    if fault == "paper_out":
        kiosk.on_view(when_printing(printer.run_out_of_paper))
    elif fault == "offline":
        kiosk.on_view(when_printing(printer.go_offline))
    else:
        printer.fail_next_write(after_bytes=1000)
    reader.present_card(sample_card(date(1975, 4, 4), serial=9))
    await kiosk.wait_for(lambda flow: flow.phase is Phase.CHOOSING, 5.0)
    kiosk.dispatch(ServicePicked("B"))
    await kiosk.wait_for(lambda flow: flow.phase is Phase.OUT_OF_SERVICE, 5.0)

    view = kiosk.view()
    assert view.title == "暂停服务"
    assert view.lines[:2] == (first_line, "您的号未能打印，已作废，工作人员会为您重新取号")
    ticket = controller.engine.tickets[f"{controller.engine.day:%Y%m%d}-B001"]
    await kiosk.wait_for(lambda _flow: ticket.status is TicketStatus.VOID, 5.0)
    assert printer.tickets == []
    if fault == "write_error":
        assert len(printer.received) == 1000
        with pytest.raises(EscposDecodeError, match="stream ends inside"):
            decode_escpos(printer.received)  # half a ticket: it was voided, not handed out
    health = await manager.first(lambda m: isinstance(m, DeviceHealth) and not m.ok)
    assert isinstance(health, DeviceHealth) and health.printer == printer_health
    alert = await manager.first(lambda m: isinstance(m, Alert) and m.subject == KIOSK)
    assert isinstance(alert, Alert) and alert.kind is AlertKind.PRINTER
    zh, en = PRINTER_TROUBLE[printer_health][:2]
    assert zh in alert.message and en in alert.message

    printer.refill()
    printer.come_online()
    await kiosk.wait_for(lambda flow: flow.phase is Phase.IDLE, 5.0)
    await manager.first(lambda m: isinstance(m, DeviceHealth) and m.ok
                        and m.printer is PrinterHealth.OK,
                        since=manager.seen.index(health) + 1)
