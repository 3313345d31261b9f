"""An image's first boot (installer/firstboot.py, run by the system python3 as the unit does):
the settings on the boot partition are handed to the installer, then overwritten and deleted;
a failed install or settings of another hall leave them for the next boot; a device with no
settings waits. The installer is a stand-in that records what it was given and copies the
files it was pointed at, to show they were there when it ran."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "images/firstboot/lobby-firstboot.service"
SETTINGS = ('# Settings for kiosk-3 (kiosk) of hall tianping\n[device]\nid = "kiosk-3"\n'
            'hall = "{hall}"\n\n[broker]\nhost = "lobby-hall.local"\nport = 8883\n'
            'username = "kiosk-3"\npassword = "s3cret-password"\n'
            'tls_ca = "/etc/lobby/broker-ca.crt"\n')
STAND_IN = """#!/usr/bin/env python3
import json, pathlib, shutil, sys
record = pathlib.Path(sys.argv[0]).parent
args = sys.argv[1:]
copied = {}
for i, arg in enumerate(args[:-1]):
    if arg in ("--settings", "--ca", "--hall-secret"):
        copied[arg] = pathlib.Path(args[i + 1]).read_text()
(record / "called.json").write_text(json.dumps({"args": args, "files": copied}))
sys.exit(int((record / "exit").read_text()) if (record / "exit").exists() else 0)
"""


@pytest.fixture
def card(tmp_path: Path) -> dict[str, Path]:
    """A boot partition with a kiosk's files, /etc/lobby of a kiosk image, the stand-in."""
    boot, etc, bin_dir = tmp_path / "boot", tmp_path / "etc", tmp_path / "bin"
    lobby = boot / "lobby"
    lobby.mkdir(parents=True)
    (lobby / "kiosk-3.toml").write_text(SETTINGS.format(hall="tianping"))
    (lobby / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n")
    (lobby / "hall-secret").write_text("0123456789abcdef0123456789abcdef\n")
    (lobby / "authorized_keys").write_text("ssh-ed25519 AAAAC3Nza admin@laptop\n")
    etc.mkdir()
    (etc / "image.toml").write_text('role = "kiosk"\nhall = "tianping"\n')
    (etc / "firstboot-pending").write_text("")
    bin_dir.mkdir()
    install = bin_dir / "install"
    install.write_text(STAND_IN)
    install.chmod(0o755)
    return {"boot": boot, "lobby": lobby, "etc": etc, "install": install, "bin": bin_dir,
            "ssh": tmp_path / "ssh"}


def first_boot(card: dict[str, Path]) -> subprocess.CompletedProcess[str]:
    python = shutil.which("python3", path="/usr/bin") or sys.executable  # as the unit runs it
    return subprocess.run(
        [python, "-m", "installer.firstboot", "--boot", str(card["boot"]), "--etc",
         str(card["etc"]), "--install", str(card["install"]), "--ssh", str(card["ssh"])],
        capture_output=True, text=True, timeout=60, check=False, cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"})


def called(card: dict[str, Path]) -> dict[str, object] | None:
    record = card["bin"] / "called.json"
    return json.loads(record.read_text()) if record.exists() else None


def test_settings_are_installed_then_deleted(card: dict[str, Path]) -> None:
    lobby = card["lobby"]
    done = first_boot(card)
    assert done.returncode == 0, done.stderr
    call = called(card)
    assert call is not None
    assert call["args"] == ["--role", "kiosk", "--settings", str(lobby / "kiosk-3.toml"),
                            "--ca", str(lobby / "ca.crt"),
                            "--hall-secret", str(lobby / "hall-secret")]
    assert "s3cret-password" in call["files"]["--settings"]  # type: ignore[index]
    assert call["files"]["--hall-secret"].startswith("0123")  # type: ignore[index]
    assert not lobby.exists()  # every file gone, then the folder
    assert not (card["etc"] / "firstboot-pending").exists()
    assert (card["ssh"] / "authorized_keys").read_text() == "ssh-ed25519 AAAAC3Nza admin@laptop\n"
    assert (card["ssh"] / "authorized_keys").stat().st_mode & 0o777 == 0o600
    assert "s3cret-password" not in done.stdout + done.stderr
    again = first_boot(card)  # the next boot: nothing left to do
    assert again.returncode == 0 and "nothing to do" in again.stderr


def test_a_failed_install_leaves_everything_for_the_next_boot(card: dict[str, Path]) -> None:
    (card["bin"] / "exit").write_text("2")
    before = sorted(p.name for p in card["lobby"].iterdir())
    done = first_boot(card)
    assert done.returncode == 2
    assert "the install failed (exit 2)" in done.stderr
    assert sorted(p.name for p in card["lobby"].iterdir()) == before
    assert (card["etc"] / "firstboot-pending").exists()
    assert not (card["ssh"] / "authorized_keys").exists()


def test_settings_of_another_hall_are_refused_before_any_install(card: dict[str, Path]) -> None:
    (card["lobby"] / "kiosk-3.toml").write_text(SETTINGS.format(hall="xuhui"))
    done = first_boot(card)
    assert done.returncode == 2
    assert "settings of hall 'xuhui', but this image is for hall 'tianping'" in done.stderr
    assert called(card) is None
    assert (card["lobby"] / "kiosk-3.toml").exists()


def test_a_callers_image_refuses_a_kiosks_settings(card: dict[str, Path]) -> None:
    (card["etc"] / "image.toml").write_text('role = "caller"\nhall = "tianping"\n')
    done = first_boot(card)
    assert done.returncode == 2
    assert "no [counter] section" in done.stderr
    assert called(card) is None


def test_two_settings_files_are_refused(card: dict[str, Path]) -> None:
    (card["lobby"] / "kiosk-4.toml").write_text(SETTINGS.format(hall="tianping"))
    done = first_boot(card)
    assert done.returncode == 2
    assert "one settings file please, found kiosk-3.toml, kiosk-4.toml" in done.stderr


def test_a_device_without_settings_waits(card: dict[str, Path]) -> None:
    shutil.rmtree(card["lobby"])
    done = first_boot(card)
    assert done.returncode == 0
    assert "waiting for this kiosk's settings" in done.stderr
    assert called(card) is None
    assert (card["etc"] / "firstboot-pending").exists()


def test_the_hall_installs_with_nothing_on_the_boot_partition(card: dict[str, Path]) -> None:
    shutil.rmtree(card["lobby"])
    (card["etc"] / "image.toml").write_text('role = "hall"\nhall = "tianping"\n')
    done = first_boot(card)
    assert done.returncode == 0, done.stderr
    assert called(card) == {"args": ["--role", "hall"], "files": {}}
    assert not (card["etc"] / "firstboot-pending").exists()


def test_the_unit_runs_it_once_per_pending_first_boot() -> None:
    unit = UNIT.read_text(encoding="utf-8")
    assert "ConditionPathExists=/etc/lobby/firstboot-pending" in unit
    assert "ExecStart=/usr/bin/python3 -m installer.firstboot" in unit
    assert "WorkingDirectory=/opt/lobby" in unit and "Type=oneshot" in unit
    drop_in = (ROOT / "images/firstboot/after-firstboot.conf").read_text(encoding="utf-8")
    assert "After=lobby-firstboot.service" in drop_in
    assert "ConditionPathExists=!/etc/lobby/firstboot-pending" in drop_in


def test_systemd_verifies_the_unit_and_the_drop_in(tmp_path: Path) -> None:
    """``systemd-analyze verify`` says nothing (it warns on stderr only) about the unit, nor
    about the display's unit with the image's drop-in."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: apt-get install systemd"
    root = tmp_path / "root"
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    for merged in ("lib", "bin", "sbin"):
        (root / "usr" / merged).mkdir(exist_ok=True)
        (root / merged).symlink_to(f"usr/{merged}")
    etc = root / "etc/systemd/system"
    (etc / "lobby-display.service.d").mkdir(parents=True)
    shutil.copy(UNIT, etc / UNIT.name)
    shutil.copy(ROOT / "systemd/lobby-display.service", etc)
    shutil.copy(ROOT / "images/firstboot/after-firstboot.conf", etc / "lobby-display.service.d")
    for command in ("usr/bin/python3", "usr/bin/ssh-keygen", "opt/lobby/.venv/bin/python"):
        stub = root / command
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text("#!/bin/sh\n")
        stub.chmod(0o755)
    for unit in (UNIT.name, "lobby-display.service"):
        done = subprocess.run([analyze, "verify", f"--root={root}", unit], capture_output=True,
                              text=True, timeout=60, check=False)
        assert (done.returncode, done.stderr) == (0, ""), (unit, done.stderr)
