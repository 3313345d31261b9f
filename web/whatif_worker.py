"""The what-if worker's side (web/tidal.py): a pickled engine's what-if rows. Kept apart from
web/tidal.py so that the spawned worker imports only the engine, not aiohttp and the app."""

from __future__ import annotations

import os
import pickle
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from hall.engine.whatif import last_call_text, what_if

if TYPE_CHECKING:
    from hall.engine.engine import HallEngine

VARIANTS = (1, 2, -1)

Rehearsed = tuple[list[dict[str, Any]], int, int, float]  # rows, pid, niceness, seconds


def outlook_rows(engine: HallEngine, now: float) -> list[dict[str, Any]]:
    """The what-if of ``engine`` at ``now`` (epoch seconds) as the tablet shows it: one row
    per variant, "now" first. ``engine`` is rehearsed on copies; it is not changed."""
    rows = []
    for outlook in what_if(engine, now, VARIANTS):
        row = asdict(outlook)
        row["last_call"] = last_call_text(engine, outlook)  # with its date when not today
        row["changed"] = list(row["changed"])
        rows.append(row)
    return rows


def rehearse(snapshot: bytes, now: float) -> Rehearsed:
    """In the worker: the rows of a pickled engine, the worker's pid and niceness, and the
    seconds taken."""
    start = time.perf_counter()
    rows = outlook_rows(pickle.loads(snapshot), now)
    return rows, os.getpid(), os.nice(0), time.perf_counter() - start
