"""The demo day: who comes when, and what happens in the hall, so that a default run shows
what the product does (a busy hour and its long-wait alert, a printer running low, lunch
sign-outs, a window paused too long, a bad rating, appointments, the green channel)."""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import accumulate, pairwise

# Shares and mean service minutes of the example hall (domain.md's planning model).
SERVICE_MIX = {"A": (0.24, 9), "B": (0.18, 7), "C": (0.10, 12), "D": (0.08, 10),
               "E": (0.16, 8), "F": (0.14, 5), "G": (0.10, 11)}
# The arrival rate through the day (bench/scenarios/tianping-weekday.toml's profile).
PROFILE = ((time(8, 30), 1.4), (time(9, 30), 1.6), (time(10, 30), 1.2), (time(11, 30), 0.6),
           (time(13, 0), 1.0), (time(14, 30), 0.9), (time(16, 0), 0.3))
GREEN_AGE_SHARE = 0.08
APPOINTMENT_SHARE = 0.10
BUSY_SHARE = 0.10  # a coach party for social insurance at the start of the busy hour
BUSY = (time(10, 0), timedelta(minutes=10), "A")
FIRST_SLOT, LAST_SLOT = time(9, 0), time(15, 30)  # appointment slots, every half hour
PAPER_LOW = (time(11, 0), time(11, 40), "kiosk-2")  # runs low, then refilled
LUNCH = ((("1", "2", "3", "10"), time(11, 30), time(12, 15)),
         (("4", "5", "6", "11"), time(12, 15), time(13, 0)))
LONG_PAUSE = ("13", time(14, 0), time(14, 40))  # the hall's pause alert is at 30 minutes
BAD_RATING = ("7", time(15, 0))  # the first resident served there after 15:00 rates 1


@dataclass(frozen=True, slots=True)
class Resident:
    """One resident of the day: the card they carry and what they come for."""

    serial: int  # tells apart fake ID numbers (hardware.idcard.sample_card)
    arrives: datetime
    service: str
    born: date
    slot: datetime | None = None  # booked online for this time


@dataclass(frozen=True, slots=True)
class Break:
    """A window's clerk away: at lunch (signed out, window closed) or paused."""

    counter: str
    start: datetime
    end: datetime
    lunch: bool


@dataclass(frozen=True, slots=True)
class DayPlan:
    residents: list[Resident]
    breaks: list[Break]
    paper_low: tuple[datetime, datetime, str] | None
    bad_rating: tuple[str, datetime] | None
    busy: datetime | None

    def highlights(self) -> list[str]:
        """What to look at on the manager's tablet, in hall time."""
        found: list[tuple[datetime, str]] = []
        if self.busy is not None:
            found.append((self.busy, "busy hour: a coach party for social insurance (A); "
                                     "waits pass the 20-minute target and a long-wait alert "
                                     "fires"))
        if self.paper_low is not None:
            low, refill, kiosk = self.paper_low
            found.append((low, f"{kiosk}'s paper runs low: a printer alert, residents use "
                               f"the other kiosk; refilled at {refill:%H:%M}"))
        for start, end in sorted({(b.start, b.end) for b in self.breaks if b.lunch}):
            windows = ", ".join(b.counter for b in self.breaks if b.lunch and b.start == start)
            found.append((start, f"lunch: windows {windows} close and their clerks sign out "
                                 f"until {end:%H:%M}"))
        for pause in (b for b in self.breaks if not b.lunch):
            found.append((pause.start, f"window {pause.counter} pauses until "
                                       f"{pause.end:%H:%M}: a paused-too-long alert after "
                                       f"30 minutes"))
        if self.bad_rating is not None:
            counter, at = self.bad_rating
            found.append((at, f"a dissatisfied resident at window {counter}: a bad-rating "
                              f"alert"))
        booked = sum(1 for r in self.residents if r.slot is not None)
        green = sum(1 for r in self.residents if _age(r.born, r.arrives.date()) >= 70)
        found.sort(key=lambda item: item[0])
        return [*(f"{at:%H:%M}  {text}" for at, text in found),
                f"all day  {booked} appointments check in, {green} residents aged 70+ in the "
                f"green channel; every window shows its clerk; Reports: per clerk, ratings"]


