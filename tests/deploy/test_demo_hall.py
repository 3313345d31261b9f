"""The Quick start's main job, ``python -m demo`` (``./run-hall``), from outside: piped, it
prints one whole line per minute of hall time and a closing line that accounts for every
resident; several days run through the night; speeds it cannot honour are refused."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from broker_config.process import free_port

ROOT = Path(__file__).resolve().parents[2]
MINUTE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\d\d):(\d\d)  waiting (\d+)  at a window "
                    r"(\d+)  served (\d+)  no-show (\d+)  not served (\d+)  = issued (\d+)  "
                    r".* speed \d+x(  附近 \S+ 约 \d+ 分钟 · \S+ 约 \d+ 分钟)?$")
CLOSING = re.compile(r"^(Day \d+ over|Day over|All \d+ days)[^:]*: (\d+) residents: (\d+) "
                     r"issued \((\d+) served, (\d+) no-show, (\d+) not served\), (\d+) refused"
                     r"(?: \([^)]*\))?, (\d+) left without a ticket(?: \([^)]*\))?; mean wait "
                     r"[-\d.]+(?: min)?; calls in order: (\w+)$")


def demo(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "demo", "--port", str(free_port()), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          check=False)


def closing_lines(stdout: str) -> list[tuple[str, ...]]:
    return [found.groups() for line in stdout.splitlines() if (found := CLOSING.match(line))]


def accounted(groups: tuple[str, ...], arrivals: int) -> None:
    _, arrived, issued, served, no_show, not_served, refused, left, in_order = groups
    assert int(arrived) == arrivals
    assert int(issued) + int(refused) + int(left) == arrivals
    assert int(served) + int(no_show) + int(not_served) == int(issued)
    assert in_order == "yes"


def test_piped_the_demo_prints_a_whole_line_a_minute_and_accounts_for_everyone() -> None:
    """At its top speed too: at 900x the old demo refused most residents (their print
    confirmations came later, in hall time, than the hall allows)."""
    done = demo("--speed", "3600", "--hours", "0.5", "--arrivals", "30")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert "\r" not in done.stdout and "\x1b" not in done.stdout
    minutes = [found for line in done.stdout.splitlines() if (found := MINUTE.match(line))]
    assert len(minutes) >= 30, done.stdout[-3000:]
    clock = [int(f.group(2)) * 60 + int(f.group(3)) for f in minutes]
    assert clock == list(range(clock[0], clock[-1] + 1))  # one line per minute, in order
    assert sum(1 for f in minutes if f.group(10)) >= len(minutes) - 5  # nearby centres shown
    for found in minutes:  # waiting, at a window, served, no-show, not served add up
        parts = [int(found.group(n)) for n in range(4, 10)]
        assert sum(parts[:5]) == parts[5]
    [closing] = closing_lines(done.stdout)
    accounted(closing, 30)
    assert closing[6:8] == ("0", "0")  # none refused, none left: nobody came too late
    assert re.search(r"the day's first ticket: [A-G]001", done.stdout)


def test_two_days_run_through_the_night_and_number_from_001_each_morning() -> None:
    done = demo("--speed", "600", "--hours", "0.2", "--arrivals", "10", "--days", "2")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert len(re.findall(r"Night: the hall is closed until \w{3} \d\d \w{3} 08:30",
                          done.stdout)) == 1
    assert len(re.findall(r"the day's first ticket: [A-G]001", done.stdout)) == 2
    days = closing_lines(done.stdout)
    assert [d[0] for d in days] == ["Day 1 over", "Day 2 over", "All 2 days"]
    accounted(days[0], 10)
    accounted(days[1], 10)
    accounted(days[2], 20)


def test_speeds_hours_and_counts_it_cannot_honour_are_refused_with_the_reason() -> None:
    for args, message in ((("--speed", "5000"), "--speed 5000: the demo runs at 1 to 3600"),
                          (("--speed", "0"), "--speed 0"),
                          (("--hours", "0"), "--hours 0: give more than 0"),
                          (("--arrivals", "-1"), "--arrivals -1: give 0 or more"),
                          (("--days", "0"), "--days 0: give 1 or more")):
        done = demo(*args, timeout=30)
        assert done.returncode == 2 and message in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
