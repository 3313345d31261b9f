"""Write a hall's Mosquitto setup: mosquitto.conf, passwd, acl and credentials.toml.

    python -m broker_config.generate --hall examples/hall.toml --out /etc/lobby/broker

Running it again keeps every existing password (and its hash), so devices keep working;
``--rotate`` gives every account a new one.
"""

from __future__ import annotations

import argparse
import logging
import os
import pwd
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from broker_config.accounts import Account, hall_accounts, render_acl
from broker_config.credentials import (
    Credential,
    new_password,
    read_credentials,
    read_passwd,
    render_credentials,
    render_passwd,
    write_atomic,
)
from broker_config.errors import BrokerConfigError
from hallconfig import ConfigError, HallConfig, load_hall_config

log = logging.getLogger(__name__)

CONF_NAME = "mosquitto.conf"
PASSWD_NAME = "passwd"
ACL_NAME = "acl"
CREDENTIALS_NAME = "credentials.toml"

MAX_QUEUED_MESSAGES = 10_000
MAX_QUEUED_BYTES = 8 * 1024 * 1024
MAX_PACKET_SIZE = 256 * 1024
MAX_KEEPALIVE = 120


@dataclass(frozen=True, slots=True)
class BrokerOptions:
    """How the broker listens, where it keeps state, and whether passwords change."""

    local_port: int = 1883
    lan_port: int = 8883
    lan_bind: str = "0.0.0.0"
    tls_cert: Path | None = None
    tls_key: Path | None = None
    state_dir: Path | None = None  # None: OUT/data
    run_as: str = "mosquitto"  # Mosquitto's ``user``: whom a broker started as root becomes
    rotate: bool = False

    def check(self) -> None:
        """Raise BrokerConfigError naming the first option that cannot work."""
        for name, port in (("local port", self.local_port), ("LAN port", self.lan_port)):
            if not 1 <= port <= 65535:
                raise BrokerConfigError(f"{name} {port} is not between 1 and 65535")
        if self.local_port == self.lan_port:
            raise BrokerConfigError(f"local and LAN listeners both use port {self.lan_port}")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise BrokerConfigError("TLS needs both --tls-cert and --tls-key")
        for tls_file in (self.tls_cert, self.tls_key):
            if tls_file is not None and not tls_file.is_file():
                raise BrokerConfigError(f"TLS file {tls_file} does not exist")
        for word in (self.lan_bind, self.run_as):
            if not word or any(c.isspace() for c in word):
                raise BrokerConfigError(f"{word!r} cannot stand in mosquitto.conf")


@dataclass(frozen=True, slots=True)
class BrokerFiles:
    """What ``generate`` wrote, and the passwords now in force."""

    directory: Path
    state_dir: Path
    credentials: dict[str, Credential]
    kept: int  # passwords carried over from the previous credentials.toml

    @property
    def conf(self) -> Path:
        return self.directory / CONF_NAME

    @property
    def passwd(self) -> Path:
        return self.directory / PASSWD_NAME

    @property
    def acl(self) -> Path:
        return self.directory / ACL_NAME

    @property
    def credentials_file(self) -> Path:
        return self.directory / CREDENTIALS_NAME


def _conf_path(path: Path) -> str:
    """An absolute path for mosquitto.conf (Mosquitto resolves relative ones from its cwd)."""
    text = str(path.resolve())
    if "\n" in text:
        raise BrokerConfigError(f"path {text!r} cannot stand in mosquitto.conf")
    return text


def _tls_block(options: BrokerOptions) -> str:
    if options.tls_cert is None or options.tls_key is None:
        return ("# TLS: generate again with --tls-cert FILE --tls-key FILE to get here:\n"
                "#   certfile /etc/lobby/broker/tls/server.crt\n"
                "#   keyfile /etc/lobby/broker/tls/server.key")
    return f"certfile {_conf_path(options.tls_cert)}\nkeyfile {_conf_path(options.tls_key)}"


