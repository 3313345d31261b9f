"""The hall simulator: scenario days through the real engine, every policy, in virtual time.

``python -m bench.simulate [--scenario NAME|FILE] [--seeds N] [--policy NAME] [--jobs N] [--json]``

A scenario is a file of the schema in ``bench/scenarios/README.md``: a path, or the name of
one of ``bench/scenarios/`` (default: tianping-weekday, the example hall's weekday).

For each policy (or the one named) it runs seeds 0..N-1 of the scenario through the
engine the controller runs, then the same days with every counter comprehensive under the
hall's default policy (the full-pooling bound), and for a single-service steady-state
scenario Erlang's C formula. Long runs spread the days over processes and draw a progress
bar on stderr. The last line with ``--json`` is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, TextIO

from bench.scenario import Scenario, ScenarioError, load_scenario, scenario_path
from bench.sim_day import DayResult, run_day
from bench.sim_metrics import erlang_block, erlang_for, summarise
from hall.engine.policy import POLICIES
from hall.engine.whatif import PROGRESS_EVERY

log = logging.getLogger(__name__)
BOUND_POLICY = "default"
BAR_WIDTH = 30
DEFAULT_SCENARIO = "tianping-weekday"
LONG_RUN_TICKETS = 20_000  # expected tickets above which a progress bar is drawn


class ProgressBar:
    """A one-line bar on stderr: work done so far out of the expected total."""

    def __init__(self, total: float, stream: TextIO = sys.stderr) -> None:
        self.total = max(total, 1.0)
        self.stream = stream
        self.done = 0.0
        self.shown = -1

    def advance(self, amount: float) -> None:
        self.done += amount
        self.show(self.done)

    def tick(self, _virtual_time: float) -> None:
        """A rehearsal's report: another PROGRESS_EVERY residents have arrived."""
        self.advance(PROGRESS_EVERY)

    def show(self, at: float) -> None:
        filled = min(BAR_WIDTH, int(BAR_WIDTH * at / self.total))
        if filled != self.shown:
            self.shown = filled
            percent = min(100, int(100 * at / self.total))
            self.stream.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {percent:3d}%")
            self.stream.flush()

    def close(self) -> None:
        self.show(self.total)
        self.stream.write("\n")
        self.stream.flush()


def expected_tickets(scenario: Scenario) -> float:
    """About how many tickets one seed of the scenario issues."""
    arrivals = scenario.arrivals
    if scenario.steady:
        return (arrivals.rate_per_hour or 0.0) * (scenario.hours.horizon_hours or 0.0)
    return (arrivals.per_day or 0.0) + sum(count for _, count, _ in arrivals.bursts)


@dataclass(frozen=True, slots=True)
class Job:
    """One simulated day: a policy (or the bound) on the scenario's layout or the pooled one."""

    name: str  # a policy's name, or "bound"
    policy: str
    pooled: bool
    seed: int


def jobs_for(scenario: Scenario, seeds: int, policies: list[str]) -> list[Job]:
    """Every policy on every seed, then the full-pooling bound (unless a run already is)."""
    jobs = [Job(p, p, False, seed) for p in policies for seed in range(seeds)]
    already_pooled = all(c.services == ["*"] for c in scenario.counters)
    if not (already_pooled and BOUND_POLICY in policies):
        jobs += [Job("bound", BOUND_POLICY, True, seed) for seed in range(seeds)]
    return jobs


def run_job(scenario: Scenario, job: Job, progress: Callable[[float], None] | None = None,
            ) -> tuple[DayResult, float]:
    """One job, and the CPU seconds it took."""
    started = time.process_time()
    layout = scenario.pooled() if job.pooled else scenario
    day = run_day(layout, job.seed, job.policy, progress=progress)
    return day, time.process_time() - started


