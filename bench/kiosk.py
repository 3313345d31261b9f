"""Swipe to print at the kiosk: a card on the SAM reader -> the ticket's ESC/POS bytes out.

A real Mosquitto, the hall controller as its own process (open around the clock), and the
kiosk runtime in this process with the certified-reader driver on a pseudo-terminal
(SamReaderSimulator: real GA/T 467 frames) and the simulated printer. The resident picks a
service the moment the list is shown, so the figure is the system's time, not a person's.

- swipe_to_print_ms: the card is put on the reader -> the last ticket byte is handed to the
  printer (includes waiting for the reader's next find-card poll, --poll seconds apart)
- frame_to_print_ms: the reader's card-data frame is decoded -> the same moment
- stages_ms: p50 of read (swipe -> frame), lookup, pick+issue, print

``python -m bench.kiosk [--swipes N] [--poll S] --json``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench.machine import machine, percentile
from broker_config.process import MosquittoProcess
from demo.hallfiles import write_hall_config
from demo.processes import ControllerProcess
from hallconfig import load_hall_config
from hardware.idcard import CardData, CardReader, SamReader, SamReaderSimulator, sample_card
from hardware.printer import SimulatedPrinter
from kiosk.events import Back, Phase, ServicePicked
from kiosk.runtime import KioskRuntime
from kiosk.view import View
from protocol.link import Link
from protocol.messages import Role

HALL = "tianping"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "hall.toml"
SERVICES = "ABCDEFG"
WARMUP = 5


class StampedPrinter(SimulatedPrinter):
    """The simulated printer, noting when each ticket's bytes were handed over."""

    def __init__(self) -> None:
        super().__init__()
        self.handed: list[float] = []

    def _send(self, data: bytes) -> None:
        self.handed.append(time.perf_counter())
        super()._send(data)


class StampedReader(CardReader):
    """The SAM driver, noting when each card's data frame had been read and decoded."""

    def __init__(self, reader: SamReader) -> None:
        self.reader = reader
        self.read: list[float] = []

    def read_card(self, timeout: float) -> CardData | None:
        card = self.reader.read_card(timeout)
        if card is not None:
            self.read.append(time.perf_counter())
        return card

    def close(self) -> None:
        self.reader.close()


class Marks:
    """When the kiosk showed each screen of the current swipe."""

    def __init__(self, runtime: KioskRuntime) -> None:
        self.at: dict[Phase, float] = {}
        self.runtime = runtime
        self.service = ""  # the service to pick when the choice screen shows; "" for none
        runtime.on_view(self._seen)

    def _seen(self, view: View) -> None:
        self.at.setdefault(view.phase, time.perf_counter())
        if view.phase is Phase.CHOOSING and self.service:
            service, self.service = self.service, ""
            asyncio.get_running_loop().call_soon(self.runtime.dispatch, ServicePicked(service))

    def arm(self, service: str) -> None:
        self.at.clear()
        self.service = service


async def swipe(n: int, sam: SamReaderSimulator, runtime: KioskRuntime, marks: Marks,
                printer: StampedPrinter, reader: StampedReader,
                rng: random.Random) -> dict[str, float]:
    """One resident: put the card down, wait for the printed ticket, lift the card."""
    marks.arm(SERVICES[n % len(SERVICES)])
    await asyncio.sleep(rng.uniform(0, reader.reader.poll_interval))  # any moment of a poll
    card = sample_card(date(1950 + n % 40, 1 + n % 12, 1 + n % 28), serial=n % 499)
    printed = len(printer.handed)
    start = time.perf_counter()
    sam.present_card(card)
    await runtime.wait_for(lambda flow: flow.phase is Phase.DONE and not flow.awaiting, 10.0)
    sam.remove_card()
    polls = len(sam.commands)
    await asyncio.to_thread(sam.wait_for_commands, polls + 2, 5.0)  # the lift is seen
    runtime.dispatch(Back())
    out, frame = printer.handed[printed], reader.read[-1]
    return {"swipe": out - start, "frame": out - frame, "read": frame - start,
            "lookup": marks.at[Phase.CHOOSING] - frame,
            "issue": marks.at[Phase.PRINTING] - marks.at[Phase.CHOOSING],
            "print": out - marks.at[Phase.PRINTING]}


async def run(workdir: Path, swipes: int, poll: float, seed: int = 1) -> dict[str, Any]:
    secret = os.urandom(32).hex().encode()
    broker = MosquittoProcess(load_hall_config(EXAMPLE), workdir / "broker")
    broker.start()
    controller = ControllerProcess(
        write_hall_config(workdir / "hall", broker, all_day=True, secret=secret),
        workdir / "controller.log")
    controller.start()
    sam = SamReaderSimulator()
    printer = StampedPrinter()
    reader = StampedReader(SamReader(sam.port, poll_interval=poll))
    link = Link(broker.broker_settings("kiosk-1"), HALL, "kiosk-1", Role.KIOSK)
    runtime = KioskRuntime(link, secret, lambda: reader, printer)
    try:
        await runtime.start(connect_wait=10.0)
        await runtime.wait_for(lambda flow: flow.phase is Phase.IDLE, 30.0)
        marks, rng = Marks(runtime), random.Random(seed)
        results = [await swipe(n, sam, runtime, marks, printer, reader, rng)
                   for n in range(swipes + WARMUP)][WARMUP:]
    finally:
        await runtime.stop()
        sam.close()
        controller.stop()
        broker.stop()
    return summary(results, poll)


def summary(results: list[dict[str, float]], poll: float) -> dict[str, Any]:
    def ms(key: str) -> list[float]:
        return [r[key] * 1000 for r in results]

    def stats(key: str) -> dict[str, float]:
        values = ms(key)
        return {"p50": round(percentile(values, 50), 1), "p99": round(percentile(values, 99), 1),
                "max": round(max(values), 1)}

    return {"swipe_to_print_ms": stats("swipe"), "frame_to_print_ms": stats("frame"),
            "stages_ms": {k: round(percentile(ms(k), 50), 1)
                          for k in ("read", "lookup", "issue", "print")},
            "swipes": len(results), "reader_poll_s": poll, "controller": "own process",
            "machine": machine()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.kiosk", description=__doc__)
    parser.add_argument("--swipes", type=int, default=100, help="measured swipes")
    parser.add_argument("--poll", type=float, default=0.2,
                        help="the reader's find-card poll interval in seconds "
                             "(examples/kiosk-1.toml uses 0.2)")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lobby-kiosk-bench-") as tmp:
        result = asyncio.run(run(Path(tmp), args.swipes, args.poll))
    if not args.json:
        for key, value in result.items():
            print(f"{key:>18}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
