"""The soft caller on a real terminal: single keys in cbreak mode, the screen redrawn live.

The thin layer around ``caller.soft``: it reads keys from the terminal without echo (so a
PIN never shows), turns them into station calls, and redraws whenever the station changes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import termios
import tty
from collections.abc import Coroutine
from typing import Any, TextIO

from caller.session import Outcome
from caller.soft import (
    Act,
    Board,
    Intent,
    Keys,
    Quit,
    Rate,
    SignIn,
    SignOut,
    Transfer,
    decode_keys,
    press,
    render,
)
from caller.station import Station
from protocol import messages as m
from protocol.topics import StateKind

log = logging.getLogger(__name__)

CLEAR = "\x1b[H\x1b[2J"


def board_of(station: Station) -> Board:
    """What the screen shows, from the station's session and the link's retained state."""
    topics = station.link.topics
    hall = station.link.state.get(topics.state(StateKind.HALL))
    services = {s.service: s for s in station.link.state.values()
                if isinstance(s, m.ServiceState)}
    session = station.session
    return Board(counter=session.counter, lights=session.lights, state=session.state,
                 hall=hall if isinstance(hall, m.HallState) else None, services=services,
                 armed_for=session.armed_for,
                 message=station.last.text if station.last else "")


class SoftCaller:
    """Keys from a terminal to the station; the station's state back to the screen."""

    def __init__(self, station: Station, fd: int, out: TextIO) -> None:
        self.station = station
        self.fd = fd
        self.out = out
        self.keys = Keys()
        self.quit = asyncio.Event()
        self._saved: list[Any] | None = None
        self._redraw_due = False
        self._tasks: set[asyncio.Task[Outcome]] = set()

    async def run(self) -> None:
        """Take keys until the clerk quits (q) or the terminal closes."""
        loop = asyncio.get_running_loop()
        if os.isatty(self.fd):
            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        loop.add_reader(self.fd, self._on_input)
        self.station.on_change(self._redraw_soon)
        self.redraw()
        try:
            await self.quit.wait()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
        finally:
            loop.remove_reader(self.fd)
            if self._saved is not None:
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self.out.write("\n")
            self.out.flush()

    def redraw(self) -> None:
        """Draw the whole screen afresh."""
        self._redraw_due = False
        lines = render(board_of(self.station), self.keys)
        self.out.write(CLEAR + "\n".join(lines))
        self.out.flush()

    def _redraw_soon(self) -> None:
        """Coalesce a burst of changes into one redraw on the next loop turn."""
        if not self._redraw_due:
            self._redraw_due = True
            asyncio.get_running_loop().call_soon(self.redraw)

    def _on_input(self) -> None:
        try:
            data = os.read(self.fd, 256)
        except OSError:
            data = b""
        if not data:
            log.info("terminal closed")
            self.quit.set()
            return
        for key in decode_keys(data):
            self.keys, intent = press(self.keys, key, board_of(self.station))
            if intent is not None:
                self._carry_out(intent)
        self._redraw_soon()

    def _carry_out(self, intent: Intent) -> None:
        if isinstance(intent, Quit):
            self.quit.set()
            return
        task = asyncio.get_running_loop().create_task(self._call(intent))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _call(self, intent: Intent) -> Coroutine[Any, Any, Outcome]:
        station = self.station
        if isinstance(intent, Act):
            return station.act(intent.action)
        if isinstance(intent, SignIn):
            return station.sign_in(intent.staff_no, intent.pin)
        if isinstance(intent, SignOut):
            return station.sign_out()
        if isinstance(intent, Transfer):
            return station.transfer(intent.to_service, intent.to_counter)
        assert isinstance(intent, Rate)
        return station.rate(intent.rating)
