"""Merged distributions give the figures of every value at once, exactly: the mean as
``fmean`` gives it (to the last bit), the nearest-rank p90, the maximum and the count within
any limit, however the values are split into days, kept (through the cache's encoding) or
live, and whatever their size."""

from __future__ import annotations

import math
import random
from statistics import fmean

import pytest

from hall.report_days import Dist, Group, Span, between, bucket_bounds, bucket_of, encode

KEY = ("service", "A")


def durations(rng: random.Random, n: int) -> list[float]:
    """Waits of every kind: typical, whole seconds, on bucket edges, tiny, huge, ties."""
    pick = [lambda: rng.expovariate(1 / 900), lambda: float(rng.randint(0, 7200)),
            lambda: 2.0 ** rng.randint(0, 16) * (1 + rng.randint(0, 8) / 8),
            lambda: rng.random() * 1e-6,
            lambda: rng.uniform(0, 86_400) + rng.random() * 1e-7, lambda: 0.1 * rng.randint(0, 99),
            lambda: 1_795_000_000.123456 - 1_795_000_000.0]
    return [rng.choice(pick)() for _ in range(n)]


def span_of(values: list[float], rng: random.Random) -> Span:
    """The values split at random into days, each kept (encoded, its values read back as the
    cache reads them) or live."""
    kept: list[list[float]] = []
    span = Span(lambda series, lo, hi: [v for day in kept for v in between(day, lo, hi)])
    rng.shuffle(values)
    cuts = sorted(rng.sample(range(1, len(values)), min(len(values) - 1, rng.randint(0, 12))))
    for day in (values[a:b] for a, b in zip([0, *cuts], [*cuts, len(values)], strict=True)):
        summary = encode({KEY: Group(wait=Dist.of(day))})
        if rng.random() < 0.5:
            span.add(summary)
            kept.append(sorted(day))
        else:
            span.add(summary, {(*KEY, "wait"): sorted(day)})
    return span


def nearest_rank_p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


@pytest.mark.parametrize("seed", range(40))
def test_merged_figures_are_those_of_all_the_values(seed: int) -> None:
    rng = random.Random(seed)
    values = durations(rng, rng.choice([1, 2, 9, 10, 11, 97, 1000]))
    span = span_of(list(values), rng)
    dist = span.dist(*KEY, "wait")
    assert dist.n == len(values)
    assert dist.mean() == fmean(values)  # exactly, not approximately
    assert dist.top == max(values)
    assert span.p90(*KEY, "wait") == nearest_rank_p90(values)
    limits = [*rng.sample(values, min(5, len(values))), 0.0, 0.5, 1.0, 960.0, 20 * 60.0,
              21.9 * 60, 1e9, nextafter_below(rng.choice(values))]
    for limit in limits:
        assert span.within(*KEY, "wait", limit) == sum(1 for v in values if v <= limit), limit


def nextafter_below(value: float) -> float:
    return math.nextafter(value, -math.inf)


def test_buckets_are_monotonic_and_narrow() -> None:
    rng = random.Random(3)
    values = sorted([0.0, 0.999, 1.0, 1.124, 1.125, 2.0, *durations(rng, 5000)])
    buckets = [bucket_of(v) for v in values]
    assert buckets == sorted(buckets)
    assert bucket_of(0.999) == 0 < bucket_of(1.0) == bucket_of(1.124) < bucket_of(1.125)
    for b in set(buckets):
        inside = [v for v in values if bucket_of(v) == b]
        lo, hi = bucket_bounds(b)
        assert all(lo <= v < hi for v in inside)
        assert bucket_of(hi) > b == bucket_of(nextafter_below(hi))
        assert b == 0 or bucket_of(lo) == b > bucket_of(nextafter_below(lo))
        assert b == 0 or hi <= lo * 1.125  # an eighth of a doubling at most


def test_sums_that_floats_would_round_stay_exact() -> None:
    """1e16 + 1 + 1 … : a running float sum loses every 1; fmean of the values does not."""
    values = [1e16, *[1.0] * 1000, -0.0 + 3e-300]
    span = span_of(list(values), random.Random(1))
    assert span.dist(*KEY, "wait").mean() == fmean(values) != sum(values) / len(values)


def test_no_values_give_no_figures() -> None:
    span = Span()
    assert span.p90(*KEY, "wait") is None
    assert span.dist(*KEY, "wait").mean() is None
    assert span.within(*KEY, "wait", 60.0) == 0
