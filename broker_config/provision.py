"""Add, list and remove a hall's devices: the hall config, the broker's accounts and ACL, and
the settings file a new device needs.

    (with C = --config /etc/lobby/hall.toml)
    python -m broker_config.provision add C --role kiosk --id kiosk-3
    python -m broker_config.provision add C --role caller --counter 5 --id caller-5
    python -m broker_config.provision add C --role display --id display-lobby-2
    python -m broker_config.provision list C
    python -m broker_config.provision remove C --id kiosk-3
    python -m broker_config.provision sync C    # after editing it by hand
    python -m broker_config.provision rotate-secret C --out DIR  # a kiosk lost

The hall config is edited as text (a ``[[devices]]`` block is appended or cut out), so its
comments and layout stay; the whole file is validated afterwards and put back if it fails.
The broker's files are then regenerated with the options they were first written with, so
every other account keeps its password. Under systemd, Mosquitto then reloads (SIGHUP re-reads
passwd and acl) and a running controller restarts, since it reads its devices at start.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from broker_config.credentials import (
    Credential,
    read_credentials,
    render_credentials,
    write_atomic,
)
from broker_config.errors import BrokerConfigError
from broker_config.generate import (
    CONF_NAME,
    CREDENTIALS_NAME,
    BrokerFiles,
    BrokerOptions,
    generate,
)
from hallconfig import (
    ConfigError,
    Device,
    HallConfig,
    load_hall_config,
    load_secret,
    staff_card_hash,
)
from protocol.messages import Role
from protocol.topics import CONTROLLER_ID

log = logging.getLogger(__name__)

BROKER_DIR_NAME = "broker"  # next to the hall config: /etc/lobby/broker
DEVICE_ROLES = (Role.KIOSK, Role.CALLER, Role.DISPLAY, Role.MANAGER, Role.UPSTREAM)
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_HEADER_RE = re.compile(r"^\s*\[")
_DEVICE_HEADER_RE = re.compile(r"^\s*\[\[\s*devices\s*\]\]\s*(#.*)?$")


class ProvisionError(ValueError):
    """A device that cannot be added or removed; the message says why."""


@dataclass(frozen=True, slots=True)
class Provisioned:
    """A device as the hall now knows it, with the broker login it was given."""

    device: Device
    credential: Credential


# ------------------------------------------------------------------ the hall config, as text
def device_block(device: Device) -> str:
    """The ``[[devices]]`` block of one device, as it is appended to the hall config."""
    lines = ["[[devices]]", f"id = {json.dumps(device.id)}", f"role = {json.dumps(device.role)}"]
    if device.counter is not None:
        lines.append(f"counter = {json.dumps(device.counter)}")
    return "\n".join(lines) + "\n"


def _write_like(path: Path, text: str, like: os.stat_result) -> None:
    """Replace the file atomically, keeping its mode and (as root) its owner and group:
    the controller reads /etc/lobby/hall.toml through its group."""
    write_atomic(path, text, like.st_mode & 0o777)
    if os.geteuid() == 0:
        os.chown(path, like.st_uid, like.st_gid)


def _rewrite_checked(path: Path, text: str) -> HallConfig:
    """Write ``text`` to the hall config and validate it; put the old text back if it fails."""
    before, like = path.read_text(encoding="utf-8"), path.stat()
    _write_like(path, text, like)
    try:
        return load_hall_config(path)
    except ConfigError:
        _write_like(path, before, like)
        raise


def append_device(path: Path, device: Device) -> HallConfig:
    """Append ``device`` to the hall config file and return the validated new config."""
    text = path.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        text += "\n"
    return _rewrite_checked(path, text + "\n" + device_block(device))


def _block_spans(lines: list[str]) -> list[tuple[int, int]]:
    """(start, end) line ranges of every ``[[devices]]`` block, header included."""
    spans = []
    for start, line in enumerate(lines):
        if _DEVICE_HEADER_RE.match(line):
            end = start + 1
            while end < len(lines) and not _HEADER_RE.match(lines[end]):
                end += 1
            spans.append((start, end))
    return spans


def cut_device(path: Path, device_id: str) -> HallConfig:
    """Remove the ``[[devices]]`` block of ``device_id`` and return the validated new config."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    id_line = re.compile(rf"^\s*id\s*=\s*[\"']{re.escape(device_id)}[\"']\s*(#.*)?$")
    for start, end in _block_spans(lines):
        if any(id_line.match(line) for line in lines[start:end]):
            while start > 0 and not lines[start - 1].strip():
                start -= 1  # the blank lines that separated it from the block before
            return _rewrite_checked(path, "".join(lines[:start] + lines[end:]))
    raise ProvisionError(f"{path}: no [[devices]] block with id = {device_id!r}")


