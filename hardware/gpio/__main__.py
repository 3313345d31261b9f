"""Installer's wiring check for a window: ``python -m hardware.gpio --test [--mock]``.

Lights each LED and sounds the buzzer in turn, then prints every button press and release until
every button has answered (or --seconds run out, or Ctrl-C). With --mock it runs on gpiozero's
MockFactory and presses every button itself, so the tool itself can be tested.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import gpiozero
from gpiozero.pins import Factory

from hardware.gpio.config import CounterPins
from hardware.gpio.contacts import Clock
from hardware.gpio.pins import (
    GpioError,
    choose_pin_factory,
    close_all,
    open_devices,
    pull_up_button,
)
from hardware.gpio.sim import ManualClock, mock_factory, press

log = logging.getLogger(__name__)

LIGHT_STEP_S = 1.0


class PressLog:
    """Prints each button's presses and remembers which buttons have answered."""

    def __init__(self, inputs: dict[str, int], clock: Clock) -> None:
        self._inputs = inputs
        self._clock = clock
        self._down_at: dict[str, float] = {}
        self._lock = threading.Lock()
        self.all_answered = threading.Event()

    def pressed(self, label: str) -> Callable[[], None]:
        """The when_activated (pressed) callback for one button."""

        def report() -> None:
            with self._lock:
                self._down_at[label] = self._clock()
                every = self._down_at.keys() >= self._inputs.keys()
            print(f"pressed   {label:<30} GPIO{self._inputs[label]}", flush=True)
            if every:
                self.all_answered.set()

        return report

    def released(self, label: str) -> Callable[[], None]:
        """The when_deactivated (released) callback for one button."""

        def report() -> None:
            with self._lock:
                held_s = self._clock() - self._down_at.get(label, self._clock())
            print(
                f"released  {label:<30} GPIO{self._inputs[label]}  held {held_s:.2f} s", flush=True
            )

        return report

    def silent(self) -> list[str]:
        """Buttons never pressed, with their pins."""
        with self._lock:
            return [
                f"{label} (GPIO{pin})"
                for label, pin in self._inputs.items()
                if label not in self._down_at
            ]


def light_each(outputs: dict[str, int], factory: Factory, step_s: float) -> None:
    """Turn each LED (and the buzzer) on for step_s, one after another."""
    devices = open_devices(outputs, gpiozero.DigitalOutputDevice, factory)
    try:
        for label, device in devices.items():
            print(f"on        {label:<30} GPIO{outputs[label]}", flush=True)
            device.on()
            time.sleep(step_s)
            device.off()
    finally:
        close_all(devices.values())


def check_wiring(
    pins: CounterPins, mock: bool, seconds: float | None, light_s: float = LIGHT_STEP_S
) -> int:
    """Run the check; exit status 0 if every button answered, 1 if some stayed silent."""
    factory = choose_pin_factory(mock_factory() if mock else None, pins.pin_factory)
    light_each(pins.outputs(), factory, 0.0 if mock else light_s)
    inputs = pins.inputs()
    clock = ManualClock() if mock else None
    presses = PressLog(inputs, clock or time.monotonic)
    buttons = open_devices(inputs, pull_up_button, factory)
    try:
        for label, button in buttons.items():
            button.when_activated = presses.pressed(label)
            button.when_deactivated = presses.released(label)
        if clock is not None:
            for pin in inputs.values():
                press(factory, pin, clock)
        else:
            print("press every button once; Ctrl-C to stop", flush=True)
            presses.all_answered.wait(seconds)
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        close_all(buttons.values())
    silent = presses.silent()
    if silent:
        print(f"no press from: {', '.join(silent)}", flush=True)
        return 1
    print(f"all {len(inputs)} buttons answered", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, load the config and run the wiring check."""
    parser = argparse.ArgumentParser(prog="python -m hardware.gpio", description=__doc__)
    parser.add_argument("--test", action="store_true", help="check the wiring of this window")
    parser.add_argument("--mock", action="store_true", help="run on a simulated Pi")
    parser.add_argument("--config", type=Path, help="counter pins, JSON (default wiring if unset)")
    parser.add_argument("--seconds", type=float, help="give up waiting for presses after this")
    parser.add_argument(
        "--light-seconds", type=float, default=LIGHT_STEP_S, help="how long each LED stays on"
    )
    args = parser.parse_args(argv)
    if not args.test:
        parser.error("nothing to do: pass --test")
    try:
        pins = CounterPins.from_file(args.config) if args.config else CounterPins()
    except (OSError, ValueError) as exc:
        print(f"config {args.config}: {exc}", file=sys.stderr)
        return 2
    try:
        return check_wiring(pins, args.mock, args.seconds, args.light_seconds)
    except GpioError as exc:
        print(f"GPIO: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(main())
