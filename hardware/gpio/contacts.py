"""Debounce for push-button contacts, timed by an injectable monotonic clock.

gpiozero's own ``bounce_time`` is ignored by MockPin and differs between pin factories, so the
debounce lives here, where a test can drive it with a manual clock instead of sleeping.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

Clock = Callable[[], float]

# Clock readings are floats; without this slack a gap of exactly debounce_s could read as shorter.
SLACK_S = 1e-6


class Contact:
    """One button's contact: an edge counts only debounce_s after the last edge that counted."""

    def __init__(self, debounce_s: float, clock: Clock) -> None:
        self._debounce_s = debounce_s
        self._clock = clock
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._last_edge = -math.inf

    def press(self) -> bool:
        """Return True if this falling edge is a real press, False if it is contact bounce."""
        with self._lock:
            now = self._clock()
            if now - self._last_edge + SLACK_S < self._debounce_s:
                return False
            # A press while still "down" means the release was too short to count: start afresh.
            self._down_since = now
            self._last_edge = now
            return True

    def release(self) -> float | None:
        """Return how long the button was held, or None if this rising edge is bounce."""
        with self._lock:
            now = self._clock()
            if self._down_since is None or now - self._last_edge + SLACK_S < self._debounce_s:
                return None
            held = now - self._down_since
            self._down_since = None
            self._last_edge = now
            return held
