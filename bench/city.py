"""The city tier under load: many halls each publish a summary once a second to one city
broker, and the city overview measures the lag from each publish to its own state.

Most halls publish straight to the city broker with their bridge account, on their bridge's
topic, as their bridge would; the first ``--bridged`` halls run the real path: a hall broker
of their own, bridged to the city by city.broker. Each hall has its own connection.
Lag is the overview's clock at receipt minus the summary's ``at`` (one machine, one clock).

    python -m bench.city [--halls 220] [--bridged 4] [--seconds 30] [--procs 2] --json

Last line: {"halls": …, "lag_ms": {"p50": …, "p99": …}, "machine": …}. Loopback only.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import multiprocessing as mp
import queue
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.machine import machine, percentile
from broker_config.process import MosquittoProcess
from city.broker import BridgeOptions, add_bridge, bridge_block, bridge_user
from city.broker_process import CityBroker
from city.overview import CityOverview, HallEntry
from hallconfig import load_hall_config
from protocol import messages as m
from protocol.link import BrokerSettings, SyncClient
from protocol.topics import CityTopics, HallTopics, StateKind

ROOT = Path(__file__).resolve().parents[1]
SHANGHAI = ZoneInfo("Asia/Shanghai")
SERVICES = [("A", "社会保险与就业"), ("B", "医疗保险"), ("C", "社会救助与助老助残"),
            ("D", "婚育与计划生育"), ("E", "居住证与来沪登记"), ("F", "敬老卡与社保卡"),
            ("G", "房屋租赁与其他")]
WARMUP_S = 2.0
HALLS_PER_PROCESS = 250  # paho's select() fails past 1024 file descriptors in one process


@dataclass(frozen=True, slots=True)
class Publisher:
    """Where one simulated hall publishes its summary, and as whom."""

    hall: str
    host: str
    port: int
    username: str
    password: str
    topic: str


def summary_payload(hall: str, tick: int) -> bytes:
    waiting = [(tick * 7 + i * 3 + len(hall)) % 23 for i in range(len(SERVICES))]
    return m.encode(m.HallSummary(
        hall=hall, name=f"{hall} 社区事务受理服务中心", name_en=f"{hall} centre",
        at=datetime.now(SHANGHAI), counters_open=9 + tick % 4, issued_today=40 + tick,
        served_today=30 + tick, services=[
            m.ServiceSummary(service=sid, name=name, waiting=w, estimated_wait_min=w * 2.5)
            for (sid, name), w in zip(SERVICES, waiting, strict=True)]))


def _connect(spec: Publisher) -> SyncClient:
    client = SyncClient(BrokerSettings(host=spec.host, port=spec.port, username=spec.username,
                                       password=spec.password),
                        client_id=f"sim-{spec.hall}", keepalive=60, timeout=30)
    reason = client.connect()
    if reason.is_failure:
        raise RuntimeError(f"the broker refused simulated hall {spec.hall}: {reason}")
    return client


def publish_halls(specs: list[Publisher], start_at: float, seconds: float,
                  results: Any) -> None:
    """One worker process: connect its halls, then publish each once a second, spread out."""
    clients = [_connect(spec) for spec in specs]
    due = [(start_at + i / len(specs), i, 0) for i in range(len(specs))]
    heapq.heapify(due)
    published = 0
    end = start_at + seconds
    while due:
        at, i, tick = heapq.heappop(due)
        if at >= end:
            continue
        time.sleep(max(0.0, at - time.time()))  # pacing the load, not waiting on a result
        clients[i].send(specs[i].topic, summary_payload(specs[i].hall, tick), retain=True)
        published += 1
        heapq.heappush(due, (at + 1.0, i, tick + 1))
    time.sleep(1.0)  # let the last QoS 1 messages leave before the sockets close
    for client in clients:
        client.close()
    results.put(published)


class LagLog:
    """Lags the overview saw, by hall, from the moment measuring starts."""

    def __init__(self, since: float, bridged: set[str]) -> None:
        self.since = since
        self.bridged = bridged
        self.direct: list[float] = []
        self.via_bridge: list[float] = []
        self._lock = threading.Lock()

    def seen(self, entry: HallEntry) -> None:
        if entry.summary is None or entry.summary.at.timestamp() < self.since:
            return
        lag = entry.lag_s
        assert lag is not None
        with self._lock:
            (self.via_bridge if entry.hall in self.bridged else self.direct).append(lag * 1000)


def _bridged_hall(workdir: Path, hall: str, city: CityBroker) -> MosquittoProcess:
    config = load_hall_config(ROOT / "examples" / "hall.toml")
    config = config.model_copy(update={"hall": config.hall.model_copy(update={"id": hall})})
    process = MosquittoProcess(config, workdir / hall)
    add_bridge(process.files.conf, bridge_block(hall, BridgeOptions(
        "127.0.0.1", city.port, city.bridge_password(hall), restart_s=(1, 2))))
    process.start()
    return process


def _specs(halls: list[str], city: CityBroker,
           hall_brokers: dict[str, MosquittoProcess]) -> list[Publisher]:
    specs = []
    for hall in halls:
        if hall in hall_brokers:
            s = hall_brokers[hall].broker_settings("controller")
            topic = HallTopics(hall).state(StateKind.SUMMARY)
        else:
            s = city.settings(bridge_user(hall))
            topic = CityTopics.summary(hall)
        assert s.username is not None and s.password is not None
        specs.append(Publisher(hall, s.host, s.port, s.username, s.password, topic))
    return specs


def _collect(results: Any, workers: list[Any], deadline: float) -> int:
    """The workers' publish counts; fails fast when one of them died."""
    total, waiting = 0, len(workers)
    while waiting:
        try:
            total += results.get(timeout=1.0)
            waiting -= 1
        except queue.Empty:
            if any(w.exitcode not in (None, 0) for w in workers):
                raise RuntimeError("a publisher process failed; see its traceback above") from None
            if time.monotonic() > deadline:
                raise TimeoutError("the publisher processes did not finish") from None
    return total


