"""systemd notification: READY once started, WATCHDOG pings from the event loop itself,
so that a blocked loop stops the pings and systemd restarts the process."""

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
        self._send("READY=1")

    def stopping(self) -> None:
        self._send("STOPPING=1")

    async def keep_alive(self) -> None:
        """Ping the watchdog every half period, from the event loop."""
        if self.interval is None:
            return
        while True:
            self._send("WATCHDOG=1")
            await asyncio.sleep(self.interval)
