"""Speed of the simulator, the projection and the what-if, on this machine.

``python -m bench.sim_speed [--scenarios DIR] --json``

* simulator: tianping-weekday days (seeds 0-4, the median of three timings) per policy,
  with and without the ticket estimates, and a 500-hour slice of erlang-c-mm8, in
  tickets per CPU second;
* projection: ``project()`` for 2,000 waiting tickets at 50 counters (the controller's worst
  case), best of several runs, in milliseconds;
* what-if: ``what_if(+1, +2, -1)`` at 10:00 of a tianping-weekday day, in CPU seconds;
* the simulator with estimates again with the projection's Python source
  (LOBBY_PURE_PYTHON=1, in a child process), against the compiled one (setup.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from bench.scenario import Scenario, load_scenario
from bench.sim_day import DAY, SECRET, Calls, Day, booked, hall_config, run_day
from hall.engine import PURE_PYTHON_ENV, projection
from hall.engine.engine import HallEngine
from hall.engine.policy import make_policy
from hall.engine.projection import project
from hall.engine.whatif import Rehearsal, seat_clerk, what_if
from hallconfig import HallConfig

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
WAITING = 2000
COUNTERS = 50
SKILLS = (["A", "B"], ["E"], ["C", "D"], ["F", "G"])  # the example hall's specialists
SPEED_SEEDS = 5  # days per timing
REPEATS = 3
PLANNING = {"A": 9, "B": 7, "C": 12, "D": 10, "E": 8, "F": 5, "G": 11}


def tickets_per_cpu_second(scenario: Scenario, policy: str, estimates: bool,
                           seeds: int = SPEED_SEEDS) -> float:
    """Simulated tickets per CPU second over seeds 0..seeds-1, after one warm-up day: the
    median of REPEATS runs (this machine's speed wanders by a fifth from run to run)."""
    run_day(scenario, 0, policy, estimates)
    rates = []
    for _ in range(REPEATS):
        started = time.process_time()
        tickets = sum(run_day(scenario, seed, policy, estimates).tickets for seed in range(seeds))
        rates.append(tickets / (time.process_time() - started))
    return statistics.median(rates)


def crowded_hall(policy: str) -> tuple[HallEngine, float]:
    """2,000 waiting tickets (8% green) at 50 counters, 40 of them busy."""
    config = HallConfig.model_validate({
        "hall": {"id": "speed", "name": "测速", "name_en": "Speed"},
        "services": [{"id": s, "name": s, "name_en": s, "mean_minutes": m}
                     for s, m in PLANNING.items()],
        "counters": [{"id": str(n + 1), "name": str(n + 1), "name_en": str(n + 1),
                      "services": ["*"] if n % 13 < 9 else SKILLS[n % 13 - 9]}
                     for n in range(COUNTERS)]})
    engine = HallEngine(config, DAY, SECRET, make_policy(policy, config))
    rng = random.Random(1)
    t = datetime.combine(DAY, datetime.min.time(), engine.tz) + timedelta(hours=8, minutes=30)
    for _ in range(WAITING + 40):
        t += timedelta(seconds=3)
        engine.issue(t, rng.choice(list(PLANNING)), green=rng.random() < 0.08,
                     pending_print=False)
    for counter in engine.desks:
        seat_clerk(engine, t.timestamp(), counter)
    for counter in list(engine.desks)[:40]:
        engine.call_next(t, counter)
    return engine, t.timestamp()


def best_ms(action: Callable[[], object], runs: int = 30) -> float:
    """The fastest of ``runs`` wall-clock timings, in milliseconds."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def what_if_seconds(scenario: Scenario) -> tuple[float, int]:
    """CPU seconds of a what-if at 10:00 of seed 0, and the residents it rehearsed."""
    day = Day(scenario, 0)
    config = hall_config(scenario, "default")
    engine = HallEngine(config, DAY, SECRET, make_policy("default", config))
    at = day.start + 90 * 60
    arrivals = [a for a in booked(engine, day) if a.at < at]
    _Until(engine, at, Calls(scenario, 0)).run(day.start, arrivals, day.breaks())
    started = time.process_time()
    outlooks = what_if(engine, at)
    return time.process_time() - started, outlooks[0].residents


class _Until(Rehearsal):
    """A rehearsal that stops at a moment, leaving the hall as it is then."""

    def __init__(self, engine: HallEngine, until: float, calls: Calls) -> None:
        super().__init__(engine, outcome=calls.outcome)
        self.until = until

    def _at(self, t: float, kind: int, counter: str) -> None:
        if t < self.until:
            super()._at(t, kind, counter)


def with_estimates(weekday: Scenario) -> dict[str, int]:
    return {f"tianping-weekday/{p}/estimates": round(tickets_per_cpu_second(weekday, p, True))
            for p in ("fifo", "default")}


def python_source_figures(scenarios: Path) -> dict[str, int]:
    """``with_estimates`` in a child process that imports the projection's Python source."""
    child = subprocess.run(
        [sys.executable, "-m", "bench.sim_speed", "--scenarios", str(scenarios),
         "--estimates-only", "--json"], env={**os.environ, PURE_PYTHON_ENV: "1"},
        capture_output=True, text=True, check=True)
    report: dict[str, Any] = json.loads(child.stdout.splitlines()[-1])
    if report["projection"] != "python":
        raise RuntimeError(f"the child used the {report['projection']} projection")
    figures: dict[str, int] = report["simulator_tickets_per_cpu_s"]
    return figures


def build() -> str:
    """Which projection this process runs: compiled at install, or its Python source."""
    return "compiled" if (projection.__file__ or "").endswith(".so") else "python"


def measure(scenarios: Path) -> dict[str, Any]:
    weekday = load_scenario(scenarios / "tianping-weekday.toml")
    erlang = load_scenario(scenarios / "erlang-c-mm8.toml")
    erlang = erlang.model_copy(update={"hours": erlang.hours.model_copy(
        update={"horizon_hours": 500})})
    report: dict[str, Any] = {"projection": build(), "simulator_tickets_per_cpu_s": {
        **with_estimates(weekday),
        **{f"tianping-weekday/{p}/no-estimates": round(tickets_per_cpu_second(weekday, p, False))
           for p in ("fifo", "default")}}}
    report["simulator_tickets_per_cpu_s"]["erlang-c-mm8-500h/fifo/estimates"] = round(
        tickets_per_cpu_second(erlang, "fifo", True, seeds=1))
    for policy in ("fifo", "default"):
        engine, now = crowded_hall(policy)
        report[f"project_2000x50_ms/{policy}"] = round(best_ms(partial(project, engine, now)), 2)
    seconds, residents = what_if_seconds(weekday)
    report["what_if_cpu_s"] = round(seconds, 3)
    report["what_if_residents_per_rehearsal"] = residents
    if build() == "compiled":
        python = python_source_figures(scenarios)
        report["python_source_tickets_per_cpu_s"] = python
        report["compiled_over_python_source"] = {
            key: round(report["simulator_tickets_per_cpu_s"][key] / rate, 2)
            for key, rate in python.items()}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sim_speed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", type=Path, default=SCENARIOS, help="scenario folder")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("--estimates-only", action="store_true",
                        help="only the simulator with estimates (the comparison's child)")
    args = parser.parse_args(argv)
    if args.estimates_only:
        weekday = load_scenario(args.scenarios / "tianping-weekday.toml")
        report = {"projection": build(), "simulator_tickets_per_cpu_s": with_estimates(weekday)}
    else:
        report = measure(args.scenarios)
    if not args.json:
        for key, value in report.items():
            print(f"{key}: {value}")
    else:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
