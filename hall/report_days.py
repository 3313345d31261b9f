"""Per-day summaries of the report's figures, exact and mergeable: a range's report is the
merge of its days' summaries, and a past day's summary never changes (hall/history.py caches
it), so a year's report reads a few hundred summaries instead of replaying every event.

Each group (a service, a counter, a clerk, an hour of the day) keeps counts, ratings, and two
distributions of durations in seconds: waits and service times. A distribution keeps its
count, its exact sum (the merged mean is ``statistics.fmean`` of every value, to the last
bit) and its maximum; the waits, and a service's service times, also how many values fall in
each ``BUCKET_S``-wide bucket, their values being kept by bucket beside the summary: the one
bucket that holds a percentile or a target is read back, so the merged p90 and the shares
within a target are exact too.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hall.engine.events import NOT_SERVED
from hall.visits import Leg, Visit

SUMMARY_VERSION = 1  # bump when a summary's content or meaning changes: caches recompute
BUCKET_S = 300
Key = tuple[str, str]  # (kind, id): ("service", "A"), ("counter", "3"), ("hour", "09"), …
Bucket = tuple[str, str, str, int]  # (kind, id, metric, bucket)
ValuesIn = Callable[[Bucket], list[float]]  # the values of a bucket over the whole range


def bucket_of(seconds: float) -> int:
    """The bucket of a duration; monotonic, so a bucket below a limit's holds only less."""
    return math.floor(seconds / BUCKET_S)


def _exact_add(a: tuple[int, int], num: int, exp: int) -> tuple[int, int]:
    """(n, e) + num / 2**exp, exactly, as n' / 2**e' (every float is such a fraction)."""
    n, e = a
    if exp > e:
        n, e = n << (exp - e), exp
    return n + (num << (e - exp)), e


@dataclass(slots=True)
class Dist:
    """A distribution of durations (s): count, exact sum, maximum, count per bucket."""

    n: int = 0
    total: tuple[int, int] = (0, 0)  # the exact sum: total[0] / 2**total[1]
    top: float | None = None
    hist: dict[int, int] = field(default_factory=dict)

    @classmethod
    def of(cls, values: Sequence[float], ranked: bool = True) -> Dist:
        """The distribution of ``values``; one not ``ranked`` (only its mean and maximum are
        asked for) keeps no buckets."""
        dist = cls(len(values), top=max(values, default=None),
                   hist=dict(Counter(bucket_of(v) for v in values)) if ranked else {})
        for value in values:
            num, den = value.as_integer_ratio()
            dist.total = _exact_add(dist.total, num, den.bit_length() - 1)
        return dist

    def merge(self, other: Dist) -> None:
        self.n += other.n
        self.total = _exact_add(self.total, *other.total)
        if other.top is not None and (self.top is None or other.top > self.top):
            self.top = other.top
        for b, count in other.hist.items():
            self.hist[b] = self.hist.get(b, 0) + count

    def mean(self) -> float | None:
        """As ``fmean`` gives it: the correctly rounded sum divided by the count."""
        if not self.n:
            return None
        return (self.total[0] / (1 << self.total[1])) / self.n

    def encode(self) -> list[Any]:
        return [self.n, list(self.total), self.top, sorted(self.hist.items())]

    @classmethod
    def decode(cls, raw: list[Any]) -> Dist:
        n, (num, exp), top, hist = raw
        return cls(n, (num, exp), top, {b: c for b, c in hist})


@dataclass(slots=True)
class Group:
    """One service's, counter's, clerk's or hour's figures."""

    counts: Counter[str] = field(default_factory=Counter)
    ratings: Counter[int] = field(default_factory=Counter)
    wait: Dist = field(default_factory=Dist)
    service: Dist = field(default_factory=Dist)

    def merge(self, other: Group) -> None:
        for name, n in other.counts.items():
            self.counts[name] += n
        for rating, n in other.ratings.items():
            self.ratings[rating] += n
        self.wait.merge(other.wait)
        self.service.merge(other.service)


Summary = dict[Key, Group]


def encode(summary: Summary) -> str:
    return json.dumps([[kind, who, dict(g.counts), sorted(g.ratings.items()), g.wait.encode(),
                        g.service.encode()] for (kind, who), g in summary.items()])


def decode(text: str) -> Summary:
    return {(kind, who): Group(Counter(counts), Counter({r: c for r, c in ratings}),
                               Dist.decode(wait), Dist.decode(service))
            for kind, who, counts, ratings, wait, service in json.loads(text)}


