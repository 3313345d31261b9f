"""Scripted days of window pauses for the pause-minute report tests: every reason, a
reason switched while paused, a pause ended by closing the window, one with no reason, one
open across the day's close, 10-second ones (rounding), and the writer's open day; with the
rows the pauses table must show."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from hall.engine.events import Event
from hall.reports import PAUSE_REASONS
from protocol.messages import CounterStatus, PauseReason
from support.dayplay import Day
from support.hall import SHANGHAI, hall_config

CONFIG = hall_config()
FRIDAY, MONDAY, TUESDAY = date(2026, 11, 20), date(2026, 11, 23), date(2026, 11, 24)
PAUSED, OPEN, CLOSED = CounterStatus.PAUSED, CounterStatus.OPEN, CounterStatus.CLOSED
R = PauseReason
Step = tuple[str, str, CounterStatus | None, PauseReason | None]  # (HH:MM:SS, counter, …)

# Friday: a pause of every reason, one switched while paused (lunch, then a meeting), one
# ended by closing the window, one with no reason (as journals of old and the engine's
# default have it), one open across the day's close, and a 10-second one (0.2 min).
FRIDAY_STEPS: list[Step] = [
    ("10:00:00", "2", PAUSED, R.SYSTEM_DOWN), ("10:12:30", "2", OPEN, None),
    ("11:00:00", "5", PAUSED, R.OTHER), ("11:03:00", "5", CLOSED, None),
    ("11:30:00", "6", PAUSED, R.OTHER), ("11:30:10", "6", OPEN, None),
    ("12:00:00", "1", PAUSED, R.LUNCH), ("12:30:00", "2", PAUSED, R.LUNCH),
    ("12:45:00", "1", PAUSED, R.MEETING), ("13:05:00", "1", OPEN, None),
    ("13:30:00", "2", OPEN, None),
    ("15:00:00", "3", PAUSED, None), ("15:07:00", "3", OPEN, None),
    ("15:50:00", "4", PAUSED, R.BREAK), ("16:30:00", "end_day", None, None),
]
# Monday: lunch again, a meeting of 15 min 20 s (15.3 shown), another 10 s at window 6.
MONDAY_STEPS: list[Step] = [
    ("09:30:00", "3", PAUSED, R.MEETING), ("09:45:20", "3", OPEN, None),
    ("11:30:00", "6", PAUSED, R.OTHER), ("11:30:10", "6", OPEN, None),
    ("12:00:00", "1", PAUSED, R.LUNCH), ("13:00:00", "1", OPEN, None),
    ("16:30:00", "end_day", None, None),
]
# Tuesday, the writer's day: window 1 at lunch since 12:00, the last event at 12:20.
TUESDAY_STEPS: list[Step] = [
    ("12:00:00", "1", PAUSED, R.LUNCH), ("12:20:00", "issue", None, None),
]

NO_PAUSE = {f"pause_{r}_min": None for r in PAUSE_REASONS}


def row(who: str, name: str, total: float | None = None, **minutes: float) -> dict[str, Any]:
    """An expected row: minutes per reason (none: –), and their total (by default the sum
    of the minutes shown)."""
    return {"id": who, "name": name, **NO_PAUSE,
            **{f"pause_{r}_min": m for r, m in minutes.items()},
            "pause_total_min": round(sum(minutes.values()), 1) if total is None else total}


def played(day: date, steps: list[Step]) -> list[Event]:
    """The hall's engine driven by ``steps`` (and nothing else) on ``day``."""
    hall = Day(CONFIG, datetime.combine(day, time(9), SHANGHAI), seed=0)
    for clock, counter, status, reason in steps:
        hall.now = datetime.combine(day, time.fromisoformat(clock), SHANGHAI).timestamp()
        if counter == "end_day":
            hall.act("end_day")
        elif counter == "issue":
            assert hall.act("issue", "A") is not None
        else:
            assert status is not None
            hall.act("set_counter_status", counter, status, reason)
    return hall.events


def week() -> list[tuple[str, Event]]:
    return [(d.isoformat(), e) for d, steps in ((FRIDAY, FRIDAY_STEPS), (MONDAY, MONDAY_STEPS),
                                                (TUESDAY, TUESDAY_STEPS))
            for e in played(d, steps)]


ALL = "全部窗口 All windows"
FRIDAY_ROWS = [
    row("1", "1号窗口", lunch=45.0, meeting=20.0),
    row("2", "2号窗口", system_down=12.5, lunch=60.0),
    row("3", "3号窗口", none=7.0), row("4", "4号窗口", **{"break": 40.0}),
    row("5", "5号窗口", other=3.0), row("6", "6号窗口", other=0.2),
    row("合计", ALL, lunch=105.0, meeting=20.0, system_down=12.5, **{"break": 40.0},
        other=3.2, none=7.0),
]
