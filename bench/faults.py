"""Faults during continuous issuing and calling, each on a fresh hall (real Mosquitto, the
controller as ``python -m hall``): broker kill -9 and restart, broker SIGSTOP, controller
SIGSTOP, controller kill -9, journal disk full then freed, a retry across midnight (the
controller's clock injected), a client-id takeover attempt, a wrong-PIN flood.

``python -m bench.faults [--faults a,b] [--stop-s 30] --json``

Per fault, after it and after a final kill -9 and restart of the controller:

- lost: tickets an issue was told (ok reply) that the journal does not hold
- duplicated: ticket ids issued twice in the journal or told to two issue commands, plus
  retried commands that ran a second time (their retry answered differently)
- double_called: tickets called (not recalled) twice, in the journal or as told
- ghost: issue or call_next commands that took effect after their device had given up
- diverged: retained state topics that differ across the final restart (devices holding
  still): the controller's memory had parted from its journal
- recovered_s: from the fault's end to the first ok reply to a fresh command
- other_devices_p99_ms: the traffic devices' command latency (first try to answer, or to
  giving up) for commands started during the fault
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.fault_kinds import FAULTS, Env, Window
from bench.fault_traffic import GIVE_UP_S, Outcome, Traffic
from bench.hallrig import Rig, make_rig, mount_allowed
from bench.journal_view import JournalView, read_journal
from bench.machine import machine, percentile

ZONE = ZoneInfo("Asia/Shanghai")  # examples/hall.toml's zone
MIDNIGHT_LEAD_S = 90.0  # the controller's clock starts this many virtual seconds before 00:00
MIDNIGHT_SPEED = 4.0
TMPFS_MB = 24


async def run_fault(name: str, workdir: Path, stop_s: float, settle_s: float,
                    cap_s: float) -> dict[str, Any]:
    clock = None
    midnight_wall = 0.0
    if name == "midnight":
        anchor = time.time()
        today = datetime.now(ZONE).date()
        start = datetime.combine(today, datetime.min.time()) + timedelta(
            days=1, seconds=-MIDNIGHT_LEAD_S)
        clock = (start, anchor, MIDNIGHT_SPEED)
        midnight_wall = anchor + MIDNIGHT_LEAD_S / MIDNIGHT_SPEED
    rig = await asyncio.to_thread(make_rig, workdir, tmpfs_mb=TMPFS_MB if name == "disk-full"
                                  else 0, clock=clock)
    traffic = Traffic(rig.broker)
    try:
        window, recovered = await _drive(name, rig, traffic, stop_s, settle_s, cap_s,
                                         midnight_wall)
        await asyncio.to_thread(rig.controller.stop)
        journal = await asyncio.to_thread(read_journal, rig.journal)
        log_tail = rig.log.read_text(errors="replace")[-600:]
    finally:
        await asyncio.to_thread(rig.close)
    to_wall = _wall_clock(clock)
    result = verdict(traffic.log, journal, window, to_wall)
    result["recovered_s"] = None if recovered is None else round(recovered, 2)
    result["notes"] = {**window.notes, "days_in_journal": sorted({r.day for r in journal.replies})}
    if any(result[k] for k in ("lost", "duplicated", "double_called", "ghost", "diverged")):
        result["controller_log_tail"] = log_tail
    return result


async def _drive(name: str, rig: Rig, traffic: Traffic, stop_s: float, settle_s: float,
                 cap_s: float, midnight_wall: float) -> tuple[Window, float | None]:
    """Traffic, the fault, recovery, then a kill -9 and restart: the fault's window and
    seconds to recover."""
    try:
        await traffic.start()
        if await traffic.answered(cap_s) is None:
            raise RuntimeError(f"{name}: the controller never answered:\n"
                               f"{rig.log.read_text(errors='replace')[-2000:]}")
        await asyncio.sleep(settle_s)
        window = await FAULTS[name](Env(rig, traffic, stop_s, midnight_wall))
        recovered = await traffic.answered(cap_s)
        await asyncio.sleep(settle_s)
        window.notes["diverged"] = await _restart(rig, traffic, cap_s)
        await asyncio.sleep(settle_s)
    finally:
        await traffic.stop()
    return window, recovered


async def _restart(rig: Rig, traffic: Traffic, cap_s: float) -> list[str]:
    """kill -9 and restart the controller with the devices holding still: what was told
    must survive it, and the state it publishes after must be the state it published
    before (else its memory had parted from its journal). The topics that differ."""
    await traffic.hold()
    await asyncio.sleep(0.5)
    before = traffic.state()
    rig.controller.kill()
    assert traffic.observer is not None
    traffic.observer.state.clear()
    rig.controller.start()
    await traffic.answered(cap_s)
    await asyncio.sleep(1.0)
    after = traffic.state()
    traffic.go_on()
    return sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))


def _wall_clock(clock: tuple[datetime, float, float] | None) -> Any:
    """The real time.time() at which the controller's clock read ``at``."""
    if clock is None:
        return lambda at: at
    start, anchor, speed = clock
    origin = start.replace(tzinfo=ZONE).timestamp()
    return lambda at: anchor + (at - origin) / speed


