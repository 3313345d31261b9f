"""The installer's file edits: config files as text, so their comments stay, checked back
with tomllib; secrets moved out into systemd credential files; Kivy's touch input.

Standard library only: ``./install`` runs it with the system's python3, before the venv
exists and in ``--dry-run``. Every command writes only when the content changes and says
``wrote``, ``unchanged`` or ``would write``, so running the installer twice changes nothing.

    python3 -m installer.configure hall-config SRC DEST
    python3 -m installer.configure device-settings BASE SETTINGS DEST --password-out FILE
    python3 -m installer.configure controller-password CREDENTIALS_TOML DEST [--account web]
    python3 -m installer.configure empty-credential DEST   # only if DEST does not exist yet
    python3 -m installer.configure kivy-input DEST
    python3 -m installer.configure new-secret DEST      # only if DEST does not exist yet
    python3 -m installer.configure hall-tls DEST --cert FILE --key FILE
"""

from __future__ import annotations

import argparse
import configparser
import grp
import io
import json
import os
import re
import secrets
import sys
import tomllib
from pathlib import Path

Value = str | int | float | bool | list[str]

STATE_DIR = "/var/lib/lobby"
CREDENTIALS_DIR = "/etc/lobby/credentials"
HALL_EDITS: tuple[tuple[str, str, Value | None], ...] = (
    ("", "journal", f"{STATE_DIR}/hall-journal.sqlite3"),
    ("hall", "secret_file", f"{CREDENTIALS_DIR}/hall-secret"),
    ("broker", "password", None),  # the systemd credential broker-password instead
)
# Exactly one input provider per touch device: Kivy's hidinput, one per multitouch device
# probesysfs finds; the units set SDL_TOUCH_MOUSE_EVENTS=0 so SDL adds no mouse copy.
KIVY_INPUT = {"mouse": "mouse", "%(name)s": "probesysfs,provider=hidinput"}
_HEADER_RE = re.compile(r"^\s*\[")
_LINE_RE = re.compile(r"""^(\s*[\w-]+\s*=\s*)("(?:[^"\\]|\\.)*"|'[^']*'|[^#\s]+)(\s*#.*)?$""")


class SettingsError(ValueError):
    """A config or settings file the installer cannot use; the message names it."""


