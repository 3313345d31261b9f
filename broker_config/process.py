"""Mosquitto as a child process on a generated config, for the simulated hall and the tests.

``MosquittoProcess`` writes the hall's broker config into a directory, starts
``mosquitto -c`` on free ports (or given ones) and returns only once the broker accepts
the controller's login. Its log goes to ``DIR/mosquitto.log``.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import pwd
import random
import shutil
import socket
import subprocess
import time
import uuid
from collections import deque
from pathlib import Path
from types import TracebackType

from broker_config.errors import AccountError, BrokerStartError, MosquittoMissing
from broker_config.generate import BrokerFiles, BrokerOptions, generate
from hallconfig import HallConfig
from protocol.link import Ack, BrokerSettings, NotConnected, SyncClient
from protocol.topics import CONTROLLER_ID

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
LOG_NAME = "mosquitto.log"
_SBIN = "/usr/sbin:/usr/local/sbin"
_POLL_S = 0.02
FREE_PORTS_FROM = 20000  # free_port() picks from here up to the outgoing range


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port nothing listens on right now, below the kernel's range for outgoing
    connections: a port the OS hands out itself can be taken by any client's connection
    (a link to the broker, say) before the listener binds it."""
    low = _ephemeral_low()
    for _ in range(200):
        port = random.randrange(FREE_PORTS_FROM, low)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:  # all taken: the OS's
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _ephemeral_low(path: Path = Path("/proc/sys/net/ipv4/ip_local_port_range")) -> int:
    """The lowest port the kernel gives outgoing connections (32768 if unknown)."""
    try:
        low = int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768
    return low if low > FREE_PORTS_FROM + 1000 else 32768


def find_mosquitto(executable: str = "mosquitto") -> str:
    """The broker binary's path; Debian puts it in /usr/sbin, often off a user's PATH."""
    found = shutil.which(executable) or shutil.which(executable, path=_SBIN)
    if found is None:
        raise MosquittoMissing(
            f"{executable!r} not found: install it with apt-get install mosquitto")
    return found


def _check_port_free(host: str, port: int) -> None:
    """Refuse to start next to another listener, which a readiness probe could mistake for ours."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise BrokerStartError(f"port {port} on {host} is already in use") from exc
            raise


def login_answer(port: int, user: str, password: str, deadline: float) -> Ack | None:
    """The broker's answer to one MQTT 5 login on loopback; None while nothing answers."""
    probe = SyncClient(BrokerSettings(host=LOOPBACK, port=port, username=user,
                                      password=password, keepalive=10),
                       client_id=f"probe-{uuid.uuid4().hex[:12]}",
                       timeout=max(_POLL_S, deadline - time.monotonic()))
    try:
        answer = probe.connect()
    except NotConnected:
        return None
    probe.close()
    return answer


class ChildBroker:
    """Mosquitto as a child process on a generated config: started until a login succeeds,
    stopped, killed, and its log's tail for error messages. Subclasses say which login."""

    name = "mosquitto"

    def __init__(self, executable: str, log_path: Path) -> None:
        self.executable = executable
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM (Mosquitto then saves its persistence file) and wait; SIGKILL if it hangs."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s %s ignored SIGTERM for %s s; killing it", self.name, process.pid,
                        timeout)
            process.kill()
            process.wait()

    def kill(self) -> None:
        """SIGKILL, as a power cut would: nothing is saved since the last autosave."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the broker's log, for error messages and failing tests."""
        try:
            with self.log_path.open(encoding="utf-8", errors="replace") as text:
                return "".join(deque(text, maxlen=lines))
        except FileNotFoundError:
            return "(no log yet)"

    def _login(self) -> tuple[int, str, str]:
        """The port, user and password whose login shows the broker is ready."""
        raise NotImplementedError

    def _launch(self, conf: Path, timeout: float) -> None:
        """Start ``mosquitto -c conf`` and return once the readiness login succeeds."""
        with self.log_path.open("ab") as log_file:
            self._process = subprocess.Popen(
                [self.executable, "-c", str(conf)],
                stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT)
        process = self._process
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                self._process = None
                raise BrokerStartError(f"{self.name} exited with status "
                                       f"{process.returncode}:\n{self.log_tail()}")
            if self._accepts_login(deadline):
                return
            if time.monotonic() >= deadline:
                self.kill()
                raise BrokerStartError(f"{self.name} did not accept a login on port "
                                       f"{self._login()[0]} within {timeout} s:\n"
                                       f"{self.log_tail()}")
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(_POLL_S)  # a poll interval that also notices an early exit

    def _accepts_login(self, deadline: float) -> bool:
        """One MQTT 5 login: True on success, False if nothing listens yet."""
        port, user, password = self._login()
        answer = login_answer(port, user, password, deadline)
        if answer is not None and answer.is_failure:
            self.kill()
            raise BrokerStartError(f"{self.name} refused {user}'s login ({answer}):\n"
                                   f"{self.log_tail()}")
        return answer is not None


class MosquittoProcess(ChildBroker):
    """One hall's broker as a child process: start, stop, kill and restart on the same ports."""

    def __init__(self, config: HallConfig, directory: str | Path, *,
                 local_port: int | None = None, lan_port: int | None = None,
                 lan_bind: str = LOOPBACK, tls_cert: Path | None = None,
                 tls_key: Path | None = None, tls_ca: Path | None = None,
                 run_as: str | None = None, executable: str = "mosquitto") -> None:
        self.directory = Path(directory)
        super().__init__(find_mosquitto(executable), self.directory / LOG_NAME)
        self.local_port = local_port or free_port()
        self.lan_port = lan_port or free_port()
        while self.lan_port == self.local_port:
            self.lan_port = free_port()
        self.lan_bind = lan_bind
        self.tls_ca = tls_ca or tls_cert  # a self-signed certificate is its own CA
        run_as = run_as or pwd.getpwuid(os.geteuid()).pw_name  # root stays root by default
        options = BrokerOptions(self.local_port, self.lan_port, lan_bind, tls_cert, tls_key,
                                run_as=run_as)
        self.files: BrokerFiles = generate(config, self.directory, options)
        self.credentials: dict[str, str] = {
            name: cred.password for name, cred in self.files.credentials.items()}

    def start(self, timeout: float = 10.0) -> None:
        """Start mosquitto and return once it accepts the controller's login."""
        if self.running:
            return
        _check_port_free(LOOPBACK, self.local_port)
        _check_port_free(self.lan_bind, self.lan_port)
        self._launch(self.files.conf, timeout)
        log.info("mosquitto %s up: local port %s, LAN port %s, log %s",
                 self.pid, self.local_port, self.lan_port, self.log_path)

    def restart(self, timeout: float = 10.0) -> None:
        """Stop (if running) and start again on the same ports with the same accounts."""
        self.stop()
        self.start(timeout)

    def broker_settings(self, user: str, *, lan: bool = False) -> BrokerSettings:
        """How ``user`` reaches this broker: the local listener, or the LAN one (with TLS)."""
        if user not in self.credentials:
            raise AccountError(f"no broker account {user!r}; accounts: {sorted(self.credentials)}")
        tls_ca = str(self.tls_ca) if lan and self.tls_ca else None
        port = self.lan_port if lan else self.local_port
        return BrokerSettings(host=LOOPBACK, port=port, username=user,
                              password=self.credentials[user], tls_ca=tls_ca)

    def __enter__(self) -> MosquittoProcess:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _login(self) -> tuple[int, str, str]:
        return self.local_port, CONTROLLER_ID, self.credentials[CONTROLLER_ID]
