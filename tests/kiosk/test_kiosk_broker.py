"""A swipe through to a printed ticket: SAM reader on a pty, the controller on a real broker,
the simulated printer's ESC/POS bytes decoded back."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from kiosk_support import HALL, MakeKiosk
from support.broker import SyncClient, connect
from support.hall import SECRET, start_controller

from broker_config.process import MosquittoProcess
from hall.controller import Controller
from hardware.idcard import SamReader, SamReaderSimulator, SimulatedCardReader, sample_card
from hardware.printer import SimulatedPrinter, decode_escpos
from kiosk.events import Back, Phase, ServicePicked
from protocol.messages import TicketStatus

NAME = "李秀兰"


@pytest.fixture
def sam() -> Iterator[SamReaderSimulator]:
    simulator = SamReaderSimulator()
    yield simulator
    simulator.close()


@pytest.fixture
async def spy(fresh_broker: MosquittoProcess) -> Iterator[SyncClient]:
    """Sees every message of the hall (the controller's account reads everything)."""
    client = await asyncio.to_thread(connect, fresh_broker.broker_settings("controller"))
    await asyncio.to_thread(client.subscribe, f"lobby/{HALL}/#")
    yield client
    client.close()


def qr_text(image_path: Path) -> str:
    out = subprocess.run(["zbarimg", "--quiet", "--raw", str(image_path)], capture_output=True,
                         text=True, timeout=20, check=True)
    return out.stdout.strip()


async def test_a_swipe_becomes_a_printed_waiting_ticket(
        sam: SamReaderSimulator, make_kiosk: MakeKiosk, controller: Controller,
        spy: SyncClient, tmp_path: Path) -> None:
    printer = SimulatedPrinter()
    kiosk = await make_kiosk(lambda: SamReader(sam.port, poll_interval=0.05), printer)
    card = sample_card(date(1952, 8, 8), sex="F", serial=7, name=NAME)
    sam.present_card(card)
    await kiosk.wait_for(lambda flow: flow.phase is Phase.CHOOSING, 5.0)
    assert kiosk.flow.session is not None and kiosk.flow.session.resident.green
    assert kiosk.view().badge == "绿色通道 · 优先办理"
    kiosk.dispatch(ServicePicked("A"))
    await kiosk.wait_for(lambda flow: flow.phase is Phase.DONE, 5.0)

    decoded = decode_escpos(printer.received)
    assert decoded.cuts == 1 and len(decoded.images) == 1
    decoded.images[0].save(tmp_path / "ticket.png")
    ticket_id = f"{controller.engine.day:%Y%m%d}-A001"
    ticket = controller.engine.tickets[ticket_id]
    assert qr_text(tmp_path / "ticket.png") == f"http://127.0.0.1:8080/t/{ticket.token}"
    await kiosk.wait_for(lambda _flow: ticket.status is TicketStatus.WAITING, 5.0)
    assert ticket.channel.value == "green"
    key = hmac.new(SECRET, f"id-hash:{controller.engine.day}".encode(), hashlib.sha256).digest()
    assert ticket.id_hash == hmac.new(key, card.id_number.encode(), hashlib.sha256).hexdigest()
    view = kiosk.view()
    assert (view.number, view.lines[0]) == ("A001", "前面没有人，请留意叫号")

    await asyncio.to_thread(spy.publish, f"lobby/{HALL}/presence/spy-marker", b"end")
    seen = await asyncio.to_thread(spy.received_before, f"lobby/{HALL}/presence/spy-marker",
                                   b"end")
    payloads = b"".join(msg.payload for msg in seen)
    assert b'"issue"' not in payloads and ticket.id_hash.encode() in payloads
    for secret_part in (card.id_number.encode(), NAME.encode(), NAME.encode("utf-16-le")):
        assert secret_part not in payloads
        assert secret_part not in controller.journal_path.read_bytes()


async def test_one_open_ticket_per_person_per_service(make_kiosk: MakeKiosk,
                                                      controller: Controller) -> None:
    reader = SimulatedCardReader()
    kiosk = await make_kiosk(lambda: reader, SimulatedPrinter())
    card = sample_card(date(1985, 1, 1), serial=3)
    for service in ("A", "B"):
        reader.present_card(card)
        await kiosk.wait_for(lambda flow: flow.phase is Phase.CHOOSING, 5.0)
        kiosk.dispatch(ServicePicked(service))
        await kiosk.wait_for(lambda flow: flow.phase is Phase.DONE, 5.0)
    reader.present_card(card)
    await kiosk.wait_for(lambda flow: flow.phase is Phase.CHOOSING, 5.0)
    buttons = {b.service: b for b in kiosk.view().services}
    assert (buttons["A"].enabled, buttons["A"].status) == (False, "您已取号 A001")
    assert (buttons["B"].enabled, buttons["B"].status) == (False, "您已取号 B001")
    assert buttons["C"].enabled


async def test_no_answer_prints_nothing_and_the_kiosk_recovers_by_itself(
        make_kiosk: MakeKiosk, controller: Controller, fresh_broker: MosquittoProcess,
        tmp_path: Path) -> None:
    reader, printer = SimulatedCardReader(), SimulatedPrinter()
    kiosk = await make_kiosk(lambda: reader, printer)
    card = sample_card(date(1990, 2, 2), serial=5)
    reader.present_card(card)
    await kiosk.wait_for(lambda flow: flow.phase is Phase.CHOOSING, 5.0)
    await controller.stop()
    kiosk.dispatch(ServicePicked("E"))
    await kiosk.wait_for(lambda flow: flow.phase is Phase.NOTICE, 5.0)
    assert kiosk.view().title == "系统暂无响应"
    assert printer.received == b""

    await asyncio.to_thread(fresh_broker.stop)
    await kiosk.wait_for(lambda flow: "fault.link" in flow.faults, 5.0)
    await asyncio.to_thread(fresh_broker.start)
    revived = await start_controller(fresh_broker, tmp_path)
    try:
        day = f"{revived.engine.day:%Y%m%d}"
        await kiosk.wait_for(lambda flow: not flow.faults and not flow.unsettled, 15.0)
        orphan = revived.engine.tickets[f"{day}-E001"]
        await kiosk.wait_for(lambda _flow: orphan.status is TicketStatus.VOID, 5.0)
        kiosk.dispatch(Back())
        assert kiosk.flow.phase is Phase.IDLE
        reader.present_card(card)
        await kiosk.wait_for(lambda flow: flow.phase is Phase.CHOOSING, 5.0)
        kiosk.dispatch(ServicePicked("E"))
        await kiosk.wait_for(lambda flow: flow.phase is Phase.DONE, 5.0)
        assert len(printer.tickets) == 1 and kiosk.view().number == "E002"
        issued = revived.engine.tickets[f"{day}-E002"]
        await kiosk.wait_for(lambda _flow: issued.status is TicketStatus.WAITING, 5.0)
    finally:
        await revived.stop()


async def test_a_reader_that_disappears_takes_the_kiosk_out_of_service_until_it_is_back(
        make_kiosk: MakeKiosk) -> None:
    first = SamReaderSimulator()
    ports = [first.port]
    kiosk = await make_kiosk(lambda: SamReader(ports[0], poll_interval=0.05,
                                               reply_timeout=0.3), SimulatedPrinter())
    first.close()  # unplugged
    await kiosk.wait_for(lambda flow: flow.phase is Phase.OUT_OF_SERVICE, 5.0)
    assert kiosk.flow.faults == ["fault.reader"]
    assert kiosk.view().lines[0] == "读卡器故障"
    with SamReaderSimulator() as second:  # plugged back in, on another port
        ports[0] = second.port
        await kiosk.wait_for(lambda flow: flow.phase is Phase.IDLE, 10.0)
        second.present_card(sample_card(date(1982, 3, 3), serial=11))
        await kiosk.wait_for(lambda flow: flow.phase is Phase.CHOOSING, 5.0)
