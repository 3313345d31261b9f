"""The manager's morning plan measured on simulated history.

``python -m bench.plan [--weeks N] [--test-weeks N] [--seed N] [--jobs N] [--json]``

The example hall (examples/hall.toml) lives ``weeks + test_weeks`` simulated weeks: each day's
residents come as the demo day brings them (demo/day.py: the weekday's profile, the coach
party at ten, appointments, the green channel), more on Mondays than on Wednesdays, fewer at
weekends, each day busier or quieter than its weekday's usual (lognormal, 10%), with service
times lognormal around each service's planning time (cv 0.6) and 4% no-shows. Every day is
played with every window open and written to a real journal by the controller's own Journal.
Each day of the last ``test_weeks`` weeks is then planned from the journal's eight same
weekdays before it (read back through the read-only JournalReader, as the web service does),
and the day as it really came (the same residents, the same service times) is replayed on
the engine with the plan's windows. A day meets the target when every service had 90% of its
residents called within its wait target. The plan is compared with every window open all
day. With ``--jobs N`` the test days are planned in N worker processes (each plan's CPU
seconds are its own worker's). The last line with ``--json`` is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.machine import machine, percentile
from demo.day import plan_day as demo_day
from hall.engine.engine import HallEngine
from hall.engine.events import Event
from hall.engine.policy import make_policy
from hall.engine.whatif import Arrival
from hall.journal import Journal
from hall.journal_reader import JournalReader
from hall.planning import meets, plan_day, rehearse, window_kinds
from hall.planning.history import demand_from_journal
from hall.planning.rehearse import SECRET, hours_of, planning_config, play
from hallconfig import HallConfig, load_hall_config
from protocol.messages import Channel

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "hall.toml"
FIRST_DAY = date(2026, 10, 5)  # a Monday after the National Day holidays; none for 12 weeks
RESIDENTS = (300, 280, 260, 270, 290, 140, 110)  # a usual Monday ... Sunday
DAY_SPREAD = 0.10  # lognormal sigma of a day's level around its weekday's usual
SERVICE_CV = 0.6
NO_SHOW = 0.04
LEVEL = 0.9


class RecordedEngine(HallEngine):
    """An engine that keeps every event a rehearsal takes (and would otherwise drop)."""

    def __init__(self, config: HallConfig, day: date) -> None:
        super().__init__(config, day, SECRET, make_policy(config.rules.policy, config))
        self.kept: list[Event] = []

    def take_events(self) -> list[Event]:
        new = super().take_events()
        self.kept += new
        return new


def simulated_day(config: HallConfig, day: date, seed: int) -> list[Arrival]:
    """The residents of one simulated day (empty when the hall is shut)."""
    hours = config.hours.for_day(day)
    if hours is None:
        return []
    tz = ZoneInfo(config.hall.timezone)
    opening = datetime.combine(day, hours[0], tz)
    length = (datetime.combine(day, hours[1], tz) - opening).total_seconds() / 3600
    rng = random.Random(f"{seed}/{day.isoformat()}")
    count = round(RESIDENTS[day.weekday()] * rng.lognormvariate(0, DAY_SPREAD))
    planned = demo_day(opening, length, count, rng)
    minutes = {s.id: s.mean_minutes for s in config.services}
    sigma = math.sqrt(math.log1p(SERVICE_CV ** 2))
    out = []
    for r in planned.residents:
        age = day.year - r.born.year - int((day.month, day.day) < (r.born.month, r.born.day))
        channel = Channel.APPOINTMENT if r.slot is not None else \
            Channel.GREEN if age >= config.rules.green_age else Channel.NORMAL
        service_s = rng.lognormvariate(math.log(minutes[r.service] * 60) - sigma ** 2 / 2, sigma)
        out.append(Arrival(r.arrives.timestamp(), r.service, service_s, channel,
                           rng.random() < NO_SHOW))
    return out


def recorded(config: HallConfig, day: date, residents: list[Arrival]) -> list[Event]:
    """The journal's events of the day played with every window open."""
    hall = planning_config(config)
    hours = hours_of(hall, day)
    assert hours is not None
    kinds = window_kinds(hall)
    engine = RecordedEngine(hall, day)
    everyone = tuple(len(k.counters) for k in kinds)
    play(engine, hours, kinds, (everyone,) * len(hours.slots), residents)
    engine.take_events()
    return engine.kept


async def write_history(path: Path, config: HallConfig, first: date, count: int,
                        seed: int) -> dict[date, list[Arrival]]:
    """``count`` simulated days from ``first`` into a journal at ``path``; each open day's
    residents (what really came)."""
    journal = await Journal.open(path, durable=False)
    days = {}
    try:
        for n in range(count):
            day = first + timedelta(days=n)
            residents = simulated_day(config, day, seed)
            if residents:
                events = recorded(config, day, residents)
                await journal.commit(day, events[-1].at, events)
                days[day] = residents
    finally:
        await journal.close()
    return days


