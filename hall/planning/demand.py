"""The demand a plan is made for: the past same weekdays' residents (when after opening, for
what, in which lane) and the hall's own service times and no-shows per service; and the
residents a rehearsal meets, drawn from it.

A rehearsal's residents are a Poisson draw per service and quarter hour around the history's
mean, scaled by a day level (the rehearsals span the busy and the quiet days the hall had),
each with a service time resampled from the hall's own. Every count is drawn by
inverting the Poisson distribution with one uniform number, and each resident's draws come
in a fixed order from a stream of its own service and quarter hour: with more residents in
the history, a rehearsal meets the same residents and more (common random numbers).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from statistics import NormalDist

from hall.engine.whatif import Arrival
from hall.visits import Visit
from protocol.messages import Channel

INTERVAL_S = 900.0  # arrival rates are kept per quarter hour
DEFAULT_CV = 0.6  # a service's spread before the hall has any sample of it
NO_SHOW_PRIOR = (1.0, 25.0)  # 1 in 25 before any call: as the what-if assumes
_NORMAL = NormalDist()
_CHANNELS = (Channel.NORMAL, Channel.GREEN, Channel.APPOINTMENT)


@dataclass(frozen=True, slots=True)
class PastArrival:
    """One resident of a past day: seconds after opening, the service and the lane."""

    offset_s: float
    service: str
    channel: Channel


@dataclass(frozen=True, slots=True)
class Demand:
    """The history of one weekday: each past day's residents, the service times (seconds)
    of every service the hall handled and the share of calls nobody answered."""

    days: tuple[date, ...]
    arrivals: tuple[tuple[PastArrival, ...], ...]  # per day, as ``days``
    service_s: dict[str, tuple[float, ...]]
    no_show: dict[str, tuple[int, int]]  # service -> (calls not answered, calls)

    def mean_counts(self) -> dict[tuple[str, int], float]:
        """Mean residents per (service, quarter hour after opening) over the days."""
        counts: dict[tuple[str, int], float] = {}
        for day in self.arrivals:
            for a in day:
                key = (a.service, int(a.offset_s // INTERVAL_S))
                counts[key] = counts.get(key, 0.0) + 1.0
        n = max(1, len(self.arrivals))
        return {key: count / n for key, count in sorted(counts.items())}

    def day_levels(self, count: int) -> list[float]:
        """``count`` day levels (residents over the mean) spread evenly over the quantiles
        of the next day's level as the past days predict it: rehearsal n meets a day as busy
        as quantile (n + 1/2) / count. A new day strays from a mean of few days by their
        spread times sqrt(1 + 1/days), with Student's t tails (days - 1 degrees of freedom:
        eight days tell the spread only roughly); Poisson's spread comes besides (counted
        twice: on the safe side)."""
        totals = [len(day) for day in self.arrivals]
        mean = sum(totals) / len(totals) if totals else 0.0
        if mean <= 0 or len(totals) < 2:
            return [1.0] * count
        variance = sum((t - mean) ** 2 for t in totals) / (len(totals) - 1)
        spread = math.sqrt(variance * (1 + 1 / len(totals))) / mean
        return [max(0.0, 1 + spread * t_quantile((n + 0.5) / count, len(totals) - 1))
                for n in range(count)]

    def lanes(self, service: str) -> tuple[float, float]:
        """The shares of a service's residents in the green channel and by appointment."""
        seen = [a.channel for day in self.arrivals for a in day if a.service == service]
        if not seen:
            return 0.0, 0.0
        return (seen.count(Channel.GREEN) / len(seen),
                seen.count(Channel.APPOINTMENT) / len(seen))

    def no_show_share(self, service: str) -> float:
        missed, calls = self.no_show.get(service, (0, 0))
        return (missed + NO_SHOW_PRIOR[0]) / (calls + NO_SHOW_PRIOR[1])