# ------------------------------------------------------------------ the broker's files
def broker_options(conf: Path) -> BrokerOptions:
    """The options a generated mosquitto.conf was written with, read back from it."""
    try:
        text = conf.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ProvisionError(f"{conf}: no broker config yet; run python -m "
                             f"broker_config.generate first (./install --role hall does)") from exc
    listeners: list[tuple[int, str]] = []
    found: dict[str, str] = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) == 3 and words[0] == "listener":
            listeners.append((int(words[1]), words[2]))
        elif len(words) == 2 and words[0] in ("user", "persistence_location", "certfile",
                                              "keyfile"):
            found[words[0]] = words[1]
    if len(listeners) != 2 or "persistence_location" not in found:
        raise ProvisionError(f"{conf}: not written by broker_config.generate (listeners or "
                             "persistence_location missing)")
    (local_port, _), (lan_port, lan_bind) = listeners
    cert, key = found.get("certfile"), found.get("keyfile")
    return BrokerOptions(local_port=local_port, lan_port=lan_port, lan_bind=lan_bind,
                         tls_cert=Path(cert) if cert else None, tls_key=Path(key) if key else None,
                         state_dir=Path(found["persistence_location"].rstrip("/")),
                         run_as=found.get("user", "mosquitto"))


def regenerate(config: HallConfig, broker_dir: Path) -> BrokerFiles:
    """Write the broker's files again for ``config``, with the options they already had."""
    return generate(config, broker_dir, broker_options(broker_dir / CONF_NAME))


def reload_services() -> list[str]:
    """Under systemd: reload Mosquitto (SIGHUP re-reads passwd and acl) and restart a running
    controller (it reads its device list at start); say what happened."""
    if not Path("/run/systemd/system").is_dir():
        return ["not under systemd: send the broker SIGHUP and restart the controller"]
    said = []
    for unit, verb, done in (("mosquitto", "reload", "the new accounts are live"),
                             ("lobby-hall", "restart", "the controller knows the device")):
        if _systemctl("is-active", "--quiet", unit) != 0:
            said.append(f"{unit} is not running: it picks the change up when it starts")
        elif _systemctl(verb, unit) != 0:
            said.append(f"systemctl {verb} {unit} failed: run it by hand")
        else:
            said.append(f"systemctl {verb} {unit}: {done}")
    return said


