"""``--validate-config`` of every process: the example passes (exit 0), and one wrong key is
named in the message with exit 2, as the installer and the operator's guide rely on."""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

# process, example file, a line of it, the same line broken, the key the error must name
CASES = [
    ("hall", "hall.toml", "recall_limit = 2", "recal_limit = 2", "rules.recal_limit"),
    ("hall", "hall.toml", "green_age = 70", "green_age = 170", "rules.green_age"),
    ("kiosk", "kiosk-1.toml", 'kind = "usb"', 'kind = "laser"', "printer.kind"),
    ("caller", "caller-3.toml", "next = 5 ", "nxt = 5 ", "pins.keypad.nxt"),
    ("display", "display-lobby.toml", 'mode = "lobby"', 'mode = "wall"', "display.mode"),
]


def validate(process: str, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", process, "--config", str(config),
                           "--validate-config"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)


def example_copy(tmp_path: Path, name: str) -> Path:
    """The example in a directory of its own, with the hall secret its secret_file names."""
    (tmp_path / "state").mkdir(exist_ok=True)
    (tmp_path / "state" / "hall-secret").write_text(secrets.token_hex(32))
    target = tmp_path / name
    target.write_text((EXAMPLES / name).read_text(encoding="utf-8"), encoding="utf-8")
    return target


@pytest.mark.parametrize(("process", "name"), sorted({(c[0], c[1]) for c in CASES}))
def test_the_example_is_valid(tmp_path: Path, process: str, name: str) -> None:
    done = validate(process, example_copy(tmp_path, name))
    assert done.returncode == 0, done.stderr
    assert "ok" in done.stdout


@pytest.mark.parametrize(("process", "name", "line", "broken", "key"), CASES)
def test_a_wrong_key_is_named_with_exit_2(tmp_path: Path, process: str, name: str, line: str,
                                          broken: str, key: str) -> None:
    config = example_copy(tmp_path, name)
    text = config.read_text(encoding="utf-8")
    assert text.count(line) == 1, f"{name} no longer has the line {line!r}: update this test"
    config.write_text(text.replace(line, broken), encoding="utf-8")
    done = validate(process, config)
    assert done.returncode == 2, done.stdout + done.stderr
    assert key in done.stderr, done.stderr
    assert str(config) in done.stderr  # and the file it is in
