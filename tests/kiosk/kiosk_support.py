"""Names shared by the kiosk tests (conftest.py holds the fixtures)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from hardware.idcard import CardReader
from hardware.printer import TicketPrinter
from kiosk.runtime import KioskRuntime

HALL = "tianping"
KIOSK = "kiosk-1"
MakeKiosk = Callable[[Callable[[], CardReader], TicketPrinter], Awaitable[KioskRuntime]]
