"""The Quick start's main job, ``python -m demo``, plays a short day end to end."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from broker_config.process import free_port

ROOT = Path(__file__).resolve().parents[2]
DAY_OVER = re.compile(r"Day over: (\d+) tickets issued, (\d+) served, (\d+) no-shows, "
                      r"(\d+) refused; calls in order: (\w+)")


def test_the_demo_hall_serves_everyone_it_issues_in_order() -> None:
    """A real broker, the controller, kiosks printing, thirteen counters, a display: every
    issued ticket is served or a no-show, none refused, the display saw every call in order."""
    done = subprocess.run(
        [sys.executable, "-m", "demo", "--speed", "600", "--hours", "0.25", "--arrivals", "15",
         "--port", str(free_port())],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    found = DAY_OVER.search(done.stdout)
    assert found is not None, done.stdout[-2000:]
    issued, served, no_shows, refused, in_order = found.groups()
    assert int(issued) >= 5
    assert int(served) + int(no_shows) == int(issued)
    assert int(refused) == 0
    assert in_order == "yes"