def judge(config: HallConfig, day: date, staffing: tuple[tuple[int, ...], ...],
          residents: list[Arrival]) -> bool:
    """The real day replayed with ``staffing``: did every service meet its target?"""
    hall = planning_config(config)
    hours = hours_of(hall, day)
    assert hours is not None
    return meets(rehearse(hall, hours, window_kinds(hall), staffing, residents), LEVEL)


def run(weeks: int, test_weeks: int, seed: int, directory: Path,
        jobs: int = 1) -> dict[str, Any]:
    config = load_hall_config(EXAMPLE)
    journal = directory / "journal.sqlite3"
    days = asyncio.run(write_history(journal, config, FIRST_DAY, 7 * (weeks + test_weeks),
                                     seed))
    tested = [d for d in sorted(days) if d >= FIRST_DAY + timedelta(weeks=weeks)]
    tasks = [(journal, day, days[day]) for day in tested]
    rows = []
    pool = ProcessPoolExecutor(jobs) if jobs > 1 else None
    try:
        for row in pool.map(_tried, tasks) if pool else map(_tried, tasks):
            print(row["line"], file=sys.stderr, flush=True)
            rows.append(row)
    finally:
        if pool:
            pool.shutdown()
    seconds = [r["seconds"] for r in rows]
    cpu = [r["cpu"] for r in rows]
    met = sum(r["met"] for r in rows)
    hours_plan = sum(r["window_hours"] for r in rows)
    hours_all = sum(r["all_open_window_hours"] for r in rows)
    return {"days": len(tested), "days_meeting_target": met,
            "share_meeting_target": round(met / len(tested), 3),
            "days_meeting_target_all_open": sum(r["met_all"] for r in rows),
            "window_hours_plan": round(hours_plan, 1),
            "window_hours_all_open": round(hours_all, 1),
            "saved_share": round(1 - hours_plan / hours_all, 3),
            "plan_seconds_p50": round(statistics.median(seconds), 2),
            "plan_seconds_max": round(max(seconds), 2),
            "plan_seconds_p90": round(percentile(seconds, 90), 2),
            "plan_cpu_seconds_p50": round(statistics.median(cpu), 2),
            "plan_cpu_seconds_max": round(max(cpu), 2),
            "history_weeks": weeks, "level": LEVEL, "seed": seed, "jobs": jobs,
            "machine": machine()}


def _tried(task: tuple[Path, date, list[Arrival]]) -> dict[str, Any]:
    """One test day planned from the journal and judged: a row of the report."""
    journal, day, residents = task
    config = load_hall_config(EXAMPLE)
    reader = JournalReader.open(journal)
    try:
        started, used = time.perf_counter(), time.process_time()
        plan = plan_day(config, day, demand_from_journal(reader, config, day))
        seconds, cpu = time.perf_counter() - started, time.process_time() - used
    finally:
        reader.close()
    everyone = (tuple(len(k.counters) for k in plan.kinds),) * len(plan.slots)
    ok = judge(config, day, plan.staffing, residents)
    ok_all = judge(config, day, everyone, residents)
    line = (f"{day} {day:%a} residents {len(residents):3d} windows "
            f"{' '.join(str(sum(s.open)) for s in plan.slots):28s} "
            f"{'met' if ok else 'MISSED':6s} all open {'met' if ok_all else 'MISSED':6s} "
            f"{seconds:.1f} s ({cpu:.1f} s CPU), {plan.evaluations} staffings")
    return {"line": line, "met": ok, "met_all": ok_all, "seconds": seconds, "cpu": cpu,
            "window_hours": plan.window_hours,
            "all_open_window_hours": plan.all_open_window_hours}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.plan", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weeks", type=int, default=8, help="weeks of history (default 8)")
    parser.add_argument("--test-weeks", type=int, default=4,
                        help="weeks of days planned and judged (default 4)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1,
                        help="worker processes planning the test days (default 1)")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args(argv)
    if args.weeks < 1 or args.test_weeks < 1 or args.jobs < 1:
        parser.error("--weeks, --test-weeks and --jobs must be at least 1")
    with tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp:
        report = run(args.weeks, args.test_weeks, args.seed, Path(tmp), args.jobs)
    print(f"{report['days_meeting_target']} of {report['days']} days met the target "
          f"(every window open: {report['days_meeting_target_all_open']}); window-hours "
          f"{report['window_hours_plan']} against {report['window_hours_all_open']} all open "
          f"({100 * report['saved_share']:.1f}% saved); planning took "
          f"{report['plan_seconds_p50']} s (median; {report['plan_cpu_seconds_p50']} s of CPU)",
          file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
