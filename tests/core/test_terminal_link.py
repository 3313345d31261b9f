"""The device link from a terminal: take a ticket, press next, follow the calls."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from support.broker import settings_file
from support.hall import ROOT

from broker_config.process import MosquittoProcess
from hall.controller import Controller


async def tool(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "protocol", *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def test_a_ticket_a_press_and_the_call_seen_from_terminals(
        fresh_broker: MosquittoProcess, controller: Controller, tmp_path: Path) -> None:
    follower = await tool("--config", str(settings_file(tmp_path, fresh_broker, "display-lobby")),
                          "follow", "--count", "1")
    assert follower.stdout is not None
    kiosk = await tool("--config", str(settings_file(tmp_path, fresh_broker, "kiosk-1")),
                       "issue", "E")
    out, err = await kiosk.communicate()
    assert kiosk.returncode == 0, err
    reply = json.loads(out)
    assert reply["ok"] and reply["result"]["ticket"]["number"] == "E001"
    assert "ticket E001: 0 ahead" in err.decode()
    assert controller.engine.tickets["20261123-E001"].status.value == "waiting"  # confirmed

    while controller.link.topics.presence("display-lobby") not in controller.link.state and \
            follower.returncode is None:
        await asyncio.sleep(0.01)  # the follower's subscription precedes its presence
    caller = await tool("--config", str(settings_file(tmp_path, fresh_broker, "caller-11")),
                        "call_next")
    out, err = await caller.communicate()
    assert caller.returncode == 0, err
    assert json.loads(out)["result"]["called"]["number"] == "E001"
    line = await asyncio.wait_for(follower.stdout.readline(), 10)
    assert json.loads(line)["number"] == "E001" and json.loads(line)["counter"] == "11"
    assert await asyncio.wait_for(follower.wait(), 10) == 0


async def test_the_broker_refuses_what_the_role_may_not_do(
        fresh_broker: MosquittoProcess, controller: Controller, tmp_path: Path) -> None:
    display = await tool("--config", str(settings_file(tmp_path, fresh_broker, "display-lobby")),
                         "call_next")
    _, err = await display.communicate()
    assert display.returncode == 1 and b"no answer" in err


def test_a_broken_settings_file_names_the_problem(tmp_path: Path) -> None:
    from protocol.__main__ import main

    path = tmp_path / "bad.toml"
    path.write_text('[device]\nid = "kiosk 1"\nhall = "tianping"\n', encoding="utf-8")
    assert main(["--config", str(path), "issue", "A"]) == 2
