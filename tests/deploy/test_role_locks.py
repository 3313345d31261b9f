"""Per-role installs: each Pi role's extra in pyproject.toml and its lock file
requirements/ROLE.txt (written by scripts/lock). Every locked file has its hash; every
requirement of the role is pinned in its lock at a version it allows; a display gets no
aiohttp, escpos, pyusb or mypy; a fresh resolution gives the same files."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
ROLES = ("hall", "kiosk", "caller", "display")
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
PI = {"platform_machine": "aarch64", "sys_platform": "linux", "python_version": "3.11",
      "platform_system": "Linux", "os_name": "posix", "implementation_name": "cpython",
      "platform_python_implementation": "CPython", "python_full_version": "3.11.2"}


def role_requirements(extra: str) -> list[Requirement]:
    """The base dependencies and the extra's, the project's own extras expanded."""
    found = [Requirement(r) for r in PROJECT["dependencies"]]
    todo = [extra]
    while todo:
        for text in PROJECT["optional-dependencies"][todo.pop()]:
            requirement = Requirement(text)
            if canonicalize_name(requirement.name) == canonicalize_name(PROJECT["name"]):
                todo.extend(requirement.extras)
            else:
                found.append(requirement)
    return found


def lock_entries(role: str) -> dict[str, tuple[str, str, list[str]]]:
    """name -> (version, marker, hashes) of requirements/ROLE.txt."""
    text = (ROOT / f"requirements/{role}.txt").read_text(encoding="utf-8")
    entries = {}
    for block in re.split(r"\n(?=[A-Za-z])", text.split("\n", 2)[2]):
        head = block.split("\\", 1)[0].strip()
        if not head or head.startswith("#"):
            continue
        spec, _, marker = head.partition(";")
        name, _, version = spec.strip().partition("==")
        entries[canonicalize_name(name)] = (version, marker.strip(),
                                            re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return entries


def on_pi(role: str) -> dict[str, str]:
    """What the lock installs on a Pi: name -> version, markers evaluated for aarch64 Linux."""
    return {name: version for name, (version, marker, _) in lock_entries(role).items()
            if not marker or Marker(marker).evaluate(PI)}


@pytest.mark.parametrize("role", ROLES)
def test_every_locked_package_is_pinned_with_its_hashes(role: str) -> None:
    entries = lock_entries(role)
    assert len(entries) > 5
    for name, (version, _, hashes) in entries.items():
        assert re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", version), (name, version)
        assert hashes, f"requirements/{role}.txt: {name} has no --hash"


@pytest.mark.parametrize("role", ROLES)
def test_every_requirement_of_the_role_is_locked_at_a_version_it_allows(role: str) -> None:
    locked = on_pi(role)
    for requirement in role_requirements(role):
        if requirement.marker is not None and not requirement.marker.evaluate(PI):
            continue
        name = canonicalize_name(requirement.name)
        assert name in locked, f"requirements/{role}.txt lacks {requirement}: run scripts/lock"
        assert requirement.specifier.contains(locked[name], prereleases=True), \
            f"requirements/{role}.txt pins {name}=={locked[name]}, outside {requirement}"
    assert "setuptools" in locked  # the installer builds the project without isolation


@pytest.mark.parametrize(("role", "absent", "present"), [
    ("display", {"aiohttp", "python-escpos", "pyusb", "mypy", "gpiozero", "aiosqlite"},
     {"kivy", "paho-mqtt", "pydantic"}),
    ("caller", {"aiohttp", "kivy", "python-escpos", "pyusb", "mypy"},
     {"gpiozero", "lgpio", "pyserial"}),
    ("kiosk", {"aiohttp", "mypy", "gpiozero", "aiosqlite"},
     {"kivy", "python-escpos", "pyusb", "pyserial", "pillow", "qrcode"}),
    ("hall", {"kivy", "python-escpos", "pyusb", "gpiozero"}, {"aiohttp", "aiosqlite", "mypy"}),
])
def test_each_role_gets_only_what_it_runs(role: str, absent: set[str], present: set[str]) -> None:
    locked = on_pi(role)
    assert not absent & locked.keys(), absent & locked.keys()
    assert present <= locked.keys(), present - locked.keys()


def test_escpos_stays_on_3_1_with_usb_and_serial_and_lgpio_only_on_the_pi() -> None:
    kiosk = on_pi("kiosk")
    assert re.fullmatch(r"3\.1(\.\d+)?", kiosk["python-escpos"])
    requirement = next(r for r in role_requirements("kiosk") if r.name == "python-escpos")
    assert requirement.extras == {"usb", "serial"}
    assert not requirement.specifier.contains("3.2")
    _, marker, _ = lock_entries("caller")["lgpio"]
    assert Marker(marker).evaluate(PI)
    assert not Marker(marker).evaluate({**PI, "platform_machine": "x86_64"})


def test_a_fresh_resolution_gives_the_same_lock_files() -> None:
    done = subprocess.run([str(ROOT / "scripts/lock"), "--check"], capture_output=True,
                          text=True, timeout=300, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("is current") == len(ROLES)


@pytest.mark.parametrize(("role", "example", "not_there"), [
    ("caller", "caller-3.toml", "aiohttp"),
    ("display", "display-lobby.toml", "escpos"),
])
def test_a_venv_of_exactly_the_lock_runs_the_role(tmp_path: Path, role: str, example: str,
                                                  not_there: str) -> None:
    """As ./install makes it: a venv of the role's lock alone (hash-checked, no resolving),
    in which the role's app checks its example config, and another role's library is absent."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin/python")
    done = subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--require-hashes",
                           "-r", str(ROOT / f"requirements/{role}.txt")], capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    config = tmp_path / example
    config.write_text((ROOT / "examples" / example).read_text(encoding="utf-8"))
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    done = subprocess.run([python, "-m", role, "--config", str(config), "--validate-config"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    absent = subprocess.run([python, "-c", f"import {not_there}"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert f"No module named '{not_there}'" in absent.stderr
