"""Rotating the hall secret after a kiosk is lost (issue 16): a new secret, new broker
passwords for every kiosk and nobody else, and in the out folder what each kiosk needs."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from datetime import date
from pathlib import Path

import pytest
from support.broker import NOT_AUTHORIZED, SyncClient, connect
from test_provision import reload_broker

from broker_config.credentials import read_credentials
from broker_config.process import MosquittoProcess
from hallconfig import load_hall_config, load_secret
from kiosk.settings import load_secret as kiosk_secret
from kiosk.settings import load_settings
from protocol.device import DeviceSettings
from protocol.identity import id_hash
from protocol.topics import HallTopics

ROOT = Path(__file__).resolve().parents[2]
T = HallTopics("tianping")
KIOSKS = {"kiosk-1", "kiosk-2"}
NUMBER = "310104198005170011"


@pytest.fixture
def hall_toml(tmp_path: Path) -> Path:
    """A copy of examples/hall.toml with its secret file, as installed."""
    path = tmp_path / "hall.toml"
    shutil.copy(ROOT / "examples" / "hall.toml", path)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "hall-secret").write_text("the-old-secret-of-this-hall\n")
    (tmp_path / "state" / "hall-secret").chmod(0o640)
    return path


def test_rotation_gives_a_new_secret_and_new_kiosk_passwords_only(
        tmp_path: Path, hall_toml: Path, hall_broker: MosquittoProcess) -> None:
    config = load_hall_config(hall_toml)
    old_secret = load_secret(config, hall_toml)
    before = read_credentials(hall_broker.files.credentials_file)
    out = tmp_path / "rotated"
    done = subprocess.run([sys.executable, "-m", "broker_config.provision", "rotate-secret",
                           "--config",
                           str(hall_toml), "--out", str(out), "--host", "127.0.0.1",
                           "--no-reload"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr

    new_secret = load_secret(config, hall_toml)
    assert new_secret != old_secret and len(new_secret) == 64
    assert (tmp_path / "state" / "hall-secret").stat().st_mode & 0o777 == 0o640  # kept
    assert sorted(p.name for p in out.iterdir()) == ["hall-secret", "kiosk-1.toml",
                                                      "kiosk-2.toml"]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in out.iterdir())
    after = read_credentials(hall_broker.files.credentials_file)
    assert set(after) == set(before)
    changed = {name for name in before if before[name].password != after[name].password}
    assert changed == KIOSKS

    reload_broker(hall_broker)
    stale = SyncClient(hall_broker.broker_settings("kiosk-1"), client_id="kiosk-1")
    assert stale.connect().value == NOT_AUTHORIZED  # the lost kiosk's password is dead
    for kiosk in sorted(KIOSKS):
        settings_file = out / f"{kiosk}.toml"
        raw = tomllib.loads(settings_file.read_text(encoding="utf-8"))
        broker = DeviceSettings.model_validate(
            {"device": raw["device"], "broker": raw["broker"]}).broker
        connect(broker, client_id=kiosk).close()
    caller = connect(hall_broker.broker_settings("caller-1"))  # everyone else carries on
    caller.close()

    # A kiosk given the out folder hashes with the new secret, as the controller expects.
    kiosk_toml = tmp_path / "kiosk" / "kiosk-1.toml"
    (tmp_path / "kiosk" / "state").mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "kiosk-1.toml", kiosk_toml)
    shutil.copy(out / "hall-secret", tmp_path / "kiosk" / "state" / "hall-secret")
    day = date(2026, 11, 23)
    assert id_hash(kiosk_secret(load_settings(kiosk_toml), kiosk_toml), day, NUMBER) == \
        id_hash(new_secret, day, NUMBER) != id_hash(old_secret, day, NUMBER)
    assert "--hall-secret" in done.stdout  # what to do on every kiosk
