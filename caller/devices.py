"""The window's own devices as the station sees them: GPIO keypad, lights, buzzer and
evaluator (``GpioPanel``), and the staff-card reader for clerk sign-in (``CardWatch``).

hardware.idcard's ``LineReader`` splits a serial reader's lines but reads each as a resident's
ID number; ``StaffCardReader`` reuses its port handling and line splitting and hands over the
raw line, which [[signin.cards]] in the caller's settings maps to a clerk.
"""

from __future__ import annotations

import asyncio
import logging
import re

from caller.session import ClerkAction, Lights
from caller.station import Station
from hardware.gpio import Action, CounterDevices
from hardware.idcard.errors import CardReadError, IdCardError
from hardware.idcard.lines import LineReader

log = logging.getLogger(__name__)

CARD_RE = re.compile(r"^[A-Za-z0-9]{4,32}$")
POLL_S = 1.0


class GpioPanel:
    """Binds one window's CounterDevices to its Station."""

    def __init__(self, devices: CounterDevices, station: Station, *, rate: bool = True) -> None:
        self.devices = devices
        self.station = station
        self.evaluator = devices.evaluator if rate else None
        devices.keypad.on_action(self._on_action)
        if self.evaluator is not None:
            self.evaluator.on_rating(self._on_rating)
        station.add_panel(self)

    def show(self, lights: Lights) -> None:
        """Light the status LEDs for the window's state."""
        self.devices.lights.show(lights.value)

    def beep(self, times: int) -> None:
        """Sound the buzzer, if fitted."""
        if self.devices.buzzer is not None:
            self.devices.buzzer.beep(times)

    def arm(self, ticket: str) -> None:
        """Light the please-rate LED and take one rating."""
        if self.evaluator is not None:
            log.info("evaluator armed for %s", ticket)
            self.evaluator.arm()

    def disarm(self) -> None:
        """Stop taking a rating."""
        if self.evaluator is not None:
            self.evaluator.disarm()

    def expire_rating(self) -> None:
        """Put the please-rate LED out if nobody rated in time (call now and then)."""
        if self.evaluator is not None:
            self.evaluator.expire_if_idle()

    def _on_action(self, action: Action) -> None:
        self.station.act_soon(ClerkAction(action.value))

    def _on_rating(self, rating: int) -> None:
        self.station.rate_soon(int(rating))


class StaffCardReader(LineReader):
    """A serial staff-card reader: one line per card, e.g. the card's UID in decimal."""

    def read_line(self, timeout: float) -> str | None:
        """The next card number within ``timeout`` seconds, or None; CardReadError if garbled."""
        line = self._next_line(timeout, "staff card")
        if line is None:
            return None
        text = line.decode("ascii", "replace").strip()
        if not CARD_RE.match(text):
            raise CardReadError("unreadable staff card: expected 4-32 letters or digits")
        return text


class CardWatch:
    """Reads staff cards in a worker thread and hands each to the station."""

    def __init__(self, reader: StaffCardReader, station: Station) -> None:
        self.reader = reader
        self.station = station
        self._stopped = asyncio.Event()

    async def run(self) -> None:
        """Read until stop(); a garbled card is logged and reading goes on."""
        loop = asyncio.get_running_loop()
        while not self._stopped.is_set():
            try:
                card = await loop.run_in_executor(None, self.reader.read_line, POLL_S)
            except CardReadError as exc:
                log.warning("staff card reader: %s", exc)
                continue
            except IdCardError as exc:
                log.error("staff card reader gone: %s", exc)
                return
            if card is not None and not self._stopped.is_set():
                await self.station.swipe(card)

    def stop(self) -> None:
        """Stop after the read in progress (at most POLL_S)."""
        self._stopped.set()
