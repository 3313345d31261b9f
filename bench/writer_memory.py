"""The single writer's memory through a busy day, and the what-if worker's (issue 14).

The writer: a real Mosquitto and ``python -m hall`` (bench/hallrig.py's ControllerChild) for
a hall of 50 counters (bench/halls.py), a clerk signed in at each; the manager issues 2,000
residents, then kiosk-1 issues a day's tickets, confirms each print, and a counter calls the
next, each new ticket for the service just called (every queue keeps its length), all
through the broker (a SyncClient per device, TCP_NODELAY), 25 issues, then their 25 prints,
then 25 calls at 25 counters sent before their replies are awaited. After 0,
2,000, 5,000, 10,000 and 14,000 tickets issued the controller's VmHWM and VmRSS are read from
/proc; ``bytes_per_ticket`` is the RSS growth from 2,000 tickets to the last over the tickets
issued meanwhile.

The what-if worker: the engine of the same hall (its own hours, 08:30-16:30, not open all
day as the writer's) at 10:00 on a working day, W residents
waiting, all issued in the last hour (the what-if forecasts that rate until the close),
pickled as the web service pickles its replica and rehearsed by the worker's function
(web/whatif_worker.py, as web/tidal.py runs it) in a spawned process (a new one each time),
whose VmHWM is read once it is done: W = 2,000 and 10,000. The worker imports what the web
service's does (web/__main__.py, which a spawned process imports again), so its base is the
real one's.

``python -m bench.writer_memory [--counters 50] [--waiting 2000] [--tickets 14000]
[--whatif-waiting 2000,10000] --json``
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import pickle
import sys
import tempfile
import time as clock
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import partial
from pathlib import Path
from typing import Any

# The web service's what-if worker is spawned from ``python -m web``, so it imports
# web/__main__ (the whole web app) again before it rehearses: so does this bench's worker.
import web.__main__  # noqa: F401
from bench.hallrig import ControllerChild
from bench.halls import big_hall
from bench.machine import machine
from bench.proc_memory import memory
from broker_config.process import MosquittoProcess
from demo.hallfiles import write_hall_config
from hall.engine.engine import HallEngine
from hall.engine.whatif import seat_clerk
from hallconfig import HallConfig, load_hall_config
from protocol import messages as m
from protocol.link import Received, SyncClient, new_command_id
from protocol.topics import HallTopics
from web.whatif_worker import rehearse

CHECKPOINTS = (0, 2_000, 5_000, 10_000, 14_000)
TIMEOUT_S = 60.0
BATCH = 25  # commands of one kind sent before their replies are awaited
WHATIF_DAY = date(2026, 11, 23)  # a Monday: the hall's working hours
WHATIF_AT = time(10, 0)  # local


@dataclass(frozen=True)
class Options:
    counters: int = 50
    waiting: int = 2_000
    tickets: int = 14_000
    whatif_waiting: tuple[int, ...] = (2_000, 10_000)


class Device:
    """One device's MQTT connection, asking the controller one command at a time."""

    def __init__(self, broker: MosquittoProcess, topics: HallTopics, device: str) -> None:
        self.device = device
        self.topics = topics
        self.client = SyncClient(broker.broker_settings(device), client_id=device,
                                 timeout=TIMEOUT_S, follow=[topics.reply(device)])
        reason = self.client.connect(retry=True)
        if reason.is_failure:
            raise RuntimeError(f"{device} could not connect: {reason}")

    def request(self, name: str, command: m.Command) -> m.Reply:
        """The controller's reply (RuntimeError if it refused or did not answer)."""
        return self.replies([self.send(name, command)])[0]

    def send(self, name: str, command: m.Command) -> bytes:
        """Send a command without waiting; its correlation, for ``replies``."""
        correlation = uuid.uuid4().bytes
        self.client.send(self.topics.command(self.device, name), m.encode(command),
                         response_topic=self.topics.reply(self.device), correlation=correlation)
        return correlation

    def replies(self, sent: list[bytes]) -> list[m.Reply]:
        """The replies to commands sent, in the order sent (RuntimeError if one refused or
        did not come)."""
        replies = []
        for correlation in sent:
            answer = self.client.wait_for(partial(_correlated, correlation), take=True)
            if answer is None:
                raise RuntimeError(f"{self.device}: no reply in {TIMEOUT_S} s")
            reply = m.Reply.model_validate_json(answer.payload)
            if not reply.ok:
                raise RuntimeError(f"{self.device}: {reply.error}")
            replies.append(reply)
        return replies


