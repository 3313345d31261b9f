"""The installer's wiring check, ``python -m hardware.gpio --test``, run on a simulated Pi."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hardware.gpio import CounterPins
from hardware.gpio.__main__ import main

REPO = Path(__file__).resolve().parents[2]


def test_the_mock_run_lights_every_output_and_hears_every_button() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hardware.gpio", "--test", "--mock"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    pins = CounterPins()
    for label, pin in pins.outputs().items():
        assert any(line.split()[:3] == ["on", label, f"GPIO{pin}"] for line in lines), label
    for label, pin in pins.inputs().items():
        assert any(line.split()[:3] == ["pressed", label, f"GPIO{pin}"] for line in lines), label
        assert any(line.split()[:3] == ["released", label, f"GPIO{pin}"] for line in lines), label
    assert lines[-1] == "all 11 buttons answered"


def test_buttons_nobody_pressed_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "counter.json"
    config.write_text(json.dumps({"pin_factory": "mock", "evaluator": None}), encoding="utf-8")
    status = main(["--test", "--config", str(config), "--seconds", "0.05", "--light-seconds", "0"])
    out = capsys.readouterr().out
    assert status == 1
    assert "no press from: keypad.next (GPIO5), keypad.recall (GPIO6)" in out
    assert "evaluator" not in out.split("no press from:")[1]


def test_a_bad_config_is_named_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "counter.json"
    config.write_text(json.dumps({"keypad": {"next": 6}}), encoding="utf-8")
    assert main(["--test", "--mock", "--config", str(config)]) == 2
    assert "GPIO6 is given to both next and recall" in capsys.readouterr().err


def test_an_unknown_pin_factory_is_named_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "counter.json"
    config.write_text(json.dumps({"pin_factory": "nonesuch"}), encoding="utf-8")
    assert main(["--test", "--config", str(config), "--seconds", "0"]) == 1
    assert "unknown pin factory 'nonesuch'" in capsys.readouterr().err


def test_without_test_there_is_nothing_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([])
    assert stopped.value.code == 2
    assert "nothing to do: pass --test" in capsys.readouterr().err
