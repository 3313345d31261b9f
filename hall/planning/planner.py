"""The morning plan: hour by hour, the fewest windows of each kind that meet every service's
wait target in rehearsals of the day drawn from its history.

The rehearsals are held stricter than the target (98% of residents called within 80% of
their service's wait target: the day itself is a new draw, and a near miss in a rehearsal is
a miss some day). The search goes forward through the day on every fourth rehearsal. Hour h
starts from the windows its expected work needs (residents times service time,
comprehensive windows first), every later hour from one more than its own; while some
service's residents of hours up to h wait too long too often (pooled over the rehearsals),
a window of the kind serving the most of those late residents opens (the broadest on a tie);
while they do not, the kind least busy in hour h closes one window, as long as the targets
still hold. Residents late even with every window open in their hour are not asked of later
hours. A last pass checks the whole day on all the rehearsals, each on its own, service by
service: while more than a twentieth of them fall short (half the days the target may miss),
a window opens in the hour before, the hour or the hour after the one where the most late
residents arrived, whichever rehearses best. Where even every window open cannot meet a
target, matching every window open is enough.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hall.engine.whatif import Arrival
from hall.planning.demand import INTERVAL_S, Demand, Draws
from hall.planning.rehearse import (
    Hours,
    Staffing,
    Tally,
    WindowKind,
    allowed_late,
    hours_of,
    planning_config,
    rehearse,
    window_kinds,
)
from hallconfig import HallConfig

LEVEL = 0.9  # a service meets its target when 90% of its residents are called within it
MARGIN = 0.08  # the rehearsals are held to 98%: the day itself is a new draw
HELD_WAIT = 0.8  # ... and to 80% of each wait target: a near miss there is a miss some day
REHEARSALS = 48  # rehearsals the plan must hold in, each at its own day level
SEARCHED = 4  # the search rehearses every fourth of them (12): the rest check its result
TAIL_S = 1800.0  # hour h is judged with the residents of the half hour after it too


@dataclass(frozen=True, slots=True)
class SlotPlan:
    """One hour of the plan."""

    start: float  # epoch seconds
    end: float
    label: str  # "08:30", hall time
    open: tuple[int, ...]  # windows open of each kind (the plan's kinds, in order)
    expected: float  # residents expected to arrive (the history's mean)
    within: float | None  # share called within target in the rehearsals (None: nobody came)


@dataclass(frozen=True, slots=True)
class Plan:
    """The windows to open hour by hour on ``day``, and how the rehearsals went."""

    day: date
    kinds: tuple[WindowKind, ...]
    slots: tuple[SlotPlan, ...]
    history: tuple[date, ...]  # the past days it was made from
    rehearsals: int
    level: float
    met: bool  # all but a twentieth of the rehearsals held (or did as well as all open)
    services: dict[str, float]  # per service the lowest share within target of a rehearsal
    all_open: dict[str, float]  # the same with every window open all day
    evaluations: int  # staffings rehearsed

    @property
    def may_fall_short(self) -> int:
        """How many rehearsals may leave a service short while the plan still counts as met."""
        return may_fall_short(self.rehearsals, self.level)

    @property
    def window_hours(self) -> float:
        return sum(sum(s.open) * (s.end - s.start) / 3600 for s in self.slots)

    @property
    def all_open_window_hours(self) -> float:
        windows = sum(len(k.counters) for k in self.kinds)
        return sum(windows * (s.end - s.start) / 3600 for s in self.slots)

    @property
    def staffing(self) -> Staffing:
        return tuple(s.open for s in self.slots)

    def as_json(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(), "history": [d.isoformat() for d in self.history],
            "rehearsals": self.rehearsals, "level": self.level, "met": self.met,
            "may_fall_short": self.may_fall_short,
            "kinds": [{"key": k.key, "counters": list(k.counters)} for k in self.kinds],
            "hours": [{"start": s.label, "open": dict(zip([k.key for k in self.kinds], s.open,
                                                           strict=True)),
                       "windows": sum(s.open), "expected": round(s.expected, 1),
                       "within": None if s.within is None else round(s.within, 3)}
                      for s in self.slots],
            "services": {k: round(v, 3) for k, v in self.services.items()},
            "services_all_open": {k: round(v, 3) for k, v in self.all_open.items()},
            "window_hours": round(self.window_hours, 2),
            "all_open_window_hours": round(self.all_open_window_hours, 2),
            "evaluations": self.evaluations}


def may_fall_short(rehearsals: int, level: float) -> int:
    """How many of ``rehearsals`` may leave a service short of its target: half the share
    ``level`` leaves to miss (the day itself is a new draw)."""
    return allowed_late(rehearsals, (1 + level) / 2)


def plan_day(config: HallConfig, day: date, demand: Demand, rehearsals: int = REHEARSALS,
             seed: int = 0, level: float = LEVEL) -> Plan:
    """The plan for ``day`` from ``demand`` (the past same weekdays)."""
    hall = planning_config(config)
    kinds = window_kinds(hall)
    hours = hours_of(hall, day)
    if hours is None:
        return Plan(day, kinds, (), demand.days, 0, level, True, {}, {}, 0)
    minutes = {s.id: s.mean_minutes for s in hall.services}
    draws = Draws(demand, minutes, seed, rehearsals)
    residents = [draws.residents(r, hours.open_at, hours.close_at) for r in range(rehearsals)]
    report = _Search(hall, hours, kinds, residents, level, held=1.0)  # at the targets
    check = _Search(hall, hours, kinds, residents, min(1.0, level + MARGIN))
    search = check.subset(range(min(SEARCHED, rehearsals) // 2, rehearsals, SEARCHED))
    staffing = search.forward(_Guess(demand, minutes, hours, kinds))
    staffing, _, met = check.finish(staffing, level)
    tallies = report.evaluate(staffing)
    return _plan(hall, day, hours, kinds, demand, staffing, tallies, met, level,
                 search.evaluations + check.evaluations + report.evaluations,
                 _worst(hall, report.best))


class _Guess:
    """Windows an hour's expected work needs: residents × mean service time / hour."""

    def __init__(self, demand: Demand, minutes: dict[str, float], hours: Hours,
                 kinds: Sequence[WindowKind]) -> None:
        self.kinds = kinds
        self.work = [0.0] * len(hours.slots)
        self.by_service: list[dict[str, float]] = [{} for _ in hours.slots]
        for (service, quarter), mean in demand.mean_counts().items():
            s = hours.slot_of(hours.open_at + quarter * INTERVAL_S)
            samples = demand.service_s.get(service)
            service_s = sum(samples) / len(samples) if samples else minutes[service] * 60
            length = hours.slots[s][1] - hours.slots[s][0]
            self.work[s] += mean * service_s / length
            self.by_service[s][service] = self.by_service[s].get(service, 0.0) + mean

    def windows(self, s: int, headroom: int = 0) -> list[int]:
        """Comprehensive windows first, then specialists by the work of their services."""
        wanted = max(1, math.ceil(self.work[s])) + headroom
        order = sorted(range(len(self.kinds)), key=lambda k: (
            self.kinds[k].services is not None,
            -sum(n for svc, n in self.by_service[s].items() if self.kinds[k].serves(svc))))
        out = [0] * len(self.kinds)
        for k in order:
            take = min(wanted, len(self.kinds[k].counters))
            out[k], wanted = take, wanted - take
        return out


