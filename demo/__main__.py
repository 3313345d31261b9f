"""A whole simulated hall on this machine: a real Mosquitto, the hall controller (with the
manager's web app), two kiosks, thirteen counters and a lobby display client, on an
accelerated clock, with a live one-line summary. The hall's nearby centres are simulated on a
city broker its own broker is bridged to; the summary line shows them as a kiosk sees them.

``python -m demo [--speed 120] [--hours 8] [--arrivals 560] [--seed 1]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import secrets
import shutil
import signal
import sys
import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from broker_config.process import MosquittoProcess
from demo.devices import SimulatedCounter, SimulatedKiosk, Tally, follow_calls
from demo.hallfiles import EXAMPLE_HALL, write_hall_config
from demo.nearby import NearbyCentres
from demo.summary import fit, nearby_text, summary_line
from hall.clock import AcceleratedClock
from hall.config import load_hall_config, load_secret
from hall.controller import Controller
from hall.web.accounts import Account, WebRole, hash_password, save_accounts
from hall.web.app import default_managers_path, start_web
from protocol import messages as m
from protocol.link import Link
from protocol.topics import StateKind

log = logging.getLogger("demo")


def next_weekday_opening(tz: ZoneInfo) -> datetime:
    """Five minutes before 08:30 on today's date, or the next weekday's."""
    day = datetime.now(tz).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(8, 25), tz)


async def run_hall(args: argparse.Namespace, workdir: Path) -> Tally:
    config = load_hall_config(EXAMPLE_HALL)
    broker = MosquittoProcess(config, workdir / "broker")
    nearby = NearbyCentres(config, workdir / "city", random.Random(args.seed + 2))
    nearby.start(broker)
    broker.start()
    hall_path = write_hall_config(workdir / "hall", broker)
    # At 120x the usual 60 s to confirm a print would be half a real second: allow 10 minutes.
    hall = load_hall_config(hall_path)
    hall = hall.model_copy(
        update={"rules": hall.rules.model_copy(update={"pending_print_s": 600})})
    secret = load_secret(hall, hall_path)
    clock = AcceleratedClock(next_weekday_opening(ZoneInfo(hall.hall.timezone)), args.speed)
    controller = Controller(hall, clock, secret, workdir / "hall" / "journal.sqlite3")
    links: list[Link] = []
    tasks: list[asyncio.Task[None]] = []
    tally = Tally()
    rng = random.Random(args.seed)
    try:
        await controller.start()
        web = await _start_web(controller, args.port)

        async def link(device: str, role: m.Role, follow: tuple[str, ...] = ()) -> Link:
            made = Link(broker.broker_settings(device), hall.hall.id, device, role, follow=follow)
            await made.start()
            links.append(made)
            return made

        topics = controller.link.topics
        display = await link("display-lobby", m.Role.DISPLAY, (topics.all_events,))
        follow_calls(display, tally)
        kiosks = [SimulatedKiosk(await link(f"kiosk-{n}", m.Role.KIOSK, (topics.all_state,)),
                                 clock, secret, rng, tally) for n in (1, 2)]
        counters = []
        for counter in hall.counters:
            caller = await link(f"caller-{counter.id}", m.Role.CALLER, (
                topics.state(StateKind.COUNTER, counter.id), topics.all_services))
            counters.append(SimulatedCounter(caller, counter.id, clock, rng, tally))
            tasks.append(asyncio.create_task(counters[-1].run()))
        tasks.append(asyncio.create_task(nearby.run()))
        print(f"Hall {hall.hall.name} ({hall.hall.name_en}) running at {args.speed:g}x; "
              f"manager's tablet: {web}; Ctrl-C stops.", flush=True)
        await _arrivals(args, clock, kiosks, counters, tally, controller)
    finally:
        for task in tasks:
            task.cancel()
        for link_ in links:
            await link_.close()
        await controller.stop()
        broker.stop()
        nearby.stop()
    return tally


async def _start_web(controller: Controller, port: int) -> str:
    """The manager's tablet, with a one-off account for whoever runs the demo."""
    password = secrets.token_urlsafe(9)
    managers = default_managers_path(controller)
    save_accounts(managers, {"demo": Account("demo", WebRole.MANAGER, hash_password(password))})
    await start_web(controller, "127.0.0.1", port, managers)
    return f"http://127.0.0.1:{port}/ (sign in as demo / {password})"


async def _arrivals(args: argparse.Namespace, clock: AcceleratedClock,
                    kiosks: list[SimulatedKiosk], counters: list[SimulatedCounter],
                    tally: Tally, controller: Controller) -> None:
    """Poisson arrivals at ``args.arrivals`` a day, then wait until the hall has emptied and
    every clerk has heard the answer to their last press (so the tally is complete)."""
    rng = random.Random(args.seed + 1)
    opening = clock.now() + timedelta(minutes=5)
    closing = opening + timedelta(hours=args.hours)
    rate = args.arrivals / (args.hours * 3600)  # per virtual second
    serial = 0
    pending: set[asyncio.Task[None]] = set()
    next_print = 0.0
    loop = asyncio.get_running_loop()
    while (clock.now() < closing or pending or _waiting(controller)
           or any(counter.in_hand for counter in counters)):
        if clock.now() >= opening and clock.now() < closing:
            serial += 1
            task = asyncio.create_task(kiosks[serial % 2].serve_resident(serial))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.sleep(rng.expovariate(rate) / clock.factor if clock.now() >= opening
                            else 1 / clock.factor * 30)
        if loop.time() >= next_print:
            near = nearby_text(kiosks[0].link, datetime.now(clock.now().tzinfo))
            line = summary_line(clock.now(), tally, _waiting(controller), near)
            print("\r" + fit(line, shutil.get_terminal_size().columns - 1), end="", flush=True)
            next_print = loop.time() + 0.5
    print("\r" + summary_line(clock.now(), tally, 0), flush=True)


def _waiting(controller: Controller) -> int:
    """Tickets not yet finished: waiting, or in hand at a counter."""
    engine = controller.engine
    return (sum(q.waiting for q in engine.queues.values())
            + sum(1 for desk in engine.desks.values() if desk.ticket is not None))


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--speed", type=float, default=120, help="virtual seconds per second")
    parser.add_argument("--hours", type=float, default=8, help="hours of arrivals (from 08:30)")
    parser.add_argument("--arrivals", type=int, default=560, help="residents in those hours")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=8080, help="manager's web app port")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args()
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="lobby-demo-") as tmp:
        try:
            tally = asyncio.run(_until_interrupted(args, Path(tmp)))
        except KeyboardInterrupt:
            print("\nstopped")
            return 0
    print(f"Day over: {tally.issued} tickets issued, {tally.served} served, "
          f"{tally.no_shows} no-shows, {tally.refused} refused; calls in order: "
          f"{'yes' if tally.seq_gaps == 0 else f'no ({tally.seq_gaps} gaps)'}")
    return 0


async def _until_interrupted(args: argparse.Namespace, workdir: Path) -> Tally:
    task = asyncio.create_task(run_hall(args, workdir))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        return await task
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
