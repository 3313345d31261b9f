"""The demo hall's nearby centres (全市通办): a city broker on loopback, the hall broker's
bridge to it, and a summary from each simulated neighbour every few seconds, published on the
city broker as the neighbour's own bridge would. The hall's kiosks follow them like real ones.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from broker_config.process import MosquittoProcess
from city.broker import BridgeOptions, add_bridge, bridge_block, bridge_user
from city.broker_process import CityBroker
from hallconfig import HallConfig
from protocol import messages as m
from protocol.link import NotConnected, SyncClient
from protocol.topics import CityTopics

log = logging.getLogger(__name__)

PERIOD_S = 5.0  # real seconds between a neighbour's summaries
WINDOWS_EACH = 5  # windows serving each service at once, for the neighbours' estimates
MOST_WAITING = 15
NAMES = {"xujiahui": ("徐家汇街道", "Xujiahui Subdistrict"),
         "hunanlu": ("湖南路街道", "Hunan Road Subdistrict")}
SUFFIX = ("社区事务受理服务中心", " Community Affairs Acceptance Centre")


class NearbyCentres:
    """The city broker and the simulated centres of the demo hall's ``[city] nearby`` list."""

    def __init__(self, hall: HallConfig, directory: Path, rng: random.Random) -> None:
        self.hall = hall
        self.nearby = list(hall.city.nearby)
        self.city = CityBroker([hall.hall.id, *self.nearby], directory,
                               nearby={hall.hall.id: self.nearby})
        self.rng = rng
        self.tz = ZoneInfo(hall.hall.timezone)
        self.waiting = {n: {s.id: rng.randint(0, MOST_WAITING // 2) for s in hall.services}
                        for n in self.nearby}

    def start(self, broker: MosquittoProcess) -> None:
        """Start the city broker; bridge the hall broker to it (call before that one starts)."""
        self.city.start()
        hall = self.hall.hall.id
        add_bridge(broker.files.conf, bridge_block(hall, BridgeOptions(
            "127.0.0.1", self.city.port, self.city.bridge_password(hall), restart_s=(1, 5)),
            self.nearby))

    def stop(self) -> None:
        self.city.stop()

    async def run(self) -> None:
        """Publish every neighbour's summary each PERIOD_S seconds, its queues drifting."""
        clients = {n: await asyncio.to_thread(self._connect, n) for n in self.nearby}
        try:
            while True:
                for neighbour, client in clients.items():
                    self._drift(neighbour)
                    client.send(CityTopics.summary(neighbour), m.encode(self.summary(neighbour)),
                                retain=True)
                await asyncio.sleep(PERIOD_S)
        finally:
            for client in clients.values():
                client.close()

    def summary(self, neighbour: str) -> m.HallSummary:
        """What the neighbour's controller would publish now: its queues, nothing personal."""
        name, name_en = NAMES.get(neighbour, (neighbour, neighbour.title()))
        waiting = self.waiting[neighbour]
        return m.HallSummary(
            hall=neighbour, name=name + SUFFIX[0], name_en=name_en + SUFFIX[1],
            at=datetime.now(self.tz), counters_open=9, issued_today=0, served_today=0,
            services=[m.ServiceSummary(service=s.id, name=s.name, waiting=waiting[s.id],
                                       estimated_wait_min=round(waiting[s.id] * s.mean_minutes
                                                                / WINDOWS_EACH, 1))
                      for s in self.hall.services])

    def _drift(self, neighbour: str) -> None:
        queues = self.waiting[neighbour]
        for service, now in queues.items():
            queues[service] = min(MOST_WAITING, max(0, now + self.rng.choice((-1, 0, 1))))

    def _connect(self, neighbour: str) -> SyncClient:
        client = SyncClient(self.city.settings(bridge_user(neighbour)),
                            client_id=f"demo-{neighbour}", keepalive=60)
        reason = client.connect()
        if reason.is_failure:
            raise NotConnected(f"the city broker refused {neighbour}: {reason}")
        log.info("simulating nearby centre %s on the city broker", neighbour)
        return client
