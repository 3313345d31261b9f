"""The simulator's figures: wait statistics pooled over seeds, and Erlang's C formula.

Waits run from taking the ticket (or checking in) to the first call. Estimate errors
compare the wait printed on the ticket with the wait that followed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bench.scenario import Scenario
from bench.sim_day import LANE_CODES, DayResult
from protocol.messages import Channel

GREEN = LANE_CODES[Channel.GREEN]
APPOINTMENT = LANE_CODES[Channel.APPOINTMENT]


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None or math.isnan(value) else round(value, digits)


def percentile(ordered: Sequence[float], q: float) -> float:
    """The nearest-rank percentile of an already sorted, non-empty sequence."""
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summarise(days: Sequence[DayResult]) -> dict[str, float | None]:
    """The figures for one policy over all its seeds, minutes rounded to 3 decimals."""
    waits = [w / 60 for day in days for w in day.waits_s]
    lanes = [lane for day in days for lane in day.lanes]
    errors = sorted(abs(e - w) / 60 for day in days
                    for e, w in zip(day.estimates_s, day.waits_s, strict=True)
                    if not math.isnan(e))
    ordered = sorted(waits)
    busy = sum(day.busy_s for day in days)
    staffed = sum(day.open_s for day in days)
    if not ordered:
        ordered = [math.nan]
    return {
        "mean_wait_min": _round(_mean(waits)),
        "p90_wait_min": _round(percentile(ordered, 90)),
        "p99_wait_min": _round(percentile(ordered, 99)),
        "max_wait_min": _round(ordered[-1]),
        "share_within_10_min": _round(
            sum(1 for w in waits if w <= 10) / len(waits) if waits else None, 4),
        "priority_mean_wait_min": _round(
            _mean([w for w, lane in zip(waits, lanes, strict=True) if lane == GREEN])),
        "appointment_mean_wait_min": _round(
            _mean([w for w, lane in zip(waits, lanes, strict=True) if lane == APPOINTMENT])),
        "utilisation": _round(busy / staffed if staffed else None, 4),
        "estimate_mae_min": _round(_mean(errors)),
        "estimate_unknown_share": _round(  # tickets told "wait not yet known"
            sum(1 for day in days for e in day.estimates_s if math.isnan(e)) / len(waits)
            if waits else None, 4),
        "estimate_p90_abs_err_min": _round(percentile(errors, 90) if errors else None),
    }


@dataclass(frozen=True, slots=True)
class ErlangC:
    """M/M/c: offered load ``a`` erlangs on ``c`` servers, mean service ``minutes``."""

    a: float
    c: int
    minutes: float

    @property
    def p_wait(self) -> float:
        """Probability that an arrival waits (Erlang's C formula, via Erlang B)."""
        if self.a >= self.c:
            return 1.0
        blocking = 1.0
        for k in range(1, self.c + 1):
            blocking = self.a * blocking / (k + self.a * blocking)
        return self.c * blocking / (self.c - self.a * (1 - blocking))

    @property
    def mean_wait_min(self) -> float:
        """Mean wait in queue: C / (c mu - lambda)."""
        if self.a >= self.c:
            return math.inf
        return self.p_wait * self.minutes / (self.c - self.a)

    def p_wait_over(self, minutes: float) -> float:
        """P(wait > t) = C exp(-(c mu - lambda) t)."""
        if self.a >= self.c:
            return 1.0
        return self.p_wait * math.exp(-(self.c - self.a) * minutes / self.minutes)


def erlang_for(scenario: Scenario) -> ErlangC | None:
    """Erlang C for a single-service steady-state scenario (exact for exponential service)."""
    served = [s for s in scenario.services if s.share > 0]
    if not scenario.steady or len(served) != 1:
        return None
    service = served[0]
    counters = sum(1 for c in scenario.counters
                   if "*" in c.services or service.id in c.services)
    rate_per_min = (scenario.arrivals.rate_per_hour or 0.0) / 60
    return ErlangC(rate_per_min * service.minutes, counters, service.minutes)


def erlang_block(erlang: ErlangC) -> dict[str, float | None]:
    mean = erlang.mean_wait_min
    return {"mean_wait_min": None if math.isinf(mean) else round(mean, 4),
            "p_wait": round(erlang.p_wait, 4)}