def plan_day(opening: datetime, hours: float, arrivals: int, rng: random.Random,
             first_serial: int = 1) -> DayPlan:
    """The day's residents (exactly ``arrivals`` of them, arriving in ``hours`` from
    ``opening``) and happenings (those that fall inside those hours)."""
    closing = opening + timedelta(hours=hours)

    def at(clock: time) -> datetime:
        return datetime.combine(opening.date(), clock, opening.tzinfo)

    def inside(clock: time) -> bool:
        return opening <= at(clock) < closing

    busy = at(BUSY[0]) if inside(BUSY[0]) and arrivals >= 1 / BUSY_SHARE else None
    margin = timedelta(minutes=15)
    slots = [s for s in map(at, _half_hours(FIRST_SLOT, LAST_SLOT))
             if opening + margin <= s <= closing - margin]
    n_busy = round(arrivals * BUSY_SHARE) if busy else 0
    n_booked = round(arrivals * APPOINTMENT_SHARE) if slots else 0
    times = [*_walk_ins(opening, closing, arrivals - n_busy - n_booked, rng),
             *(busy + BUSY[1] * rng.random() for _ in range(n_busy) if busy)]
    people: list[tuple[datetime, str, datetime | None]] = []
    for n, when in enumerate(times):
        people.append((when, BUSY[2] if n >= len(times) - n_busy else _service(rng), None))
    for _ in range(n_booked):
        slot = rng.choice(slots)
        comes = slot + timedelta(minutes=rng.uniform(-10, 5))
        people.append((min(max(comes, opening), closing), _service(rng), slot))
    people.sort(key=lambda p: p[0])
    residents = [Resident(first_serial + n, when, service, _born(when.date(), rng), slot)
                 for n, (when, service, slot) in enumerate(people)]
    breaks = [Break(c, at(start), at(end), True) for cs, start, end in LUNCH for c in cs
              if inside(start)]
    if inside(LONG_PAUSE[1]):
        breaks.append(Break(LONG_PAUSE[0], at(LONG_PAUSE[1]), at(LONG_PAUSE[2]), False))
    paper = (at(PAPER_LOW[0]), at(PAPER_LOW[1]), PAPER_LOW[2]) if inside(PAPER_LOW[0]) else None
    rating = (BAD_RATING[0], at(BAD_RATING[1])) if inside(BAD_RATING[1]) else None
    return DayPlan(residents, breaks, paper, rating, busy)


def _walk_ins(opening: datetime, closing: datetime, count: int,
              rng: random.Random) -> list[datetime]:
    """``count`` arrival times, drawn from the day's profile between opening and closing
    (given their number, a Poisson process's arrivals are independent draws of its rate)."""
    edges, weights = _profile(opening, closing)
    if count <= 0 or not weights:
        return []
    cumulative = list(accumulate(weights))
    found = []
    for _ in range(count):
        u = rng.random() * cumulative[-1]
        n = bisect.bisect_right(cumulative, u)
        before = cumulative[n - 1] if n else 0.0
        start, end = edges[n], edges[n + 1]
        found.append(start + (end - start) * ((u - before) / weights[n]))
    return found


def _profile(opening: datetime, closing: datetime) -> tuple[list[datetime], list[float]]:
    """Segment edges from opening to closing, and each segment's weight (rate x length)."""
    cuts = [when for when in (datetime.combine(opening.date(), t, opening.tzinfo)
                              for t, _ in PROFILE) if opening < when < closing]
    edges = [opening, *cuts, closing]
    weights = [_rate(start.time()) * (end - start).total_seconds()
               for start, end in pairwise(edges)]
    return edges, weights


def _rate(clock: time) -> float:
    """The profile's multiplier at ``clock`` (its first one before its first time)."""
    rate = PROFILE[0][1]
    for start, multiplier in PROFILE:
        if clock >= start:
            rate = multiplier
    return rate


def _half_hours(first: time, last: time) -> list[time]:
    minutes = range(first.hour * 60 + first.minute, last.hour * 60 + last.minute + 1, 30)
    return [time(m // 60, m % 60) for m in minutes]


def _service(rng: random.Random) -> str:
    return rng.choices(list(SERVICE_MIX), [w for w, _ in SERVICE_MIX.values()])[0]


def _born(today: date, rng: random.Random) -> date:
    old = rng.random() < GREEN_AGE_SHARE
    years = rng.randint(71, 90) if old else rng.randint(20, 68)
    return date(today.year - years, rng.randint(1, 12), rng.randint(1, 28))


def _age(born: date, day: date) -> int:
    return day.year - born.year - int((day.month, day.day) < (born.month, born.day))
