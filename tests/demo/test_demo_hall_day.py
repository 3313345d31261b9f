"""A compressed demo day in this process: real Mosquitto, the controller, kiosks printing,
thirteen clerks signing in; each happening of the default day happens and the hall shows it
(alerts on the manager's link, clerks and ratings in the controller's journal)."""

from __future__ import annotations

import io
import random
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from broker_config.process import free_port
from demo.day import Break, DayPlan, Resident
from demo.hall import DemoHall, DemoOptions, every_window_closed
from demo.summary import Output
from demo.tally import NOT_SERVED
from hall.engine.events import ClerkSignedIn, ClerkSignedOut, Rated, TicketIssued
from hall.journal import Journal
from protocol import messages as m

BUSY = 60  # residents for A in the first minutes: more than ten windows clear in 20 minutes


def compressed_day(opening: datetime, hours: float, arrivals: int, rng: random.Random,
                   first_serial: int) -> DayPlan:
    """The default day's happenings in its first three quarters of an hour."""

    def at(minutes: float) -> datetime:
        return opening + timedelta(minutes=minutes)

    people = [(at(1 + n / BUSY), "A", date(1985, 1 + n % 12, 1 + n % 28), None)
              for n in range(BUSY)]
    people += [(at(5 + n), "F", date(1941, 3, 1 + n), None) for n in range(2)]  # green
    people += [(at(10 + n), "B", date(1990, 5, 1 + n), at(15)) for n in range(3)]  # booked
    people.sort(key=lambda p: p[0])
    residents = [Resident(first_serial + n, when, service, born, slot)
                 for n, (when, service, born, slot) in enumerate(people)]
    breaks = [Break("1", at(5), at(15), lunch=True), Break("13", at(1), at(40), lunch=False)]
    return DayPlan(residents, breaks, (at(25), at(30), "kiosk-2"), ("7", at(2)), at(1))


async def test_every_happening_of_the_demo_day_reaches_the_hall(tmp_path: Path) -> None:
    out = io.StringIO()
    options = DemoOptions(speed=600, hours=0.75, arrivals=0, days=1, seed=3, port=free_port())
    hall = DemoHall(options, tmp_path, Output(out), planner=compressed_day)
    [totals] = await hall.run()
    assert totals.arrived == BUSY + 5
    assert totals.accounted == totals.arrived, out.getvalue()[-2000:]
    assert totals.fates[NOT_SERVED] == 0 and totals.seq_gaps == 0
    assert {"long_wait", "paused_too_long", "printer", "bad_rating"} <= set(hall.tally.alerts)
    assert "no_clerk" not in hall.tally.alerts  # signed in before opening, and after lunch

    journal = await Journal.open(tmp_path / "hall" / "journal.sqlite3", durable=False)
    try:
        assert hall.tally.day is not None
        events = await journal.events_of(hall.tally.day)
    finally:
        await journal.close()
    signed_in = [e.data.counter for e in events if isinstance(e.data, ClerkSignedIn)]
    assert sorted(set(signed_in), key=int) == [str(n) for n in range(1, 14)]
    assert signed_in.count("1") == 2  # again after lunch
    signed_out = [e.data.counter for e in events if isinstance(e.data, ClerkSignedOut)]
    assert signed_out.count("1") == 2 and len(signed_out) == 14  # lunch, and the day's end
    ratings = [e.data for e in events if isinstance(e.data, Rated)]
    assert ratings and all(r.clerk for r in ratings)
    assert any(r.rating == 1 and r.counter == "7" for r in ratings)
    channels = [e.data.channel for e in events if isinstance(e.data, TicketIssued)]
    assert channels.count("appointment") == 3 and channels.count("green") == 2
    assert "the day's first ticket: A001" in out.getvalue(), out.getvalue()[:3000]
    assert re.search(r"Alerts on the tablet: .*paused_too_long 1", out.getvalue())


def window(counter: str, status: m.CounterStatus) -> m.CounterState:
    return m.CounterState(counter=counter, name=f"{counter}号窗口", status=status,
                          services=["*"], updated=datetime(2026, 12, 3, 18, 30,
                                                           tzinfo=ZoneInfo("Asia/Shanghai")))


def test_the_demo_day_is_over_when_the_hall_has_closed_every_window() -> None:
    """The hall closes the day itself (close_grace_min after closing time at the latest);
    lunch closes only some windows."""
    lunch = {f"w{n}": window(str(n), m.CounterStatus.CLOSED if n < 5 else m.CounterStatus.OPEN)
             for n in range(1, 14)}
    closed = {f"w{n}": window(str(n), m.CounterStatus.CLOSED) for n in range(1, 14)}
    assert not every_window_closed(SimpleNamespace(state=lunch))  # type: ignore[arg-type]
    assert every_window_closed(SimpleNamespace(state=closed))  # type: ignore[arg-type]
    assert not every_window_closed(SimpleNamespace(state={}))  # type: ignore[arg-type]
