"""A hall for fault benchmarks: a real Mosquitto and ``python -m hall`` as child processes
that can be killed, stopped (SIGSTOP) and resumed, the journal optionally on a small tmpfs,
and the controller optionally on a clock that starts at a given local time."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from broker_config.process import MosquittoProcess
from demo.hallfiles import EXAMPLE_HALL, write_hall_config
from hallconfig import load_hall_config

ROOT = Path(__file__).resolve().parents[1]
HALL = "tianping"
EXTRA_DEVICES = ("kiosk-3", "kiosk")  # a third kiosk, for the benchmarks' own scripted clients


def hall_source(directory: Path) -> Path:
    """examples/hall.toml without daily quotas, plus a third kiosk: written to ``directory``."""
    lines = [line for line in EXAMPLE_HALL.read_text(encoding="utf-8").splitlines()
             if not line.startswith("daily_quota")]
    device, role = EXTRA_DEVICES
    lines += ["", "[[devices]]", f'id = "{device}"', f'role = "{role}"', ""]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "bench-hall.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


class ControllerChild:
    """``python -m hall`` (or the clocked launcher) as a child process."""

    def __init__(self, config: Path, log: Path, clock: tuple[datetime, float, float] | None):
        self.config = config
        self.log = log
        self.clock = clock  # (local start, real epoch of that start, speed)
        self.process: subprocess.Popen[bytes] | None = None

    def argv(self) -> list[str]:
        if self.clock is None:
            return [sys.executable, "-m", "hall", "--config", str(self.config),
                    "--log-level", "WARNING"]
        start, anchor, speed = self.clock
        return [sys.executable, "-m", "bench.clocked_hall", "--start", start.isoformat(),
                "--anchor", repr(anchor), "--speed", repr(speed), "--",
                "--config", str(self.config), "--log-level", "WARNING"]

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.argv(), cwd=ROOT, stdout=out,
                                            stderr=subprocess.STDOUT,
                                            env={**os.environ, "PYTHONPATH": str(ROOT)})

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive:
            assert self.process is not None
            self.process.send_signal(sig)

    def kill(self) -> None:
        if self.alive:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if not self.alive:
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)  # a stopped process cannot act on SIGTERM
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Rig:
    """Broker, controller and their files, under one work directory."""

    workdir: Path
    broker: MosquittoProcess
    controller: ControllerChild
    hall_dir: Path
    tmpfs: bool = False

    @property
    def journal(self) -> Path:
        return self.hall_dir / "journal.sqlite3"

    @property
    def log(self) -> Path:
        return self.controller.log

    def close(self) -> None:
        self.controller.stop()
        self.broker.stop()
        if self.tmpfs:
            unmount(self.hall_dir)


def make_rig(workdir: Path, *, tmpfs_mb: int = 0,
             clock: tuple[datetime, float, float] | None = None) -> Rig:
    """Start a broker and a controller for the benchmark hall in ``workdir``."""
    source = hall_source(workdir)
    broker = MosquittoProcess(load_hall_config(source), workdir / "broker")
    broker.start()
    hall_dir = workdir / "hall"
    try:
        if tmpfs_mb:
            mount_tmpfs(hall_dir, tmpfs_mb)
        config = write_hall_config(hall_dir, broker, source=source, all_day=True)
    except BaseException:
        broker.stop()
        if tmpfs_mb:
            unmount(hall_dir)
        raise
    controller = ControllerChild(config, workdir / "controller.log", clock)
    controller.start()
    return Rig(workdir, broker, controller, hall_dir, tmpfs=bool(tmpfs_mb))


def mount_tmpfs(directory: Path, size_mb: int) -> None:
    """A tmpfs of ``size_mb`` MiB on ``directory`` (needs root)."""
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "bench-journal",
                    str(directory)], check=True, capture_output=True)


def unmount(directory: Path) -> None:
    for _ in range(20):  # the controller may take a moment to let go of its files
        if subprocess.run(["umount", str(directory)], capture_output=True).returncode == 0:
            return
        time.sleep(0.1)


def fill(directory: Path) -> Path:
    """Fill the file system of ``directory`` to the last byte; returns the filler file."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as out:
        for size in (1 << 20, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    out.write(b"\0" * size)
    return filler


def mount_allowed() -> bool:
    """Whether this process may mount a tmpfs (root, in a container that lets it)."""
    if os.geteuid() != 0:
        return False
    with tempfile.TemporaryDirectory(prefix="lobby-mount-") as tmp:
        try:
            mount_tmpfs(Path(tmp), 1)
        except (OSError, subprocess.CalledProcessError):
            return False
        unmount(Path(tmp))
    return True
