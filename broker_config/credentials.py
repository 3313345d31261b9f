"""Broker passwords: credentials.toml (plain, mode 0600) and Mosquitto's hashed passwd file.

The passwd format is Mosquitto 2.0's ``user:$7$ITERATIONS$SALT$HASH``: PBKDF2-HMAC-SHA512
with a 12-byte salt, both base64, and 101 iterations as ``mosquitto_passwd`` writes it.
This module imports nothing from ``hall/``, so any device process may use ``password_for``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from broker_config.errors import CredentialsError

ITERATIONS = 101
SALT_BYTES = 12
PASSWORD_BYTES = 18  # 24 URL-safe characters


@dataclass(frozen=True, slots=True)
class Credential:
    """One account's login as the devices use it."""

    username: str
    role: str
    password: str


def new_password() -> str:
    """A random password of URL-safe characters (no quoting needed anywhere)."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def _pbkdf2(password: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, 64)


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The passwd-file hash of ``password``, as Mosquitto 2.0's mosquitto_passwd makes it."""
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    digest = _pbkdf2(password, salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def check_password(password: str, hashed: str) -> bool:
    """True if ``hashed`` (a ``$7$`` passwd hash) was made from ``password``."""
    parts = hashed.split("$")
    if len(parts) != 5 or parts[:2] != ["", "7"] or not parts[2].isdigit():
        return False
    try:
        salt = base64.b64decode(parts[3], validate=True)
        digest = base64.b64decode(parts[4], validate=True)
    except binascii.Error:
        return False
    return hmac.compare_digest(_pbkdf2(password, salt, int(parts[2])), digest)


def read_credentials(path: Path) -> dict[str, Credential]:
    """The accounts in a credentials.toml, by username; empty if the file does not exist."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CredentialsError(f"{path}: not valid TOML: {exc}") from exc
    accounts = raw.get("accounts", {})
    if not isinstance(accounts, dict):
        raise CredentialsError(f"{path}: [accounts] must be a table")
    found: dict[str, Credential] = {}
    for name, entry in accounts.items():
        fields = entry if isinstance(entry, dict) else {}
        password, role = fields.get("password"), fields.get("role", "")
        if not isinstance(password, str) or not password or not isinstance(role, str):
            raise CredentialsError(f"{path}: accounts.{name} needs a password string and a role")
        found[name] = Credential(name, role, password)
    return found


def password_for(path: str | Path, username: str) -> str:
    """The password of ``username`` from a credentials.toml, e.g. for the controller's link."""
    account = read_credentials(Path(path)).get(username)
    if account is None:
        raise CredentialsError(f"{path}: no account {username!r}")
    return account.password


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def render_credentials(hall: str, credentials: Iterable[Credential]) -> str:
    """credentials.toml text: one ``[accounts.USERNAME]`` table per account."""
    lines = [
        f"# Broker accounts of hall {hall}: written by python -m broker_config.generate.",
        "# Secret. Each device's [broker] username/password comes from its table here.",
    ]
    for cred in credentials:
        lines += ["", f"[accounts.{cred.username}]", f"username = {_toml_string(cred.username)}",
                  f"role = {_toml_string(cred.role)}", f"password = {_toml_string(cred.password)}"]
    return "\n".join(lines) + "\n"


def read_passwd(path: Path) -> dict[str, str]:
    """The hashes in an existing passwd file, by username; empty if there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    hashes = {}
    for line in text.splitlines():
        user, sep, hashed = line.partition(":")
        if sep:
            hashes[user] = hashed.strip()
    return hashes


def render_passwd(credentials: Iterable[Credential], previous: Mapping[str, str]) -> str:
    """passwd text, reusing a previous hash whenever it still matches the password."""
    lines = []
    for cred in credentials:
        old = previous.get(cred.username)
        hashed = old if old and check_password(cred.password, old) else hash_password(cred.password)
        lines.append(f"{cred.username}:{hashed}")
    return "\n".join(lines) + "\n"


def write_atomic(path: Path, text: str, mode: int) -> None:
    """Write ``text`` atomically to ``path`` with ``mode`` set before any byte is written."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