class _Tally:
    """A day's visits counted into groups; the durations kept until the day is summed up."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.counts: dict[Key, Counter[str]] = defaultdict(Counter)
        self.ratings: dict[Key, Counter[int]] = defaultdict(Counter)
        self.samples: dict[tuple[Key, str], list[float]] = defaultdict(list)

    def sample(self, key: Key, metric: str, value: float | None) -> None:
        if value is not None:
            self.samples[(key, metric)].append(value)

    def visit(self, v: Visit) -> None:
        if v.counted:
            hour = ("hour", f"{datetime.fromtimestamp(v.issued_at, self.tz).hour:02d}")
            for key in (("service", v.service), hour):
                self.counts[key]["issued"] += 1
                self.sample(key, "wait", v.wait_s)
            self.counts[hour]["served"] += v.status == "done"
            self.counts[hour][NOT_SERVED] += v.status == NOT_SERVED
            for leg in v.legs:
                self.sample(hour, "service", leg.service_s)
        final = self.counts[("service", v.final_service)]
        final["final"] += 1
        outcome = "served" if v.status == "done" else v.status
        if outcome in ("served", "no_show", "cancelled", NOT_SERVED):
            final[outcome] += 1
        for i, leg in enumerate(v.legs):
            self.sample(("service", leg.service), "service", leg.service_s)
            for key in _desks(leg):
                self.leg(key, leg, v.wait_s if i == 0 else None)
        if v.rating is not None:
            if v.legs:
                self.ratings[("counter", v.legs[-1].counter)][v.rating] += 1
            if v.rated_clerk is not None:
                self.ratings[("clerk", v.rated_clerk)][v.rating] += 1

    def leg(self, key: Key, leg: Leg, first_wait: float | None) -> None:
        counts = self.counts[key]
        counts["legs"] += 1
        counts["served"] += leg.outcome == "done"
        counts["no_show"] += leg.outcome == "no_show"
        self.sample(key, "service", leg.service_s)
        self.sample(key, "wait", first_wait)


def _desks(leg: Leg) -> list[Key]:
    return [("counter", leg.counter), *([("clerk", leg.clerk)] if leg.clerk is not None else [])]


def summarize(visits: Iterable[Visit], tz: ZoneInfo) -> tuple[Summary, dict[Bucket, list[float]]]:
    """A day's summary and its durations by bucket (what exact percentiles read back)."""
    tally = _Tally(tz)
    for visit in visits:
        tally.visit(visit)
    summary = {key: Group(tally.counts.get(key, Counter()), tally.ratings.get(key, Counter()))
               for key in {*tally.counts, *tally.ratings, *(k for k, _ in tally.samples)}}
    values: dict[Bucket, list[float]] = defaultdict(list)
    for (key, metric), samples in tally.samples.items():
        ranked = metric == "wait" or key[0] == "service"  # p90s and shares within targets
        if metric == "wait":
            summary[key].wait = Dist.of(samples, ranked)
        else:
            summary[key].service = Dist.of(samples, ranked)
        for value in samples if ranked else ():
            values[(*key, metric, bucket_of(value))].append(value)
    return summary, values


class Span:
    """The merge of the day summaries of a range. A bucket's values are read back, for the
    exact percentiles and shares within a target, from the days added with their values
    (summed up live) and through ``kept_values`` for the others (kept in a cache)."""

    def __init__(self, kept_values: ValuesIn | None = None) -> None:
        self.groups: Summary = {}
        self.kept_values = kept_values
        self.live_values: dict[Bucket, list[float]] = defaultdict(list)

    def add(self, summary: Summary, values: dict[Bucket, list[float]] | None = None) -> None:
        for key, group in summary.items():
            mine = self.groups.get(key)
            if mine is None:
                self.groups[key] = group
            else:
                mine.merge(group)
        for where, found in (values or {}).items():
            self.live_values[where] += found

    def ids(self, kind: str) -> list[str]:
        return sorted(who for k, who in self.groups if k == kind)

    def group(self, kind: str, who: str) -> Group:
        return self.groups.get((kind, who)) or Group()

    def dist(self, kind: str, who: str, metric: str) -> Dist:
        group = self.group(kind, who)
        return group.wait if metric == "wait" else group.service

    def p90(self, kind: str, who: str, metric: str) -> float | None:
        """The 90th percentile by the nearest-rank method (None for no values)."""
        dist = self.dist(kind, who, metric)
        if not dist.n:
            return None
        rank = max(0, math.ceil(0.9 * dist.n) - 1)
        for b in sorted(dist.hist):
            if rank < dist.hist[b]:
                return sorted(self._values((kind, who, metric, b), dist.hist[b]))[rank]
            rank -= dist.hist[b]
        raise AssertionError("a distribution's buckets hold fewer values than its count")

    def within(self, kind: str, who: str, metric: str, limit_s: float) -> int:
        """How many values are at most ``limit_s``."""
        dist = self.dist(kind, who, metric)
        edge = bucket_of(limit_s)
        below = sum(c for b, c in dist.hist.items() if b < edge)
        if edge not in dist.hist:
            return below
        return below + sum(1 for v in self._values((kind, who, metric, edge), dist.hist[edge])
                           if v <= limit_s)

    def _values(self, where: Bucket, expected: int) -> list[float]:
        kept = self.kept_values(where) if self.kept_values is not None else []
        values = [*kept, *self.live_values.get(where, ())]
        if len(values) != expected:
            raise AssertionError(f"bucket {where} holds {len(values)} values, its summaries "
                                 f"count {expected}")
        return values
