"""Kiosk tests on a real broker: a kiosk runtime for kiosk-1 beside the example hall's controller
(tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from kiosk_support import HALL, KIOSK, MakeKiosk
from support.hall import SECRET

from broker_config.process import MosquittoProcess
from hall.controller import Controller
from hardware.idcard import CardReader
from hardware.printer import TicketPrinter
from kiosk.events import Phase
from kiosk.flow import FlowSettings
from kiosk.runtime import KioskRuntime
from protocol.link import Link
from protocol.messages import Role


@pytest.fixture
async def make_kiosk(fresh_broker: MosquittoProcess,
                     controller: Controller) -> AsyncIterator[MakeKiosk]:
    """Start kiosk-1 with a reader factory and a printer; it is idle when returned."""
    made: list[KioskRuntime] = []

    async def make(open_reader: Callable[[], CardReader],
                   printer: TicketPrinter) -> KioskRuntime:
        link = Link(fresh_broker.broker_settings(KIOSK), HALL, KIOSK, Role.KIOSK)
        runtime = KioskRuntime(link, SECRET, open_reader, printer, FlowSettings(recovery_s=0),
                               request_timeout=1.0, printer_poll_s=0.1,
                               clock=controller.clock.now)
        made.append(runtime)
        await runtime.start(connect_wait=5.0)
        await runtime.wait_for(lambda flow: flow.phase is Phase.IDLE, 5.0)
        return runtime

    yield make
    for runtime in made:
        await runtime.stop()
