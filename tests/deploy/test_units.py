"""The systemd units, checked by systemd itself: ``systemd-analyze verify`` must say nothing
at all (it exits 0 even on unknown keys and bad values, and only warns on stderr), and
``systemd-analyze security --offline=true`` must score the hall controller at 5.0 or better.

The units are verified inside a throwaway root: the host's unit directory copied in (so
targets and mosquitto.service resolve), ours in its /etc/systemd/system, and an executable
stand-in for every command they start that only exists once installed (/opt/lobby/.venv).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS_DIR = ROOT / "systemd"
ROLES = ("hall", "kiosk", "caller", "display")
UNITS = [*(f"lobby-{role}.service" for role in ROLES), "lobby-web.service"]
DROP_IN = UNITS_DIR / "mosquitto.service.d" / "lobby.conf"
HOST_UNITS = Path("/usr/lib/systemd/system")
VENV_PYTHON = "/opt/lobby/.venv/bin/python"
EXEC_RE = re.compile(r"^Exec\w+=[-@:+!]*(/\S+)", re.MULTILINE)


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    assert found, "systemd-analyze is missing: apt-get install systemd (scripts/bootstrap does)"
    return found


def _stub(root: Path, command: str) -> None:
    path = root / command.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)


@pytest.fixture
def unit_root(tmp_path: Path) -> Path:
    """A root with the host's units, ours installed, and stand-ins for their commands."""
    root = tmp_path / "root"
    shutil.copytree(HOST_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    for merged in ("lib", "bin", "sbin"):  # Debian's merged /usr
        (root / "usr" / merged).mkdir(exist_ok=True)
        (root / merged).symlink_to(f"usr/{merged}")
    etc = root / "etc/systemd/system"
    etc.mkdir(parents=True)
    for unit in UNITS:
        shutil.copy(UNITS_DIR / unit, etc / unit)
    (etc / "mosquitto.service.d").mkdir()
    shutil.copy(DROP_IN, etc / "mosquitto.service.d" / DROP_IN.name)
    _stub(root, VENV_PYTHON)
    mosquitto = HOST_UNITS / "mosquitto.service"
    assert mosquitto.is_file(), "mosquitto is not installed: apt-get install mosquitto"
    ours = [(UNITS_DIR / unit).read_text() for unit in UNITS]
    for text in (mosquitto.read_text(), DROP_IN.read_text(), *ours):
        for command in EXEC_RE.findall(text):
            if command != VENV_PYTHON:
                assert Path(command).exists(), f"{command} does not exist on this machine"
                _stub(root, command)
    return root


def analyze(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([systemd_analyze(), *args, f"--root={root}"], capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.mark.parametrize("unit", [*UNITS, "mosquitto.service"])
def test_verify_says_nothing(unit_root: Path, unit: str) -> None:
    done = analyze(unit_root, "verify", unit)
    assert done.stderr == "", done.stderr
    assert done.returncode == 0


def test_verify_would_catch_a_mistake(unit_root: Path) -> None:
    """The check has teeth: a misspelt key in the hall unit is reported."""
    unit = unit_root / "etc/systemd/system/lobby-hall.service"
    unit.write_text(unit.read_text().replace("ProtectSystem=", "ProtectSytem="))
    done = analyze(unit_root, "verify", "lobby-hall.service")
    assert "ProtectSytem" in done.stderr


def exposure(root: Path, unit: str) -> float:
    done = analyze(root, "security", "--offline=true", unit)
    assert done.returncode == 0, done.stderr
    found = re.search(rf"Overall exposure level for {re.escape(unit)}: (\d+\.\d+)", done.stdout)
    assert found, done.stdout[-500:]
    return float(found.group(1))


def test_hall_controller_scores_5_or_better(unit_root: Path) -> None:
    assert exposure(unit_root, "lobby-hall.service") <= 5.0


@pytest.mark.parametrize("unit", UNITS[1:])
def test_device_units_are_hardened_too(unit_root: Path, unit: str) -> None:
    assert exposure(unit_root, unit) <= 5.0


@pytest.mark.parametrize("role", ROLES)
def test_each_unit_runs_its_role_supervised(role: str) -> None:
    text = (UNITS_DIR / f"lobby-{role}.service").read_text()
    assert f"ExecStart={VENV_PYTHON} -m {role} --config /etc/lobby/{role}.toml\n" in text
    assert (ROOT / role / "__main__.py").is_file()
    for line in ("Type=notify", "WatchdogSec=30", "Restart=on-failure", "User=lobby",
                 "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
                 "StateDirectory=lobby",
                 "LoadCredential=broker-password:/etc/lobby/credentials/broker-password"):
        assert f"\n{line}\n" in text, f"lobby-{role}.service lacks {line}"


def test_the_web_service_is_a_reader_of_its_own() -> None:
    """The web service runs as its own user, with the journal's directory read-only, its own
    state directory and broker credential, and room for its event streams."""
    text = (UNITS_DIR / "lobby-web.service").read_text()
    assert f"ExecStart={VENV_PYTHON} -m web --config /etc/lobby/hall.toml\n" in text
    for line in ("Type=notify", "WatchdogSec=30", "Restart=on-failure", "User=lobby-web",
                 "SupplementaryGroups=lobby", "ReadOnlyPaths=/var/lib/lobby",
                 "StateDirectory=lobby-web", "NoNewPrivileges=yes", "ProtectSystem=strict",
                 "LoadCredential=broker-password:/etc/lobby/credentials/web-broker-password"):
        assert f"\n{line}\n" in text, f"lobby-web.service lacks {line}"
    limit = re.search(r"^LimitNOFILE=(\d+)$", text, re.MULTILINE)
    assert limit is not None and int(limit.group(1)) >= 2000 + 50 + 256  # the default caps
    nice = re.search(r"^Nice=(\d+)$", text, re.MULTILINE)  # yields the CPU to the writer
    assert nice is not None and int(nice.group(1)) > 0


def setting(unit: str, name: str) -> int:
    """The one value a unit (or drop-in) of systemd/ gives ``name``."""
    found = re.findall(rf"^{name}=(-?\d+)$", (UNITS_DIR / unit).read_text(), re.MULTILINE)
    assert len(found) == 1, f"{unit}: {name}= {found}"
    return int(found[0])


def test_the_writer_and_the_broker_answer_first() -> None:
    """Every command waits for the writer and the broker: both run above the default CPU
    priority, the same one, and the web service below it; by cgroup weight (each service in
    its own group: the kernel's autogroups would make Nice= between services moot) and by
    nice (processes sharing a group, as in bench.readers)."""
    writer, broker = "lobby-hall.service", "mosquitto.service.d/lobby.conf"
    web = "lobby-web.service"
    assert setting(writer, "CPUWeight") == setting(broker, "CPUWeight") > 100  # the default
    assert setting(web, "CPUWeight") < 100
    assert setting(writer, "Nice") == setting(broker, "Nice") < 0 < setting(web, "Nice")


CHRT_RE = re.compile(r"^ExecStartPost=([-+]*)(/\S*chrt .*) \$MAINPID$", re.MULTILINE)


def realtime(unit: str) -> list[str]:
    """The unit's command that puts its main process in a real-time class, checked to run
    as root (+) with a refusal ignored (-): the service starts either way."""
    found: list[tuple[str, str]] = CHRT_RE.findall((UNITS_DIR / unit).read_text())
    assert len(found) == 1, f"{unit}: {found}"
    prefix, command = found[0]
    assert sorted(prefix) == ["+", "-"], f"{unit}: ExecStartPost={prefix}"
    return command.split()


def test_the_writer_and_the_broker_take_the_cpu_at_once() -> None:
    """Both run in the same round-robin class, only their main thread (reset on fork); the
    web service and the devices stay in the ordinary one."""
    writer, broker = "lobby-hall.service", "mosquitto.service.d/lobby.conf"
    assert realtime(writer) == realtime(broker)
    assert {"--rr", "--reset-on-fork", "--pid"} <= set(realtime(writer))
    for unit in set(UNITS) - {writer}:
        assert not CHRT_RE.search((UNITS_DIR / unit).read_text()), unit


_THREADS = """
import os, sys, threading, subprocess
sys.stdin.readline()  # the unit's chrt has run
seen = {}
thread = threading.Thread(target=lambda: seen.update(thread=os.sched_getscheduler(0)))
thread.start(); thread.join()
child = subprocess.run([sys.executable, "-c", "import os; print(os.sched_getscheduler(0))"],
                       capture_output=True, text=True, check=True)
print(os.sched_getscheduler(0) & ~os.SCHED_RESET_ON_FORK, seen["thread"], child.stdout.strip())
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="a real-time class needs root, as systemd's +")
def test_only_the_main_thread_becomes_real_time() -> None:
    """The hall unit's own chrt command, run on a live process as systemd would once it is
    up: its main thread (the controller's event loop) turns round-robin; a thread or a
    process it starts afterwards (a backup, a journal thread) is an ordinary one."""
    process = subprocess.Popen([sys.executable, "-c", _THREADS], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        subprocess.run([*realtime("lobby-hall.service"), str(process.pid)], check=True,
                       timeout=10)
        out, _ = process.communicate("go\n", timeout=30)
    finally:
        process.kill()
        process.wait()
    main, thread, child = map(int, out.split())
    assert (main, thread, child) == (os.SCHED_RR, os.SCHED_OTHER, os.SCHED_OTHER)
