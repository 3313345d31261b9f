"""One simulated day: a scenario and a seed become residents, breaks and a real HallEngine.

Who comes, when and for what (arrival times, services, channels, appointment slots) is drawn
from ``random.Random(seed)`` in a fixed order that nothing the engine does can change. How
each call goes (the service time, or a no-show) is drawn at the call from one stream per
service, in the order of that service's calls. So every policy (and the full-pooling bound)
faces the same residents, and the n-th resident a service calls takes the same time under
every policy: a policy that only reorders residents within a service (all it can do where
each window serves one service) changes nobody's service time, and the comparison shows only
what the policy changes (common random numbers, synchronised per service).
"""

from __future__ import annotations

import math
import random
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bench.scenario import Scenario, ServiceSpec
from hall.engine.engine import HallEngine
from hall.engine.model import Ticket
from hall.engine.policy import make_policy
from hall.engine.whatif import Arrival, Break, Rehearsal
from hallconfig import HallConfig
from protocol.messages import Channel, TicketStatus

DAY = date(2026, 11, 23)  # a Monday: the scenario's hours apply to every weekday anyway
SECRET = b"bench-simulator-secret-0123456789"
JITTER_S = (-600.0, 300.0)  # appointments arrive 10 min early to 5 min late
LANE_CODES = {Channel.NORMAL: 0, Channel.GREEN: 1, Channel.APPOINTMENT: 2}


@dataclass(slots=True)
class DayResult:
    """What one policy did with one day: per called ticket its wait, lane and estimate."""

    waits_s: array[float]
    lanes: array[int]  # LANE_CODES
    estimates_s: array[float]  # NaN where no estimate was given
    busy_s: float
    open_s: float
    tickets: int
    refused: int


def hall_config(scenario: Scenario, policy: str) -> HallConfig:
    """The scenario's hall as the engine's own config: hours, services, counters; no quotas."""
    span = ["00:00", "23:59"] if scenario.steady else [scenario.hours.open, scenario.hours.close]
    weekdays = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    return HallConfig.model_validate({
        "hall": {"id": "sim", "name": scenario.name, "name_en": scenario.name,
                 "timezone": scenario.timezone},
        "hours": {**dict.fromkeys(weekdays, span), "holiday_hours": span},
        "rules": {"policy": policy},
        "services": [{"id": s.id, "name": s.name, "name_en": s.name_en or s.name,
                      "mean_minutes": s.minutes} for s in scenario.services],
        "counters": [{"id": c.id, "name": f"{c.id}号窗口", "name_en": f"Window {c.id}",
                      "services": c.services} for c in scenario.counters],
    })


