"""Choosing the pin factory, opening a whole window, and errors from clashing or bad pins."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from hardware.errors import HardwareError
from hardware.gpio import (
    Action,
    Buzzer,
    CounterDevices,
    CounterPins,
    Evaluator,
    EvaluatorPins,
    GpioError,
    InvalidPinError,
    Keypad,
    KeypadPins,
    ManualClock,
    PinConflictError,
    PinFactoryError,
    choose_pin_factory,
    mock_factory,
    press,
)
from hardware.gpio.pins import open_device, pull_up_button


@pytest.fixture
def factory() -> Iterator[Any]:
    simulated = mock_factory()
    yield simulated
    simulated.reset()


@pytest.fixture
def no_default_factory(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(Device, "pin_factory", None)
    yield
    if Device.pin_factory is not None:
        Device.pin_factory.reset()


def test_an_explicit_factory_wins_over_config(factory: Any) -> None:
    assert choose_pin_factory(factory, "nonesuch") is factory


def test_the_config_names_a_gpiozero_factory() -> None:
    chosen = choose_pin_factory(None, "mock")
    assert isinstance(chosen, MockFactory)


def test_an_unknown_factory_name_lists_the_known_ones() -> None:
    with pytest.raises(PinFactoryError, match=r"unknown pin factory 'nonesuch'; .*lgpio.*mock"):
        choose_pin_factory(None, "nonesuch")


def test_without_config_gpiozero_honours_its_environment_variable(
    monkeypatch: pytest.MonkeyPatch, no_default_factory: None
) -> None:
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    chosen = choose_pin_factory()
    assert isinstance(chosen, MockFactory)
    assert Device.pin_factory is chosen


def test_no_factory_at_all_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, no_default_factory: None
) -> None:
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "nonesuch")
    with pytest.raises(PinFactoryError, match="GPIOZERO_PIN_FACTORY=mock") as caught:
        choose_pin_factory()
    assert isinstance(caught.value, ImportError)
    assert isinstance(caught.value, HardwareError)


def test_a_pin_off_the_header_is_refused_before_gpiozero(factory: Any) -> None:
    with pytest.raises(
        InvalidPinError, match=re.escape("keypad.next: GPIO40 is not a BCM pin")
    ) as caught:
        open_device("keypad.next", 40, pull_up_button, factory)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, GpioError)


def test_two_devices_opened_apart_on_one_pin_clash_by_name(factory: Any) -> None:
    keypad = Keypad(KeypadPins(), factory)
    try:
        with pytest.raises(
            PinConflictError, match=re.escape("evaluator.basic: GPIO5 is already in use")
        ):
            Evaluator(EvaluatorPins(buttons=[23, 5, 25]), factory)
    finally:
        keypad.close()


def test_a_window_opens_on_the_configured_factory_and_works() -> None:
    clock = ManualClock()
    heard: list[Action] = []
    with CounterDevices.open(CounterPins(pin_factory="mock"), clock=clock) as window:
        window.keypad.on_action(heard.append)
        press(window.factory, 5, clock)
        window.lights.show("paused")
        assert window.factory.pin(27).state
        assert window.evaluator is not None and window.buzzer is not None
    assert heard == [Action.NEXT]
    assert not window.factory.pin(27).state
    window.factory.reset()


def test_a_window_that_fails_to_open_releases_what_it_opened(factory: Any) -> None:
    squatter = Buzzer(21, factory)
    with pytest.raises(PinConflictError, match=re.escape("evaluator.led: GPIO21")):
        CounterDevices.open(CounterPins(), factory)
    squatter.close()
    with CounterDevices.open(CounterPins(), factory) as window:
        assert window.evaluator is not None
