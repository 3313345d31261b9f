"""Opening GPIO pins: choosing the pin factory and turning gpiozero's errors into ours."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import entry_points
from typing import TypeVar

from gpiozero import Device, DigitalInputDevice, GPIODevice
from gpiozero.exc import GPIOPinInUse, PinInvalidPin
from gpiozero.pins import Factory

from hardware.errors import HardwareError

log = logging.getLogger(__name__)

FACTORY_GROUP = "gpiozero_pin_factories"
FIRST_PIN = 0
LAST_PIN = 27

DeviceT = TypeVar("DeviceT", bound=GPIODevice)


class GpioError(HardwareError):
    """Any failure of the buttons, lights, buzzer or evaluator at a window."""


class InvalidPinError(GpioError, ValueError):
    """A configured pin does not exist on this board."""


class PinConflictError(GpioError, ValueError):
    """Two devices are wired to the same pin."""


class PinFactoryError(GpioError, ImportError):
    """No way to reach the GPIO pins: not a Raspberry Pi, or the named factory is missing."""


def check_pin(pin: int, label: str = "") -> int:
    """Return the pin if it is a BCM GPIO on the 40-pin header, else raise InvalidPinError."""
    if isinstance(pin, bool) or not FIRST_PIN <= pin <= LAST_PIN:
        where = f"{label}: " if label else ""
        raise InvalidPinError(
            f"{where}GPIO{pin} is not a BCM pin on the 40-pin header (use {FIRST_PIN}-{LAST_PIN})"
        )
    return pin


def refuse_shared_pins(wiring: Iterable[tuple[str, int]]) -> None:
    """Raise PinConflictError naming both devices if two labels share one pin."""
    owners: dict[int, str] = {}
    for label, pin in wiring:
        if pin in owners:
            raise PinConflictError(f"GPIO{pin} is given to both {owners[pin]} and {label}")
        owners[pin] = label


def choose_pin_factory(explicit: Factory | None = None, configured: str | None = None) -> Factory:
    """Pick the pin factory: explicit argument, then config name, then GPIOZERO_PIN_FACTORY."""
    if explicit is not None:
        return explicit
    if configured:
        return _load_factory(configured)
    if Device.pin_factory is None:
        log.info(
            "no pin factory configured; gpiozero chooses (GPIOZERO_PIN_FACTORY=%s)",
            os.environ.get("GPIOZERO_PIN_FACTORY", "unset"),
        )
        try:
            Device.ensure_pin_factory()
        except Exception as exc:
            raise PinFactoryError(
                f"no GPIO pin factory could be loaded ({exc}): this is not a Raspberry Pi "
                "or lgpio is missing; to simulate, set pin_factory: mock in the config "
                "or GPIOZERO_PIN_FACTORY=mock"
            ) from exc
    assert Device.pin_factory is not None
    return Device.pin_factory


def _load_factory(name: str) -> Factory:
    """Build the pin factory gpiozero registers under this name (lgpio, rpigpio, mock...)."""
    known = {point.name: point for point in entry_points(group=FACTORY_GROUP)}
    point = known.get(name) or known.get(name.lower())
    if point is None:
        raise PinFactoryError(
            f"unknown pin factory {name!r}; gpiozero knows {', '.join(sorted(known))}"
        )
    try:
        factory: Factory = point.load()()
    except Exception as exc:
        raise PinFactoryError(f"pin factory {name!r} cannot start here: {exc}") from exc
    log.info("pin factory %s chosen by config", name)
    return factory


def open_device(
    label: str, pin: int, build: Callable[..., DeviceT], factory: Factory | None
) -> DeviceT:
    """Open one gpiozero device on a pin, with an error that names the device and pin."""
    check_pin(pin, label)
    try:
        return build(pin, pin_factory=choose_pin_factory(factory))
    except PinInvalidPin as exc:
        raise InvalidPinError(f"{label}: GPIO{pin} does not exist on this board") from exc
    except GPIOPinInUse as exc:
        raise PinConflictError(f"{label}: GPIO{pin} is already in use ({exc})") from exc


def open_devices(
    wiring: Mapping[str, int], build: Callable[..., DeviceT], factory: Factory | None
) -> dict[str, DeviceT]:
    """Open one device per label; if one fails, close those already open and raise."""
    devices: dict[str, DeviceT] = {}
    try:
        for label, pin in wiring.items():
            devices[label] = open_device(label, pin, build, factory)
    except GpioError:
        close_all(devices.values())
        raise
    return devices


def pull_up_button(pin: int, *, pin_factory: Factory) -> DigitalInputDevice:
    """A button wired from the pin to ground: active when low, no gpiozero debounce.

    Not gpiozero's Button: its hold thread (polling at 10 Hz, up to 0.1 s to close) is unused
    here, because hold and debounce timing are ours and run on an injectable clock.
    """
    return DigitalInputDevice(pin, pull_up=True, bounce_time=None, pin_factory=pin_factory)


def close_all(devices: Iterable[GPIODevice]) -> None:
    """Close devices, releasing their pins."""
    for device in devices:
        device.close()