class Day:
    """The residents and breaks of one scenario day for one seed."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.seed = seed
        self.tz = ZoneInfo(scenario.timezone)
        midnight = datetime.combine(DAY, datetime.min.time(), self.tz)
        if scenario.steady:
            self.start = midnight.timestamp()
            self.close = self.start + (scenario.hours.horizon_hours or 0) * 3600
        else:
            self.start = datetime.combine(DAY, scenario.open_time, self.tz).timestamp()
            self.close = datetime.combine(DAY, scenario.close_time, self.tz).timestamp()
        self._draw = _Draws(scenario, random.Random(seed))

    def local(self, hhmm: str) -> float:
        return datetime.combine(DAY, datetime.strptime(hhmm, "%H:%M").time(),
                                self.tz).timestamp()

    def clerks(self) -> dict[str, float] | None:
        """When each counter's clerk signs in (None: every clerk is there at opening), drawn
        from a stream of its own so the residents stay the same."""
        staffing = self.scenario.staffing
        if staffing is None:
            return None
        rng = random.Random(f"{self.seed}/clerks")
        early, late = self.local(staffing.arrive_from), self.local(staffing.arrive_until)
        return {c.id: rng.uniform(early, late) for c in self.scenario.counters}

    def breaks(self) -> list[Break]:
        return [Break(tuple(b.counters), self.local(b.start), self.local(b.end))
                for b in self.scenario.breaks] if not self.scenario.steady else []

    def residents(self) -> Iterator[tuple[Arrival, float | None]]:
        """Arrivals in time order, each with its booked slot (appointments only)."""
        if self.scenario.steady:
            return self._steady()
        return iter(self._day())

    def _steady(self) -> Iterator[tuple[Arrival, float | None]]:
        rate = (self.scenario.arrivals.rate_per_hour or 0.0) / 3600
        t = self.start
        while rate > 0:
            t += self._draw.rng.expovariate(rate)
            if t >= self.close:
                return
            arrival, jitter = self._draw.resident(t)
            yield arrival, (None if jitter is None else max(self.start, t - jitter))

    def _day(self) -> list[tuple[Arrival, float | None]]:
        out: list[tuple[Arrival, float | None]] = []
        last = self.close - 1.0
        for t in self._times():
            arrival, jitter = self._draw.resident(t)
            if jitter is None:
                out.append((arrival, None))
                continue
            at = min(max(t + jitter, self.start), last)
            out.append((_moved(arrival, at), t))
        for hhmm, count, service in self.scenario.arrivals.bursts:
            minute = self.local(hhmm)
            for _ in range(count):
                t = minute + 60 * self._draw.rng.random()
                if self.start <= t < self.close:
                    out.append((self._draw.walk_in(t, service), None))
        out.sort(key=lambda pair: pair[0].at)
        return out

    def _times(self) -> Iterator[float]:
        """A Poisson process whose rate follows the profile; per_day expected in all."""
        rng = self._draw.rng
        segments = self._segments()
        weight = sum(m * (b - a) for a, b, m in segments)
        per_day = self.scenario.arrivals.per_day or 0.0
        if weight <= 0 or per_day <= 0:
            return
        for a, b, m in segments:
            rate = per_day * m / weight
            t = a
            while rate > 0:
                t += rng.expovariate(rate)
                if t >= b:
                    break
                yield t

    def _segments(self) -> list[tuple[float, float, float]]:
        """(start, end, multiplier) covering open..close; 1.0 before the first profile point."""
        points = [(self.local(hhmm), m) for hhmm, m in self.scenario.arrivals.profile]
        edges = [(self.start, 1.0)] + [(t, m) for t, m in points if t > self.start]
        before = [m for t, m in points if t <= self.start]
        if before:
            edges[0] = (self.start, before[-1])
        ends = [t for t, _ in edges[1:]] + [self.close]
        return [(a, min(b, self.close), m) for (a, m), b in zip(edges, ends, strict=True)
                if a < self.close]


class _Draws:
    """The per-resident random draws, always in the same order."""

    def __init__(self, scenario: Scenario, rng: random.Random) -> None:
        self.rng = rng
        self.arrivals = scenario.arrivals
        self.services = scenario.services
        self.cumulative = list(_cumulative([s.share for s in scenario.services]))
        self.count = 0

    def resident(self, t: float) -> tuple[Arrival, float | None]:
        """A resident arriving (or, for an appointment, booked) at ``t``, and their jitter."""
        rng, shares = self.rng, self.arrivals
        u = rng.random()
        if u < shares.appointment_share:
            jitter: float | None = rng.uniform(*JITTER_S)
            channel = Channel.APPOINTMENT
        else:
            jitter = None
            green = u < shares.appointment_share + shares.priority_share
            channel = Channel.GREEN if green else Channel.NORMAL
        return self._arrival(t, self._service(), channel), jitter

    def walk_in(self, t: float, service: str) -> Arrival:
        green = self.rng.random() < self.arrivals.priority_share
        spec = self._service() if service == "*" else next(
            s for s in self.services if s.id == service)
        return self._arrival(t, spec, Channel.GREEN if green else Channel.NORMAL)

    def _service(self) -> ServiceSpec:
        u = self.rng.random()
        for spec, edge in zip(self.services, self.cumulative, strict=True):
            if u < edge:
                return spec
        return self.services[-1]

    def _arrival(self, t: float, spec: ServiceSpec, channel: Channel) -> Arrival:
        self.count += 1
        id_hash = f"{self.count:064x}" if channel is Channel.APPOINTMENT else None
        return Arrival(t, spec.id, None, channel, False, id_hash)


class Calls:
    """How each call goes: one random stream per service, drawn in the order of its calls."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.no_show_prob = scenario.arrivals.no_show_prob
        self.specs = {s.id: s for s in scenario.services}
        self.streams = {s.id: random.Random(f"{seed}/{s.id}") for s in scenario.services}

    def outcome(self, ticket: Ticket) -> tuple[float, bool]:
        """The service time of this call, and whether the resident never comes (both are
        drawn every time, so the stream stays in step whatever the outcome)."""
        rng = self.streams[ticket.service]
        no_show = rng.random() < self.no_show_prob
        return _duration(rng, self.specs[ticket.service]), no_show


