"""Per-day summaries of the report's figures, exact and mergeable: a range's report is the
merge of its days' summaries, and a past day's summary never changes (hall/history.py caches
it), so a year's report reads a few hundred summaries instead of replaying every event.

Each group (a service, a counter, a clerk, an hour of the day) keeps counts, ratings, and two
distributions of durations in seconds: waits and service times. A distribution keeps its
count, its exact sum (the merged mean is ``statistics.fmean`` of every value, to the last
bit) and its maximum; the waits, and a service's service times, also how many values fall in
each bucket (``bucket_of``: ``SPLITS`` a doubling), the values themselves being kept, sorted,
beside the summary: only the one bucket that holds a percentile or a target is read back, so
the merged p90 and the shares within a target are exact too. A counter's group also keeps
the distribution of its pauses per reason ("none" for a pause journaled without one).
"""

from __future__ import annotations

import json
import math
from binascii import a2b_base64, b2a_base64
from bisect import bisect_left, insort
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from operator import floordiv, mul
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from hall.engine.events import NOT_SERVED
from hall.visits import DayFold, Leg, Visit

SUMMARY_VERSION = 5  # bump when a summary's content or meaning changes: caches recompute
SPLITS = 8  # buckets per doubling of a duration: each 6 to 12% of its durations wide
FIELD = 32  # bits per bucket's count in a packed histogram (no range holds 2**32 values)
MASK = (1 << FIELD) - 1
Key = tuple[str, str]  # (kind, id): ("service", "A"), ("counter", "3"), ("hour", "09"), …
Series = tuple[str, str, str]  # (kind, id, metric): ("service", "A", "wait")
ValuesIn = Callable[[Series, float, float], list[float]]  # a series' values in [lo, hi)
NO_REASON = "none"  # a pause's reason when it was journaled without one


def bucket_of(seconds: float) -> int:
    """The bucket of a duration: 0 under a second, then ``SPLITS`` a doubling (exact in
    floating point, and monotonic: a bucket below a limit's holds only smaller values)."""
    if seconds < 1.0:
        return 0
    mantissa, exponent = math.frexp(seconds)  # seconds = mantissa * 2**exponent, exponent >= 1
    return exponent * SPLITS + int((mantissa - 0.5) * 2 * SPLITS)


def bucket_bounds(bucket: int) -> tuple[float, float]:
    """The durations of a bucket: [lo, hi)."""
    if bucket == 0:
        return -math.inf, 1.0
    exponent, split = divmod(bucket, SPLITS)
    return (math.ldexp(0.5 + split / (2 * SPLITS), exponent),
            math.ldexp(0.5 + (split + 1) / (2 * SPLITS), exponent))


_UPPER = tuple(bucket_bounds(b)[1] for b in range(SPLITS * 64))  # buckets up to 2**63 s


def _upper(bucket: int) -> float:
    return _UPPER[bucket] if bucket < len(_UPPER) else bucket_bounds(bucket)[1]


def between(values: Sequence[float], lo: float, hi: float) -> Sequence[float]:
    """The sorted ``values`` in [lo, hi)."""
    return values[bisect_left(values, lo):bisect_left(values, hi)]


