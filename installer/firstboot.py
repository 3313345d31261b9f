"""A flashed image's first boot: this device's settings from the boot partition, then gone.

    python3 -m installer.firstboot [--boot /boot/firmware] [--etc /etc/lobby]
                                   [--install /opt/lobby/install] [--ssh /root/.ssh]
    python3 -m installer.firstboot --grow-root     # the root partition and file system to
                                                   # the end of the card (the unit, first)

Run by lobby-firstboot.service (images/build puts it in every image) while
``ETC/firstboot-pending`` exists. The image says its role and hall in ``ETC/image.toml``. On
the boot partition (FAT: any card reader writes it), the folder ``lobby/`` holds:

- ``*.toml``: one file, the settings ``python -m broker_config.provision add`` printed for this
  device (a device role needs it; the hall needs none);
- ``ca.crt``: the hall's CA certificate (devices, when the broker speaks TLS);
- ``hall-secret``: the hall secret (kiosks);
- ``authorized_keys``: SSH keys for root (optional).

They are handed to ``./install --role ROLE`` (which validates them and starts the app), then
overwritten and deleted, and the pending mark goes. If the install fails, everything stays
for the next boot. A device with no settings yet waits (exit 0, still pending).
Standard library only: it runs with the system python3.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

FOLDER = "lobby"
PENDING = "firstboot-pending"
DEVICE_ROLES = ("kiosk", "caller", "display")


class FirstBootError(RuntimeError):
    """Settings that cannot be installed; the message says why."""


@dataclass(frozen=True)
class Found:
    """What the boot partition's lobby/ folder holds for the installer."""

    settings: Path | None
    ca: Path | None
    hall_secret: Path | None
    authorized_keys: Path | None

    def files(self) -> list[Path]:
        return [p for p in (self.settings, self.ca, self.hall_secret, self.authorized_keys) if p]


def image_info(etc: Path) -> tuple[str, str]:
    """(role, hall id) the image was built for."""
    try:
        info = tomllib.loads((etc / "image.toml").read_text(encoding="utf-8"))
        return str(info["role"]), str(info["hall"])
    except (OSError, tomllib.TOMLDecodeError, KeyError) as exc:
        raise FirstBootError(f"{etc / 'image.toml'}: no role and hall ({exc})") from exc


def find(folder: Path) -> Found:
    if not folder.is_dir():
        return Found(None, None, None, None)
    tomls = sorted(folder.glob("*.toml"))
    if len(tomls) > 1:
        raise FirstBootError(f"{folder}: one settings file please, found "
                             f"{', '.join(p.name for p in tomls)}")

    def present(name: str) -> Path | None:
        return folder / name if (folder / name).is_file() else None

    return Found(tomls[0] if tomls else None, present("ca.crt"), present("hall-secret"),
                 present("authorized_keys"))


def check_settings(path: Path, role: str, hall: str) -> None:
    """The settings are this hall's, for a device of this image's role."""
    try:
        settings = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise FirstBootError(f"{path}: not a settings file ({exc})") from exc
    device = settings.get("device", {})
    if device.get("hall") != hall:
        raise FirstBootError(f"{path}: settings of hall {device.get('hall')!r}, but this image "
                             f"is for hall {hall!r}")
    if not isinstance(settings.get("broker", {}).get("password"), str):
        raise FirstBootError(f"{path}: no [broker] password (print it with "
                             "python -m broker_config.provision add)")
    if (role == "caller") != ("counter" in settings):
        raise FirstBootError(f"{path}: {'no' if role == 'caller' else 'a'} [counter] section: "
                             f"settings for another role than this image's {role}")


def install_command(install: Path, role: str, found: Found) -> list[str]:
    command = [str(install), "--role", role]
    for option, path in (("--settings", found.settings), ("--ca", found.ca),
                         ("--hall-secret", found.hall_secret if role == "kiosk" else None)):
        if path is not None:
            command += [option, str(path)]
    return command


def wipe(path: Path) -> None:
    """Overwrite the file with zeros, then delete it."""
    size = path.stat().st_size
    with path.open("r+b") as file:
        file.write(b"\0" * size)
        file.flush()
        os.fsync(file.fileno())
    path.unlink()


def authorize(keys: Path, ssh: Path) -> None:
    ssh.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = ssh / "authorized_keys"
    old = target.read_text(encoding="utf-8") if target.exists() else ""
    new = [k for k in keys.read_text(encoding="utf-8").splitlines() if k and k not in old]
    with target.open("a", encoding="utf-8") as file:
        file.write("".join(f"{k}\n" for k in new))
    target.chmod(0o600)


def first_boot(boot: Path, etc: Path, install: Path, ssh: Path) -> int:
    if not (etc / PENDING).exists():
        log.info("nothing to do: %s is gone", etc / PENDING)
        return 0
    role, hall = image_info(etc)
    folder = boot / FOLDER
    found = find(folder)
    if role in DEVICE_ROLES and found.settings is None:
        log.warning("waiting for this %s's settings: put the file broker_config.provision add "
                    "printed into %s/ (with ca.crt%s), then reboot", role, folder,
                    ", hall-secret" if role == "kiosk" else "")
        return 0
    if found.settings is not None:
        check_settings(found.settings, role, hall)
    command = install_command(install, role, found)
    log.info("installing: %s", " ".join(command))
    done = subprocess.run(command, env={**os.environ, "LOBBY_FIRSTBOOT": "1"}, check=False)
    if done.returncode != 0:
        log.error("the install failed (exit %d): %s stays for the next boot", done.returncode,
                  folder)
        return done.returncode
    if found.authorized_keys is not None:
        authorize(found.authorized_keys, ssh)
    for path in found.files():
        wipe(path)
        log.info("removed %s", path)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
    (etc / PENDING).unlink()
    return 0


def grow_root() -> None:
    """Grow the root partition to the end of its disk, then its ext4 (growpart, resize2fs):
    an image is only as large as what it holds."""
    source = subprocess.run(["findmnt", "-n", "-o", "SOURCE", "/"], capture_output=True,
                            text=True, check=True).stdout.strip()
    name = Path(source).resolve().name
    number = (Path("/sys/class/block") / name / "partition").read_text().strip()
    disk = subprocess.run(["lsblk", "-n", "-o", "PKNAME", source], capture_output=True,
                          text=True, check=True).stdout.strip()
    grown = subprocess.run(["growpart", f"/dev/{disk}", number], capture_output=True, text=True,
                           check=False)
    if grown.returncode not in (0, 1):  # 1: NOCHANGE, already grown
        raise FirstBootError(f"growpart /dev/{disk} {number}: {grown.stdout}{grown.stderr}")
    subprocess.run(["resize2fs", source], check=True)
    log.info("root %s grown to the end of /dev/%s", source, disk)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="install this device's settings from the "
                                     "boot partition, then delete them")
    parser.add_argument("--boot", type=Path, default=Path("/boot/firmware"))
    parser.add_argument("--etc", type=Path, default=Path("/etc/lobby"))
    parser.add_argument("--install", type=Path, default=Path("/opt/lobby/install"))
    parser.add_argument("--ssh", type=Path, default=Path("/root/.ssh"))
    parser.add_argument("--grow-root", action="store_true",
                        help="only grow the root file system to the end of the card")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="firstboot: %(message)s")
    try:
        if args.grow_root:
            grow_root()
            return 0
        return first_boot(args.boot, args.etc, args.install, args.ssh)
    except (FirstBootError, subprocess.CalledProcessError, OSError) as exc:
        log.error("%s", exc)
        return 2


if __name__ == "__main__":
    sys.exit(main())
