"""A hall with its web app for tests: controller on a real broker, accounts, a free port."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from support.hall import start_controller

from broker_config.process import MosquittoProcess, free_port
from hall.controller import Controller
from hall.web.accounts import Account, WebRole, hash_password, save_accounts
from hall.web.app import start_web

MANAGER = ("wang", "manager-pass-1")
SUPERVISOR = ("li", "supervisor-pass-1")
FAST_HASH = 1000  # iterations: the real default costs a quarter second per check


@dataclass
class WebHall:
    """A running controller, its web app and the manager accounts file."""

    controller: Controller
    broker: MosquittoProcess
    runner: web.AppRunner
    url: str
    managers: Path

    async def stop(self) -> None:
        await self.runner.cleanup()
        await self.controller.stop()


def write_accounts(path: Path) -> None:
    save_accounts(path, {
        MANAGER[0]: Account(MANAGER[0], WebRole.MANAGER, hash_password(MANAGER[1], FAST_HASH)),
        SUPERVISOR[0]: Account(SUPERVISOR[0], WebRole.SUPERVISOR,
                               hash_password(SUPERVISOR[1], FAST_HASH)),
    })


async def start_web_hall(broker: MosquittoProcess, directory: Path) -> WebHall:
    controller = await start_controller(broker, directory)
    managers = directory / "managers.toml"
    write_accounts(managers)
    port = free_port()
    runner = await start_web(controller, "127.0.0.1", port, managers)
    return WebHall(controller, broker, runner, f"http://127.0.0.1:{port}", managers)
