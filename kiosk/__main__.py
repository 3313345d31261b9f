"""Run a kiosk: `python -m kiosk --config FILE [--validate-config] [--simulate] [--headless]`.

--simulate uses the simulated card reader (with an on-screen demo swipe button) and the
simulated printer, for the demo hall. Exit status 2 means the settings are unusable.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from hardware.idcard import CardReader, SimulatedCardReader, open_reader
from hardware.printer import PrinterError, TicketPrinter, open_printer
from kiosk import kivy_env
from kiosk.runtime import KioskRuntime
from kiosk.settings import KioskConfigError, KioskSettings, load_secret, load_settings
from kiosk.voice import KioskVoice, open_kiosk_voice
from protocol.link import Link
from protocol.messages import Role
from protocol.service import supervised
from voice.errors import VoiceError
from voice.pack import DEFAULT_PACK_DIR

log = logging.getLogger("kiosk")

SERIAL_KINDS = ("sam", "line")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m kiosk", description=__doc__)
    parser.add_argument("--config", type=Path, required=True, help="the kiosk's TOML settings")
    parser.add_argument("--validate-config", action="store_true",
                        help="check the settings and the hall secret, then exit")
    parser.add_argument("--simulate", action="store_true",
                        help="simulated card reader and printer (the demo hall)")
    parser.add_argument("--headless", action="store_true",
                        help="render offscreen (no display needed)")
    return parser.parse_args(argv)


def check(settings: KioskSettings, config: Path, simulate: bool) -> bytes:
    """Everything that can be checked without the devices; return the hall secret."""
    secret = load_secret(settings, config)
    reader = settings.reader
    kind = reader.kind or os.environ.get("LOBBY_CARD_READER")
    if not simulate and kind in SERIAL_KINDS and not (
            reader.port or os.environ.get("LOBBY_CARD_READER_PORT")):
        raise KioskConfigError(f"{config}: reader.port: a {kind!r} card reader needs a port")
    return secret


def devices(settings: KioskSettings, simulate: bool
            ) -> tuple[Callable[[], CardReader], TicketPrinter, SimulatedCardReader | None]:
    """The card-reader factory, the printer, and the demo reader when simulating."""
    if simulate:
        demo = SimulatedCardReader()
        return (lambda: demo), open_printer("sim", width_px=settings.printer.width_px), demo
    reader = settings.reader
    printer = open_printer(settings.printer.kind, width_px=settings.printer.width_px,
                           **settings.printer.options)
    return (lambda: open_reader(reader.kind, reader.port, **reader.options)), printer, None


async def kiosk_voice(settings: KioskSettings, config: Path) -> KioskVoice | None:
    """The voice when [kiosk] voice is on; None (logged) when it is off or unusable. The
    default pack lives in systemd's state directory, else voicepacks/generated/default."""
    kiosk = settings.kiosk
    if not kiosk.voice:
        return None
    state = os.environ.get("STATE_DIRECTORY")
    default = Path(state.split(":")[0]) / "voicepack" if state else DEFAULT_PACK_DIR
    pack = config.parent / kiosk.voice_pack if kiosk.voice_pack else None
    try:
        return await asyncio.get_running_loop().run_in_executor(
            None, lambda: open_kiosk_voice(pack, default, kiosk.speaker, kiosk.speaker_device,
                                           kiosk.volume))
    except (VoiceError, OSError) as exc:
        log.error("no voice: %s; the screens still show every step", exc)
        return None


async def run(settings: KioskSettings, secret: bytes, simulate: bool, config: Path) -> None:
    """Start the runtime and the Kivy app on this loop; stop both on SIGTERM or SIGINT."""
    from kiosk.app import KioskApp

    open_card_reader, printer, demo = devices(settings, simulate)
    link = Link(settings.broker, settings.device.hall, settings.device.id, Role.KIOSK)
    runtime = KioskRuntime(link, secret, open_card_reader, printer, settings.kiosk.flow(),
                           request_timeout=settings.kiosk.request_timeout_s,
                           printer_poll_s=settings.kiosk.printer_poll_s,
                           voice=await kiosk_voice(settings, config))
    await runtime.start()
    app = KioskApp(runtime, demo)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, app.stop)
    try:
        async with supervised():
            await app.async_run(async_lib="asyncio")
    finally:
        await runtime.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the kiosk; return the exit status."""
    args = _arguments(argv)
    logging.basicConfig(level=logging.INFO, force=True,  # escpos calls basicConfig() on import
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(args.config)
        secret = check(settings, args.config, args.simulate)
    except KioskConfigError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 2
    if args.validate_config:
        print(f"{args.config}: ok (kiosk {settings.device.id} of hall {settings.device.hall})")
        return 0
    size = kivy_env.window_size(settings.kiosk.orientation)
    kivy_env.prepare(size, fullscreen=settings.kiosk.fullscreen and not args.headless,
                     headless=args.headless)
    try:
        asyncio.run(run(settings, secret, args.simulate, args.config))
    except PrinterError as exc:
        print(f"kiosk: printer: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
