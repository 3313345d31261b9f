"""Latency on a real broker with a busy hall: 50 counters, 2,000 waiting tickets.

- press_to_display_ms: a counter's call_next published -> the display client has the call
- issue_roundtrip_ms: a kiosk's issue request -> its reply
- press_to_screen_ms: a GPIO press -> the lobby display's label changed (bench.screen_latency)

``python -m bench.latency [--presses N] [--issues N] [--no-screen] --json``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.halls import big_hall
from bench.machine import machine, percentile
from broker_config.process import MosquittoProcess
from demo.hallfiles import write_hall_config
from demo.processes import ControllerProcess
from hallconfig import load_hall_config
from protocol import messages as m
from protocol.link import Link, new_command_id
from protocol.topics import EventKind, HallTopics

HALL = "tianping"
COUNTERS = 50
WAITING = 2000


async def run(workdir: Path, presses: int, issues: int, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    source = big_hall(workdir, COUNTERS)
    broker = MosquittoProcess(load_hall_config(source), workdir / "broker")
    broker.start()
    controller = ControllerProcess(
        write_hall_config(workdir / "hall", broker, source=source, all_day=True),
        workdir / "controller.log")
    controller.start()
    links: dict[str, Link] = {}
    try:
        for device, role in [("kiosk-1", m.Role.KIOSK), ("manager", m.Role.MANAGER),
                             *((f"caller-{n}", m.Role.CALLER) for n in range(1, COUNTERS + 1))]:
            links[device] = Link(broker.broker_settings(device), HALL, device, role)
            await links[device].start()
        display = Link(broker.broker_settings("display-lobby"), HALL, "display-lobby",
                       m.Role.DISPLAY, follow=[HallTopics(HALL).event(EventKind.CALL)])
        await display.start()
        await _fill(links["manager"], WAITING)
        await _sign_in(links)
        issue_ms = await _issue_roundtrips(links["kiosk-1"], issues, rng)
        press_ms = await _press_to_display(links, display, presses, rng)
        await display.close()
    finally:
        for link in links.values():
            await link.close()
        controller.stop()
        broker.stop()
    return {"press_to_display_ms": _summary(press_ms), "issue_roundtrip_ms": _summary(issue_ms),
            "counters": COUNTERS, "waiting": WAITING, "machine": machine()}


async def _fill(manager: Link, count: int) -> None:
    """Staff-issued tickets (no printing) until ``count`` are waiting."""
    services = "ABCDEFG"
    for n in range(count):
        command = m.IssueTicket(id=new_command_id(), service=services[n % 7],
                                green=n % 12 == 0, print_on_kiosk=False)
        for _ in range(50):
            try:
                reply = await manager.request("issue", command, timeout=2)
                break
            except Exception:  # the controller may still be starting
                await asyncio.sleep(0.1)
        else:
            raise RuntimeError("the controller never answered")
        assert reply.ok, reply.error


async def _sign_in(links: dict[str, Link]) -> None:
    """A clerk at every counter (the hall asks for sign-in before call_next), one after
    another: the controller checks one PIN at a time."""
    for n in range(1, COUNTERS + 1):
        reply = await links[f"caller-{n}"].request("sign_in", m.SignIn(
            id=new_command_id(), staff_no=f"S{n:03d}", pin="1234"), timeout=10)
        assert reply.ok, reply.error


async def _issue_roundtrips(kiosk: Link, count: int, rng: random.Random) -> list[float]:
    times = []
    for _ in range(count):
        await asyncio.sleep(rng.expovariate(1 / 0.02))  # a kiosk swipe every ~20 ms
        command = m.IssueTicket(id=new_command_id(), service=rng.choice("ABCDEFG"))
        start = time.perf_counter()
        reply = await kiosk.request("issue", command)
        times.append((time.perf_counter() - start) * 1000)
        assert reply.ok, reply.error
    return times


async def _press_to_display(links: dict[str, Link], display: Link, count: int,
                            rng: random.Random) -> list[float]:
    arrived: dict[str, asyncio.Future[float]] = {}

    def on_call(inbound: Any) -> None:
        call = inbound.payload
        if isinstance(call, m.CallEvent) and call.counter in arrived:
            fut = arrived[call.counter]
            if not fut.done():
                fut.set_result(time.perf_counter())

    display.on_message(on_call)
    loop = asyncio.get_running_loop()
    times = []
    for n in range(count):
        counter = str(n % COUNTERS + 1)
        await asyncio.sleep(rng.expovariate(1 / 0.02))
        arrived[counter] = loop.create_future()
        start = time.perf_counter()
        caller = links[f"caller-{counter}"]
        reply = await caller.request("call_next", m.CallNext(id=new_command_id()))
        assert reply.ok and reply.result and reply.result["called"], reply
        seen = await asyncio.wait_for(arrived[counter], 5)
        del arrived[counter]
        times.append((seen - start) * 1000)
    return times


def _summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 50), 2), "p99": round(percentile(values, 99), 2),
            "max": round(max(values, default=0.0), 2), "n": len(values)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__)
    parser.add_argument("--presses", type=int, default=1000)
    parser.add_argument("--issues", type=int, default=1000)
    parser.add_argument("--no-screen", action="store_true", help="skip press_to_screen_ms")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lobby-latency-") as tmp:
        result = asyncio.run(run(Path(tmp), args.presses, args.issues))
        if not args.no_screen:
            result["press_to_screen_ms"] = _screen(Path(tmp), args.presses // 5)
    if not args.json:
        for key, value in result.items():
            print(f"{key:>20}: {value}")
    print(json.dumps(result))


def _screen(workdir: Path, presses: int) -> dict[str, float]:
    from bench.screen_latency import measure  # renders Kivy: imported only when asked

    return measure(workdir / "screen", presses)


if __name__ == "__main__":
    main()
