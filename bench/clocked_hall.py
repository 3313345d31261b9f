"""``python -m hall`` on a clock that reads START (local time in the hall's zone) at the
real instant ANCHOR and runs SPEED times faster; the same anchor across restarts keeps
the clock going forward through a kill -9.

``python -m bench.clocked_hall --start 2026-11-23T23:58:00 --anchor EPOCH --speed 4 --
--config hall.toml``

The controller's entry point builds ``SystemClock(zone)``; this launcher hands it an
``AcceleratedClock`` instead and otherwise runs ``hall.__main__.main`` unchanged.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import hall.__main__ as entry
from hall.clock import AcceleratedClock


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.clocked_hall", description=__doc__)
    parser.add_argument("--start", required=True, help="local time, YYYY-MM-DDTHH:MM:SS")
    parser.add_argument("--anchor", type=float, required=True, help="real epoch of --start")
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("hall_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if not hasattr(entry, "SystemClock"):
        print("hall.__main__ no longer builds a SystemClock: use its own clock option",
              file=sys.stderr)
        return 2
    start = datetime.fromisoformat(args.start)

    def clock(zone: ZoneInfo) -> AcceleratedClock:
        elapsed = (time.time() - args.anchor) * args.speed
        return AcceleratedClock(start.replace(tzinfo=zone) + timedelta(seconds=elapsed),
                                args.speed)

    entry.SystemClock = clock
    rest = [a for a in args.hall_args if a != "--"]
    return entry.main(rest)


if __name__ == "__main__":
    sys.exit(main())