class _Search:
    """Staffings rehearsed on the same residents (common random numbers)."""

    def __init__(self, config: HallConfig, hours: Hours, kinds: Sequence[WindowKind],
                 residents: list[list[Arrival]], level: float,
                 best: list[Tally] | None = None, held: float = HELD_WAIT) -> None:
        self.config = config
        self.held = held
        self.hours = hours
        self.kinds = kinds
        self.residents = residents
        self.level = level
        self.evaluations = 0
        self.all_open = tuple(len(k.counters) for k in kinds)
        self.best = best if best is not None else self.evaluate(
            (self.all_open,) * len(hours.slots))  # every window open: the bound

    def subset(self, rehearsals: Sequence[int]) -> _Search:
        """A search on some of these rehearsals (their bounds already known)."""
        rehearsals = list(rehearsals)
        return _Search(self.config, self.hours, self.kinds,
                       [self.residents[r] for r in rehearsals], self.level,
                       [self.best[r] for r in rehearsals], self.held)

    def evaluate(self, staffing: Staffing, until: float | None = None) -> list[Tally]:
        self.evaluations += 1
        return [rehearse(self.config, self.hours, self.kinds, staffing, day, until, self.held)
                for day in self.residents]

    def late_cells(self, tallies: list[Tally], upto: int,
                   excused: Collection[tuple[int, str]] = ()) -> dict[tuple[int, str], int]:
        """(hour, service) cells up to hour ``upto`` whose residents, pooled over the
        rehearsals, waited past the target too often (counting as on time those who would
        be late with every window open too)."""
        pooled: dict[tuple[int, str], list[int]] = {}
        for tally, best in zip(tallies, self.best, strict=True):
            for key, n in tally.residents.items():
                if key[0] <= upto:
                    row = pooled.setdefault(key, [0, 0, 0])
                    row[0] += tally.late.get(key, 0)
                    row[1] += n
                    row[2] += best.late.get(key, 0)
        return {key: late for key, (late, n, bound) in pooled.items()
                if late > allowed_late(n, self.level) + bound and key not in excused}

    def late_days(self, tallies: list[Tally]) -> list[set[str]]:
        """Per rehearsal, the services it left short of the target over the day (counting as
        on time those who would be late with every window open too)."""
        out = []
        for tally, best in zip(tallies, self.best, strict=True):
            bound = best.service_totals()
            out.append({service for service, (late, n) in tally.service_totals().items()
                        if late > allowed_late(n, self.level) + bound.get(service, (0, 0))[0]})
        return out

    def forward(self, guess: _Guess) -> Staffing:
        staffing = [tuple(guess.windows(s, headroom=1)) for s in range(len(self.hours.slots))]
        last = len(staffing) - 1
        excused: set[tuple[int, str]] = set()  # late even with every window open in their hour
        for s in range(len(staffing)):
            until = None if s == last else self.hours.slots[s][1] + TAIL_S
            staffing[s] = tuple(guess.windows(s))
            tallies = self.evaluate(tuple(staffing), until)
            late = self.late_cells(tallies, s, excused)
            while late:
                k = self.to_open(staffing[s], _by_service(late))
                if k is None:
                    break
                staffing[s] = _changed(staffing[s], k, +1)
                tallies = self.evaluate(tuple(staffing), until)
                late = self.late_cells(tallies, s, excused)
            if late:
                excused |= late.keys()
                continue
            while (k := self.to_close(staffing[s], tallies, s)) is not None:
                trial = [*staffing[:s], _changed(staffing[s], k, -1), *staffing[s + 1:]]
                tried = self.evaluate(tuple(trial), until)
                if self.late_cells(tried, s, excused):
                    break
                staffing, tallies = trial, tried
        return tuple(staffing)

    def finish(self, staffing: Staffing, level: float) -> tuple[Staffing, list[Tally], bool]:
        """The whole day, every rehearsal on its own: open windows until all but a share
        (1 - level) / 2 of the rehearsals hold (half the days the target may miss: the day
        itself is a new draw)."""
        plan = list(staffing)
        tallies = self.evaluate(staffing)
        spare = may_fall_short(len(tallies), level)
        while True:
            cells = self.late_cells(tallies, len(plan))
            short = [found for found in self.late_days(tallies) if found]
            if not cells and len(short) <= spare:
                return tuple(plan), tallies, True
            services = set().union(*short)
            step = self._next_window(plan, tallies, cells, services)
            if step is None:
                return tuple(plan), tallies, False
            s, k = step
            plan[s] = _changed(plan[s], k, +1)
            tallies = self.evaluate(tuple(plan))

    def _next_window(self, plan: list[tuple[int, ...]], tallies: list[Tally],
                     cells: dict[tuple[int, str], int],
                     services: set[str]) -> tuple[int, int] | None:
        """Where to open one more window: for the hour with the most late residents of the
        services short of their target, the kind serving most of them opened in the hour
        before, that hour or the hour after (the queue they met may have begun before, or
        outlasted their hour), whichever rehearses with the fewest late residents; with no
        window left in those, the latest earlier hour with one."""
        late: dict[tuple[int, str], int] = dict(cells)
        for tally in tallies:
            for key, n in tally.late.items():
                if key[1] in services:
                    late[key] = late.get(key, 0) + n
        by_hour: dict[int, dict[str, int]] = {}
        for (s, service), n in late.items():
            by_hour.setdefault(s, {})[service] = by_hour.get(s, {}).get(service, 0) + n
        for s in sorted(by_hour, key=lambda h: -sum(by_hour[h].values())):
            around = [(h, k) for h in (s - 1, s, s + 1) if 0 <= h < len(plan)
                      if (k := self.to_open(plan[h], by_hour[s])) is not None]
            if around:
                return around[0] if len(around) == 1 else self._fewest_late(
                    plan, around, tallies, set(late))
            for h in range(s - 2, -1, -1):
                k = self.to_open(plan[h], by_hour[s])
                if k is not None:
                    return h, k
        return None

    def _fewest_late(self, plan: list[tuple[int, ...]], steps: list[tuple[int, int]],
                     tallies: list[Tally], cells: set[tuple[int, str]]) -> tuple[int, int]:
        """The step after which the rehearsals that had late residents in ``cells`` have
        the fewest there (the first on a tie)."""
        troubled = [r for r, t in enumerate(tallies) if any(t.late.get(c) for c in cells)]
        trial = self.subset(troubled)
        scores = []
        for h, k in steps:
            staffing = tuple(_changed(p, k, +1) if i == h else p for i, p in enumerate(plan))
            after = trial.evaluate(staffing)
            scores.append(sum(t.late.get(c, 0) for t in after for c in cells))
        self.evaluations += trial.evaluations
        return steps[scores.index(min(scores))]

    def to_open(self, current: tuple[int, ...], late: dict[str, int]) -> int | None:
        """The kind with a window left serving the most late residents (broadest first);
        with none left for them, the broadest with a window left (it frees the others)."""
        best: tuple[int, int, int] | None = None
        for k, kind in enumerate(self.kinds):
            if current[k] >= len(kind.counters):
                continue
            score = sum(n for service, n in late.items() if kind.serves(service))
            if best is None or (score, kind.breadth) > best[:2]:
                best = (score, kind.breadth, k)
        return None if best is None else best[2]

    def to_close(self, current: tuple[int, ...], tallies: list[Tally], s: int) -> int | None:
        """The open kind whose windows were least busy in hour ``s`` (narrowest first)."""
        start, end = self.hours.slots[s]
        best: tuple[float, int, int] | None = None
        for k, kind in enumerate(self.kinds):
            if current[k] == 0:
                continue
            busy = sum(t.busy_s.get((s, k), 0.0) for t in tallies)
            use = busy / (len(tallies) * current[k] * (end - start))
            if best is None or (use, kind.breadth) < best[:2]:
                best = (use, kind.breadth, k)
        return None if best is None else best[2]