def _cumulative(shares: list[float]) -> Iterator[float]:
    total = 0.0
    for share in shares:
        total += share
        yield total


def _duration(rng: random.Random, spec: ServiceSpec) -> float:
    """A service time in seconds: lognormal (mean, cv) or exponential (mean)."""
    mean = spec.minutes * 60
    if spec.dist == "exponential":
        return rng.expovariate(1 / mean)
    sigma2 = math.log1p((spec.cv or 0.0) ** 2)
    return rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))


def _moved(arrival: Arrival, at: float) -> Arrival:
    return Arrival(at, arrival.service, arrival.service_s, arrival.channel, arrival.no_show,
                   arrival.id_hash)


def run_day(scenario: Scenario, seed: int, policy: str, estimates: bool = True,
            progress: Callable[[float], None] | None = None) -> DayResult:
    """Simulate one day of ``scenario`` under ``policy`` with the real engine."""
    day = Day(scenario, seed)
    config = hall_config(scenario, policy)
    engine = HallEngine(config, DAY, SECRET, make_policy(policy, config))
    if scenario.steady:
        engine.open_at, engine.close_at = day.start, day.close + 1.0
    rehearsal = Rehearsal(engine, estimates, Calls(scenario, seed).outcome)
    rehearsal.run(day.start, booked(engine, day), day.breaks(), progress=progress,
                  clerks=day.clerks())
    return _result(engine, rehearsal)


def booked(engine: HallEngine, day: Day) -> Iterator[Arrival]:
    """The day's arrivals; each appointment is booked before its holder checks in."""
    booked_at = datetime.fromtimestamp(day.start, day.tz) - timedelta(days=1)
    for arrival, slot in day.residents():
        if slot is not None and arrival.id_hash is not None:
            engine.book(booked_at, arrival.id_hash, arrival.service,
                        datetime.fromtimestamp(slot, day.tz))
        yield arrival


def _result(engine: HallEngine, rehearsal: Rehearsal) -> DayResult:
    waits, lanes, estimates = array("d"), array("b"), array("d")
    nan = math.nan
    for ticket in engine.tickets.values():
        if ticket.called_at is None:
            continue
        waits.append(ticket.called_at - ticket.issued_at)
        lanes.append(LANE_CODES[ticket.channel])
        estimates.append(nan if ticket.estimate_at_issue is None else ticket.estimate_at_issue)
    unserved = sum(1 for t in engine.tickets.values() if t.status is TicketStatus.WAITING)
    if unserved:
        raise RuntimeError(f"{unserved} tickets were never called: a counter closed for good?")
    return DayResult(waits, lanes, estimates, rehearsal.busy_s, rehearsal.open_s,
                     len(engine.tickets), rehearsal.refused)
