"""The counter pin config: clear errors for shared, invalid or inconsistent pins."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from hardware.gpio import Action, CounterPins, EvaluatorPins, KeypadPins, LightPins, Rating

RESERVED = {0, 1, 2, 3, 7, 8, 9, 10, 11, 14, 15}  # ID EEPROM, I2C1, SPI0, UART0


def test_one_pin_for_two_keys_names_both_keys() -> None:
    with pytest.raises(ValidationError, match="GPIO17 is given to both next and recall"):
        KeypadPins(next=17, recall=17)


def test_one_pin_for_two_devices_names_both_devices() -> None:
    with pytest.raises(
        ValidationError,
        match=re.escape("GPIO5 is given to both keypad.next and evaluator.very_satisfied"),
    ):
        CounterPins(evaluator=EvaluatorPins(buttons=[5, 24, 25]))


def test_a_light_on_a_key_pin_is_refused() -> None:
    with pytest.raises(
        ValidationError, match=re.escape("GPIO6 is given to both keypad.recall and lights")
    ):
        CounterPins(lights=LightPins(paused=6))


def test_two_lights_on_one_pin_are_refused() -> None:
    with pytest.raises(ValidationError, match="GPIO22 is given to both serving and offline"):
        LightPins(serving=22)


@pytest.mark.parametrize("pin", [28, 40, -1])
def test_a_pin_off_the_header_is_refused(pin: int) -> None:
    with pytest.raises(ValidationError) as caught:
        KeypadPins(done=pin)
    message = str(caught.value)
    assert "done" in message
    assert f"GPIO{pin} is not a BCM pin on the 40-pin header (use 0-27)" in message


def test_an_unknown_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="nxt\n  Extra inputs are not permitted"):
        KeypadPins.model_validate({"nxt": 5})


def test_needs_hold_cannot_be_a_hold_key() -> None:
    with pytest.raises(ValidationError, match="needs_hold is the keypad's feedback"):
        KeypadPins(hold_to_confirm=["needs_hold"])


def test_the_keys_that_lose_a_place_need_a_hold_by_default() -> None:
    keypad = KeypadPins()
    assert keypad.hold_to_confirm == {Action.NO_SHOW, Action.TRANSFER}
    assert (keypad.debounce_ms, keypad.hold_ms) == (50, 800)


def test_unfitted_keys_are_left_out_of_the_wiring() -> None:
    wiring = KeypadPins(recall=None, transfer=None).wiring()
    assert list(wiring) == [Action.NEXT, Action.NO_SHOW, Action.PAUSE, Action.DONE]


def test_the_default_wiring_keeps_off_i2c_spi_uart_and_shares_no_pin() -> None:
    pins = CounterPins()
    used = [*pins.inputs().values(), *pins.outputs().values()]
    assert len(used) == 16
    assert len(set(used)) == len(used)
    assert not RESERVED & set(used)


def test_a_three_button_evaluator_defaults_to_5_3_1() -> None:
    assert EvaluatorPins(buttons=[16, 20, 21], led=None).rating_pins() == {
        Rating.VERY_SATISFIED: 16,
        Rating.BASIC: 20,
        Rating.VERY_DISSATISFIED: 21,
    }


def test_a_four_button_evaluator_must_say_its_ratings() -> None:
    with pytest.raises(ValidationError, match="a 4-button evaluator needs `ratings`"):
        EvaluatorPins(buttons=[23, 24, 25, 16])
    pins = EvaluatorPins(buttons=[23, 24, 25, 16], ratings=[5, 4, 2, 1])
    assert pins.rating_pins()[Rating.DISSATISFIED] == 25


def test_ratings_must_match_the_buttons_one_to_one() -> None:
    with pytest.raises(ValidationError, match="3 buttons but 2 ratings"):
        EvaluatorPins(buttons=[23, 24, 25], ratings=[5, 1])
    with pytest.raises(ValidationError, match="rating 3 is given by two buttons"):
        EvaluatorPins(buttons=[23, 24, 25], ratings=[3, 3, 1])
    with pytest.raises(ValidationError, match=re.escape("ratings.1")):
        EvaluatorPins(buttons=[23, 24, 25], ratings=[5, 6, 1])


def test_the_evaluator_led_may_not_share_a_button_pin() -> None:
    with pytest.raises(ValidationError, match="GPIO23 is given to both very_satisfied and led"):
        EvaluatorPins(led=23)


def test_a_config_file_can_leave_devices_out(tmp_path: Path) -> None:
    path = tmp_path / "counter.json"
    path.write_text(
        '{"keypad": {"recall": null, "hold_ms": 1000}, "buzzer": null, "evaluator": null,'
        ' "pin_factory": "mock"}',
        encoding="utf-8",
    )
    pins = CounterPins.from_file(path)
    assert pins.keypad.recall is None
    assert pins.keypad.hold_ms == 1000
    assert "buzzer" not in pins.outputs()
    assert not any(label.startswith("evaluator") for label in pins.inputs())
    assert pins.pin_factory == "mock"
