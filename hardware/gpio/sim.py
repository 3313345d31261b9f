"""The simulated counter: gpiozero's MockFactory, a manual clock and a press verb.

MockFactory is the simulator (pins are pull-up, a press is ``pin.drive_low()``); this module only
adds what gpiozero lacks: a clock that moves when told, so debounce and hold timing run
without sleeping, and ``press`` which moves that clock between the edges of one press.
"""

from __future__ import annotations

from gpiozero.pins.mock import MockFactory, MockPin

BOUNCE_GAP_S = 0.002


class ManualClock:
    """A monotonic clock that moves only when a test (or the mock installer run) says so."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start

    def __call__(self) -> float:
        """Return the current time in seconds."""
        return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward and return the new time."""
        if seconds < 0:
            raise ValueError(f"a monotonic clock cannot go back ({seconds} s)")
        self._now += seconds
        return self._now


def mock_factory() -> MockFactory:
    """A fresh simulated Raspberry Pi; callers outside hardware/ need not import gpiozero."""
    return MockFactory()


def press(
    factory: MockFactory,
    pin: int,
    clock: ManualClock,
    held_s: float = 0.1,
    bounces: int = 0,
    rest_s: float = 0.25,
) -> None:
    """Press and release a button on a mock pin, holding it held_s on the manual clock.

    ``bounces`` adds that many extra open/close flickers, 2 ms apart, after the press and after
    the release, as a worn contact makes; ``rest_s`` is the pause before the next press.
    """
    mock_pin = factory.pin(pin)
    mock_pin.drive_low()
    _chatter(mock_pin, clock, bounces, settled_low=True)
    clock.advance(max(held_s - 2 * bounces * BOUNCE_GAP_S, 0.0))
    mock_pin.drive_high()
    _chatter(mock_pin, clock, bounces, settled_low=False)
    clock.advance(rest_s)


def _chatter(mock_pin: MockPin, clock: ManualClock, bounces: int, *, settled_low: bool) -> None:
    """Flicker the contact `bounces` times, ending in the state it settled in."""
    away, back = mock_pin.drive_high, mock_pin.drive_low
    if not settled_low:
        away, back = back, away
    for _ in range(bounces):
        clock.advance(BOUNCE_GAP_S)
        away()
        clock.advance(BOUNCE_GAP_S)
        back()
