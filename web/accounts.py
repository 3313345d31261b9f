"""Manager accounts of the hall's web app, kept in ``managers.toml`` with PBKDF2 hashes.

    python -m web.accounts add NAME --role manager|supervisor [--file managers.toml]
    python -m web.accounts remove NAME
    python -m web.accounts list

``add`` asks for the password twice (or reads one line with ``--password-stdin``). The
running web app notices a changed file at the next sign-in: no restart needed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import re
import sys
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from hallconfig import check_pin, hash_pin
from web.errors import AccountsError

log = logging.getLogger(__name__)

ITERATIONS = 240_000  # about a quarter of a second on a Raspberry Pi 4
MIN_PASSWORD = 8
DEFAULT_FILE = "managers.toml"
ENV_FILE = "LOBBY_MANAGERS"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
_HASH = re.compile(r"^pbkdf2_sha256\$\d{1,7}\$[0-9a-f]{16,64}\$[0-9a-f]{64}$")


class WebRole(StrEnum):
    """What a signed-in person may do: a manager acts, a supervisor only looks."""

    MANAGER = "manager"
    SUPERVISOR = "supervisor"


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    role: WebRole
    password_hash: str


def hash_password(password: str, iterations: int = ITERATIONS) -> str:
    """The stored form of a password: ``pbkdf2_sha256$ITER$SALT$HASH``."""
    return hash_pin(password, os.urandom(16), iterations)


def check_password(password: str, password_hash: str) -> bool:
    """True if ``password`` matches the stored hash (constant-time comparison)."""
    return bool(_HASH.match(password_hash)) and check_pin(password, password_hash)


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise AccountsError(f"account name {name!r}: use 1-40 letters, digits, '.', '_' or '-'")
    return name


def check_new_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountsError(f"a password needs at least {MIN_PASSWORD} characters")
    return password


def load_accounts(path: Path) -> dict[str, Account]:
    """The accounts of a managers.toml by name; empty if the file does not exist."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AccountsError(f"{path}: not valid TOML: {exc}") from exc
    table = raw.get("managers", {})
    if not isinstance(table, dict):
        raise AccountsError(f"{path}: [managers] must be a table")
    accounts = {}
    for name, entry in table.items():
        where = f"{path}: managers.{name}"
        if not isinstance(entry, dict) or not _NAME.match(name):
            raise AccountsError(f"{where}: not a valid account")
        try:
            role = WebRole(str(entry.get("role", "")))
        except ValueError:
            raise AccountsError(f"{where}.role must be 'manager' or 'supervisor'") from None
        password_hash = entry.get("password_hash")
        if not isinstance(password_hash, str) or not _HASH.match(password_hash):
            raise AccountsError(f"{where}.password_hash is not a pbkdf2_sha256 hash")
        accounts[name] = Account(name, role, password_hash)
    return accounts


def save_accounts(path: Path, accounts: dict[str, Account]) -> None:
    """Write the accounts atomically, readable by the owner only."""
    lines = ["# Hall manager accounts: written by python -m web.accounts. Secret.", ""]
    for account in sorted(accounts.values(), key=lambda a: a.name):
        lines += [f"[managers.{json.dumps(account.name)}]", f'role = "{account.role.value}"',
                  f'password_hash = "{account.password_hash}"', ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("\n".join(lines))
    os.replace(tmp, path)


class AccountBook:
    """The accounts file as the web app reads it: reloaded when it changes on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._accounts: dict[str, Account] = {}

    def get(self, name: str) -> Account | None:
        self._reload()
        return self._accounts.get(name)

    def __len__(self) -> int:
        self._reload()
        return len(self._accounts)

    def _reload(self) -> None:
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp == self._stamp:
            return
        try:
            self._accounts = load_accounts(self.path)
        except AccountsError as exc:  # keep the old accounts: a half-edited file locks nobody out
            log.error("manager accounts not reloaded: %s", exc)
            return
        self._stamp = stamp
        log.info("%d manager accounts from %s", len(self._accounts), self.path)


def default_file() -> Path:
    return Path(os.environ.get(ENV_FILE, DEFAULT_FILE))


# ---------------------------------------------------------------- command line
def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return check_new_password(sys.stdin.readline().rstrip("\r\n"))
    first = check_new_password(getpass.getpass("password: "))
    if getpass.getpass("again: ") != first:
        raise AccountsError("the two passwords differ")
    return first


def _add(path: Path, name: str, role: str, from_stdin: bool) -> str:
    accounts = load_accounts(path)
    account = Account(check_name(name), WebRole(role), hash_password(_read_password(from_stdin)))
    verb = "changed" if name in accounts else "added"
    accounts[name] = account
    save_accounts(path, accounts)
    return f"{verb} {name} ({role}) in {path}"


def _remove(path: Path, name: str) -> str:
    accounts = load_accounts(path)
    if accounts.pop(name, None) is None:
        raise AccountsError(f"{path}: no account {name!r}")
    save_accounts(path, accounts)
    return f"removed {name} from {path}"


def _list(path: Path) -> str:
    accounts = load_accounts(path)
    return "\n".join(f"{a.name}\t{a.role.value}" for a in accounts.values()) or "(no accounts)"


def main(argv: list[str] | None = None) -> int:
    """Command line entry; returns the exit status (2 with the problem named on bad input)."""
    parser = argparse.ArgumentParser(prog="python -m web.accounts",
                                     description="Manage the hall web app's sign-in accounts.")
    parser.add_argument("--file", type=Path, default=None,
                        help=f"accounts file (default ${ENV_FILE} or ./{DEFAULT_FILE})")
    verbs = parser.add_subparsers(dest="verb", required=True)
    add = verbs.add_parser("add", help="add an account, or set its role and password")
    add.add_argument("name")
    add.add_argument("--role", choices=[r.value for r in WebRole], required=True)
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input")
    remove = verbs.add_parser("remove", help="remove an account")
    remove.add_argument("name")
    verbs.add_parser("list", help="list the accounts and their roles")
    args = parser.parse_args(argv)
    path = args.file or default_file()
    try:
        if args.verb == "add":
            print(_add(path, args.name, args.role, args.password_stdin))
        elif args.verb == "remove":
            print(_remove(path, args.name))
        else:
            print(_list(path))
    except (AccountsError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
