"""The city broker as a child process, for tests, the bench and a demo on one machine."""

from __future__ import annotations

import logging
import os
import pwd
import subprocess
import time
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path

from broker_config.city import CityFiles, CityOptions, bridge_user, generate_city
from broker_config.errors import AccountError, BrokerStartError
from broker_config.process import (
    LOOPBACK,
    find_mosquitto,
    free_port,
    kill_child,
    login_answer,
    stop_child,
)
from hall.city import OVERVIEW_USER
from protocol.link import BrokerSettings

log = logging.getLogger(__name__)

_POLL_S = 0.02


class CityBroker:
    """Mosquitto with the city's generated config, on a loopback port; restartable."""

    def __init__(self, halls: list[str], directory: str | Path, port: int | None = None,
                 options: CityOptions | None = None,
                 nearby: Mapping[str, Sequence[str]] | None = None) -> None:
        self.executable = find_mosquitto()
        self.directory = Path(directory)
        self.port = port or free_port()
        base = options or CityOptions()
        run_as = base.run_as or pwd.getpwuid(os.geteuid()).pw_name  # as MosquittoProcess does
        self.options = CityOptions(self.port, LOOPBACK, base.tls_cert, base.tls_key, run_as,
                                   base.max_queued_messages, base.max_queued_bytes)
        self.files: CityFiles = generate_city(halls, self.directory, self.options, nearby)
        self.log_path = self.directory / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

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
        with self.log_path.open("ab") as log_file:
            self._process = subprocess.Popen([self.executable, "-c", str(self.files.conf)],
                                             stdin=subprocess.DEVNULL, stdout=log_file,
                                             stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not self._accepts_login(deadline):
            if self._process.poll() is not None:
                self._process = None
                raise BrokerStartError(f"city mosquitto exited:\n{self.log_tail()}")
            if time.monotonic() >= deadline:
                self.kill()
                raise BrokerStartError(f"city mosquitto not ready in {timeout} s:\n"
                                       f"{self.log_tail()}")
            time.sleep(_POLL_S)  # polling a port that is not open yet: nothing to wait on
        log.info("city broker up on port %s", self.port)

    def stop(self, timeout: float = 5.0) -> None:
        process, self._process = self._process, None
        stop_child(process, timeout)

    def kill(self) -> None:
        process, self._process = self._process, None
        kill_child(process)

    def log_tail(self, lines: int = 30) -> str:
        try:
            with self.log_path.open(encoding="utf-8", errors="replace") as text:
                return "".join(deque(text, maxlen=lines))
        except FileNotFoundError:
            return "(no log yet)"

    def _accepts_login(self, deadline: float) -> bool:
        settings = self.settings(OVERVIEW_USER)
        answer = login_answer(self.port, OVERVIEW_USER, settings.password or "", deadline)
        if answer is not None and answer.is_failure:
            self.kill()
            raise BrokerStartError(f"city mosquitto refused the overview ({answer})")
        return answer is not None
