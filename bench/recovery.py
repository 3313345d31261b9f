"""kill -9 the hall controller again and again under continuous traffic, and check that
nothing confirmed was lost, no number was given twice and no ticket was called twice.

``python -m bench.recovery [--kills N] --json``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.machine import machine, percentile
from bench.traffic import HALL, Traffic
from broker_config.process import MosquittoProcess
from demo.hallfiles import write_hall_config
from demo.processes import ControllerProcess
from hallconfig import load_hall_config
from protocol import messages as m
from protocol.link import Link, LinkError, new_command_id


async def run(kills: int, workdir: Path, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    broker = MosquittoProcess(load_hall_config(_EXAMPLE), workdir / "broker")
    broker.start()
    config = write_hall_config(workdir / "hall", broker, all_day=True)
    controller = ControllerProcess(config, workdir / "controller.log")
    controller.start()
    traffic = Traffic(broker)
    probe = Link(broker.broker_settings("manager"), HALL, "manager", m.Role.MANAGER)
    recoveries: list[float] = []
    try:
        await probe.start()
        await traffic.start()
        await _answered(probe, 30)
        for _ in range(kills):
            await asyncio.sleep(rng.uniform(0.3, 1.0))
            killed = time.perf_counter()
            controller.kill()
            controller.start()
            recoveries.append((await _answered(probe, 30) - killed) * 1000)
        await asyncio.sleep(0.5)
    finally:
        await traffic.stop()
        await probe.close()
        controller.stop()
        broker.stop()
    return _verdict(traffic, config.parent / "journal.sqlite3", kills, recoveries)


async def _answered(probe: Link, limit: float) -> float:
    """When a command sent now is first answered: only a live controller can answer it."""
    command = m.SetNotice(id=new_command_id(), text="")
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        try:
            await probe.request("set_notice", command, timeout=0.05)
        except LinkError:
            continue
        return time.perf_counter()
    raise TimeoutError(f"the controller did not answer within {limit} s of a restart")


def _verdict(traffic: Traffic, journal: Path, kills: int,
             recoveries: list[float]) -> dict[str, Any]:
    with sqlite3.connect(journal) as db:
        issued = [json.loads(d)["ticket"].split("-")[1] for (d,) in db.execute(
            "SELECT data FROM events WHERE kind = 'ticket_issued'")]
        calls = [json.loads(d)["ticket"] for (d,) in db.execute(
            "SELECT data FROM events WHERE kind = 'ticket_called'")]
    ledger = traffic.ledger
    confirmed = list(ledger.confirmed.values())
    in_journal = Counter(issued)
    told = Counter(confirmed)
    called = Counter(number for _, number in ledger.called)
    return {
        "kills": kills,
        "confirmed_tickets": len(confirmed),
        "calls": len(ledger.called),
        "lost": sum(1 for number in confirmed if number not in in_journal),
        "duplicated": sum(n - 1 for n in in_journal.values() if n > 1)
        + sum(n - 1 for n in told.values() if n > 1),
        "double_called": sum(n - 1 for n in Counter(calls).values() if n > 1)
        + sum(n - 1 for n in called.values() if n > 1),
        "recovery_ms": {"p50": round(percentile(recoveries, 50), 1),
                        "max": round(max(recoveries, default=0.0), 1)},
        "machine": machine(),
    }


_EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "hall.toml"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.recovery", description=__doc__)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lobby-recovery-") as tmp:
        result = asyncio.run(run(args.kills, Path(tmp)))
    if not args.json:
        for key, value in result.items():
            print(f"{key:>18}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