def _systemctl(*words: str) -> int:
    return subprocess.run(["systemctl", *words], check=False, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode


# ------------------------------------------------------------------ what the device gets
@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """How devices on the hall's network reach the broker."""

    host: str
    port: int
    tls_ca: str | None = None


def lan_address(options: BrokerOptions, host: str | None = None) -> BrokerAddress:
    """The LAN listener devices use; ``host`` defaults to this machine's mDNS name."""
    tls_ca = "/etc/lobby/broker-ca.crt" if options.tls_cert is not None else None
    return BrokerAddress(host or f"{socket.gethostname()}.local", options.lan_port, tls_ca)


def settings_toml(config: HallConfig, device: Device, credential: Credential,
                  address: BrokerAddress) -> str:
    """The device's settings: [device], [broker] and what the hall knows of its place."""
    q = json.dumps
    lines = [
        f"# Settings for {device.id} ({device.role}) of hall {config.hall.id}, written by "
        "python -m broker_config.provision.",
        *_install_hint(device),
        "", "[device]", f"id = {q(device.id)}", f"hall = {q(config.hall.id)}",
        "", "[broker]", f"host = {q(address.host)}", f"port = {address.port}",
        f"username = {q(credential.username)}", f"password = {q(credential.password)}",
    ]
    if address.tls_ca is not None:
        lines.append(f"tls_ca = {q(address.tls_ca)}  # the hall's CA: ./install --ca ca.crt")
    if device.role == Role.CALLER:
        lines += ["", "[counter]", f"id = {q(device.counter)}"]
    elif device.role == Role.DISPLAY and device.counter is not None:
        lines += ["", "[display]", 'mode = "counter"', f"counter = {q(device.counter)}"]
    if device.role == Role.KIOSK:
        lines += ["", "# A kiosk also needs the hall secret: copy the controller's "
                      "/etc/lobby/credentials/hall-secret", "# to the kiosk (./install --role "
                      "kiosk --hall-secret FILE)."]
    return "\n".join(lines) + "\n"


def _install_hint(device: Device) -> list[str]:
    if device.role not in (Role.KIOSK, Role.CALLER, Role.DISPLAY):
        return []
    return [f"# On the device: sudo ./install --role {device.role} --settings THIS_FILE "
            "(the password goes to /etc/lobby/credentials/broker-password)."]


# ------------------------------------------------------------------ add, remove, list
def new_device(config: HallConfig, device_id: str, role: Role, counter: str | None) -> Device:
    """Check that a device can join the hall as given; return it."""
    if not _ID_RE.match(device_id):
        raise ProvisionError(f"id {device_id!r}: use 1-40 letters, digits, '-' or '_'")
    if device_id == CONTROLLER_ID:
        raise ProvisionError(f"id {CONTROLLER_ID!r} is the hall controller's own account")
    if config.device(device_id) is not None:
        raise ProvisionError(f"device {device_id!r} already exists; remove it first")
    if role not in DEVICE_ROLES:
        raise ProvisionError(f"role {role!s} cannot be a device")
    if role == Role.CALLER and counter is None:
        raise ProvisionError("a caller needs --counter: the window it serves")
    if counter is not None and role not in (Role.CALLER, Role.DISPLAY):
        raise ProvisionError(f"a {role} has no counter; leave out --counter")
    if counter is not None and counter not in {c.id for c in config.counters}:
        raise ProvisionError(f"no counter {counter!r} in the hall config")
    return Device(id=device_id, role=role, counter=counter)


def add(config_path: Path, broker_dir: Path, device_id: str, role: Role,
        counter: str | None = None) -> Provisioned:
    """Add a device to the hall config and give it a broker account."""
    device = new_device(load_hall_config(config_path), device_id, role, counter)
    broker_options(broker_dir / CONF_NAME)  # fail before touching the hall config
    with _restored_on_failure(config_path):
        files = regenerate(append_device(config_path, device), broker_dir)
    log.info("device %s (%s) added to %s", device.id, device.role, config_path)
    return Provisioned(device, files.credentials[device.id])


def remove(config_path: Path, broker_dir: Path, device_id: str) -> BrokerFiles:
    """Remove a device from the hall config; its broker account goes with it."""
    if device_id == CONTROLLER_ID:
        raise ProvisionError(f"{CONTROLLER_ID!r} is the hall controller, not a device")
    broker_options(broker_dir / CONF_NAME)
    with _restored_on_failure(config_path):
        files = regenerate(cut_device(config_path, device_id), broker_dir)
    log.info("device %s removed from %s", device_id, config_path)
    return files


@contextlib.contextmanager
def _restored_on_failure(path: Path) -> Iterator[None]:
    """Put the hall config back as it was if the broker's files cannot follow it."""
    before, like = path.read_text(encoding="utf-8"), path.stat()
    try:
        yield
    except (BrokerConfigError, OSError):
        _write_like(path, before, like)
        raise


# ------------------------------------------------------------------ a kiosk lost or stolen
def rotate_secret(config_path: Path, broker_dir: Path, out: Path,
                  host: str | None = None) -> list[Path]:
    """A new hall secret, and new broker passwords for every kiosk (each one's SD card held
    the secret and its password); write into ``out`` the secret and each kiosk's settings,
    to install on the kiosks. Returns the files written."""
    config = load_hall_config(config_path)
    if config.hall.secret_file is None:
        raise ProvisionError(f"{config_path}: hall.secret_file is not set: no secret to rotate")
    secret_path = config_path.parent / config.hall.secret_file
    address = lan_address(broker_options(broker_dir / CONF_NAME), host)  # fail before changing
    kiosks = [d for d in config.devices if d.role == Role.KIOSK]
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    secret = secrets.token_hex(32) + "\n"
    written = [out / "hall-secret"]
    write_atomic(written[0], secret, 0o600)
    if secret_path.exists():
        _write_like(secret_path, secret, secret_path.stat())
    else:
        write_atomic(secret_path, secret, 0o600)
    stored = broker_dir / CREDENTIALS_NAME
    others = [c for c in read_credentials(stored).values()
              if c.username not in {k.id for k in kiosks}]
    write_atomic(stored, render_credentials(config.hall.id, others), 0o600)
    files = regenerate(config, broker_dir)  # the kiosks' accounts get new passwords
    for kiosk in kiosks:
        written.append(out / f"{kiosk.id}.toml")
        write_atomic(written[-1], settings_toml(config, kiosk, files.credentials[kiosk.id],
                                                address), 0o600)
    log.warning("hall secret %s rotated; %d kiosks have new broker passwords", secret_path,
                len(kiosks))
    return written


def _rotated(config_path: Path, written: list[Path]) -> str:
    """What to do after a rotation."""
    config = load_hall_config(config_path)
    carded = [c.staff_no for c in config.clerks if c.card_hash is not None]
    lines = [f"# wrote {path}" for path in written] + [
        "# On every kiosk: sudo ./install --role kiosk --settings KIOSK.toml --hall-secret "
        "hall-secret, then shred -u both files.",
        "# Give the booking system the new secret: it re-sends its bookings of the coming days "
        "(those hashed with the old secret match nobody).",
        "# Today's printed status-page QR codes stop working once the controller restarts."]
    if carded:
        lines.append("# Staff cards were hashed with the old secret: run card-hash again for "
                     + ", ".join(carded))
    return "\n".join(lines) + "\n"


def listing(config: HallConfig) -> str:
    """One line per device: id, role, counter."""
    rows = [f"{d.id:<20} {d.role:<9} {'counter ' + d.counter if d.counter else ''}".rstrip()
            for d in config.devices]
    return "\n".join(rows) + ("\n" if rows else "")


# ------------------------------------------------------------------ command line
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m broker_config.provision",
                                     description="Add, list or remove a hall's devices; "
                                                 "hash a clerk's staff card; rotate the "
                                                 "hall secret.")
    verbs = parser.add_subparsers(dest="verb", required=True)
    for verb, text in (("add", "add a device and print its settings"),
                       ("list", "list the devices"), ("remove", "remove a device"),
                       ("sync", "write the broker's accounts again from the hall config")):
        sub = verbs.add_parser(verb, help=text)
        sub.add_argument("--config", required=True, type=Path, help="the hall's TOML file")
        if verb == "list":
            continue
        if verb in ("add", "remove"):
            sub.add_argument("--id", required=True, help="the device id, e.g. kiosk-3")
        sub.add_argument("--broker-dir", type=Path,
                         help="the generated broker files (default: broker/ next to the "
                              "hall config, e.g. /etc/lobby/broker)")
        sub.add_argument("--no-reload", action="store_true",
                         help="do not reload Mosquitto nor restart the controller")
        if verb == "add":
            sub.add_argument("--role", required=True, choices=[r.value for r in DEVICE_ROLES])
            sub.add_argument("--counter", help="the window a caller or counter display serves")
            sub.add_argument("--host", help="the broker's address for the device "
                                            "(default: this machine's NAME.local)")
    rotate = verbs.add_parser("rotate-secret", help="a new hall secret and new kiosk "
                              "passwords (a kiosk lost or stolen): their files go to --out")
    rotate.add_argument("--config", required=True, type=Path, help="the hall's TOML file")
    rotate.add_argument("--out", required=True, type=Path,
                        help="a new folder for the secret and the kiosks' settings")
    rotate.add_argument("--broker-dir", type=Path, help="the generated broker files (default: "
                        "broker/ next to the hall config)")
    rotate.add_argument("--host", help="the broker's address for the kiosks")
    rotate.add_argument("--no-reload", action="store_true",
                        help="do not reload Mosquitto nor restart the controller")
    card = verbs.add_parser("card-hash", help="the card_hash line of a clerk's staff card")
    card.add_argument("--config", required=True, type=Path, help="the hall's TOML file")
    card.add_argument("card", help="the card's number, as its reader sends it")
    return parser