def _stats(values: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 50), 1), "p99": round(percentile(values, 99), 1),
            "max": round(max(values, default=0.0), 1), "n": len(values)}


def run(workdir: Path, n_halls: int, bridged: int, seconds: float, procs: int) -> dict[str, Any]:
    halls = [f"hall-{i:03d}" for i in range(1, n_halls + 1)]
    city = CityBroker(halls, workdir / "city")
    city.start()
    hall_brokers = {h: _bridged_hall(workdir, h, city) for h in halls[:bridged]}
    start_at = time.time() + 1.5 + n_halls / 100  # time for every hall to connect
    log = LagLog(start_at + WARMUP_S, set(hall_brokers))
    overview = CityOverview(city.settings("overview"), on_update=log.seen)
    overview.start()
    procs = max(procs, math.ceil(n_halls / HALLS_PER_PROCESS))
    results: Any = mp.get_context("spawn").Queue()
    specs = _specs(halls, city, hall_brokers)
    workers = [mp.get_context("spawn").Process(
        target=publish_halls, args=(specs[i::procs], start_at, seconds + WARMUP_S, results))
        for i in range(procs)]
    try:
        for worker in workers:
            worker.start()
        published = _collect(results, workers, time.monotonic() + seconds + 120)
        for worker in workers:
            worker.join(10)
        overview.settle(quiet=0.5, limit=5.0)
    finally:
        overview.stop()
        for process in hall_brokers.values():
            process.stop()
        city.stop()
    received = len(log.direct) + len(log.via_bridge)
    return {"halls": n_halls, "bridged": bridged, "seconds": seconds, "procs": procs,
            "published": published, "received_after_warmup": received,
            "lag_ms": _stats(log.direct + log.via_bridge), "lag_ms_direct": _stats(log.direct),
            "lag_ms_bridged": _stats(log.via_bridge), "machine": machine()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.city", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--halls", type=int, default=220)
    parser.add_argument("--bridged", type=int, default=4, help="halls with a real bridge")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--procs", type=int, default=2, help="publisher processes")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args(argv)
    if not 1 <= args.halls <= 2000 or not 0 <= args.bridged <= min(args.halls, 20):
        parser.error("--halls 1..2000, --bridged 0..20 and at most --halls")
    if not 1 <= args.seconds <= 600 or not 1 <= args.procs <= 16:
        parser.error("--seconds 1..600 and --procs 1..16")
    with tempfile.TemporaryDirectory(prefix="bench-city-") as tmp:
        result = run(Path(tmp), args.halls, args.bridged, args.seconds, args.procs)
    lag = result["lag_ms"]
    print(f"{result['halls']} halls ({result['bridged']} bridged), {result['seconds']:.0f} s: "
          f"{result['published']} summaries published; lag p50 {lag['p50']} ms, "
          f"p99 {lag['p99']} ms, max {lag['max']} ms")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
