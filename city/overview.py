"""The city overview (全市通办): every hall's summary side by side, read from the city broker.

Each hall's broker bridges its retained ``lobby/<hall>/state/summary`` to the city broker as
``city/<hall>/state/summary`` and keeps ``city/<hall>/bridge`` at "1" while its bridge is up
("0" is the bridge's last will). ``CityOverview`` subscribes to both and keeps the latest of
each hall; ``python -m city`` prints them, or serves a page and a JSON list. (A hall's
kiosks get their neighbours' summaries through the hall's own bridge instead, under
``lobby/<hall>/state/summary/<neighbour>``: see city.broker.)

    python -m city --broker HOST:PORT --credentials city/credentials.toml [--service A]
                        [--once] [--json] [--web 127.0.0.1:8090] [--near h1,h2]
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from protocol import messages as m
from protocol.link import BrokerSettings, LinkError, Received, SyncClient
from protocol.topics import CityTopics

log = logging.getLogger(__name__)

OVERVIEW_USER = "overview"


@dataclass(frozen=True, slots=True)
class HallEntry:
    """What the city knows of one hall: its latest summary, when it came, its bridge."""

    hall: str
    summary: m.HallSummary | None = None
    received: float = 0.0  # epoch seconds
    bridge_up: bool | None = None

    @property
    def lag_s(self) -> float | None:
        """From the hall's publish (the summary's ``at``) to its arrival here."""
        return None if self.summary is None else self.received - self.summary.at.timestamp()

    def wait_for(self, service: str | None) -> float | None:
        """Estimated wait in minutes for a service here, or the longest known of all (None:
        the hall lacks it; infinite: not yet known, no window serves it now)."""
        if self.summary is None:
            return None
        found = [s.estimated_wait_min for s in self.summary.services
                 if service is None or s.service == service]
        if not found:
            return None
        known = [w for w in found if w is not None]
        if not known:
            return math.inf
        return min(known) if service is not None else max(known)


def ranking(entries: Iterable[HallEntry], service: str | None = None,
            only: Iterable[str] | None = None) -> list[HallEntry]:
    """Halls with a summary, shortest wait first (for ``service``, or their longest one)."""
    wanted = set(only) if only is not None else None
    usable = [e for e in entries if e.summary is not None and e.wait_for(service) is not None
              and (wanted is None or e.hall in wanted)]
    return sorted(usable, key=lambda e: (e.wait_for(service), e.hall))


def entry_json(entry: HallEntry) -> dict[str, Any]:
    summary = entry.summary
    return {"hall": entry.hall, "bridge_up": entry.bridge_up,
            "summary": None if summary is None else summary.model_dump(mode="json"),
            "age_s": None if summary is None else round(time.time() - entry.received, 1)}


class CityOverview:
    """One MQTT 5 subscriber to the city broker; keeps the latest state of every hall."""

    def __init__(self, broker: BrokerSettings, client_id: str | None = None,
                 on_update: Callable[[HallEntry], None] | None = None) -> None:
        self.broker = broker
        self.on_update = on_update
        self._halls: dict[str, HallEntry] = {}
        self._lock = threading.Lock()
        self._arrived = threading.Condition()
        self.rejected = 0  # messages that were not a valid summary
        self._client = SyncClient(
            broker, client_id=client_id or f"overview-{uuid.uuid4().hex[:8]}",
            follow=[CityTopics.all_summaries, CityTopics.all_bridges],
            on_message=self._on_message)

    def start(self, wait: float = 10.0) -> None:
        """Connect (and keep reconnecting); wait up to ``wait`` s for the first connection."""
        self._client.timeout = wait
        try:
            reason = self._client.connect(retry=True)
        except LinkError as exc:
            raise ConnectionError(
                f"no city broker at {self.broker.host}:{self.broker.port}") from exc
        if reason.is_failure:
            raise ConnectionError(f"the city broker refused the overview: {reason}")

    def stop(self) -> None:
        self._client.close()

    @property
    def connected(self) -> bool:
        return self._client.connected

    def settle(self, quiet: float = 0.3, limit: float = 3.0) -> None:
        """Wait until nothing came for ``quiet`` s (the retained burst is in), at most ``limit``."""
        deadline = time.monotonic() + limit
        with self._arrived:
            while time.monotonic() < deadline:
                if not self._arrived.wait(min(quiet, deadline - time.monotonic())):
                    return

    def wait_until(self, ready: Callable[[dict[str, HallEntry]], bool], timeout: float) -> bool:
        """Block until ``ready(halls by id)`` holds (True) or ``timeout`` passes (False)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: ready(self._by_hall()), timeout)

    def _by_hall(self) -> dict[str, HallEntry]:
        with self._lock:
            return dict(self._halls)

    def halls(self) -> list[HallEntry]:
        with self._lock:
            return sorted(self._halls.values(), key=lambda e: e.hall)

    def get(self, hall: str) -> HallEntry | None:
        with self._lock:
            return self._halls.get(hall)

    def _on_message(self, msg: Received) -> None:
        received = time.time()
        parsed = CityTopics.parse(msg.topic)
        if parsed is None or not msg.payload:
            return
        hall, kind = parsed
        with self._lock:
            entry = self._halls.get(hall, HallEntry(hall))
            if kind == "bridge":
                entry = replace(entry, bridge_up=msg.payload.strip() == b"1")
            else:
                try:
                    summary = m.decode(m.HallSummary, msg.payload)
                except m.PayloadError as exc:
                    self.rejected += 1
                    log.warning("bad summary from %s: %s", hall, exc)
                    return
                if summary.hall != hall:
                    self.rejected += 1
                    log.warning("summary on %s claims hall %s", msg.topic, summary.hall)
                    return
                entry = replace(entry, summary=summary, received=received)
            self._halls[hall] = entry
        with self._arrived:
            self._arrived.notify_all()
        if self.on_update is not None:
            self.on_update(entry)


# ---------------------------------------------------------------- text and page
def table_text(entries: list[HallEntry], service: str | None) -> str:
    """The overview as a plain-text table, shortest wait first."""
    what = f"service {service}" if service else "longest service"
    lines = [f"{'hall':<24} {'wait (min, ' + what + ')':>28} {'open':>5} {'waiting':>8} "
             f"{'issued':>7} {'bridge':>7}"]
    for e in ranking(entries, service):
        s = e.summary
        assert s is not None
        bridge = {True: "up", False: "DOWN", None: "?"}[e.bridge_up]
        wait = e.wait_for(service)
        shown = "not yet known" if wait is None or math.isinf(wait) else f"{wait:.1f}"
        lines.append(f"{e.hall:<24} {shown:>28} {s.counters_open:>5} "
                     f"{sum(x.waiting for x in s.services):>8} {s.issued_today:>7} {bridge:>7}")
    return "\n".join(lines)
