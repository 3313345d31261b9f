"""The process side of the contract with systemd: READY once the link is up, then WATCHDOG
pings sent from the event loop itself, so a blocked loop stops the pings and gets restarted.

Every long-running process (controller, kiosk, caller, display) uses it the same way:

    await link.start()                      # or controller.start()
    async with supervised():                # READY now, watchdog pings, STOPPING on the way out
        ...                                 # run until SIGTERM
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable

import sdnotify

log = logging.getLogger(__name__)


class ServiceNotifier:
    """Talks to systemd when run under it (NOTIFY_SOCKET set); does nothing otherwise."""

    def __init__(self) -> None:
        self._enabled = "NOTIFY_SOCKET" in os.environ
        self._notifier = sdnotify.SystemdNotifier()
        usec = int(os.environ.get("WATCHDOG_USEC", "0") or 0)
        self.interval = usec / 2e6 if usec else None

    def _send(self, state: str) -> None:
        if self._enabled:
            self._notifier.notify(state)

    def ready(self) -> None:
        """Tell systemd start-up is complete (Type=notify units wait for this)."""
        log.debug("telling systemd: ready")
        self._send("READY=1")

    def stopping(self) -> None:
        """Tell systemd a clean shutdown has begun."""
        self._send("STOPPING=1")

    async def keep_alive(self, healthy: Callable[[], bool]) -> None:
        """Ping the watchdog every half period, from the event loop, while ``healthy()``."""
        if self.interval is None:
            return
        while True:
            if healthy():
                self._send("WATCHDOG=1")
            else:
                log.error("not healthy: withholding the watchdog ping")
            await asyncio.sleep(self.interval)


@contextlib.asynccontextmanager
async def supervised(healthy: Callable[[], bool] = lambda: True,
                     ) -> AsyncIterator[ServiceNotifier]:
    """READY on entry, watchdog pings from this loop while inside and ``healthy()`` (a
    process whose work has stalled stops feeding the watchdog), STOPPING on exit."""
    notifier = ServiceNotifier()
    notifier.ready()
    pings = asyncio.create_task(notifier.keep_alive(healthy))
    try:
        yield notifier
    finally:
        notifier.stopping()
        pings.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pings
