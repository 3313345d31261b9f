"""``python -m hall`` as systemd runs it: a wrong broker password ends it with a message
naming the account, and SIGTERM stops it whatever it is doing (starting or running)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.broker import connect
from support.hall import write_hall_config

from broker_config.process import LOOPBACK, MosquittoProcess
from protocol import messages as m
from protocol.topics import CONTROLLER_ID, HallTopics

ROOT = Path(__file__).resolve().parents[2]
EXIT_S = 15.0  # the bound the issue sets; systemd's stop timeout is longer
STOP_S = 5.0


def controller_process(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "hall", "--config", str(config)],
                                cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=out)


@pytest.fixture
def stopped_after() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes the test started: killed if the test left them running."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def wait_for_line(process: subprocess.Popen[bytes], log: Path, text: str) -> None:
    """Wait until the controller's log holds ``text`` (it says nothing else we could wait on)."""
    deadline = time.monotonic() + EXIT_S
    while text not in log.read_text(encoding="utf-8", errors="replace"):
        assert process.poll() is None, log.read_text(encoding="utf-8", errors="replace")
        assert time.monotonic() < deadline, f"no {text!r} in the log within {EXIT_S} s"
        time.sleep(0.02)


def terminated(process: subprocess.Popen[bytes], log: Path) -> int:
    """SIGTERM, then its exit status; fails if it is still running after STOP_S."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(STOP_S)
    except subprocess.TimeoutExpired:
        raise AssertionError("the controller ignored SIGTERM for "
                             f"{STOP_S} s:\n{log.read_text(errors='replace')}") from None


def test_a_wrong_broker_password_ends_the_controller_naming_the_account(
        fresh_broker: MosquittoProcess, tmp_path: Path) -> None:
    config = write_hall_config(tmp_path / "hall", fresh_broker)
    (tmp_path / "hall" / "broker-password").write_text("not-the-password\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "hall", "--config", str(config)], cwd=ROOT,
                          capture_output=True, text=True, timeout=EXIT_S)
    assert done.returncode == 3, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("cannot run the hall: "), done.stderr
    assert "refused account 'controller'" in last


@pytest.mark.parametrize("broker", ["gone", "silent"])
def test_sigterm_stops_a_controller_waiting_for_its_broker(
        fresh_broker: MosquittoProcess, tmp_path: Path, broker: str,
        stopped_after: list[subprocess.Popen[bytes]]) -> None:
    """No broker listening, or one that takes the connection and never answers it."""
    config = write_hall_config(tmp_path / "hall", fresh_broker)
    fresh_broker.stop()
    with socket.create_server((LOOPBACK, 0)) as silent:  # listens; never accepts or answers
        if broker == "silent":
            text = config.read_text(encoding="utf-8")
            port = f"port = {fresh_broker.local_port}\n"
            assert text.count(port) == 1
            config.write_text(text.replace(port, f"port = {silent.getsockname()[1]}\n"),
                              encoding="utf-8")
        log = tmp_path / "controller.log"
        process = controller_process(config, log)
        stopped_after.append(process)
        wait_for_line(process, log, " loaded: ")  # the journal is open; the link is trying
        assert terminated(process, log) == 0
    assert "stopped while starting" in log.read_text(encoding="utf-8")


def test_sigterm_stops_a_running_controller(
        fresh_broker: MosquittoProcess, tmp_path: Path,
        stopped_after: list[subprocess.Popen[bytes]]) -> None:
    config = write_hall_config(tmp_path / "hall", fresh_broker)
    presence = HallTopics("tianping").presence(CONTROLLER_ID)
    online = m.encode(m.Presence(state=m.PresenceState.ONLINE, role=m.Role.CONTROLLER))
    stopped = m.encode(m.Presence(state=m.PresenceState.STOPPED, role=m.Role.CONTROLLER))
    watcher = connect(fresh_broker.broker_settings("display-lobby"), timeout=EXIT_S)
    try:
        watcher.subscribe(presence)
        log = tmp_path / "controller.log"
        process = controller_process(config, log)
        stopped_after.append(process)
        watcher.wait_message(presence, online)
        assert terminated(process, log) == 0
        watcher.wait_message(presence, stopped)  # said goodbye: no last will fired
    finally:
        watcher.close()