def toml_value(value: Value) -> str:
    """``value`` written as TOML (a JSON string is a valid TOML basic string)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | list):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def _table_span(lines: list[str], table: str) -> tuple[int, int] | None:
    """Lines [start, end) of ``table``'s keys ("" is the top level), or None if absent."""
    if table:
        header = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]\s*(#.*)?$")
        starts = [i + 1 for i, line in enumerate(lines) if header.match(line)]
        if not starts:
            return None
        start = starts[0]
    else:
        start = 0
    end = start
    while end < len(lines) and not _HEADER_RE.match(lines[end]):
        end += 1
    return start, end


def set_key(text: str, table: str, key: str, value: Value | None) -> str:
    """``text`` with ``table.key`` set to ``value`` (None deletes it), other lines untouched."""
    lines = text.splitlines(keepends=True)
    span = _table_span(lines, table)
    if span is None:
        if value is None:
            return text
        tail = "" if not text or text.endswith("\n") else "\n"
        return f"{text}{tail}\n[{table}]\n{key} = {toml_value(value)}\n"
    start, end = span
    key_re = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for i in range(start, end):
        if key_re.match(lines[i]):
            if value is None:
                del lines[i]
            else:
                found = _LINE_RE.match(lines[i].rstrip("\n"))
                comment = (found.group(3) or "") if found else ""
                lines[i] = f"{key} = {toml_value(value)}{comment}\n"
            return "".join(lines)
    if value is None:
        return text
    last = end
    while last > start and not lines[last - 1].strip():
        last -= 1
    lines.insert(last, f"{key} = {toml_value(value)}\n")
    return "".join(lines)


def _parse(text: str, what: str) -> dict[str, object]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{what}: not valid TOML: {exc}") from exc


def _lookup(data: dict[str, object], table: str, key: str) -> object:
    section = data.get(table, {}) if table else data
    return section.get(key) if isinstance(section, dict) else None


def apply_edits(text: str, edits: list[tuple[str, str, Value | None]], what: str) -> str:
    """Apply ``set_key`` edits, then check with tomllib that each one reads back as meant."""
    for table, key, value in edits:
        text = set_key(text, table, key, value)
    data = _parse(text, what)
    for table, key, value in edits:
        if _lookup(data, table, key) != value:
            where = f"{table}.{key}" if table else key
            raise SettingsError(f"{what}: could not set {where}; edit it by hand")
    return text


def hall_config(example: str) -> str:
    """The example hall config as installed: journal in the state directory, secrets from
    /etc/lobby/credentials (systemd credentials under the unit), no password in the file."""
    return apply_edits(example, list(HALL_EDITS), "hall config")


def _https(url: str) -> str:
    return "https://" + url[len("http://"):] if url.startswith("http://") else url


def hall_tls(text: str, cert: str, key: str) -> str:
    """The hall config with HTTPS on both web listeners (``cert``/``key``, unless a listener
    names its own already) and the addresses browsers are sent to in https://."""
    data = _parse(text, "hall config")
    edits: list[tuple[str, str, Value | None]] = []
    for table in ("web", "status_page"):
        if _lookup(data, table, "tls_cert") is None:
            edits += [(table, "tls_cert", cert), (table, "tls_key", key)]
    origins = _lookup(data, "web", "origins")
    if isinstance(origins, list) and any(str(o).startswith("http://") for o in origins):
        edits.append(("web", "origins", [_https(str(o)) for o in origins]))
    base = _lookup(data, "hall", "status_url_base")
    if isinstance(base, str) and base.startswith("http://"):
        edits.append(("hall", "status_url_base", _https(base)))
    return apply_edits(text, edits, "hall config")


def device_settings(base: str, settings: str) -> tuple[str, str | None]:
    """``base`` (the role's example, or the installed file) with every key of the printed
    ``settings`` set in it; the broker password taken out. Returns (text, password)."""
    given = _parse(settings, "settings")
    edits: list[tuple[str, str, Value | None]] = []
    for table, keys in given.items():
        if not isinstance(keys, dict):
            raise SettingsError(f"settings: {table} must be a table like [device]")
        for key, value in keys.items():
            if not isinstance(value, str | int | float | bool):
                raise SettingsError(f"settings: {table}.{key} must be a plain value")
            if (table, key) != ("broker", "password"):
                edits.append((table, key, value))
    edits.append(("broker", "password", None))
    password = _lookup(given, "broker", "password")
    if password is not None and not isinstance(password, str):
        raise SettingsError("settings: broker.password must be a string")
    return apply_edits(base, edits, "device settings"), password


def controller_password(credentials: str, name: str = "controller") -> str:
    """A hall-side account's broker password (the controller's, the web service's) from
    broker_config's credentials.toml."""
    account = _lookup(_parse(credentials, "credentials.toml"), "accounts", name)
    password = account.get("password") if isinstance(account, dict) else None
    if not isinstance(password, str) or not password:
        raise SettingsError(f"credentials.toml: no [accounts.{name}] password")
    return password


class _KeepCase(configparser.RawConfigParser):
    """A config parser that keeps option names as written, not lower-cased."""

    def optionxform(self, optionstr: str) -> str:
        return optionstr


def kivy_input(current: str) -> str:
    """Kivy's config.ini with [input] holding exactly KIVY_INPUT; other sections kept."""
    parser = _KeepCase()
    parser.read_string(current)
    if not parser.has_section("input"):
        parser.add_section("input")
    elif dict(parser.items("input")) == KIVY_INPUT:
        return current
    for key in parser.options("input"):
        parser.remove_option("input", key)
    for key, value in KIVY_INPUT.items():
        parser.set("input", key, value)
    out = io.StringIO()
    parser.write(out)
    return out.getvalue()


def put(path: Path, text: str, mode: int, group: str | None, dry_run: bool) -> str:
    """Write ``text`` to ``path`` if it differs; say what was (or would be) done."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return f"unchanged {path}"
    except FileNotFoundError:
        pass
    if dry_run:
        return f"would write {path}"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), mode)
        if group is not None and os.geteuid() == 0:
            os.fchown(out.fileno(), 0, grp.getgrnam(group).gr_gid)
        out.write(text)
    os.replace(tmp, path)
    return f"wrote {path}"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"{path}: {exc.strerror}") from exc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python3 -m installer.configure", description=__doc__)
    parser.add_argument("--dry-run", action="store_true", help="say what would change")
    parser.add_argument("--group", help="group owner of what is written (as root)")
    verbs = parser.add_subparsers(dest="verb", required=True)
    hall = verbs.add_parser("hall-config", help="install the example hall config")
    hall.add_argument("src", type=Path)
    hall.add_argument("dest", type=Path)
    device = verbs.add_parser("device-settings", help="merge provisioned settings into BASE")
    device.add_argument("base", type=Path)
    device.add_argument("settings", type=Path)
    device.add_argument("dest", type=Path)
    device.add_argument("--password-out", type=Path, required=True)
    controller = verbs.add_parser("controller-password",
                                  help="the controller's (or --account's) credential")
    controller.add_argument("credentials", type=Path)
    controller.add_argument("dest", type=Path)
    controller.add_argument("--account", default="controller",
                            help="the account (the web service's: its [web] device)")
    empty = verbs.add_parser("empty-credential", help="an empty credential, unless there is one")
    empty.add_argument("dest", type=Path)
    kivy = verbs.add_parser("kivy-input", help="Kivy's [input]: one provider per touch device")
    kivy.add_argument("dest", type=Path)
    secret = verbs.add_parser("new-secret", help="a new hall secret, unless there is one")
    secret.add_argument("dest", type=Path)
    tls = verbs.add_parser("hall-tls", help="HTTPS for the hall's web listeners")
    tls.add_argument("dest", type=Path)
    tls.add_argument("--cert", required=True, help="certificate of both listeners")
    tls.add_argument("--key", required=True, help="its private key")
    return parser


def _run(args: argparse.Namespace) -> list[str]:
    dry, group = args.dry_run, args.group
    if args.verb == "hall-config":
        if args.dest.exists():
            return [f"kept {args.dest} (exists; edit it by hand)"]
        return [put(args.dest, hall_config(_read(args.src)), 0o640, group, dry)]
    if args.verb == "device-settings":
        base = args.dest if args.dest.exists() else args.base
        text, password = device_settings(_read(base), _read(args.settings))
        said = [put(args.dest, text, 0o640, group, dry)]
        if password is not None:
            said.append(put(args.password_out, password + "\n", 0o600, None, dry))
        return said
    if args.verb == "controller-password":
        password = controller_password(_read(args.credentials), args.account)
        return [put(args.dest, password + "\n", 0o600, None, dry)]
    if args.verb == "empty-credential":
        if args.dest.exists():
            return [f"kept {args.dest}"]
        return [put(args.dest, "", 0o600, None, dry)]
    if args.verb == "hall-tls":
        if not args.dest.exists() and dry:
            return [f"would write {args.dest} (HTTPS with {args.cert})"]
        return [put(args.dest, hall_tls(_read(args.dest), args.cert, args.key), 0o640, group,
                    dry)]
    if args.verb == "new-secret":
        if args.dest.exists():
            return [f"kept {args.dest}"]
        return [put(args.dest, secrets.token_hex(32) + "\n", 0o600, None, dry)]
    current = args.dest.read_text(encoding="utf-8") if args.dest.exists() else ""
    return [put(args.dest, kivy_input(current), 0o640, group, dry)]


def main(argv: list[str] | None = None) -> int:
    """Command line entry: 0 done, 2 with the problem named."""
    args = _parser().parse_args(argv)
    try:
        for line in _run(args):
            print(f"    {line}")
    except SettingsError as exc:
        print(f"install: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
