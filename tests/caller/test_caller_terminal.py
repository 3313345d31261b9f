"""``python -m caller --soft`` on a pseudo-terminal, against a real broker and controller."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import subprocess
import sys
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.hall import start_controller

from broker_config.process import MosquittoProcess
from hall.controller import Controller
from protocol import messages as m
from protocol.link import new_command_id

ROOT = Path(__file__).resolve().parents[2]
CLEAR = "\x1b[H\x1b[2J"
WAIT_S = 15.0


def soft_settings(broker: MosquittoProcess, directory: Path) -> Path:
    """examples/caller-3.toml without [pins] (no GPIO), pointed at this broker."""
    raw = tomllib.loads((ROOT / "examples" / "caller-3.toml").read_text(encoding="utf-8"))
    broker_settings = broker.broker_settings("caller-3")
    lines = ["[device]", 'id = "caller-3"', f'hall = "{raw["device"]["hall"]}"', "",
             "[broker]", f'host = "{broker_settings.host}"', f"port = {broker_settings.port}",
             'username = "caller-3"', f'password = "{broker_settings.password}"', "",
             "[counter]", 'id = "3"', "request_timeout_s = 1.0"]
    path = directory / "caller-3-soft.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Screen:
    """The soft caller as a child process on a pty: type keys, read the latest frame."""

    def __init__(self, config: Path, log_file: Path) -> None:
        self.master, slave = pty.openpty()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm", "LANG": "C.UTF-8"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "caller", "--config", str(config), "--soft",
             "--log-file", str(log_file), "--log-level", "DEBUG"],
            cwd=ROOT, env=env, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        self.output = b""
        self._changed = asyncio.Event()
        asyncio.get_running_loop().add_reader(self.master, self._read)

    def _read(self) -> None:
        try:
            data = os.read(self.master, 65536)
        except OSError:  # the child closed the pty
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(self.master)
        self.output += data
        self._changed.set()

    @property
    def frame(self) -> str:
        return self.output.decode("utf-8", "replace").rsplit(CLEAR, 1)[-1]

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    async def shows(self, text: str) -> str:
        """Wait until the latest frame shows ``text``; return the frame."""
        try:
            async with asyncio.timeout(WAIT_S):
                while text not in self.frame:
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            pytest.fail(f"the screen never showed {text!r}; last frame:\n{self.frame}")
        return self.frame

    async def exits(self) -> int:
        return await asyncio.wait_for(asyncio.to_thread(self.process.wait), WAIT_S)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        asyncio.get_running_loop().remove_reader(self.master)
        os.close(self.master)


@pytest.fixture
async def hall(fresh_broker: MosquittoProcess, tmp_path: Path) -> AsyncIterator[Controller]:
    controller = await start_controller(fresh_broker, tmp_path, staffed=False)  # signs in here
    yield controller
    await controller.stop()


async def test_a_clerk_signs_in_calls_finishes_and_the_resident_rates_from_the_keyboard(
        hall: Controller, fresh_broker: MosquittoProcess, tmp_path: Path) -> None:
    screen = Screen(soft_settings(fresh_broker, tmp_path), tmp_path / "caller.log")
    try:
        await screen.shows("空闲 idle")
        screen.type("i")
        await screen.shows("工号 staff no:")
        screen.type("S001\r")
        await screen.shows("密码 PIN:")
        screen.type("1234\r")
        await screen.shows("王丽 S001")
        assert b"1234" not in screen.output  # neither echoed nor drawn

        reply = await hall.execute("issue", m.IssueTicket(id=new_command_id(), service="A"))
        assert reply.ok
        await screen.shows(" ► A   1  社会保险与就业")
        screen.type("n")
        frame = await screen.shows("> called A001")
        assert "A001 (called" in frame and "服务中 serving" in frame
        screen.type("d")
        await screen.shows("awaiting a rating for A001")
        screen.type("4")
        await screen.shows("> rated 4 for 20261123-A001")

        rows = await hall.journal.query("SELECT data FROM events WHERE kind = 'rated'")
        assert [json.loads(r[0]) for r in rows] == [
            {"ticket": "20261123-A001", "counter": "3", "clerk": "S001", "rating": 4}]
        screen.type("q")
        assert await screen.exits() == 0
    finally:
        screen.close()


async def test_a_wrong_pin_is_refused_on_screen(hall: Controller, fresh_broker: MosquittoProcess,
                                                tmp_path: Path) -> None:
    screen = Screen(soft_settings(fresh_broker, tmp_path), tmp_path / "caller.log")
    try:
        await screen.shows("空闲 idle")
        screen.type("iS002\r9999\r")
        frame = await screen.shows("> sign_in: staff number or PIN not recognised")
        assert "未签到 not signed in" in frame
        screen.type("q")
        assert await screen.exits() == 0
    finally:
        screen.close()