def render_conf(hall: str, files: BrokerFiles, options: BrokerOptions) -> str:
    """mosquitto.conf text from the template in broker_config/templates."""
    template = resources.files("broker_config").joinpath("templates", CONF_NAME).read_text("utf-8")
    return Template(template).substitute(
        hall=hall,
        password_file=_conf_path(files.passwd),
        acl_file=_conf_path(files.acl),
        run_as=options.run_as,
        state_dir=_conf_path(files.state_dir),
        max_queued_messages=MAX_QUEUED_MESSAGES,
        max_queued_bytes=MAX_QUEUED_BYTES,
        max_packet_size=MAX_PACKET_SIZE,
        max_keepalive=MAX_KEEPALIVE,
        local_port=options.local_port,
        lan_port=options.lan_port,
        lan_bind=options.lan_bind,
        tls_block=_tls_block(options),
    )


def assign_passwords(accounts: list[Account], previous: dict[str, Credential],
                     rotate: bool) -> tuple[dict[str, Credential], int]:
    """Each account's credential, keeping its old password unless rotating; and how many kept."""
    assigned: dict[str, Credential] = {}
    kept = 0
    for account in accounts:
        old = previous.get(account.username)
        if rotate or old is None:
            password = new_password()
        else:
            password = old.password
            kept += 1
        assigned[account.username] = Credential(account.username, account.role.value, password)
    return assigned, kept


def _broker_owner(run_as: str) -> tuple[int, int] | None:
    """Run as root, the (uid, gid) Mosquitto drops to before it reads passwd and acl."""
    if os.geteuid() != 0:
        return None
    try:
        user = pwd.getpwnam(run_as)
    except KeyError as exc:
        raise BrokerConfigError(f"no such user {run_as!r} for the broker to run as") from exc
    return user.pw_uid, user.pw_gid


def generate(config: HallConfig, out: Path, options: BrokerOptions) -> BrokerFiles:
    """Write mosquitto.conf, passwd, acl and credentials.toml for ``config`` into ``out``."""
    options.check()
    owner = _broker_owner(options.run_as)
    accounts = hall_accounts(config)
    out.mkdir(parents=True, exist_ok=True)
    state_dir = options.state_dir or out / "data"
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    credentials, kept = assign_passwords(
        accounts, read_credentials(out / CREDENTIALS_NAME), options.rotate)
    files = BrokerFiles(out, state_dir, credentials, kept)
    hall = config.hall.id
    write_atomic(files.credentials_file, render_credentials(hall, credentials.values()), 0o600)
    write_atomic(files.passwd,
                 render_passwd(credentials.values(), read_passwd(files.passwd)), 0o600)
    write_atomic(files.acl, render_acl(hall, accounts), 0o644)
    write_atomic(files.conf, render_conf(hall, files, options), 0o644)
    if owner is not None:  # credentials.toml stays with whoever ran the generator
        for path in (files.passwd, files.acl, files.state_dir):
            os.chown(path, *owner)
    log.info("broker config for hall %s in %s: %d accounts, %d passwords kept",
             hall, out, len(credentials), kept)
    return files


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m broker_config.generate",
        description="Write the hall's Mosquitto config, accounts (passwd, credentials.toml) "
                    "and least-privilege ACL.")
    parser.add_argument("--hall", required=True, type=Path, help="the hall config TOML")
    parser.add_argument("--out", required=True, type=Path, help="directory to write into")
    parser.add_argument("--local-port", type=int, default=1883, help="127.0.0.1 listener")
    parser.add_argument("--lan-port", type=int, default=8883, help="LAN listener")
    parser.add_argument("--lan-bind", default="0.0.0.0", help="address of the LAN listener")
    parser.add_argument("--tls-cert", type=Path, help="server certificate (PEM) for the LAN")
    parser.add_argument("--tls-key", type=Path, help="its private key (PEM)")
    parser.add_argument("--state-dir", type=Path, help="persistence directory (default OUT/data)")
    parser.add_argument("--user", dest="run_as", default="mosquitto",
                        help="user a broker started as root becomes (default mosquitto)")
    parser.add_argument("--rotate", action="store_true", help="give every account a new password")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command line entry; returns the exit status (2 with a named problem on bad input)."""
    args = _parser().parse_args(argv)
    options = BrokerOptions(args.local_port, args.lan_port, args.lan_bind, args.tls_cert,
                            args.tls_key, args.state_dir, args.run_as, args.rotate)
    try:
        files = generate(load_hall_config(args.hall), args.out, options)
    except (ConfigError, BrokerConfigError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    fresh = len(files.credentials) - files.kept
    print(f"wrote {files.conf}, {files.passwd.name}, {files.acl.name} and "
          f"{files.credentials_file.name} ({files.kept} passwords kept, {fresh} new)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
