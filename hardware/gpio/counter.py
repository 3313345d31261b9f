"""Everything on one window's GPIO header, opened together on one pin factory."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from types import TracebackType

from gpiozero.pins import Factory

from hardware.gpio.config import CounterPins
from hardware.gpio.contacts import Clock
from hardware.gpio.evaluator import CounterEvaluator, Evaluator
from hardware.gpio.keypad import CounterKeypad, Keypad
from hardware.gpio.pins import choose_pin_factory
from hardware.gpio.signals import Buzzer, CounterBuzzer, CounterLights, StatusLights

log = logging.getLogger(__name__)


@dataclass
class CounterDevices:
    """The keypad, lights, buzzer and evaluator of one window."""

    factory: Factory
    keypad: CounterKeypad
    lights: CounterLights
    buzzer: CounterBuzzer | None
    evaluator: CounterEvaluator | None

    @classmethod
    def open(
        cls, pins: CounterPins, factory: Factory | None = None, clock: Clock = time.monotonic
    ) -> CounterDevices:
        """Open every device in the config; the factory comes from argument, config or env."""
        chosen = choose_pin_factory(factory, pins.pin_factory)
        keypad = Keypad(pins.keypad, chosen, clock)
        opened: list[CounterKeypad | CounterLights | CounterBuzzer | CounterEvaluator] = [keypad]
        try:
            lights = StatusLights(pins.lights, chosen)
            opened.append(lights)
            buzzer = Buzzer(pins.buzzer, chosen) if pins.buzzer is not None else None
            if buzzer is not None:
                opened.append(buzzer)
            evaluator = None
            if pins.evaluator is not None:
                evaluator = Evaluator(pins.evaluator, chosen, clock)
        except Exception:
            for device in reversed(opened):
                device.close()
            raise
        log.info("counter devices open on %s", type(chosen).__name__)
        return cls(chosen, keypad, lights, buzzer, evaluator)

    def close(self) -> None:
        """Close every device, evaluator first, keypad last."""
        for device in (self.evaluator, self.buzzer, self.lights, self.keypad):
            if device is not None:
                device.close()

    def __enter__(self) -> CounterDevices:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
