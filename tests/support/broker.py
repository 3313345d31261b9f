"""Test support for the real broker: start one for a hall, and a blocking MQTT 5 client.

``SyncClient`` (protocol.link's) waits for the broker's answer to every call (CONNACK,
SUBACK, PUBACK) on a ``threading.Condition`` with a timeout, never on a sleep. To show that
something did NOT arrive, send a marker afterwards on a topic the client does read and look
at what came before it: the broker keeps per-client order, so the answer is final once the
marker is in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from broker_config.process import MosquittoProcess
from hallconfig import load_hall_config
from protocol.link import BrokerSettings, SyncClient

__all__ = ["NOT_AUTHORIZED", "SyncClient", "connect", "settings_file", "start_broker"]
NOT_AUTHORIZED = 135  # MQTT 5 reason code 0x87


def start_broker(hall_config_path: Path, directory: Path) -> MosquittoProcess:
    """A running MosquittoProcess for the hall in ``hall_config_path``, files in ``directory``."""
    process = MosquittoProcess(load_hall_config(hall_config_path), directory)
    process.start()
    return process


def connect(settings: BrokerSettings, **kwargs: Any) -> SyncClient:
    """A SyncClient that is connected, or an AssertionError naming the refusal."""
    client = SyncClient(settings, **kwargs)
    reason = client.connect()
    assert not reason.is_failure, f"{settings.username} refused: {reason}"
    return client


def settings_file(directory: Path, broker: MosquittoProcess, device: str,
                  password: str | None = None) -> Path:
    """A device's settings file with only [device] and [broker] (its own account's password,
    or ``password``), as the terminal tool and the conformance check read it."""
    settings = broker.broker_settings(device)
    path = directory / f"{device}.toml"
    path.write_text(f'[device]\nid = "{device}"\nhall = "tianping"\n\n[broker]\n'
                    f'port = {settings.port}\nusername = "{device}"\n'
                    f'password = "{password or settings.password}"\n', encoding="utf-8")
    return path
