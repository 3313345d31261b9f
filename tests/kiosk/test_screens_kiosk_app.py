"""The real Kivy app on the link's asyncio loop: a demo swipe and a touch make a ticket."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.hall import SECRET

from broker_config.process import MosquittoProcess
from hall.controller import Controller
from protocol.messages import TicketStatus

pytestmark = pytest.mark.kivy
DRIVER = Path(__file__).with_name("drive_app.py")
ROOT = Path(__file__).resolve().parents[2]


async def test_touches_on_the_real_app_print_a_ticket(fresh_broker: MosquittoProcess,
                                                      controller: Controller) -> None:
    settings = fresh_broker.broker_settings("kiosk-1")
    args = [sys.executable, str(DRIVER), str(settings.port), str(settings.password),
            SECRET.hex(), controller.clock.now().isoformat()]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the project as a -m run from ROOT sees it
    done = await asyncio.to_thread(subprocess.run, args, cwd=ROOT, env=env,
                                   capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["phases"][-3:] == ["confirming", "printing", "done"]
    assert "choosing" in outcome["phases"]
    assert "A001" in outcome["labels"] and "请取票" in outcome["labels"]
    assert outcome["printed"] == 1
    ticket = controller.engine.tickets[f"{controller.engine.day:%Y%m%d}-A001"]
    assert ticket.status is TicketStatus.WAITING
