"""A whole simulated hall on this machine: a real Mosquitto, the hall controller (with the
manager's web app), two kiosks, thirteen windows whose clerks sign in, and a lobby display
client, on an accelerated clock. The hall's nearby centres are simulated on a city broker its
own broker is bridged to. The day shows a busy hour, a printer running low, lunch, a long
pause, a bad rating, appointments and the green channel; the closing line accounts for every
resident.

``python -m demo [--speed 120] [--hours 8] [--arrivals 560] [--days 1] [--seed 1]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from demo.hall import MAX_SPEED, DemoHall, DemoOptions
from demo.summary import Output
from demo.tally import DayTotals

MAX_HOURS = 15.0  # arrivals from 08:30 until 23:30 at the latest


def parse_options(argv: list[str] | None = None) -> tuple[DemoOptions, str]:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speed", type=float, default=120,
                        help=f"hall seconds per real second, 1 to {MAX_SPEED:g} (default 120)")
    parser.add_argument("--hours", type=float, default=8,
                        help="hours of arrivals from opening (08:30), at most 15 (default 8)")
    parser.add_argument("--arrivals", type=int, default=560,
                        help="residents in those hours, each day (default 560)")
    parser.add_argument("--days", type=int, default=1, help="days, one after another")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=8090,
                        help="the manager's web app port (default 8090)")
    parser.add_argument("--log-level", default="ERROR", type=str.upper,
                        choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
                        help="log to stderr from this level (default ERROR: the hall's "
                             "warnings, e.g. every idle press refused, are the tablet's)")
    args = parser.parse_args(argv)
    if not 1 <= args.speed <= MAX_SPEED:
        parser.error(f"--speed {args.speed:g}: the demo runs at 1 to {MAX_SPEED:g} times real "
                     f"time (faster, a kiosk's print confirmation and a clerk's presses would "
                     f"take longer in hall time than the hall allows)")
    if not 0 < args.hours <= MAX_HOURS:
        parser.error(f"--hours {args.hours:g}: give more than 0 and at most {MAX_HOURS:g}")
    if args.arrivals < 0:
        parser.error(f"--arrivals {args.arrivals}: give 0 or more")
    if args.days < 1:
        parser.error(f"--days {args.days}: give 1 or more")
    options = DemoOptions(args.speed, args.hours, args.arrivals, args.days, args.seed,
                          args.port)
    return options, args.log_level


def main(argv: list[str] | None = None) -> int:
    options, log_level = parse_options(argv)
    output = Output(sys.stdout)
    handler = AboveSummary(output)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=log_level, handlers=[handler], force=True)
    with tempfile.TemporaryDirectory(prefix="lobby-demo-") as tmp:
        hall = DemoHall(options, Path(tmp), output)
        try:
            days = asyncio.run(_until_interrupted(hall))
        except KeyboardInterrupt:
            output.close()
            print(hall.tally.totals.closing_line("Stopped; today so far"))
            return 0
    output.close()
    if len(days) > 1:
        total = sum(days[1:], days[0])
        print(total.closing_line(f"All {len(days)} days"))
    return 0


class AboveSummary(logging.StreamHandler[TextIO]):
    """Log lines to stderr, each whole above the live summary (never on top of it)."""

    def __init__(self, output: Output) -> None:
        super().__init__(sys.stderr)
        self.output = output

    def emit(self, record: logging.LogRecord) -> None:
        self.output.clear()
        super().emit(record)


async def _until_interrupted(hall: DemoHall) -> list[DayTotals]:
    task = asyncio.create_task(hall.run())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        return await task
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
