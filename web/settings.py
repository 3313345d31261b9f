"""The web service's own settings, read from the hall's: its broker account and the
directory it may write."""

from __future__ import annotations

import os
from pathlib import Path

from hallconfig import ConfigError, HallConfig
from protocol import messages as m
from protocol.link import BrokerSettings


def web_broker(config: HallConfig, config_path: str | Path) -> BrokerSettings:
    """The web service's broker account: its device's, with its own password (the file in
    [web], else the unit's credential broker-password); ConfigError if it is not a device."""
    device = config.device(config.web.device)
    if device is None or device.role != m.Role.MANAGER:
        raise ConfigError(
            f"{config_path}: [web] device {config.web.device!r} must be a [[devices]] entry with "
            f"role \"manager\" (add one: python -m broker_config.provision add --config "
            f"{config_path} --role manager --id {config.web.device})")
    password_file = config.web.broker_password_file
    if password_file is not None:
        password_file = str(Path(config_path).parent / password_file)
    return config.broker.model_copy(update={
        "username": device.id, "password": None, "password_file": password_file})


def state_dir(config: HallConfig, journal: Path) -> Path:
    """Where the web service keeps what it may write (the report cache)."""
    chosen = config.web.state_dir or os.environ.get("STATE_DIRECTORY")
    return Path(chosen) if chosen else journal.parent / "web-state"
