"""A hall with its web apps for tests: the controller on a real broker, and the web apps on a
HallView that follows it as the web service does (its own broker account, the journal
read-only), accounts, free ports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from support.hall import follow, start_controller

from broker_config.process import MosquittoProcess, free_port
from hall.controller import Controller
from hallconfig import HallConfig, StatusPageSettings, WebSettings
from protocol import messages as m
from web.accounts import Account, WebRole, hash_password, save_accounts
from web.app import WebServers, start_web
from web.hallview import HallView

JSON = {"Content-Type": "application/json"}
MANAGER = ("wang", "manager-pass-1")
SUPERVISOR = ("li", "supervisor-pass-1")
FAST_HASH = 1000  # iterations: the real default costs a quarter second per check


@dataclass
class WebHall:
    """A running controller, the web service's view of it, its two web listeners and the
    manager accounts file."""

    controller: Controller
    view: HallView
    broker: MosquittoProcess
    servers: WebServers
    url: str  # the manager's app
    status_url: str  # the residents' status page
    managers: Path

    async def settle(self) -> None:
        """Wait until the web apps have read everything the controller committed, and its
        alert board (a message of its own, which may come after the events it follows)."""
        await self.view.settled(self.controller.rev, also=lambda: set(
            self.view.alerts.active) == set(self.controller.alerts.active))

    async def execute(self, name: str, command: m.Command, device: str = "manager") -> m.Reply:
        """Run a command on the controller (as ``device``), then let the web apps catch up."""
        reply = await self.controller.execute(name, command, device)
        await self.settle()
        return reply

    async def stop(self) -> None:
        await self.servers.cleanup()
        await self.view.stop()
        await self.controller.stop()


def write_accounts(path: Path) -> None:
    save_accounts(path, {
        MANAGER[0]: Account(MANAGER[0], WebRole.MANAGER, hash_password(MANAGER[1], FAST_HASH)),
        SUPERVISOR[0]: Account(SUPERVISOR[0], WebRole.SUPERVISOR,
                               hash_password(SUPERVISOR[1], FAST_HASH)),
    })


async def start_web_hall(broker: MosquittoProcess, directory: Path,
                         config: HallConfig | None = None, notifier: str = "none") -> WebHall:
    """The example hall (or ``config``) with both web listeners on loopback, free ports;
    ``notifier`` as ``[web] notifier``."""
    controller = await start_controller(broker, directory, config=config)
    managers = directory / "managers.toml"
    write_accounts(managers)
    manager = WebSettings(host="127.0.0.1", port=free_port(), notifier=notifier)
    status = StatusPageSettings(host="127.0.0.1", port=free_port())
    view = await follow(controller, broker, directory)
    soft = {d.id: broker.credentials[d.id] for d in controller.config.devices
            if d.id.startswith("soft-") and d.id in broker.credentials}  # the clerks' screens
    servers = await start_web(view, manager, status, managers, soft)
    return WebHall(controller, view, broker, servers, f"http://127.0.0.1:{manager.port}",
                   f"http://127.0.0.1:{status.port}", managers)


def client(origin: str | None = None, local: str = "127.0.0.1") -> aiohttp.ClientSession:
    """A browser-like client: it sends ``origin`` (the page's) as a browser does on writes,
    from the loopback address ``local``."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                 headers={"Origin": origin} if origin else None,
                                 connector=aiohttp.TCPConnector(local_addr=(local, 0)))


async def command(session: aiohttp.ClientSession, hall: WebHall, name: str,
                  body: Any) -> tuple[int, dict[str, Any]]:
    response = await session.post(f"{hall.url}/api/commands/{name}", data=json.dumps(body),
                                  headers=JSON)
    return response.status, await response.json()
