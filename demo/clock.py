"""The demo hall's clock: hall time running ``factor`` times faster than real time, which
can jump ahead over the night (the controller sees a new date and starts a new day)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

SECOND = timedelta(seconds=1)
MAX_NAP_S = 0.5  # real seconds a sleeper sleeps before it looks at the speed again


class DemoClock:
    """Hall time from ``start``, ``factor`` hall seconds to the real second."""

    def __init__(self, start: datetime, factor: float) -> None:
        if not isinstance(start.tzinfo, ZoneInfo):
            raise ValueError("DemoClock needs a start time aware in a ZoneInfo zone")
        if factor <= 0:
            raise ValueError("the speed must be above 0")
        self.tz: ZoneInfo = start.tzinfo
        self.factor = factor
        self._start = start
        self._real_start = time.monotonic()

    def now(self) -> datetime:
        return self._start + (time.monotonic() - self._real_start) * self.factor * SECOND

    def skip_to(self, when: datetime) -> None:
        """Jump ahead to ``when`` (never back)."""
        if when > self.now():
            self._start, self._real_start = when.astimezone(self.tz), time.monotonic()

    def set_factor(self, factor: float) -> None:
        """Run on at ``factor`` from now (hall time goes on from where it is)."""
        self._start, self._real_start = self.now(), time.monotonic()
        self.factor = factor

    def real_seconds(self, hall_seconds: float) -> float:
        return max(0.0, hall_seconds) / self.factor

    async def sleep(self, hall_seconds: float) -> None:
        await self.sleep_until(self.now() + hall_seconds * SECOND)

    async def sleep_until(self, when: datetime) -> None:
        """Until hall time ``when``, however the speed changes meanwhile."""
        while (left := (when - self.now()).total_seconds()) > 0:
            await asyncio.sleep(min(self.real_seconds(left), MAX_NAP_S))



BUDGETS_S = {"command": 10.0, "print": 15.0}  # hall seconds the machine may take for each


class Governor:
    """Keeps the hall's clock no faster than the machine can honour: a command's round trip
    or a ticket's printing may cost at most BUDGETS_S of hall time (a real print takes a few
    seconds); when their real cost (a moving average) times the speed exceeds that, the clock
    slows down, and it speeds up again, at most to the speed asked for, when they are cheap.
    Without it a fast demo on a busy machine voided unconfirmed prints and queued residents
    for hours at the kiosks, artefacts of the machine rather than of the hall."""

    def __init__(self, clock: DemoClock, requested: float, smoothing: float = 0.1) -> None:
        self.clock = clock
        self.requested = requested
        self.target = requested  # the speed the clock should run at now
        self.smoothing = smoothing
        self.cost: dict[str, float] = {}  # kind -> moving average of real seconds
        self.slowest = requested

    def spent(self, kind: str, real_s: float) -> None:
        """A step of ``kind`` took ``real_s`` real seconds."""
        before = self.cost.get(kind, real_s)
        self.cost[kind] = before + self.smoothing * (real_s - before)
        allowed = min((BUDGETS_S[k] / max(c, 1e-6) for k, c in self.cost.items()),
                      default=self.requested)
        target = max(1.0, min(self.requested, allowed))
        if abs(target - self.target) > 0.1 * self.target:
            self.target = target
            self.clock.set_factor(target)
            self.slowest = min(self.slowest, target)
