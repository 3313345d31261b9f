"""The caller's settings file and the command line that checks it."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from caller.app import CallerApp, main
from caller.settings import CallerSettings
from hardware.gpio import mock_factory

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "caller-3.toml"


def example(**changes: Any) -> dict[str, Any]:
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        *path, key = dotted.split("__")
        section = raw
        for part in path:
            section = section.setdefault(part, {})
        section[key] = value
    return raw


def test_the_example_is_valid_and_wires_the_default_pins() -> None:
    settings = CallerSettings.model_validate(example())
    assert (settings.device.id, settings.counter.id) == ("caller-3", "3")
    assert settings.pins is not None and settings.pins.evaluator is not None
    assert (settings.pins.keypad.next, settings.pins.buzzer) == (5, 4)
    assert settings.pins.evaluator.buttons == [23, 24, 25, 16, 20]
    assert settings.signin.method == "pin"


def test_not_fitted_names_become_the_nulls_of_the_gpio_config() -> None:
    settings = CallerSettings.model_validate(
        example(pins__not_fitted=["keypad.recall", "buzzer", "evaluator.led"]))
    pins = settings.pins
    assert pins is not None and pins.evaluator is not None
    assert (pins.keypad.recall, pins.buzzer, pins.evaluator.led) == (None, None, None)
    assert pins.keypad.next == 5 and pins.lights.offline == 22


def test_a_key_that_every_keypad_has_cannot_be_left_out() -> None:
    with pytest.raises(ValidationError, match=r"'keypad\.next' cannot be left out"):
        CallerSettings.model_validate(example(pins__not_fitted=["keypad.next"]))


def test_a_three_button_evaluator_gives_very_satisfied_basic_very_dissatisfied() -> None:
    settings = CallerSettings.model_validate(example(pins__evaluator__buttons=[23, 24, 25]))
    assert settings.pins is not None and settings.pins.evaluator is not None
    assert {int(r): pin for r, pin in settings.pins.evaluator.rating_pins().items()} == {
        5: 23, 3: 24, 1: 25}


def test_the_transfer_key_has_at_most_one_fixed_target() -> None:
    with pytest.raises(ValidationError, match="transfer_service or transfer_counter, not both"):
        CallerSettings.model_validate(
            example(counter__transfer_service="E", counter__transfer_counter="11"))


def test_a_disabled_evaluator_is_not_opened() -> None:
    factory = mock_factory()
    app = CallerApp(CallerSettings.model_validate(example(evaluator__enabled=False)),
                    factory=factory)
    try:
        app.open_gpio()
        assert app.devices is not None and app.devices.evaluator is None
        assert app.panel is not None and app.panel.evaluator is None
    finally:
        if app.devices is not None:
            app.devices.close()
        factory.reset()


def test_validate_config_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(EXAMPLE), "--validate-config"]) == 0
    assert "ok (caller-3, counter 3, GPIO, sign-in by pin)" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text(encoding="utf-8").replace("recall = 6", "recall = 5"),
                   encoding="utf-8")
    assert main(["--config", str(bad), "--validate-config"]) == 2
    assert "GPIO5 is given to both next and recall" in capsys.readouterr().err
    assert main(["--config", str(tmp_path / "missing.toml"), "--validate-config"]) == 2
    assert "no such file" in capsys.readouterr().err
