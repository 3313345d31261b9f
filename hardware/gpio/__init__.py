"""The devices at a window, on a Raspberry Pi's GPIO: call keypad, status lights, buzzer, evaluator.

Each kind is a small interface (CounterKeypad, CounterLights, CounterBuzzer, CounterEvaluator)
with a gpiozero driver. The simulator is gpiozero's own MockFactory (see ``sim``).
"""

from __future__ import annotations

from hardware.gpio.config import CounterPins, EvaluatorPins, KeypadPins, LightPins
from hardware.gpio.counter import CounterDevices
from hardware.gpio.evaluator import CounterEvaluator, Evaluator, Rating
from hardware.gpio.keypad import Action, CounterKeypad, Keypad
from hardware.gpio.pins import (
    GpioError,
    InvalidPinError,
    PinConflictError,
    PinFactoryError,
    choose_pin_factory,
)
from hardware.gpio.signals import Buzzer, CounterBuzzer, CounterLights, StatusLights, WindowState
from hardware.gpio.sim import ManualClock, mock_factory, press

__all__ = [
    "Action",
    "Buzzer",
    "CounterBuzzer",
    "CounterDevices",
    "CounterEvaluator",
    "CounterKeypad",
    "CounterLights",
    "CounterPins",
    "Evaluator",
    "EvaluatorPins",
    "GpioError",
    "InvalidPinError",
    "Keypad",
    "KeypadPins",
    "LightPins",
    "ManualClock",
    "PinConflictError",
    "PinFactoryError",
    "Rating",
    "StatusLights",
    "WindowState",
    "choose_pin_factory",
    "mock_factory",
    "press",
]