def simulate(scenario: Scenario, seeds: int, policies: list[str],
             bar: ProgressBar | None = None,
             workers: int = 1) -> tuple[dict[str, Any], dict[str, float]]:
    """The report, and the speed: tickets simulated and CPU seconds spent (all processes)."""
    started = time.process_time()
    jobs = jobs_for(scenario, seeds, policies)
    if workers > 1 and len(jobs) > 1:
        done = _in_parallel(scenario, jobs, bar, workers)
    else:
        done = [_in_turn(scenario, job, bar) for job in jobs]
    results: dict[str, list[DayResult]] = {}
    for job, (day, _) in zip(jobs, done, strict=True):
        results.setdefault(job.name, []).append(day)
    report: dict[str, Any] = {
        "scenario": scenario.name, "seeds": seeds,
        "policies": {p: summarise(results[p]) for p in policies},
        "bounds": {"full_pooling": summarise(results.get("bound", results.get(BOUND_POLICY, [])))},
    }
    erlang = erlang_for(scenario)
    if erlang is not None:
        report["erlang_c"] = erlang_block(erlang)
    cpu = time.process_time() - started + sum(cpu for _, cpu in done if workers > 1)
    return report, {"tickets": sum(day.tickets for day, _ in done), "cpu_s": cpu}


def _in_turn(scenario: Scenario, job: Job, bar: ProgressBar | None) -> tuple[DayResult, float]:
    base = bar.done if bar is not None else 0.0
    done = run_job(scenario, job, bar.tick if bar is not None else None)
    if bar is not None:
        bar.done = base
        bar.advance(done[0].tickets)
    return done


def _in_parallel(scenario: Scenario, jobs: list[Job], bar: ProgressBar | None,
                 workers: int) -> list[tuple[DayResult, float]]:
    """The jobs on a pool of processes; their progress reports come back on a queue."""
    out: list[tuple[DayResult, float] | None] = [None] * len(jobs)
    reported = [0.0] * len(jobs)
    with multiprocessing.Manager() as manager, ProcessPoolExecutor(workers) as pool:
        news = manager.Queue()
        futures = {pool.submit(_job_reporting, scenario, job, news, n): n
                   for n, job in enumerate(jobs)}
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.25)
            while not news.empty():
                n = news.get()
                reported[n] += PROGRESS_EVERY
                if bar is not None:
                    bar.advance(PROGRESS_EVERY)
            for future in finished:
                n = futures[future]
                out[n] = future.result()
                if bar is not None:
                    bar.advance(out[n][0].tickets - reported[n])  # type: ignore[index]
                reported[n] = out[n][0].tickets  # type: ignore[index]
    return [done for done in out if done is not None]


def _job_reporting(scenario: Scenario, job: Job, news: Any, n: int) -> tuple[DayResult, float]:
    """A job in a worker process, telling the parent how far it got."""
    return run_job(scenario, job, lambda _t: news.put(n))


def _text(report: dict[str, Any], speed: dict[str, float]) -> str:
    lines = [f"{report['scenario']}: {report['seeds']} seed(s)"]
    rows = [*report["policies"].items(), ("full pooling", report["bounds"]["full_pooling"])]
    for name, figures in rows:
        lines.append(f"  {name:13s} mean {figures['mean_wait_min']} min, p90 "
                     f"{figures['p90_wait_min']}, max {figures['max_wait_min']}, green "
                     f"{figures['priority_mean_wait_min']}, appointments "
                     f"{figures['appointment_mean_wait_min']}, estimate MAE "
                     f"{figures['estimate_mae_min']}")
    if "erlang_c" in report:
        lines.append(f"  Erlang C      mean {report['erlang_c']['mean_wait_min']} min, "
                     f"P(wait) {report['erlang_c']['p_wait']}")
    lines.append(f"  {speed['tickets']:.0f} tickets in {speed['cpu_s']:.2f} s CPU = "
                 f"{speed['tickets'] / max(speed['cpu_s'], 1e-9):,.0f} tickets/s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.simulate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default=DEFAULT_SCENARIO,
                        help="a scenario TOML file, or a name in bench/scenarios "
                             f"(default {DEFAULT_SCENARIO})")
    parser.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1 (default 1)")
    parser.add_argument("--policy", choices=sorted(POLICIES), help="only this policy")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="processes for long runs (default: one per CPU)")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    try:
        scenario = load_scenario(scenario_path(args.scenario))
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    policies = [args.policy] if args.policy else list(POLICIES)
    jobs = jobs_for(scenario, args.seeds, policies)
    total = expected_tickets(scenario) * len(jobs)
    long_run = total >= LONG_RUN_TICKETS
    bar = ProgressBar(total) if long_run else None
    report, speed = simulate(scenario, args.seeds, policies, bar,
                             workers=max(1, args.jobs) if long_run else 1)
    if bar is not None:
        bar.close()
    print(_text(report, speed), file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
