"""Clocks in the hall's own time zone, injected so the engine also runs in virtual time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    tz: ZoneInfo

    def now(self) -> datetime:
        """The current time, aware, in the hall's zone."""
        ...


class SystemClock:
    """Wall-clock time in the hall's zone."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz

    def now(self) -> datetime:
        return datetime.now(self.tz)


class VirtualClock:
    """Time that moves only when told to: for the simulator and tests."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None or not isinstance(start.tzinfo, ZoneInfo):
            raise ValueError("VirtualClock needs a start time aware in a ZoneInfo zone")
        self.tz: ZoneInfo = start.tzinfo
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        if when < self._now:
            raise ValueError("virtual time cannot go backwards")
        self._now = when.astimezone(self.tz)

    def advance(self, seconds: float) -> None:
        self.set(self._now + timedelta(seconds=seconds))


class AcceleratedClock:
    """Wall-clock time running ``factor`` times faster from ``start``: the demo hall's clock."""

    def __init__(self, start: datetime, factor: float) -> None:
        if start.tzinfo is None or not isinstance(start.tzinfo, ZoneInfo):
            raise ValueError("AcceleratedClock needs a start time aware in a ZoneInfo zone")
        self.tz: ZoneInfo = start.tzinfo
        self._start = start
        self._real_start = datetime.now(self.tz)
        self.factor = factor

    def now(self) -> datetime:
        elapsed = datetime.now(self.tz) - self._real_start
        return self._start + elapsed * self.factor
