"""What machine a benchmark ran on, how fast it was going at the time, and percentiles
without numpy."""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

PACE_ROUNDS = 15


def machine() -> dict[str, object]:
    return {"platform": platform.platform(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version()}


def host_pace(directory: Path) -> dict[str, float]:
    """How fast a shared host is going now, to tell a slow hour from a slow change: the median
    ms of a fixed pure-Python workload, and a 4 KB write's fsync in ``directory`` (median and
    the slowest of 100)."""
    work: list[float] = []
    for _ in range(PACE_ROUNDS):
        began = time.perf_counter()
        sorted(str(n * 7919 % 10007) for n in range(20_000))
        work.append((time.perf_counter() - began) * 1000)
    syncs: list[float] = []
    with tempfile.TemporaryFile(dir=directory) as file:
        for n in range(100):
            os.pwrite(file.fileno(), b"x" * 4096, n % 16 * 4096)
            began = time.perf_counter()
            os.fsync(file.fileno())
            syncs.append((time.perf_counter() - began) * 1000)
    return {"python_ms": round(statistics.median(work), 2),
            "fsync_ms": round(statistics.median(syncs), 3),
            "fsync_max_ms": round(max(syncs), 3)}


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile by linear interpolation (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)
