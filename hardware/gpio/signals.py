"""What the window shows and sounds: status LEDs (green, amber, red) and an alert buzzer."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from enum import Enum, StrEnum
from typing import TYPE_CHECKING

import gpiozero
from gpiozero.pins import Factory

from hardware.gpio.pins import close_all, open_device, open_devices

if TYPE_CHECKING:
    from hardware.gpio.config import LightPins

log = logging.getLogger(__name__)

MAX_BEEPS = 10


class WindowState(StrEnum):
    """The window's state as its lights show it."""

    SERVING = "serving"
    IDLE = "idle"
    PAUSED = "paused"
    OFFLINE = "offline"


class Lamp(Enum):
    """What one LED does in a state."""

    DARK = "dark"
    LIT = "lit"
    BLINKING = "blinking"


# serving: green; paused: amber; offline: red blinking; idle (open, nobody called): all dark.
PATTERNS: dict[WindowState, dict[str, Lamp]] = {
    WindowState.SERVING: {"serving": Lamp.LIT},
    WindowState.IDLE: {},
    WindowState.PAUSED: {"paused": Lamp.LIT},
    WindowState.OFFLINE: {"offline": Lamp.BLINKING},
}


class CounterLights(ABC):
    """The window's status lights, whatever they are made of."""

    @abstractmethod
    def show(self, state: WindowState | str) -> None:
        """Show the window's state."""

    @property
    @abstractmethod
    def state(self) -> WindowState:
        """The state last shown."""

    @abstractmethod
    def close(self) -> None:
        """Turn the lights off and release them."""


class StatusLights(CounterLights):
    """Green, amber and red LEDs on GPIO pins, each lit by driving its pin high."""

    def __init__(self, pins: LightPins, factory: Factory | None = None) -> None:
        self._blink_s = pins.blink_ms / 1000
        labels = {f"lights.{name}": pin for name, pin in pins.wiring().items()}
        opened = open_devices(labels, gpiozero.LED, factory)
        self._leds = {label.removeprefix("lights."): led for label, led in opened.items()}
        self._state = WindowState.IDLE
        self.show(WindowState.IDLE)

    @property
    def state(self) -> WindowState:
        """The state last shown."""
        return self._state

    def show(self, state: WindowState | str) -> None:
        """Light the LEDs for this state; raise ValueError for a state that does not exist."""
        try:
            wanted = WindowState(state)
        except ValueError:
            known = ", ".join(s.value for s in WindowState)
            raise ValueError(f"unknown window state {state!r}; expected one of {known}") from None
        pattern = PATTERNS[wanted]
        for name, led in self._leds.items():
            lamp = pattern.get(name, Lamp.DARK)
            if lamp is Lamp.BLINKING:
                led.blink(on_time=self._blink_s, off_time=self._blink_s, background=True)
            elif lamp is Lamp.LIT:
                led.on()
            else:
                led.off()
        self._state = wanted
        log.info("lights show %s", wanted)

    def close(self) -> None:
        """Turn the lights off and release their pins."""
        for led in self._leds.values():
            led.off()
        close_all(self._leds.values())


class CounterBuzzer(ABC):
    """The window's alert sounder, whatever it is made of."""

    @abstractmethod
    def beep(self, times: int = 1, wait: bool = False) -> None:
        """Sound `times` short beeps; return at once unless wait is true."""

    @abstractmethod
    def close(self) -> None:
        """Silence the buzzer and release it."""


class Buzzer(CounterBuzzer):
    """An active buzzer on a GPIO pin, sounding while the pin is high."""

    def __init__(self, pin: int, factory: Factory | None = None, beep_s: float = 0.1) -> None:
        self._beep_s = beep_s
        self._device = open_device("buzzer", pin, gpiozero.Buzzer, factory)

    def beep(self, times: int = 1, wait: bool = False) -> None:
        """Sound `times` short beeps (1-10); return at once unless wait is true."""
        if not 1 <= times <= MAX_BEEPS:
            raise ValueError(f"beep times must be 1-{MAX_BEEPS}, not {times}")
        self._device.beep(on_time=self._beep_s, off_time=self._beep_s, n=times, background=not wait)

    def close(self) -> None:
        """Silence the buzzer and release its pin."""
        self._device.off()
        self._device.close()
