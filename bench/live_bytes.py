"""Bytes the manager's tablet receives per change of the hall, with many waiting: the live
stream as numbered deltas (web/live.py) against a whole snapshot per change (before issue 14).

The example hall, every counter staffed, ``--waiting`` tickets spread over its services
(quotas lifted), on the real engine and projection; then one change of each kind: a ticket
issued, a call, a cancellation, a counter paused, the notice. For each: the delta sent at
once, the tickets' estimated waits it moved (sent at most every WAITS_EVERY_S, whatever the
number of changes meanwhile), and a whole snapshot (what every change cost before). Sizes are
the server-sent event frames as written.

``python -m bench.live_bytes [--waiting 10000] --json``
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.machine import machine
from hall.clock import VirtualClock
from hall.engine.engine import HallEngine, Refused
from hall.engine.policy import make_policy
from hall.engine.projection import Projection, project
from hallconfig import HallConfig, load_hall_config
from protocol import messages as m
from web.live import WAITS_EVERY_S, Hub, LiveFeed, Parts

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "hall.toml"
START = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@dataclass
class Alerts:
    active: dict[tuple[m.AlertKind, str], m.Alert] = field(default_factory=dict)


@dataclass
class Heard:
    state: dict[str, m.Message] = field(default_factory=dict)


@dataclass
class View:
    """What the web apps read of the hall (HallView's attributes), on a bare engine."""

    config: HallConfig
    clock: VirtualClock
    engine: HallEngine
    alerts: Alerts = field(default_factory=Alerts)
    link: Heard = field(default_factory=Heard)
    controller_online: bool = True

    @property
    def projection(self) -> Projection:
        return project(self.engine, self.clock.now().timestamp())


def busy_hall(waiting: int) -> View:
    raw = load_hall_config(EXAMPLE).model_dump()
    raw["services"] = [{**s, "daily_quota": None} for s in raw["services"]]
    raw["clerks"] = [*raw.get("clerks", []), *({"staff_no": f"B-{c['id']}", "name": c["id"],
                                                 "pin_hash": raw["clerks"][0]["pin_hash"]}
                                                for c in raw["counters"])]
    config = HallConfig.model_validate(raw)
    clock = VirtualClock(START)
    engine = HallEngine(config, START.date(), b"bench-live-bytes-secret-0123456789",
                        make_policy("default", config))
    for desk in list(engine.desks):
        engine.sign_in(START, desk, f"B-{desk}")
        engine.set_counter_status(START, desk, m.CounterStatus.OPEN)
    services = [s.id for s in config.services]
    issued = 0
    while issued < waiting:
        try:
            engine.issue(START, services[issued % len(services)], pending_print=False)
        except Refused:
            services.remove(services[issued % len(services)])
            continue
        issued += 1
    engine.take_events()
    return View(config, clock, engine)


def changes(view: View) -> list[tuple[str, Any]]:
    engine, now = view.engine, START
    first = next(iter(engine.tickets))
    return [
        ("issue", lambda: engine.issue(now, "A", pending_print=False)),
        ("call_next", lambda: engine.call_next(now, next(iter(engine.desks)))),
        ("cancel", lambda: engine.cancel(now, first)),
        ("pause", lambda: engine.set_counter_status(now, list(engine.desks)[4],
                                                    m.CounterStatus.PAUSED)),
        ("set_notice", lambda: engine.set_notice(now, "今日下午 3 点停水")),
    ]


def whole(parts: Parts, seq: int) -> int:
    """A whole picture per change, as the stream sent before: one frame's bytes."""
    return len(f"data: {json.dumps(parts.snapshot(seq), ensure_ascii=False)}\n\n".encode())


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.live_bytes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    view = busy_hall(args.waiting)
    hub = Hub()
    feed = LiveFeed(view, hub)  # type: ignore[arg-type]  # the attributes HallView has
    seq, snapshot = feed.snapshot()
    per_change: dict[str, dict[str, float]] = {}
    for name, change in changes(view):
        feed._waits_sent = time.monotonic()  # as if the estimates had just gone out
        change()
        view.clock.advance(1.0)
        hub.notice("", None)
        start = time.perf_counter()
        feed.update()
        render_ms = (time.perf_counter() - start) * 1000
        delta = feed.since(seq)
        seq = feed.seq
        feed._waits_sent = 0.0  # the estimates held back are due: what they cost
        feed.update()
        waits = feed.since(seq)
        seq = feed.seq
        assert delta is not None and waits is not None and feed.parts is not None
        per_change[name] = {"delta_bytes": len(delta), "estimates_bytes": len(waits),
                            "whole_bytes": whole(feed.parts, seq),
                            "render_and_diff_ms": round(render_ms, 1)}
    result = {"waiting": args.waiting, "snapshot_bytes": len(snapshot),
              "per_change": per_change, "machine": machine()}
    if not args.json:
        for name, row in per_change.items():
            print(f"{name:12} delta {row['delta_bytes']:>7,} B + estimates "
                  f"{row['estimates_bytes']:>9,} B (at most every {WAITS_EVERY_S:.0f} s)   "
                  f"whole {row['whole_bytes']:>11,} B   render+diff {row['render_and_diff_ms']} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