def _by_service(cells: dict[tuple[int, str], int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for (_, service), n in cells.items():
        out[service] = out.get(service, 0) + n
    return out


def _changed(current: tuple[int, ...], k: int, delta: int) -> tuple[int, ...]:
    return tuple(n + delta if i == k else n for i, n in enumerate(current))


def _plan(config: HallConfig, day: date, hours: Hours, kinds: tuple[WindowKind, ...],
          demand: Demand, staffing: Staffing, tallies: list[Tally], met: bool, level: float,
          evaluations: int, all_open: dict[str, float]) -> Plan:
    expected = [0.0] * len(hours.slots)
    for (_, quarter), mean in demand.mean_counts().items():
        at = hours.open_at + quarter * INTERVAL_S
        if at < hours.close_at:
            expected[hours.slot_of(at)] += mean
    slots = []
    for s, (start, end) in enumerate(hours.slots):
        late = sum(n for t in tallies for (h, _), n in t.late.items() if h == s)
        came = sum(n for t in tallies for (h, _), n in t.residents.items() if h == s)
        label = f"{datetime.fromtimestamp(start, ZoneInfo(config.hall.timezone)):%H:%M}"
        slots.append(SlotPlan(start, end, label, staffing[s], expected[s],
                              1 - late / came if came else None))
    return Plan(day, kinds, tuple(slots), demand.days, len(tallies), level, met,
                _worst(config, tallies), all_open, evaluations)


def _worst(config: HallConfig, tallies: list[Tally]) -> dict[str, float]:
    """Per service, the lowest share of residents called within target of a rehearsal."""
    worst = {}
    for service in (s.id for s in config.services):
        shares = [1 - late / n for t in tallies
                  for svc, (late, n) in t.service_totals().items() if svc == service and n]
        if shares:
            worst[service] = min(shares)
    return worst