def _run(args: argparse.Namespace) -> str:
    if args.verb == "list":
        return listing(load_hall_config(args.config))
    if args.verb == "card-hash":
        secret = load_secret(load_hall_config(args.config), args.config)
        return f'card_hash = "{staff_card_hash(secret, args.card)}"\n'
    args.broker_dir = args.broker_dir or args.config.parent / BROKER_DIR_NAME
    if args.verb == "add":
        done = add(args.config, args.broker_dir, args.id, Role(args.role), args.counter)
        address = lan_address(broker_options(args.broker_dir / CONF_NAME), args.host)
        out = settings_toml(load_hall_config(args.config), done.device, done.credential, address)
    elif args.verb == "rotate-secret":
        out = _rotated(args.config, rotate_secret(args.config, args.broker_dir, args.out,
                                                  args.host))
    elif args.verb == "remove":
        remove(args.config, args.broker_dir, args.id)
        out = f"# {args.id} removed; its broker account is gone\n"
    else:
        files = regenerate(load_hall_config(args.config), args.broker_dir)
        out = (f"# {len(files.credentials)} broker accounts in {files.directory} "
               f"({files.kept} passwords kept)\n")
    if not args.no_reload:
        for line in reload_services():
            print(line, file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line entry; returns the exit status (2 with the problem named on bad input)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        sys.stdout.write(_run(args))
    except (ConfigError, ProvisionError, BrokerConfigError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
