"""Run a hall display (the lobby wall or a counter screen), or draw the sample hall to a PNG.

``python -m display --config FILE`` (``--validate-config`` checks it and exits);
``python -m display --screenshot FILE --sample [--mode lobby|counter] [--call NUMBER]
[--window NAME]`` renders and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from pathlib import Path

from display.sample import Called
from display.settings import DisplaySettings, Mode, ScreenSettings, load_display_settings
from display.window import prepare_kivy
from protocol.device import DeviceConfigError, DeviceIdentity
from protocol.link import LinkError

log = logging.getLogger("display")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m display", description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="the display's TOML settings file")
    parser.add_argument("--validate-config", action="store_true",
                        help="check the settings file and exit")
    parser.add_argument("--screenshot", type=Path, metavar="FILE",
                        help="render one picture to this PNG and exit (headless)")
    parser.add_argument("--sample", action="store_true",
                        help="draw the built-in sample hall instead of connecting")
    parser.add_argument("--mode", choices=[mode.value for mode in Mode],
                        help="lobby or counter (overrides the settings file)")
    parser.add_argument("--counter",
                        help="the window of a counter screen (sample: 3 called, 5 paused, 7 idle)")
    parser.add_argument("--flash", action="store_true",
                        help="with --sample: draw the newest call mid-flash")
    parser.add_argument("--offline", action="store_true",
                        help="with --sample: draw it as it looks with the broker out of reach")
    parser.add_argument("--call", metavar="NUMBER",
                        help="with --sample: call this ticket number (e.g. W888) instead of A037")
    parser.add_argument("--window", metavar="NAME",
                        help="with --sample: the called window's name (13 means 13号窗口)")
    parser.add_argument("--resolution", help="WIDTHxHEIGHT, overriding the settings file")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    args = parser.parse_args(argv)
    if args.config is None and not args.sample:
        parser.error("give --config FILE, or --sample to draw the sample hall")
    if args.sample != (args.screenshot is not None):
        parser.error("--screenshot FILE and --sample go together: they draw the sample hall")
    if not args.sample and (args.call or args.window):
        parser.error("--call and --window go with --sample: they change the sample hall")
    return args


def _settings(args: argparse.Namespace) -> DisplaySettings:
    """The settings file (or the sample display's), with the command line's overrides."""
    if args.config is not None:
        settings = load_display_settings(args.config)
    else:
        settings = DisplaySettings(device=DeviceIdentity(id="display-sample", hall="tianping"))
    screen = settings.display.model_dump()
    if args.mode:
        screen["mode"] = args.mode
    if args.counter or (args.sample and not screen["counter"]):
        screen["counter"] = args.counter or "3"
    if args.resolution:
        try:
            width, height = (int(side) for side in args.resolution.lower().split("x"))
        except ValueError as exc:
            raise DeviceConfigError(f"--resolution {args.resolution!r}: use WIDTHxHEIGHT") from exc
        screen["resolution"] = (width, height)
    try:
        display = ScreenSettings.model_validate(screen)
    except ValueError as exc:
        raise DeviceConfigError(f"[display]: {exc}") from exc
    return settings.model_copy(update={"display": display})


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run, check or render a display."""
    args = _arguments(argv)
    quiet = logging.WARNING if args.screenshot else logging.INFO
    logging.basicConfig(level=logging.DEBUG if args.verbose else quiet,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = _settings(args)
        called = Called.choose(args.call, args.window, settings.display.counter or "3")
    except (DeviceConfigError, ValueError) as exc:
        print(f"display: {exc}", file=sys.stderr)
        return 2
    if args.validate_config:
        screen = settings.display
        print(f"{args.config}: ok ({screen.mode} display {settings.device.id}, "
              f"{screen.size[0]}x{screen.size[1]})")
        return 0
    headless = args.screenshot is not None
    home = Path(tempfile.gettempdir()) / "lobby-display-kivy" if headless else None
    prepare_kivy(settings.display.size, headless=headless,
                 fullscreen=settings.display.fullscreen, home=home)
    if args.screenshot is not None:
        from display.run import render_sample

        return render_sample(settings.display, args.screenshot, flash=args.flash,
                             offline=args.offline, called=called)
    from display.run import run_display

    try:
        return asyncio.run(run_display(settings))
    except LinkError as exc:
        print(f"display: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
