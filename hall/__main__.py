"""Run the hall controller, the single writer: ``python -m hall --config hall.toml
[--validate-config]``. The manager's app and status page are another service: python -m web."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from hall.clock import SystemClock
from hall.controller import Controller
from hall.journal import JournalDamaged
from hallconfig import ConfigError, HallConfig, load_hall_config, load_secret
from protocol.link import LinkError
from protocol.service import supervised

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hall", description=__doc__)
    parser.add_argument("--config", required=True, help="the hall's TOML file")
    parser.add_argument("--validate-config", action="store_true",
                        help="check the config (and the secret) and exit")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_hall_config(args.config)
        secret = load_secret(config, args.config)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    if args.validate_config:
        print(f"{args.config}: ok ({len(config.services)} services, "
              f"{len(config.counters)} counters, {len(config.devices)} devices)")
        return 0
    journal = Path(args.config).parent / config.journal
    try:
        asyncio.run(_serve(config, secret, journal))
    except (JournalDamaged, LinkError) as exc:  # fatal: systemd restarts us with backoff
        log.critical("cannot run the hall: %s", exc)
        print(f"cannot run the hall: {exc}", file=sys.stderr)
        return 3
    return 0


async def _serve(config: HallConfig, secret: bytes, journal: Path) -> None:
    """Run until SIGTERM or SIGINT, which cancel whatever is under way (start-up too)."""
    controller = Controller(config, SystemClock(ZoneInfo(config.hall.timezone)), secret, journal)
    main = asyncio.current_task()
    assert main is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, main.cancel)
    try:
        await controller.start()
    except asyncio.CancelledError:
        log.info("stopped while starting")
        return
    # What the start made (modules, models, the day's engine) lives as long as the process:
    # out of the collector's sight, a full collection during the day scans only what came
    # after (bench.latency: 4 ms, not 25, each time it runs between two commands).
    gc.freeze()
    try:
        async with supervised(controller.healthy):
            await asyncio.Event().wait()
    except asyncio.CancelledError:
        log.info("stopping")
    finally:
        await controller.stop()

if __name__ == "__main__":
    sys.exit(main())
