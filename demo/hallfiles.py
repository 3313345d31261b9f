"""Write a runnable copy of a hall's config: pointed at a given broker, journal and secret
in a given directory, optionally open around the clock (for tests that run at any hour)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from broker_config.process import MosquittoProcess, free_port

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_HALL = ROOT / "examples" / "hall.toml"
ALL_DAY = '["00:00", "23:59"]'


def write_hall_config(directory: Path, broker: MosquittoProcess, *,
                      source: Path = EXAMPLE_HALL, all_day: bool = False,
                      secret: bytes | None = None, web_port: int | None = None) -> Path:
    """The hall config at ``source``, rewritten to run in ``directory`` against ``broker``
    (the controller's password in ``directory``/broker-password, the web service's in
    web-broker-password), with its web app on loopback (on ``web_port``, else a free port)
    and its status page on a free port."""
    directory.mkdir(parents=True, exist_ok=True)
    raw = tomllib.loads(source.read_text(encoding="utf-8"))
    settings = broker.broker_settings("controller")
    password_file = directory / "broker-password"
    password_file.touch(mode=0o600)
    password_file.write_text(f"{settings.password}\n", encoding="utf-8")
    web_password = directory / "web-broker-password"
    web_password.touch(mode=0o600)
    web_password.write_text(f"{broker.credentials.get('web', '')}\n", encoding="utf-8")
    lines = []
    for line in source.read_text(encoding="utf-8").splitlines():
        key = line.split("=", 1)[0].strip()
        if key == "port" and "1883" in line:
            line = f"port = {settings.port}"
        elif key == "port" and "8090" in line:
            line = (f"port = {web_port or free_port()}\n"
                    f'broker_password_file = "{web_password.resolve()}"')
        elif key == "port" and "8080" in line:
            line = f"port = {free_port()}"
        elif key == "host" and "0.0.0.0" in line:
            line = 'host = "127.0.0.1"'
        elif key == "username" and '"controller"' in line:
            line += f'\npassword_file = "{password_file.resolve()}"'
        elif key == "journal":
            line = 'journal = "journal.sqlite3"'
        elif key == "secret_file":
            line = 'secret_file = "hall-secret"'
        elif all_day and key in _DAYS:
            line = f"{key} = {ALL_DAY}"
        elif all_day and key == "last_ticket":
            line = 'last_ticket = "23:59"'
        lines.append(line)
    (directory / "hall-secret").write_bytes(secret or os.urandom(32).hex().encode())
    path = directory / "hall.toml"
    text = "\n".join(lines) + "\n"
    if tomllib.loads(text)["hall"] != raw["hall"] | {"secret_file": "hall-secret"}:
        raise ValueError(f"{source}: could not rewrite the [hall] section safely")
    path.write_text(text, encoding="utf-8")
    return path


_DAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
         "holiday_hours"}
