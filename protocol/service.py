"""The process side of the contract with systemd: READY once the link is up, then WATCHDOG
pings sent from the event loop itself, so a blocked loop stops the pings and gets restarted.

Every long-running process (controller, kiosk, caller, display) uses it the same way:

    notifier = ServiceNotifier()
    await link.start()                      # or controller.start()
    notifier.ready()
    pings = asyncio.create_task(notifier.keep_alive())
    ...                                     # run until SIGTERM
    notifier.stopping()
    pings.cancel()
"""

from __future__ import annotations

import asyncio
import logging
import os

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

    async def keep_alive(self) -> None:
        """Ping the watchdog every half period, from the event loop."""
        if self.interval is None:
            return
        while True:
            self._send("WATCHDOG=1")
            await asyncio.sleep(self.interval)