def _correlated(correlation: bytes, received: Received) -> bool:
    return received.correlation == correlation


class Day:
    """The broker, the controller and the devices of one benchmark day."""

    def __init__(self, workdir: Path, opts: Options) -> None:
        self.opts = opts
        source = big_hall(workdir, opts.counters)
        self.broker = MosquittoProcess(load_hall_config(source), workdir / "broker")
        self.broker.start()
        config_path = write_hall_config(workdir / "hall", self.broker, source=source,
                                        all_day=True)
        self.config = load_hall_config(config_path)
        self.controller = ControllerChild(config_path, workdir / "controller.log", None)
        self.controller.start()
        self.devices: dict[str, Device] = {}
        self.issued = 0
        self.next_service = self.config.services[0].id
        self.figures: list[dict[str, Any]] = []
        self.began = clock.monotonic()

    def device(self, name: str) -> Device:
        if name not in self.devices:
            self.devices[name] = Device(self.broker, HallTopics(self.config.hall.id), name)
        return self.devices[name]

    def close(self) -> None:
        for device in self.devices.values():
            device.client.close()
        self.controller.stop()
        self.broker.stop()

    def _answered(self) -> None:
        """Wait until the controller answers (it is opening its journal)."""
        deadline = clock.monotonic() + 120
        while True:
            try:
                self.device("manager").request("set_notice", m.SetNotice(
                    id=new_command_id(), text=""))
                return
            except (RuntimeError, TimeoutError):
                if clock.monotonic() > deadline or not self.controller.alive:
                    raise RuntimeError("the controller never answered") from None

    def run(self) -> None:
        self._answered()
        for n in range(1, self.opts.counters + 1):
            self.device(f"caller-{n}").request("sign_in", m.SignIn(
                id=new_command_id(), staff_no=f"S{n:03d}", pin="1234"))
        self._measure()
        services = [s.id for s in self.config.services]
        manager = self.device("manager")
        for start in range(0, self.opts.waiting, BATCH):
            self._issued(manager.replies([manager.send("issue", m.IssueTicket(
                id=new_command_id(), service=services[n % len(services)], green=n % 12 == 0,
                print_on_kiosk=False)) for n in range(start, min(start + BATCH,
                                                                  self.opts.waiting))]))
        coming = services * (BATCH // len(services) + 1)
        counter = 0
        while self.issued < self.opts.tickets:
            coming = coming[:min(BATCH, self.opts.tickets - self.issued)]
            kiosk = self.device("kiosk-1")
            issued = kiosk.replies([kiosk.send("issue", m.IssueTicket(
                id=new_command_id(), service=service)) for service in coming])
            kiosk.replies([kiosk.send("printed", m.TicketPrinted(
                id=new_command_id(), ticket=str(r.result["ticket"]["ticket"])))
                for r in issued if r.result])
            calls = []
            for _ in coming:
                counter = counter % self.opts.counters + 1
                caller = self.device(f"caller-{counter}")
                calls.append((caller, caller.send("call_next", m.CallNext(id=new_command_id()))))
            called = [caller.replies([sent])[0] for caller, sent in calls]
            # the next residents come for the services just called: every queue keeps its
            # length, so a specialist window always has someone to call
            coming = [str(r.result["called"]["service"]) for r in called
                      if r.result and r.result["called"]] or coming
            self._issued(issued)

    def _issued(self, replies: list[m.Reply]) -> None:
        """Count tickets issued; measure at each checkpoint passed."""
        before, self.issued = self.issued, self.issued + len(replies)
        if any(before < c <= self.issued for c in (*CHECKPOINTS, self.opts.tickets)):
            self._measure()

    def _measure(self) -> None:
        assert self.controller.process is not None
        now = memory(self.controller.process.pid)
        self.figures.append({"tickets": self.issued, "vmhwm_mb": now["peak_mb"],
                             "vmrss_mb": now["rss_mb"],
                             "s": round(clock.monotonic() - self.began, 1),
                             "load_average": os.getloadavg()})
        print(f"writer after {self.issued} tickets: {now['peak_mb']} MB peak, "
              f"{now['rss_mb']} MB now, {self.figures[-1]['s']} s", file=sys.stderr, flush=True)


def writer(workdir: Path, opts: Options) -> dict[str, Any]:
    day = Day(workdir, opts)
    began = clock.monotonic()
    try:
        day.run()
    finally:
        day.close()
    figures = day.figures
    first = next(f for f in figures if f["tickets"] >= min(opts.waiting, opts.tickets))
    last = figures[-1]
    tickets = last["tickets"] - first["tickets"]
    per_ticket = (last["vmrss_mb"] - first["vmrss_mb"]) * 2**20 / tickets if tickets else None
    return {"writer": figures, "writer_peak_mb": last["vmhwm_mb"],
            "bytes_per_ticket": None if per_ticket is None else round(per_ticket),
            "day_s": round(clock.monotonic() - began, 1)}


# ---------------------------------------------------------------- the what-if worker
def whatif_engine(config: HallConfig, waiting: int) -> tuple[HallEngine, float]:
    """The hall at 10:00 with every counter staffed and ``waiting`` residents, issued
    evenly over the last hour; and that moment (epoch seconds)."""
    engine = HallEngine(config, WHATIF_DAY, b"bench-writer-memory-secret")
    assert engine.open_at is not None
    now = datetime.combine(WHATIF_DAY, WHATIF_AT, engine.tz).timestamp()
    for counter in engine.desks:
        seat_clerk(engine, engine.open_at, counter)
    services = [s.id for s in config.services]
    for n in range(waiting):
        engine.issue(now - 3600 + 3600 * n / waiting, services[n % len(services)], None,
                     green=n % 12 == 0, pending_print=False)
    engine.take_events()
    return engine, now


def whatif_worker(config: HallConfig, waiting: int) -> dict[str, Any]:
    """The what-if of ``waiting`` residents in a fresh spawned worker: its peak and time."""
    engine, now = whatif_engine(config, waiting)
    snapshot = pickle.dumps(engine, pickle.HIGHEST_PROTOCOL)  # as web/tidal.py does
    with ProcessPoolExecutor(max_workers=1,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        rows, pid, _nice, seconds = pool.submit(rehearse, snapshot, now).result()
        peak = memory(pid)["peak_mb"]
    return {"waiting": waiting, "worker_peak_mb": peak, "s": round(seconds, 1),
            "snapshot_bytes": len(snapshot), "residents": rows[0]["residents"],
            "load_average": os.getloadavg(), "rows": rows}


def run(workdir: Path, opts: Options) -> dict[str, Any]:
    result = writer(workdir, opts) if opts.tickets else {}
    config = load_hall_config(big_hall(workdir / "whatif", opts.counters))  # its own hours
    whatifs = []
    for waiting in opts.whatif_waiting:
        whatifs.append(whatif_worker(config, waiting))
        print(f"what-if worker, {waiting} waiting: {whatifs[-1]['worker_peak_mb']} MB, "
              f"{whatifs[-1]['s']} s", file=sys.stderr, flush=True)
    return {**result, "whatif": whatifs, "counters": opts.counters, "waiting": opts.waiting,
            "tickets": opts.tickets,
            "machine": {**machine(), "load_average": os.getloadavg(),
                        "shared": "2 cores shared with other work"}}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.writer_memory", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counters", type=int, default=50)
    parser.add_argument("--waiting", type=int, default=2_000)
    parser.add_argument("--tickets", type=int, default=14_000,
                        help="tickets issued in the day, the waiting included (0: no day)")
    parser.add_argument("--whatif-waiting", default="2000,10000",
                        help="residents waiting in each what-if measured (empty: none)")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    opts = Options(args.counters, args.waiting, args.tickets,
                   tuple(int(w) for w in args.whatif_waiting.split(",") if w))
    with tempfile.TemporaryDirectory(prefix="lobby-writer-memory-") as tmp:
        result = run(Path(tmp), opts)
    if not args.json:
        for key, value in result.items():
            print(f"{key:>18}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