def verdict(log: list[Outcome], journal: JournalView, window: Window,
            to_wall: Any) -> dict[str, Any]:
    told = {o.id: o.ticket for o in log if o.name == "issue" and o.ticket}
    calls = [o.ticket for o in log if o.name == "call_next" and o.ticket]
    issued = Counter(journal.issued)
    stored = journal.replies_by_id()
    ghosts = 0
    for o in log:
        if o.reply is None and o.name in ("issue", "call_next"):
            ghosts += sum(1 for r in stored.get(o.id, []) if r.device == o.device and r.ok
                          and _effect(r.reply) and to_wall(r.at) > o.ended_wall)
    during = [o for o in log if window.start <= o.started <= window.end]
    rerun = int(window.notes.get("rerun", 0))
    diverged = len(window.notes.get("diverged", []))
    return {
        "lost": sum(1 for ticket in told.values() if ticket not in issued),
        "duplicated": _twice(issued) + _twice(Counter(told.values())) + rerun,
        "double_called": _twice(Counter(journal.called)) + _twice(Counter(calls)),
        "ghost": ghosts,
        "recovered_s": None,
        "diverged": diverged,
        "other_devices_p99_ms": round(percentile([o.latency_ms for o in during], 99), 1)
        if during else None,
        "fault_s": round(window.end - window.start, 1),
        "commands": len(log), "told_tickets": len(told), "calls": len(calls),
        "gave_up": sum(1 for o in log if o.reply is None),
        "gave_up_during": sum(1 for o in during if o.reply is None),
        "internal": sum(1 for o in log if o.code == "internal"),
    }


def _twice(counts: Counter[Any]) -> int:
    return sum(n - 1 for n in counts.values() if n > 1)


def _effect(reply: dict[str, Any]) -> bool:
    result = reply.get("result") or {}
    return bool(result.get("ticket") or result.get("called"))


async def run(names: list[str], workdir: Path, stop_s: float, settle_s: float,
              cap_s: float) -> dict[str, Any]:
    results: dict[str, Any] = {}
    began = time.monotonic()
    for name in names:
        if name == "disk-full" and not mount_allowed():
            results[name] = {"skipped": "mounting a tmpfs needs root"}
            continue
        try:
            results[name] = await run_fault(name, workdir / name, stop_s, settle_s, cap_s)
        except Exception as exc:  # one fault that cannot run must not hide the others
            results[name] = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
    return {"faults": results, "stop_s": stop_s, "give_up_s": GIVE_UP_S,
            "total_s": round(time.monotonic() - began, 1), "machine": machine()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faults", default=",".join(FAULTS),
                        help=f"comma-separated, from: {', '.join(FAULTS)}")
    parser.add_argument("--stop-s", type=float, default=30.0,
                        help="how long a SIGSTOP, a full disk, a takeover or a flood lasts")
    parser.add_argument("--settle-s", type=float, default=3.0,
                        help="traffic before the fault, after it, and after the final restart")
    parser.add_argument("--cap-s", type=float, default=60.0,
                        help="wait at most this long for the hall to answer again")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    names = [n.strip() for n in args.faults.split(",") if n.strip()]
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        parser.error(f"unknown faults {unknown}; choose from {', '.join(FAULTS)}")
    with tempfile.TemporaryDirectory(prefix="lobby-faults-") as tmp:
        result = asyncio.run(run(names, Path(tmp), args.stop_s, args.settle_s, args.cap_s))
    if not args.json:
        for name, figures in result["faults"].items():
            print(f"{name:>16}: {figures}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
