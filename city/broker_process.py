"""The city broker as a child process, for tests, the bench and a demo on one machine."""

from __future__ import annotations

import logging
import os
import pwd
from collections.abc import Mapping, Sequence
from pathlib import Path

from broker_config.errors import AccountError
from broker_config.process import LOOPBACK, ChildBroker, find_mosquitto, free_port
from city.broker import CityFiles, CityOptions, bridge_user, generate_city
from city.overview import OVERVIEW_USER
from protocol.link import BrokerSettings

log = logging.getLogger(__name__)


class CityBroker(ChildBroker):
    """Mosquitto with the city's generated config, on a loopback port; restartable."""

    name = "city mosquitto"

    def __init__(self, halls: list[str], directory: str | Path, port: int | None = None,
                 options: CityOptions | None = None,
                 nearby: Mapping[str, Sequence[str]] | None = None) -> None:
        self.directory = Path(directory)
        super().__init__(find_mosquitto(), self.directory / "mosquitto.log")
        self.port = port or free_port()
        base = options or CityOptions()
        run_as = base.run_as or pwd.getpwuid(os.geteuid()).pw_name  # as MosquittoProcess does
        self.options = CityOptions(self.port, LOOPBACK, base.tls_cert, base.tls_key, run_as,
                                   base.max_queued_messages, base.max_queued_bytes)
        self.files: CityFiles = generate_city(halls, self.directory, self.options, nearby)

    def settings(self, user: str) -> BrokerSettings:
        """How an account (``overview`` or ``bridge-<hall>``) logs in here."""
        credential = self.files.credentials.get(user)
        if credential is None:
            raise AccountError(f"no city account {user!r}")
        return BrokerSettings(host=LOOPBACK, port=self.port, username=user,
                              password=credential.password)

    def bridge_password(self, hall: str) -> str:
        return self.files.credentials[bridge_user(hall)].password

    def start(self, timeout: float = 10.0) -> None:
        """Start mosquitto and return once it accepts the overview's login."""
        if self.running:
            return
        self._launch(self.files.conf, timeout)
        log.info("city broker up on port %s", self.port)

    def _login(self) -> tuple[int, str, str]:
        return self.port, OVERVIEW_USER, self.settings(OVERVIEW_USER).password or ""
