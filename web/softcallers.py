"""The soft callers the web service acts as: caller devices of the hall, each bound to one
counter and with a broker account of its own, whose passwords the service holds.

A clerk's screen (web/window_page.py) sends every command from its counter's soft caller, so
the broker's ACL and the controller treat it exactly as a hardware caller: only the caller's
commands, only for that device's counter, never the web service's manager account. Each
soft caller's ``Link`` opens when the service starts (the device is present while it runs)
and closes with it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from hallconfig import HallConfig, WebSettings
from protocol import messages as m
from protocol.link import BrokerSettings, Link, LinkError
from web.hallview import HallUnreachable

log = logging.getLogger(__name__)

CREDENTIAL = "soft-callers"  # the web unit's systemd credential: TOML {device = "password"}
CONNECT_S = 5.0
COMMAND_TIMEOUT_S = 5.0


def load_passwords(settings: WebSettings) -> dict[str, str]:
    """The soft callers' passwords: ``[web] soft_callers_file``, else the unit's credential
    soft-callers, else none; OSError naming the file if it cannot be read as such a table."""
    path: Path | None = None
    if settings.soft_callers_file is not None:
        path = Path(settings.soft_callers_file)
    elif (credentials := os.environ.get("CREDENTIALS_DIRECTORY")) is not None:
        candidate = Path(credentials, CREDENTIAL)
        path = candidate if candidate.is_file() else None
    if path is None:
        return {}
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise OSError(f"soft callers' passwords {path}: {exc}") from exc
    wrong = [k for k, v in table.items() if not isinstance(v, str) or not v]
    if wrong:
        raise OSError(f"soft callers' passwords {path}: {', '.join(wrong)}: a password is a "
                      "non-empty string (device = \"password\")")
    return dict(table)


class SoftCallers:
    """The soft caller of each counter this service may act for, and their links."""

    def __init__(self, config: HallConfig, broker: BrokerSettings,
                 passwords: Mapping[str, str]) -> None:
        self.config = config
        self.broker = broker  # the service's own settings: host, port, TLS
        self.devices: dict[str, str] = {}  # counter -> soft caller device
        for device in config.devices:
            if device.id in passwords and device.role == m.Role.CALLER and device.counter:
                self.devices.setdefault(device.counter, device.id)
        unknown = sorted(set(passwords) - set(self.devices.values()))
        if unknown:
            log.warning("soft callers' passwords for %s, which are not caller devices of "
                        "this hall: not used", ", ".join(unknown))
        self._passwords = dict(passwords)
        self._links: dict[str, Link] = {}
        self._opening = asyncio.Lock()

    def device_for(self, counter: str) -> str | None:
        """The soft caller of ``counter``, or None if it has none here."""
        return self.devices.get(counter)

    async def request(self, counter: str, name: str, command: m.Command) -> m.Reply:
        """Send ``command`` from ``counter``'s soft caller; HallUnreachable if it cannot be
        carried or answered (KeyError: the counter has no soft caller here)."""
        link = await self._link(counter)
        try:
            return await link.request(name, command, timeout=COMMAND_TIMEOUT_S)
        except LinkError as exc:
            raise HallUnreachable(str(exc)) from exc

    async def start(self) -> None:
        """Connect every soft caller in the background: present, as a hardware caller is,
        while the service runs (a refused account is logged and its screen answers 503)."""
        for counter in self.devices:
            await self._open(counter)

    async def _open(self, counter: str) -> Link:
        device = self.devices[counter]
        async with self._opening:
            link = self._links.get(device)
            if link is None:
                settings = self.broker.model_copy(update={
                    "username": device, "password": self._passwords[device],
                    "password_file": None})
                link = Link(settings, self.config.hall.id, device, m.Role.CALLER)
                self._links[device] = link
                await link.start(wait=None)
                log.info("soft caller %s of counter %s connecting", device, counter)
        return link

    async def _link(self, counter: str) -> Link:
        device = self.devices[counter]
        link = await self._open(counter)
        try:
            await link.wait_connected(CONNECT_S)
        except TimeoutError:
            raise HallUnreachable(f"soft caller {device} could not reach the broker") from None
        return link

    async def close(self) -> None:
        for link in self._links.values():
            await link.close()
        self._links.clear()
