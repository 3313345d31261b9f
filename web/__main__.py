"""Run the web service: ``python -m web --config hall.toml [--validate-config]``.

The manager's app and the residents' status page, in a process of their own beside the hall
controller: a device of the hall (``[web] device``, role manager) with its own broker
account, reading the journal read-only. Killing it leaves the hall working.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from hall.clock import SystemClock
from hall.journal_reader import JournalUnreadable
from hallconfig import ConfigError, HallConfig, load_hall_config, load_secret
from protocol.link import BrokerSettings, LinkError
from protocol.service import supervised
from web.settings import state_dir, web_broker

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m web", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
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
        broker = web_broker(config, args.config)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    if args.validate_config:
        print(f"{args.config}: ok (the web service is device {config.web.device}; manager's "
              f"app on {config.web.host}:{config.web.port}, status page on "
              f"{config.status_page.host}:{config.status_page.port})")
        return 0
    journal = Path(args.config).parent / config.journal
    try:
        asyncio.run(_serve(config, secret, journal, broker))
    except (JournalUnreadable, LinkError, OSError) as exc:  # fatal: systemd restarts us
        log.critical("cannot run the web service: %s", exc)
        print(f"cannot run the web service: {exc}", file=sys.stderr)
        return 3
    return 0


async def _serve(config: HallConfig, secret: bytes, journal: Path,
                 broker: BrokerSettings) -> None:
    """Run until SIGTERM or SIGINT, which cancel whatever is under way (start-up too)."""
    # Imported here, not at the top: a spawned what-if worker imports this module again as
    # its parent's main, and needs neither the app nor the replica (23 MB of it).
    from web.app import start_web
    from web.hallview import HallView

    view = HallView(config, SystemClock(ZoneInfo(config.hall.timezone)), secret, journal,
                    broker, config.web.device, state_dir(config, journal))
    main = asyncio.current_task()
    assert main is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, main.cancel)
    try:
        await view.start()
    except asyncio.CancelledError:
        log.info("stopped while starting")
        return
    try:
        servers = await start_web(view, config.web, config.status_page)
    except BaseException:
        await view.stop()
        raise
    try:
        async with supervised():
            await asyncio.Event().wait()
    except asyncio.CancelledError:
        log.info("stopping")
    finally:
        await servers.cleanup()
        await view.stop()


if __name__ == "__main__":
    sys.exit(main())
