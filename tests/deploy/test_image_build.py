"""``images/build --dry-run``: every step of a role's image, with the commands it would run,
and nothing changed; bad arguments named with exit 2. (A real build runs emulated for well
over an hour: docs/operators-guide.md, section 10.1.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "images/build"
HALL = ROOT / "examples/hall.toml"


def build(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BUILD), *args], capture_output=True, text=True, timeout=120,
                          check=False)


def steps(out: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    current = ""
    for line in out.splitlines():
        if line.startswith("== "):
            current = line.split(" ", 2)[2]
            found[current] = []
        elif current:
            found[current].append(line.strip())
    return found


def step(out: str, title: str) -> list[str]:
    for head, lines in steps(out).items():
        if head.startswith(title):
            return [head, *lines]
    raise AssertionError(f"no step {title!r} in:\n{out}")


def test_dry_run_of_a_display_lists_every_step(tmp_path: Path) -> None:
    out_file, work = tmp_path / "display.img", tmp_path / "work"
    done = build("--role", "display", "--hall", str(HALL), "--out", str(out_file),
                 "--work", str(work), "--dry-run")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert [head.split(":")[0] for head in steps(out)] == [
        "host", "root file system", "system", "project", "install", "first boot", "clean",
        "image", "check"]
    assert out.count("\n== ") == 9 and "== 9/9 check" in out
    assert not out_file.exists() and not work.exists()

    root = step(out, "root file system")
    mmdebstrap = next(line for line in root if line.startswith("would run: nice -n 19 mmdeb"))
    assert "--arch=arm64" in mmdebstrap and " bookworm " in mmdebstrap
    packages = set(mmdebstrap.split("--include=")[1].split()[0].split(","))
    assert {"linux-image-arm64", "raspi-firmware", "espeak-ng", "python3-venv",
            "openssh-server", "libnss-mdns"} <= packages
    assert "mosquitto" not in packages and "gcc" not in packages  # the hall's, not a display's

    system = "\n".join(step(out, "system"))
    assert "time zone Asia/Shanghai" in system  # the hall's [hall] timezone
    assert "ROOTPART=LABEL=RASPIROOT" in system and "z50-raspi-firmware" in system
    assert "/opt/lobby/install --role display" in "\n".join(step(out, "install"))
    first = "\n".join(step(out, "first boot"))
    for needle in ("lobby-firstboot.service", "after-firstboot.conf", "etc/lobby/image.toml",
                   "etc/lobby/firstboot-pending", "systemctl enable lobby-firstboot.service"):
        assert needle in first, needle
    image = "\n".join(step(out, "image"))
    for needle in ("sfdisk", "losetup", "mkfs.vfat -F 32 -n RASPIFIRM", "mcopy -s",
                   "mkfs.ext4 -q -L RASPIROOT", f"{out_file}"):
        assert needle in image, needle
    assert f"images/check {out_file} --role display" in "\n".join(step(out, "check"))


def test_dry_run_of_the_hall_installs_its_config_and_ships_no_secret(tmp_path: Path) -> None:
    done = build("--role", "hall", "--hall", str(HALL), "--work", str(tmp_path / "w"),
                 "--out", str(tmp_path / "hall.img"), "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "--hall-config /root/hall.toml" in "\n".join(step(done.stdout, "install"))
    first = "\n".join(step(done.stdout, "first boot"))
    assert "etc/lobby/tls" in first and "etc/lobby/credentials -mindepth 1 -delete" in first


@pytest.mark.parametrize(("args", "message"), [
    ([], "give --role"),
    (["--role", "printer"], "unknown role 'printer'"),
    (["--role", "kiosk"], "give --hall HALL.toml"),
    (["--role", "kiosk", "--hall", "/nonexistent.toml"], "--hall /nonexistent.toml: no such"),
    (["--role", "kiosk", "--hall", str(HALL), "--colour"], "unknown option '--colour'"),
])
def test_bad_arguments_are_named_with_exit_2(args: list[str], message: str) -> None:
    done = build(*args, "--dry-run")
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stdout == ""


def test_a_hall_file_without_a_hall_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "hall.toml"
    bad.write_text('journal = "x"\n')
    done = build("--role", "kiosk", "--hall", str(bad), "--dry-run")
    assert done.returncode == 2
    assert f"{bad}: no [hall] id" in done.stderr
