"""A device's own settings file (TOML): who it is, which hall, and how to reach the broker.

Each app extends ``DeviceSettings`` with its own sections (printer, pins, screen ...).
Loading names the bad key of a broken file, and ``--validate-config`` uses the same path.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from protocol.link import BrokerSettings


class DeviceIdentity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$", description="this device's id (= MQTT user)")
    hall: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$", description="the hall id")


class DeviceSettings(BaseModel):
    """The sections every device has: [device] and [broker]."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    device: DeviceIdentity
    broker: BrokerSettings = BrokerSettings()


class DeviceConfigError(ValueError):
    """A device settings file that cannot be used; the message names the file and key."""


S = TypeVar("S", bound=DeviceSettings)
M = TypeVar("M", bound=BaseModel)


def load_device_settings(path: str | Path, model: type[S]) -> S:
    """Read and validate a device's TOML settings as ``model``."""
    return load_toml_model(path, model, DeviceConfigError)


def load_toml_model(path: str | Path, model: type[M], error: type[ValueError]) -> M:
    """Read a TOML file and validate it as ``model``; ``error`` names the file and bad key."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise error(f"{path}: no such file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise error(f"{path}: {describe(exc)}") from exc


def describe(exc: ValidationError) -> str:
    """One clause per problem, each naming its key path (e.g. printer.kind)."""
    parts = []
    for err in exc.errors():
        key = ""
        for part in err["loc"]:
            key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        parts.append(f"{key or 'file'}: {msg.removeprefix('Value error, ')}")
    return "; ".join(parts)
