"""End to end: a clerk's key on (mock) GPIO puts the called number on the real lobby screen.

Runs the press-to-screen benchmark for a few presses in its own process (Kivy, rendered
offscreen, owns that process's window): a real Keypad on MockFactory, the caller's link,
Mosquitto, the Controller, the display's feed and the Kivy label. Every press must change
the label to exactly the number the controller called; the figures are not judged here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRESSES = 4

pytestmark = pytest.mark.kivy


def test_each_key_press_shows_the_called_number_on_the_lobby_screen() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.screen_latency", "--presses", str(PRESSES), "--json"],
        cwd=ROOT, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    result = json.loads(done.stdout.decode().strip().splitlines()[-1])
    figures = result["press_to_screen_ms"]
    assert figures["n"] == PRESSES
    assert figures["press_to_frame_ms"]["n"] == PRESSES
    assert figures["missed_calls"] == 0
    assert 0 < figures["p50"] <= figures["p99"] <= figures["max"]
