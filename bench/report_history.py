"""The manager's reports over a year of history (bench/year_history.py: 250 working days,
~2,000 tickets a day, made by the hall's own engine), read as the web service reads them
(hall/history.py: a read-only journal and its own summary cache).

- month_report_s, year_report_s: the last 30 and 366 days' report; ``cold`` with an empty
  summary cache, ``warm`` in a new process once the cache holds the days (the writer's last
  day is summed up live in both), ``again`` the same process's next report (the range's
  merge is remembered), ``new_range`` then the range from the next day, not asked before
  (its days merged again; the writer's day, without new events, is not summed up again)
- year_csv_s, year_csv_mb: the tickets CSV of the year, streamed to nowhere
- peak_rss_mb: the peak resident memory of a process making only the year's report (cold,
  warm) or only the year's tickets CSV
- cpu_s: the same in CPU seconds of the measuring process (all its threads): what the wall
  times would be on an idle machine (load_avg: the 1-minute load when done)

Each figure comes from a fresh process of its own (``--phase``), so peaks do not mix.

``python -m bench.report_history [--days 250] [--per-day 2000] [--counters 50] --json``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.machine import machine
from bench.year_history import Spec, ensure
from hall.history import History
from hall.journal_reader import JournalReader
from hall.reports import Names
from hallconfig import HallConfig, load_hall_config

PHASES = ("month", "year", "csv")


def names(config: HallConfig) -> Names:
    """As the web app takes them (web/reports_page.py names_of)."""
    return Names({s.id: s.name for s in config.services},
                 {c.id: c.name for c in config.counters},
                 {c.staff_no: c.name for c in config.clerks},
                 {s.id: (config.wait_target(s.id), config.service_target(s.id))
                  for s in config.services})


async def phase(name: str, journal: Path, hall: Path, cache: Path, last: date) -> dict[str, Any]:
    """One measure in this process: a report (twice, then a range a day shorter) or the
    tickets CSV."""
    config = load_hall_config(hall)
    tz = ZoneInfo(config.hall.timezone)
    reader = JournalReader.open(journal)
    history = History(reader, cache)
    first = last - timedelta(days=29 if name == "month" else 365)
    began, cpu = time.perf_counter(), time.process_time()
    out: dict[str, Any] = {}
    if name == "csv":
        size = 0
        async for text in history.ticket_csv(first, last, tz):
            size += len(text.encode("utf-8"))
        out["mb"] = round(size / 1e6, 1)
        out["s"] = round(time.perf_counter() - began, 3)
        out["cpu_s"] = round(time.process_time() - cpu, 3)
    else:
        report = await history.report(first, last, names(config), tz)
        out["first_s"] = round(time.perf_counter() - began, 3)
        out["first_cpu_s"] = round(time.process_time() - cpu, 3)
        out["tickets"] = sum(r["issued"] for r in report.tables["services"].rows)
        began, cpu = time.perf_counter(), time.process_time()
        await history.report(first, last, names(config), tz)
        out["s"] = round(time.perf_counter() - began, 3)
        out["cpu_s"] = round(time.process_time() - cpu, 3)
        began, cpu = time.perf_counter(), time.process_time()
        await history.report(first + timedelta(days=1), last, names(config), tz)
        out["new_range_s"] = round(time.perf_counter() - began, 3)
        out["new_range_cpu_s"] = round(time.process_time() - cpu, 3)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    history.close()
    reader.close()
    return out


def run_phase(name: str, journal: Path, hall: Path, cache: Path, last: date) -> dict[str, Any]:
    """``phase`` in a fresh process; its JSON answer."""
    argv = [sys.executable, "-m", "bench.report_history", "--phase", name, "--journal",
            str(journal), "--hall", str(hall), "--cache", str(cache), "--last", last.isoformat()]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def measure(spec: Spec) -> dict[str, Any]:
    history = ensure(spec, progress=lambda line: print(line, file=sys.stderr, flush=True))
    with tempfile.TemporaryDirectory(prefix="report-history-") as tmp:
        cache = Path(tmp) / "reports.sqlite3"
        args = (history.journal, history.hall)
        month_cold = run_phase("month", *args, cache, history.last)
        month_warm = run_phase("month", *args, cache, history.last)
        year_cold = run_phase("year", *args, cache, history.last)
        year_warm = run_phase("year", *args, cache, history.last)
        csv = run_phase("csv", *args, cache, history.last)
        cache_mb = round(cache.stat().st_size / 1e6, 1)
    return {
        "month_report_s": {"cold": month_cold["first_s"], "warm": month_warm["first_s"],
                           "again": month_warm["s"], "new_range": month_warm["new_range_s"]},
        "year_report_s": {"cold": year_cold["first_s"], "warm": year_warm["first_s"],
                          "again": year_warm["s"], "new_range": year_warm["new_range_s"]},
        "year_csv_s": csv["s"], "year_csv_mb": csv["mb"],
        "cpu_s": {"month": {"cold": month_cold["first_cpu_s"], "warm": month_warm["first_cpu_s"],
                            "again": month_warm["cpu_s"],
                            "new_range": month_warm["new_range_cpu_s"]},
                  "year": {"cold": year_cold["first_cpu_s"], "warm": year_warm["first_cpu_s"],
                           "again": year_warm["cpu_s"], "new_range": year_warm["new_range_cpu_s"]},
                  "year_csv": csv["cpu_s"]},
        "load_avg": os.getloadavg()[0],
        "peak_rss_mb": {"year_report_cold": year_cold["peak_rss_mb"],
                        "year_report_warm": year_warm["peak_rss_mb"],
                        "year_csv": csv["peak_rss_mb"]},
        "tickets": {"month": month_warm["tickets"], "year": year_warm["tickets"]},
        "cache_mb": cache_mb, "journal_mb": round(history.journal.stat().st_size / 1e6),
        "machine": machine()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.report_history", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=250)
    parser.add_argument("--per-day", type=int, default=2000)
    parser.add_argument("--counters", type=int, default=50)
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    for hidden in ("--journal", "--hall", "--cache", "--last"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(asyncio.run(phase(args.phase, Path(args.journal), Path(args.hall),
                                           Path(args.cache), date.fromisoformat(args.last)))))
        return
    result = measure(Spec(args.days, args.per_day, args.counters))
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