def demand_of(days: Sequence[tuple[date, float, Iterable[Visit]]]) -> Demand:
    """The demand of past days, each given as (day, its opening in epoch seconds, the
    visits of its journal): residents from the tickets that reached them (not voided),
    service times from the legs handled at a counter, no-shows from the legs called."""
    service_s: dict[str, list[float]] = {}
    no_show: dict[str, list[int]] = {}
    arrivals = []
    for _, opened, visits in days:
        residents = []
        for visit in visits:
            if not visit.counted:
                continue
            residents.append(PastArrival(max(0.0, visit.issued_at - opened), visit.service,
                                         Channel(visit.channel)))
            for leg in visit.legs:
                tally = no_show.setdefault(leg.service, [0, 0])
                tally[1] += 1
                if leg.outcome == "no_show":
                    tally[0] += 1
                if leg.service_s is not None and leg.service_s > 0:
                    service_s.setdefault(leg.service, []).append(leg.service_s)
        arrivals.append(tuple(sorted(residents, key=lambda a: a.offset_s)))
    return Demand(tuple(d for d, _, _ in days), tuple(arrivals),
                  {s: tuple(v) for s, v in service_s.items()},
                  {s: (v[0], v[1]) for s, v in no_show.items()})


def poisson(u: float, mean: float) -> int:
    """The Poisson(mean) count whose cumulative probability first exceeds ``u`` (inversion:
    for the same ``u``, a larger mean never gives a smaller count)."""
    if mean <= 0:
        return 0
    if mean > 500:  # normal approximation, still monotone in the mean
        return max(0, round(mean + math.sqrt(mean) * _normal_quantile(u)))
    k, p = 0, math.exp(-mean)
    cumulative = p
    while cumulative <= u and k < 10 * mean + 50:
        k += 1
        p *= mean / k
        cumulative += p
    return k


def _normal_quantile(u: float) -> float:
    return _NORMAL.inv_cdf(min(max(u, 1e-12), 1 - 1e-12))


def t_quantile(p: float, df: int) -> float:
    """Student's t quantile with ``df`` degrees of freedom (Cornish-Fisher expansion around
    the normal's: within 2% for df >= 3 up to p = 0.99; short of the far tail below that,
    e.g. 18.5 for 31.8 at df 1, p 0.99)."""
    z = _normal_quantile(p)
    return (z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * df ** 3))


class Draws:
    """The residents of the rehearsals of one day, drawn from a demand."""

    def __init__(self, demand: Demand, planning_minutes: dict[str, float], seed: int,
                 rehearsals: int) -> None:
        self.demand = demand
        self.minutes = planning_minutes
        self.seed = seed
        self.counts = demand.mean_counts()
        self.levels = demand.day_levels(rehearsals)

    def residents(self, rehearsal: int, open_at: float, close_at: float) -> list[Arrival]:
        """One rehearsal's residents in time order, at the rehearsal's day level."""
        level = self.levels[rehearsal]
        out = []
        for (service, quarter), mean in self.counts.items():
            rng = random.Random(f"{self.seed}/{rehearsal}/{service}/{quarter}")
            green, booked = self.demand.lanes(service)
            no_show = self.demand.no_show_share(service)
            for _ in range(poisson(rng.random(), mean * level)):
                at = open_at + (quarter + rng.random()) * INTERVAL_S
                service_s = self.duration(rng, service)
                u = rng.random()
                missed = rng.random() < no_show
                if at >= close_at:
                    continue
                channel = _CHANNELS[2] if u < booked else _CHANNELS[1] if u < booked + green \
                    else _CHANNELS[0]
                out.append(Arrival(at, service, service_s, channel, missed))
        out.sort(key=lambda a: a.at)
        return out

    def duration(self, rng: random.Random, service: str) -> float:
        """A service time resampled from the hall's own; lognormal around the planning time
        for a service it has none of."""
        samples = self.demand.service_s.get(service)
        if samples:
            return samples[int(rng.random() * len(samples))]
        mean = self.minutes.get(service, 8.0) * 60
        sigma = math.sqrt(math.log1p(DEFAULT_CV ** 2))
        return mean * math.exp(sigma * _normal_quantile(rng.random()) - sigma * sigma / 2)
