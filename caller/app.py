"""The caller process at one window: ``python -m caller --config FILE [--soft]``.

It joins the hall as the window's caller device and drives, as configured: the GPIO keypad,
lights, buzzer and evaluator ([pins]); a staff-card reader ([signin] method = "card"); and,
with ``--soft``, the terminal soft caller (also the way to sign in by PIN).
Start-up is an ordered list of steps and ``stop`` undoes them in reverse.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from caller.devices import CardWatch, GpioPanel, StaffCardReader
from caller.session import CounterSession
from caller.settings import CallerSettings
from caller.station import Station
from caller.terminal import SoftCaller
from hardware.errors import HardwareError
from hardware.gpio import CounterDevices
from protocol.device import DeviceConfigError, load_device_settings
from protocol.service import supervised

log = logging.getLogger(__name__)

RATING_EXPIRY_CHECK_S = 1.0


class CallerApp:
    """One window's caller: a station plus the panels and readers its settings name.

    ``factory`` is a gpiozero pin factory (tests: hardware.gpio.mock_factory()), else the
    config's or gpiozero's choice; ``clock`` times debounce and holds.
    """

    def __init__(self, settings: CallerSettings, *, factory: Any = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.factory = factory
        self.clock = clock
        counter = settings.counter
        session = CounterSession(counter.id, transfer_service=counter.transfer_service,
                                 transfer_counter=counter.transfer_counter)
        self.station = Station.for_counter(
            settings.broker, settings.device.hall, settings.device.id, session,
            timeout=counter.request_timeout_s, attempts=counter.attempts)
        self.devices: CounterDevices | None = None
        self.panel: GpioPanel | None = None
        self.cards: CardWatch | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._undo: list[Callable[[], Awaitable[None] | None]] = []

    async def start(self) -> None:
        """Open the GPIO devices and the card reader, then connect."""
        try:
            self.open_gpio()
            self.open_card_reader()
            await self.station.start()
        except BaseException:
            await self.stop()
            raise
        self._undo.append(self.station.close)
        log.info("caller %s at counter %s started", self.settings.device.id,
                 self.settings.counter.id)

    def open_gpio(self) -> None:
        """Open [pins] (without the evaluator if [evaluator] is disabled) as a panel."""
        pins = self.settings.pins
        if pins is None:
            return
        rate = self.settings.evaluator.enabled
        if not rate:
            pins = pins.model_copy(update={"evaluator": None})
        devices = CounterDevices.open(pins, self.factory, self.clock)
        self.devices = devices
        self._undo.append(devices.close)
        self.panel = GpioPanel(devices, self.station, rate=rate)
        if devices.evaluator is not None:
            self._tasks.append(asyncio.create_task(self._expire_ratings(self.panel)))
        if self.settings.signin.method == "pin":
            log.info("sign-in by PIN: run the soft caller (--soft) on this window's terminal")

    def open_card_reader(self) -> None:
        """Read staff cards, if [signin] method = "card"."""
        reader_settings = self.settings.signin.reader
        if self.settings.signin.method != "card" or reader_settings is None:
            return
        reader = StaffCardReader(reader_settings.port, baudrate=reader_settings.baudrate)
        self._undo.append(reader.close)
        self.cards = CardWatch(reader, self.station)
        self._tasks.append(asyncio.create_task(self.cards.run()))

    async def stop(self) -> None:
        """Stop reading cards, then undo the start-up steps in reverse."""
        if self.cards is not None:
            self.cards.stop()  # first: a cancel can be lost in a request that just finished
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        while self._undo:
            result = self._undo.pop()()
            if result is not None:
                await result
        log.info("caller %s stopped", self.settings.device.id)

    async def _expire_ratings(self, panel: GpioPanel) -> None:
        while True:
            await asyncio.sleep(RATING_EXPIRY_CHECK_S)
            panel.expire_rating()


async def run(settings: CallerSettings, soft: bool, stdin: TextIO = sys.stdin,
              stdout: TextIO = sys.stdout) -> None:
    """Run until SIGINT/SIGTERM, or until the clerk quits the soft caller."""
    app = CallerApp(settings)
    await app.start()
    loop = asyncio.get_running_loop()
    try:
        async with supervised():
            await _until_stopped(app, soft, loop, stdin, stdout)
    finally:
        await app.stop()


async def _until_stopped(app: CallerApp, soft: bool, loop: asyncio.AbstractEventLoop,
                         stdin: TextIO, stdout: TextIO) -> None:
    if soft:
        terminal = SoftCaller(app.station, stdin.fileno(), stdout)
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, terminal.quit.set)
        await terminal.run()
    else:
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m caller", description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, type=Path, help="the caller's TOML settings")
    parser.add_argument("--validate-config", action="store_true",
                        help="check the settings file and exit (0 ok, 2 bad)")
    parser.add_argument("--soft", action="store_true", help="run the terminal soft caller")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--log-file", type=Path,
                        help="log here (with --soft and no file, only errors are kept: on stderr)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        settings = load_device_settings(args.config, CallerSettings)
    except DeviceConfigError as exc:
        print(f"bad caller settings: {exc}", file=sys.stderr)
        return 2
    if args.validate_config:
        gpio = "GPIO" if settings.pins else "no GPIO"
        print(f"{args.config}: ok ({settings.device.id}, counter {settings.counter.id}, "
              f"{gpio}, sign-in by {settings.signin.method})")
        return 0
    _configure_logging(args.log_level, args.log_file, args.soft)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run(settings, args.soft))
    except (HardwareError, OSError) as exc:
        log.error("caller cannot run: %s", exc)
        if args.log_file is not None:
            print(f"caller cannot run: {exc}", file=sys.stderr)
        return 1
    return 0


def _configure_logging(level: str, path: Path | None, soft: bool) -> None:
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    if path is not None:
        logging.basicConfig(level=level.upper(), format=fmt, filename=path)
    elif soft:
        logging.basicConfig(level=logging.ERROR, format=fmt)
    else:
        logging.basicConfig(level=level.upper(), format=fmt)