def _exact_sum(values: Sequence[float]) -> tuple[int, int]:
    """The sum of ``values``, exactly, as (n, e): n / 2**e (every float is such a fraction)."""
    if not values:
        return 0, 0
    nums, dens = zip(*map(float.as_integer_ratio, values), strict=True)
    common = max(dens)  # powers of two: each divides the largest
    total = sum(map(mul, nums, map(floordiv, repeat(common), dens)))
    return total, common.bit_length() - 1


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
    packed: int = 0  # bucket b's count in bits [FIELD * b, FIELD * (b + 1)): merged by adding

    @classmethod
    def of(cls, values: Sequence[float], ranked: bool = True, ordered: bool = False) -> Dist:
        """The distribution of ``values`` (``ordered``: sorted already); one not ``ranked``
        (only its mean and maximum are asked for) keeps no buckets."""
        dist = cls(len(values), _exact_sum(values), max(values, default=None))
        if ranked and values:
            ordered_values = values if ordered else sorted(values)
            below = 0
            for b in range(bucket_of(ordered_values[0]), bucket_of(ordered_values[-1]) + 1):
                upto = bisect_left(ordered_values, _upper(b), below)
                dist.packed |= (upto - below) << (FIELD * b)
                below = upto
        return dist

    def bucket(self, b: int) -> int:
        """How many values bucket ``b`` holds."""
        return (self.packed >> (FIELD * b)) & MASK

    def below(self, b: int) -> int:
        """How many values the buckets under ``b`` hold (the fields' sum: 2**FIELD is 1
        modulo MASK, and the count is less than MASK)."""
        return (self.packed & ((1 << (FIELD * b)) - 1)) % MASK

    def encode(self) -> list[Any]:
        """As JSON holds it; the buckets' counts packed (parsed far quicker than numbers)."""
        first = (self.packed & -self.packed).bit_length() // FIELD if self.packed else 0
        rest = self.packed >> (FIELD * first)
        packed = b2a_base64(rest.to_bytes((rest.bit_length() + 7) // 8, "little"),
                            newline=False).decode()
        return [self.n, *self.total, self.top, first, packed]

    def merge(self, raw: list[Any]) -> None:
        """Add an encoded distribution's values."""
        n, num, exp, top, first, packed = raw
        self.n += n
        self.total = _exact_add(self.total, num, exp)
        if top is not None and (self.top is None or top > self.top):
            self.top = top
        if packed:
            self.packed += int.from_bytes(a2b_base64(packed), "little") << (FIELD * first)

    def add(self, other: Dist) -> None:
        """Add another distribution's values."""
        self.n += other.n
        self.total = _exact_add(self.total, *other.total)
        if other.top is not None and (self.top is None or other.top > self.top):
            self.top = other.top
        self.packed += other.packed

    def sum(self) -> float:
        """The sum of the values, correctly rounded."""
        return self.total[0] / (1 << self.total[1])

    def mean(self) -> float | None:
        """As ``fmean`` gives it: the correctly rounded sum divided by the count."""
        if not self.n:
            return None
        return self.sum() / self.n


@dataclass(slots=True)
class Group:
    """One service's, counter's, clerk's or hour's figures; a counter's pauses by reason."""

    counts: dict[str, int] = field(default_factory=dict)
    ratings: dict[int, int] = field(default_factory=dict)
    wait: Dist = field(default_factory=Dist)
    service: Dist = field(default_factory=Dist)
    pauses: dict[str, Dist] = field(default_factory=dict)

    def count(self, name: str) -> int:
        return self.counts.get(name, 0)

    def encode(self) -> list[Any]:
        raw = [self.counts, [x for pair in self.ratings.items() for x in pair],
               self.wait.encode(), self.service.encode()]
        if self.pauses:
            raw.append({reason: dist.encode() for reason, dist in self.pauses.items()})
        return raw

    def merge(self, raw: list[Any]) -> None:
        """Add an encoded group's figures."""
        counts, ratings, wait, service, *pauses = raw
        mine = self.counts
        for name, n in counts.items():
            mine[name] = mine.get(name, 0) + n
        pairs = iter(ratings)
        for rating, n in zip(pairs, pairs, strict=True):
            self.ratings[rating] = self.ratings.get(rating, 0) + n
        self.wait.merge(wait)
        self.service.merge(service)
        for reason, dist in pauses[0].items() if pauses else ():
            mine_dist = self.pauses.get(reason)
            if mine_dist is None:
                mine_dist = self.pauses[reason] = Dist()
            mine_dist.merge(dist)

    def add(self, other: Group) -> None:
        """Add another group's figures."""
        for name, n in other.counts.items():
            self.counts[name] = self.counts.get(name, 0) + n
        for rating, n in other.ratings.items():
            self.ratings[rating] = self.ratings.get(rating, 0) + n
        self.wait.add(other.wait)
        self.service.add(other.service)
        for reason, dist in other.pauses.items():
            self.pauses.setdefault(reason, Dist()).add(dist)


def encode(summary: dict[Key, Group]) -> str:
    """A day's summary as the cache keeps it (what ``Span.add`` takes)."""
    return json.dumps([[kind, who, *group.encode()] for (kind, who), group in summary.items()],
                      separators=(",", ":"))


Part = tuple[tuple[tuple[Key, str], ...], tuple[tuple[Key, int], ...],
             tuple[tuple[tuple[Key, str], float], ...]]
# a visit's share of its day: the counts it adds one to, its ratings and its durations (tuples
# of text and numbers: the garbage collector leaves them out once it has seen them)


class _HourOf:
    """The hour of the day a moment falls in, found once per quarter hour since the epoch
    (every UTC offset, and every change of one, is a whole number of quarter hours)."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.hours: dict[int, Key] = {}

    def __call__(self, at: float) -> Key:
        quarter = int(at // 900)
        key = self.hours.get(quarter)
        if key is None:
            local = datetime.fromtimestamp(quarter * 900, self.tz).hour
            key = self.hours[quarter] = ("hour", f"{local:02d}")
        return key


def _part(v: Visit, hour_of: _HourOf) -> Part:
    """What a visit adds to its day's groups."""
    counts: list[tuple[Key, str]] = []
    ratings: list[tuple[Key, int]] = []
    samples: list[tuple[tuple[Key, str], float]] = []
    status, wait = v.status, v.wait_s
    times = [leg.service_s for leg in v.legs]
    if v.counted:
        hour, service = hour_of(v.issued_at), ("service", v.service)
        counts += ((service, "issued"), (hour, "issued"))
        if status in ("done", NOT_SERVED):
            counts.append((hour, "served" if status == "done" else NOT_SERVED))
        if wait is not None:
            samples += (((service, "wait"), wait), ((hour, "wait"), wait))
        samples += [((hour, "service"), time) for time in times if time is not None]
    final = ("service", v.final_service)
    counts.append((final, "final"))
    outcome = "served" if status == "done" else status
    if outcome in _OUTCOMES:
        counts.append((final, outcome))
    for i, (leg, time) in enumerate(zip(v.legs, times, strict=True)):
        if time is not None:
            samples.append(((("service", leg.service), "service"), time))
        for key in _desks(leg):
            counts.append((key, "legs"))
            if leg.outcome in ("done", "no_show"):
                counts.append((key, "served" if leg.outcome == "done" else "no_show"))
            if time is not None:
                samples.append(((key, "service"), time))
            if i == 0 and wait is not None:
                samples.append(((key, "wait"), wait))
    if v.rating is not None:
        if v.legs:
            ratings.append((("counter", v.legs[-1].counter), v.rating))
        if v.rated_clerk is not None:
            ratings.append((("clerk", v.rated_clerk), v.rating))
    return tuple(counts), tuple(ratings), tuple(samples)


_OUTCOMES = frozenset(("served", "no_show", "cancelled", NOT_SERVED))


def _desks(leg: Leg) -> tuple[Key, ...]:
    counter = ("counter", leg.counter)
    return (counter,) if leg.clerk is None else (counter, ("clerk", leg.clerk))


def summarize(fold: DayFold, tz: ZoneInfo) -> tuple[str, dict[Series, list[float]]]:
    """A day's summary, encoded, and its ranked series' durations, sorted (what the exact
    percentiles and shares within a target read back)."""
    summary, values = day_groups(fold, tz)
    return encode(summary), values


def day_groups(fold: DayFold, tz: ZoneInfo) -> tuple[dict[Key, Group],
                                                     dict[Series, list[float]]]:
    """A day's summary and its ranked series' durations, sorted (``summarize``)."""
    counts, ratings, durations = _tally(fold, _HourOf(tz))
    dists: dict[tuple[Key, str], Dist] = {}
    values: dict[Series, list[float]] = {}
    for (key, metric), samples in durations.items():
        ranked = _ranked(key, metric)
        if ranked:
            values[(*key, metric)] = samples
        dists[(key, metric)] = Dist.of(samples, ranked, ordered=True)
    return _groups(counts, ratings, dists, fold), values


Tally = tuple[dict[Key, Counter[str]], dict[Key, Counter[int]],
              dict[tuple[Key, str], list[float]]]  # counts, ratings, each series' durations


def _tally(fold: DayFold, hour_of: _HourOf, parts: dict[str, Part] | None = None) -> Tally:
    """A day's visits counted into groups, each series' durations sorted (and each visit's
    share kept in ``parts``)."""
    counts: dict[Key, Counter[str]] = defaultdict(Counter)
    ratings: dict[Key, Counter[int]] = defaultdict(Counter)
    durations: dict[tuple[Key, str], list[float]] = defaultdict(list)
    for ticket, visit in fold.visits.items():
        part = _part(visit, hour_of)
        if parts is not None:
            parts[ticket] = part
        visit_counts, visit_ratings, visit_samples = part
        for key, name in visit_counts:
            counts[key][name] += 1
        for key, rating in visit_ratings:
            ratings[key][rating] += 1
        for series, value in visit_samples:
            durations[series].append(value)
    for found in durations.values():
        found.sort()
    return counts, ratings, durations


def _ranked(key: Key, metric: str) -> bool:
    """Whether a series' values are read back (p90s and shares within targets)."""
    return metric == "wait" or key[0] == "service"


def _groups(counts: Mapping[Key, Mapping[str, int]], ratings: Mapping[Key, Mapping[int, int]],
            dists: dict[tuple[Key, str], Dist], fold: DayFold) -> dict[Key, Group]:
    """A day's groups from its counts, ratings, distributions and its fold's pauses."""
    pauses: dict[Key, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for pause in fold.pauses:
        pauses[("counter", pause.counter)][pause.reason or NO_REASON].append(
            pause.seconds(fold.last_at))
    summary = {key: Group(dict(counts.get(key, {})), dict(ratings.get(key, {})))
               for key in {*counts, *ratings, *(k for k, _ in dists), *pauses}}
    for key, reasons in pauses.items():
        summary[key].pauses = {r: Dist.of(found, ranked=False) for r, found in reasons.items()}
    for (key, metric), dist in dists.items():
        if metric == "wait":
            summary[key].wait = dist
        else:
            summary[key].service = dist
    return summary


class LiveDay:
    """The summary of a day still being written (the writer's), kept up to date as its fold
    goes on: an update tallies again only the visits the fold touched since the last one,
    and sums up again only the series whose durations changed; the same as ``day_groups``."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.hour_of = _HourOf(tz)
        self.parts: dict[str, Part] = {}  # each visit's own
        self.counts: dict[Key, Counter[str]] = {}
        self.ratings: dict[Key, Counter[int]] = {}
        self.samples: dict[tuple[Key, str], list[float]] = {}  # each series' values, sorted
        self.dists: dict[tuple[Key, str], Dist] = {}
        self.values: dict[Series, list[float]] = {}

    def update(self, fold: DayFold) -> tuple[dict[Key, Group], dict[Series, list[float]]]:
        """The fold's summary now, and its ranked series' durations, sorted."""
        touched = fold.take_touched()
        if 2 * len(touched) > len(self.parts):  # most of the day: counted afresh
            self.parts, self.dists, self.values = {}, {}, {}
            self.counts, self.ratings, self.samples = _tally(fold, self.hour_of, self.parts)
            return self._summed(fold, set(self.samples))
        dirty: set[tuple[Key, str]] = set()
        for ticket in touched:
            old = self.parts.pop(ticket, None)
            if old is not None:
                self._add(old, -1, dirty)
            visit = fold.visits.get(ticket)
            if visit is not None:
                part = self.parts[ticket] = _part(visit, self.hour_of)
                self._add(part, 1, dirty)
        return self._summed(fold, dirty)

    def _summed(self, fold: DayFold, dirty: set[tuple[Key, str]]) -> tuple[
            dict[Key, Group], dict[Series, list[float]]]:
        """The groups, the series ``dirty`` summed up again."""
        for key, metric in dirty:
            found = self.samples.get((key, metric))
            if not found:
                self.dists.pop((key, metric), None)
                self.values.pop((*key, metric), None)
                continue
            ranked = _ranked(key, metric)
            self.dists[(key, metric)] = Dist.of(found, ranked, ordered=True)
            if ranked:
                self.values[(*key, metric)] = list(found)
        return _groups(self.counts, self.ratings, self.dists, fold), dict(self.values)

    def _add(self, part: Part, sign: int, dirty: set[tuple[Key, str]]) -> None:
        """Add a visit's share (``sign`` 1) or take it away (-1)."""
        counts, ratings, samples = part
        for key, name in counts:
            _move(self.counts, key, name, sign)
        for key, rating in ratings:
            _move(self.ratings, key, rating, sign)
        for series, value in samples:
            found = self.samples.setdefault(series, [])
            if sign > 0:
                insort(found, value)
            else:
                del found[bisect_left(found, value)]
                if not found:
                    del self.samples[series]
            dirty.add(series)


T = TypeVar("T")


def _move(table: dict[Key, Counter[T]], key: Key, item: T, by: int) -> None:
    """Add ``by`` to an item's count, leaving out counts and groups that come to nothing
    (a summary holds no zeros)."""
    found = table.setdefault(key, Counter())
    found[item] += by
    if not found[item]:
        del found[item]
        if not found:
            del table[key]


class Span:
    """The merge of the day summaries of a range. A bucket's values are read back, for the
    exact percentiles and shares within a target, from the days added with their values
    (summed up live) and through ``kept_values`` for the others (kept in a cache)."""

    def __init__(self, kept_values: ValuesIn | None = None) -> None:
        self.groups: dict[Key, Group] = {}
        self.kept_values = kept_values
        self.live_values: dict[Series, list[list[float]]] = defaultdict(list)

    def add(self, summary: str, values: dict[Series, list[float]] | None = None) -> None:
        """Merge in a day's encoded summary (and the sorted durations of a day summed up
        live)."""
        groups = self.groups
        for kind, who, *raw in json.loads(summary):
            group = groups.get((kind, who))
            if group is None:
                group = groups[(kind, who)] = Group()
            group.merge(raw)
        self.live_values_of(values or {})

    def add_groups(self, summary: dict[Key, Group], values: dict[Series, list[float]]) -> None:
        """Merge in a day summed up live (``day_groups``; left as it is)."""
        groups = self.groups
        for key, other in summary.items():
            group = groups.get(key)
            if group is None:
                group = groups[key] = Group()
            group.add(other)
        self.live_values_of(values)

    def live_values_of(self, values: dict[Series, list[float]]) -> None:
        """Add a day's sorted durations, read back for the percentiles and shares."""
        for series, found in values.items():
            self.live_values[series].append(found)

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
        packed, b = dist.packed, 0
        while packed:
            count = packed & MASK
            if rank < count:
                return sorted(self._values((kind, who, metric), b, count))[rank]
            rank -= count
            packed >>= FIELD
            b += 1
        raise AssertionError("a distribution's buckets hold fewer values than its count")

    def within(self, kind: str, who: str, metric: str, limit_s: float) -> int:
        """How many values are at most ``limit_s``."""
        dist = self.dist(kind, who, metric)
        edge = bucket_of(limit_s)
        below, at = dist.below(edge), dist.bucket(edge)
        if not at:
            return below
        return below + sum(1 for v in self._values((kind, who, metric), edge, at)
                           if v <= limit_s)

    def _values(self, series: Series, bucket: int, expected: int) -> list[float]:
        """The values of a series' bucket, over the whole range."""
        lo, hi = bucket_bounds(bucket)
        values = self.kept_values(series, lo, hi) if self.kept_values is not None else []
        for day in self.live_values.get(series, ()):
            values += between(day, lo, hi)
        if len(values) != expected:
            raise AssertionError(f"bucket {bucket} of {series} holds {len(values)} values, "
                                 f"its summaries count {expected}")
        return values
