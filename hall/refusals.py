"""Refused commands, counted and logged at a limited rate: one device sending garbage
must not fill the log (the first of each kind per device is logged, then a count a minute)."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

log = logging.getLogger(__name__)

PERIOD_S = 60.0
MAX_KINDS = 100  # distinct (device, code) pairs logged per period; the rest only counted


class RefusalLog:
    """Counts refusals by (device, error code); logs each pair once per period."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.totals: Counter[str] = Counter()  # error code -> refusals since start
        self._period: Counter[tuple[str, str]] = Counter()
        self._since = clock()

    def note(self, device: str, name: str, code: str, message: str) -> None:
        self.totals[code] += 1
        now = self._clock()
        if now - self._since >= PERIOD_S:
            self._flush(now)
        key = (device, code)
        if key not in self._period and len(self._period) < MAX_KINDS:
            log.warning("refused %s from %s: %s (%s)", name, device, code, message)
        self._period[key] += 1

    def _flush(self, now: float) -> None:
        for (device, code), count in self._period.items():
            if count > 1:
                log.warning("refused %d more commands from %s (%s) in the last %.0f s",
                            count - 1, device, code, now - self._since)
        self._period.clear()
        self._since = now
