"""Merged distributions give the figures of every value at once, exactly: the mean as
``fmean`` gives it (to the last bit), the nearest-rank p90, the maximum and the count within
any limit, however the values are split into days, kept (through the cache's encoding) or
live, and whatever their size."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from statistics import fmean

import pytest

from hall.report_days import BUCKET_S, Bucket, Dist, Group, Span, bucket_of, decode, encode

KEY = ("service", "A")


def durations(rng: random.Random, n: int) -> list[float]:
    """Waits of every kind: typical, whole seconds, on bucket edges, tiny, huge, ties."""
    pick = [lambda: rng.expovariate(1 / 900), lambda: float(rng.randint(0, 7200)),
            lambda: float(BUCKET_S * rng.randint(0, 30)), lambda: rng.random() * 1e-6,
            lambda: rng.uniform(0, 86_400) + rng.random() * 1e-7, lambda: 0.1 * rng.randint(0, 99),
            lambda: 1_795_000_000.123456 - 1_795_000_000.0]
    return [rng.choice(pick)() for _ in range(n)]


def span_of(values: list[float], rng: random.Random) -> Span:
    """The values split at random into days, each kept (encoded, decoded) or live."""
    kept: dict[Bucket, list[float]] = defaultdict(list)
    span = Span(lambda where: kept.get(where, []))
    rng.shuffle(values)
    cuts = sorted(rng.sample(range(1, len(values)), min(len(values) - 1, rng.randint(0, 12))))
    for day in (values[a:b] for a, b in zip([0, *cuts], [*cuts, len(values)], strict=True)):
        by_bucket: dict[Bucket, list[float]] = defaultdict(list)
        for value in day:
            by_bucket[(*KEY, "wait", bucket_of(value))].append(value)
        summary = {KEY: Group(wait=Dist.of(day))}
        if rng.random() < 0.5:
            span.add(decode(encode(summary)))
            for where, found in by_bucket.items():
                kept[where] += found
        else:
            span.add(summary, by_bucket)
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
    limits = [*rng.sample(values, min(5, len(values))), 0.0, BUCKET_S * 3.0, 20 * 60.0,
              21.9 * 60, 1e9, nextafter_below(rng.choice(values))]
    for limit in limits:
        assert span.within(*KEY, "wait", limit) == sum(1 for v in values if v <= limit), limit


def nextafter_below(value: float) -> float:
    return math.nextafter(value, -math.inf)


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
