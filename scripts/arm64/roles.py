"""What scripts/arm64-check does for each role: the settings it installs with, the packages
that must stay out of its venv, and its pure tests (run from /opt/lobby, as installed)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Test tools, added to a role's venv only after its installed set was compared with its lock.
TEST_TOOLS = ["pytest>=8", "pytest-asyncio>=0.23", "pytest-timeout>=2.3"]
# What a root needs beyond the installer's packages: useradd (passwd) and the host name; and
# what the kiosk's ticket tests read a printed ticket back with (tesseract's OCR, zbarimg).
EXTRA_PACKAGES = ["passwd", "hostname", "procps", "tesseract-ocr", "tesseract-ocr-chi-sim",
                  "zbar-tools"]
PROTOCOL_TESTS = ["tests/core/test_topics.py"]


def _settings(root: Path, role: str, device: str, extra: str = "") -> str:
    """A provisioned device's settings file (as broker_config.provision add prints it)."""
    path = root / f"root/{device}.toml"
    path.write_text(f'[device]\nid = "{device}"\nhall = "tianping"\n\n[broker]\n'
                    f'host = "lobby-hall.local"\nport = 1883\nusername = "{device}"\n'
                    f'password = "arm64-check-only"\n{extra}', encoding="utf-8")
    return f"--settings /root/{device}.toml"


def _hall(root: Path) -> str:
    return ""


def _kiosk(root: Path) -> str:
    secret = root / "root/hall-secret"
    secret.write_text("arm64-check-hall-secret-0123456789abcdef\n", encoding="utf-8")
    return _settings(root, "kiosk", "kiosk-1") + " --hall-secret /root/hall-secret"


def _caller(root: Path) -> str:
    return _settings(root, "caller", "caller-3", '\n[counter]\nid = "3"\n')


def _display(root: Path) -> str:
    return _settings(root, "display", "display-lobby")


@dataclass(frozen=True)
class Role:
    setup: Callable[[Path], str]  # writes what it needs into the root; the install's options
    absent: tuple[str, ...]  # packages its venv must not hold
    tests: tuple[str, ...]
    test_deps: tuple[str, ...] = ()  # what its tests' fixtures import beyond the role's set
    # Tests left out under emulation, each with why (in the JSON line, never counted as passed).
    deselected: tuple[tuple[str, str], ...] = ()


# Longest first: with --jobs 2, the shorter two start as the longer two end.
ROLES: dict[str, Role] = {
    "hall": Role(_hall, ("kivy", "python-escpos", "pyusb", "gpiozero"), (
        "tests/engine/test_projection.py", "tests/engine/test_projection_compiled.py",
        "tests/engine/test_policy.py", "tests/engine/test_capacity.py",
        "tests/core/test_engine_rules.py", *PROTOCOL_TESTS,
        "tests/core/test_hall_on_broker.py::test_a_day_in_miniature")),
    "kiosk": Role(_kiosk, ("aiohttp", "gpiozero", "mypy"), (
        "tests/kiosk/test_flow.py", "tests/kiosk/test_flow_rules.py",
        "tests/hardware/test_printer_render.py", "tests/hardware/test_printer_escpos.py",
        "tests/hardware/test_printer_simulator.py", "tests/hardware/test_printer_serial.py",
        "tests/hardware/test_idcard_number.py", "tests/hardware/test_idcard_lines.py",
        "tests/hardware/test_idcard_sam.py", *PROTOCOL_TESTS), ("aiosqlite>=0.20",), (
        ("tests/hardware/test_printer_render.py::test_ocr_reads_the_chinese_and_english_lines",
         "tesseract's Chinese model takes longer than the test's 30 s under emulation"),)),
    "display": Role(_display, ("aiohttp", "python-escpos", "pyusb", "gpiozero", "mypy"), (
        "tests/display/test_voice_pack.py", "tests/display/test_voice_phrase.py",
        "tests/display/test_model.py", *PROTOCOL_TESTS)),
    "caller": Role(_caller, ("aiohttp", "kivy", "python-escpos", "pyusb", "mypy"), (
        "tests/hardware/test_gpio_keypad.py", "tests/hardware/test_gpio_signals.py",
        "tests/hardware/test_gpio_evaluator.py", "tests/hardware/test_gpio_config.py",
        "tests/caller/test_caller_session.py", *PROTOCOL_TESTS)),
}


def test_command(role: str) -> str:
    """The role's tests inside its root, as bash: test tools into the venv, then pytest."""
    spec = ROLES[role]
    tools = " ".join(f"'{t}'" for t in (*TEST_TOOLS, *spec.test_deps))
    deselect = "".join(f" --deselect {test}" for test, _ in spec.deselected)
    return (f"cd /opt/lobby && .venv/bin/pip install -q {tools} && "
            f".venv/bin/python -m pytest -q -p no:cacheprovider --timeout=900{deselect} "
            f"--junitxml=/tmp/lobby-tests.xml {' '.join(spec.tests)}")


def base_packages(project: Path) -> list[str]:
    """Every Debian package the installer names for any role (from its dry runs)."""
    packages = set(EXTRA_PACKAGES)
    for role in ROLES:
        out = subprocess.run([str(project / "install"), "--role", role, "--dry-run"],
                             capture_output=True, text=True, check=True).stdout
        head = next(line for line in out.splitlines() if line.startswith("== 1/"))
        packages.update(head.split("packages:", 1)[1].split())
    return sorted(packages)
