"""The call keypad on gpiozero's MockFactory: one action per press, debounce, hold-to-confirm."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from hardware.gpio import Action, Keypad, KeypadPins, ManualClock, mock_factory, press

PIN = {"next": 5, "recall": 6, "no_show": 13, "transfer": 19, "pause": 26, "done": 12}


class Desk:
    """A simulated window: mock pins, a manual clock and what the keypad said."""

    def __init__(self) -> None:
        self.factory = mock_factory()
        self.clock = ManualClock()
        self.heard: list[Action] = []
        self.keypads: list[Keypad] = []

    def open(self, **pins: Any) -> Keypad:
        keypad = Keypad(KeypadPins(**pins), self.factory, self.clock)
        keypad.on_action(self.heard.append)
        self.keypads.append(keypad)
        return keypad

    def press(self, key: str, **how: Any) -> None:
        press(self.factory, PIN[key], self.clock, **how)

    def pin(self, key: str) -> Any:
        return self.factory.pin(PIN[key])


@pytest.fixture
def desk() -> Iterator[Desk]:
    simulated = Desk()
    yield simulated
    for keypad in simulated.keypads:
        keypad.close()
    simulated.factory.reset()


@pytest.mark.parametrize("action", [Action.NEXT, Action.RECALL, Action.PAUSE, Action.DONE])
def test_a_key_gives_its_action_once_per_press(action: Action, desk: Desk) -> None:
    desk.open()
    desk.press(action.value)
    assert desk.heard == [action]
    desk.press(action.value)
    assert desk.heard == [action, action]


def test_a_plain_key_acts_on_the_press_not_the_release(desk: Desk) -> None:
    desk.open()
    desk.pin("next").drive_low()
    assert desk.heard == [Action.NEXT]


def test_contact_bounce_on_press_and_release_gives_one_action(desk: Desk) -> None:
    desk.open()
    desk.pin("next").clear_states()
    desk.press("next", bounces=4)
    edges = len(desk.pin("next").states) - 1
    assert edges == 2 + 2 * 2 * 4
    assert desk.heard == [Action.NEXT]


def test_a_press_counts_only_debounce_ms_after_the_last_release(desk: Desk) -> None:
    desk.open(debounce_ms=50)
    desk.press("done", rest_s=0.049)
    desk.press("done", rest_s=0.05)
    assert desk.heard == [Action.DONE]
    desk.press("done")
    assert desk.heard == [Action.DONE, Action.DONE]


def test_a_press_exactly_debounce_ms_after_the_release_counts(desk: Desk) -> None:
    desk.open(debounce_ms=50)
    desk.press("recall", rest_s=0.05)
    desk.press("recall")
    assert desk.heard == [Action.RECALL, Action.RECALL]


def test_a_tap_shorter_than_debounce_does_not_jam_the_key(desk: Desk) -> None:
    desk.open(debounce_ms=50)
    desk.press("pause", held_s=0.02)
    desk.press("pause", held_s=0.02)
    assert desk.heard == [Action.PAUSE, Action.PAUSE]


@pytest.mark.parametrize("action", [Action.NO_SHOW, Action.TRANSFER])
def test_a_short_press_of_a_hold_key_asks_for_a_hold(action: Action, desk: Desk) -> None:
    desk.open(hold_ms=800)
    desk.press(action.value, held_s=0.3)
    assert desk.heard == [Action.NEEDS_HOLD]


@pytest.mark.parametrize("action", [Action.NO_SHOW, Action.TRANSFER])
def test_holding_a_hold_key_long_enough_gives_its_action(action: Action, desk: Desk) -> None:
    desk.open(hold_ms=800)
    desk.pin(action.value).drive_low()
    desk.clock.advance(0.8)
    assert desk.heard == []
    desk.pin(action.value).drive_high()
    assert desk.heard == [action]


def test_a_hold_just_short_of_hold_ms_still_asks_for_a_hold(desk: Desk) -> None:
    desk.open(hold_ms=800)
    desk.press("transfer", held_s=0.79)
    assert desk.heard == [Action.NEEDS_HOLD]


def test_bounce_while_holding_does_not_cut_the_hold_short(desk: Desk) -> None:
    desk.open(hold_ms=800)
    desk.press("no_show", held_s=1.0, bounces=3)
    assert desk.heard == [Action.NO_SHOW]


def test_hold_to_confirm_is_configurable(desk: Desk) -> None:
    desk.open(hold_to_confirm=["done"])
    desk.press("no_show", held_s=0.1)
    desk.press("done", held_s=0.1)
    assert desk.heard == [Action.NO_SHOW, Action.NEEDS_HOLD]


def test_a_key_that_is_not_fitted_opens_no_pin(desk: Desk) -> None:
    desk.open(recall=None)
    desk.press("recall")
    desk.press("next")
    assert desk.heard == [Action.NEXT]
    assert desk.pin("recall").pull == "floating"
    assert desk.pin("next").pull == "up"


def test_a_failing_listener_is_logged_and_others_still_hear(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(action: Action) -> None:
        raise RuntimeError("screen gone")

    keypad = desk.open()
    keypad.on_action(broken)
    also: list[Action] = []
    keypad.on_action(also.append)
    with caplog.at_level(logging.ERROR, logger="hardware.gpio.keypad"):
        desk.press("next")
        desk.press("pause")
    assert desk.heard == also == [Action.NEXT, Action.PAUSE]
    assert "keypad listener" in caplog.text
    assert "screen gone" in caplog.text


def test_closing_the_keypad_frees_its_pins(desk: Desk) -> None:
    desk.open().close()
    desk.press("next")
    assert desk.heard == []
    desk.open()
    desk.press("next")
    assert desk.heard == [Action.NEXT]
