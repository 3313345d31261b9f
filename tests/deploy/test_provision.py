"""Provisioning round trip on a real broker: add a device with the controller's CLI, reload
Mosquitto with SIGHUP as systemd does, and connect with exactly the settings it printed.

The new kiosk may send its own kiosk commands and nothing else; every other account keeps its
password; and a controller started on the new hall config answers the kiosk's request.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from support.broker import NOT_AUTHORIZED, SyncClient, connect
from support.hall import EXAMPLE_HALL, SECRET, weekday_morning

from broker_config.credentials import read_credentials
from broker_config.process import MosquittoProcess
from hall.controller import Controller
from hallconfig import load_hall_config, staff_card_hash
from protocol.device import DeviceSettings
from protocol.link import Link, new_command_id
from protocol.messages import IssueTicket, Role
from protocol.topics import CONTROLLER_ID, HallTopics

ROOT = Path(__file__).resolve().parents[2]
T = HallTopics("tianping")


@pytest.fixture
def hall_toml(tmp_path: Path) -> Path:
    """A copy of examples/hall.toml the test may change."""
    path = tmp_path / "hall.toml"
    shutil.copy(ROOT / "examples" / "hall.toml", path)
    return path


def provision(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "broker_config.provision", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def reload_broker(broker: MosquittoProcess) -> None:
    """SIGHUP, then one acknowledged round trip: the reload is done before the next packet.

    Mosquitto handles a pending reload at the end of the loop turn that noticed the signal, so
    anything it reads after answering a publish sent after the signal meets the new files.
    """
    assert broker.pid is not None
    os.kill(broker.pid, signal.SIGHUP)
    witness = connect(broker.broker_settings(CONTROLLER_ID))
    try:
        assert not witness.publish(T.presence(CONTROLLER_ID) + "-probe", b"x").is_failure
    finally:
        witness.close()
    assert "Reloading config." in broker.log_tail()


def printed_settings(stdout: str) -> DeviceSettings:
    """The [device] and [broker] of what provisioning printed, as a device would load them."""
    raw = tomllib.loads(stdout)
    return DeviceSettings.model_validate({"device": raw["device"], "broker": raw["broker"]})


def test_added_kiosk_connects_with_printed_settings_and_only_as_a_kiosk(
        hall_toml: Path, hall_broker: MosquittoProcess) -> None:
    credentials = hall_broker.files.credentials_file
    before = read_credentials(credentials)
    done = provision("add", "--config", str(hall_toml), "--role", "kiosk", "--id", "kiosk-3",
                     "--host", "127.0.0.1", "--no-reload")
    assert done.returncode == 0, done.stderr
    settings = printed_settings(done.stdout)
    assert (settings.device.id, settings.device.hall) == ("kiosk-3", "tianping")
    assert settings.broker.port == hall_broker.lan_port

    early = SyncClient(settings.broker, client_id="kiosk-3")
    assert early.connect().value == NOT_AUTHORIZED  # the running broker has not reloaded yet
    reload_broker(hall_broker)

    kiosk = connect(settings.broker, client_id="kiosk-3")
    try:
        assert not kiosk.publish(T.command("kiosk-3", "issue"), b"{}").is_failure
        assert not kiosk.publish(T.health("kiosk-3"), b"{}").is_failure
        assert kiosk.publish(T.command("kiosk-3", "call_next"), b"{}").value == NOT_AUTHORIZED
        assert kiosk.publish(T.command("kiosk-1", "issue"), b"{}").value == NOT_AUTHORIZED
        assert kiosk.publish(T.reply("kiosk-3"), b"{}").value == NOT_AUTHORIZED
    finally:
        kiosk.close()

    after = read_credentials(credentials)
    assert {name: c.password for name, c in before.items()} == {
        name: c.password for name, c in after.items() if name != "kiosk-3"}
    old = connect(hall_broker.broker_settings("kiosk-1"))  # its password still works
    old.close()


async def test_controller_on_the_new_config_answers_the_new_kiosk(
        tmp_path: Path, hall_toml: Path, hall_broker: MosquittoProcess) -> None:
    done = provision("add", "--config", str(hall_toml), "--role", "kiosk", "--id", "kiosk-3",
                     "--host", "127.0.0.1", "--no-reload")
    assert done.returncode == 0, done.stderr
    reload_broker(hall_broker)
    controller = Controller(load_hall_config(hall_toml), weekday_morning(), SECRET,
                            tmp_path / "journal.sqlite3",
                            broker=hall_broker.broker_settings(CONTROLLER_ID))
    await controller.start()
    link = Link(printed_settings(done.stdout).broker, "tianping", "kiosk-3", Role.KIOSK)
    try:
        await link.start()
        reply = await link.request("issue", IssueTicket(id=new_command_id(), service="A"))
        assert reply.ok, reply.error
        assert reply.result is not None and reply.result["ticket"]["number"] == "A001"
    finally:
        await link.close()
        await controller.stop()


def test_caller_and_display_get_their_place_and_bad_requests_are_named(
        hall_toml: Path, hall_broker: MosquittoProcess) -> None:
    caller = provision("add", "--config", str(hall_toml), "--role", "caller", "--counter", "5",
                       "--id", "caller-5b", "--no-reload")
    assert caller.returncode == 0, caller.stderr
    assert tomllib.loads(caller.stdout)["counter"] == {"id": "5"}
    screen = provision("add", "--config", str(hall_toml), "--role", "display", "--counter", "5",
                       "--id", "display-w5b", "--no-reload")
    assert tomllib.loads(screen.stdout)["display"] == {"mode": "counter", "counter": "5"}
    text = hall_toml.read_text(encoding="utf-8")

    for args, named in ((("--role", "caller", "--id", "caller-x"), "--counter"),
                        (("--role", "caller", "--counter", "99", "--id", "caller-x"), "'99'"),
                        (("--role", "kiosk", "--id", "kiosk-1"), "already exists"),
                        (("--role", "kiosk", "--id", "controller"), "controller"),
                        (("--role", "kiosk", "--id", "kiosk 4"), "kiosk 4")):
        refused = provision("add", "--config", str(hall_toml), *args, "--no-reload")
        assert refused.returncode == 2 and named in refused.stderr, refused.stderr
    assert hall_toml.read_text(encoding="utf-8") == text  # nothing written on a refusal

    listed = provision("list", "--config", str(hall_toml)).stdout.splitlines()
    assert listed[-2:] == ["caller-5b            caller    counter 5",
                           "display-w5b          display   counter 5"]


def test_remove_restores_the_file_and_drops_the_account(
        hall_toml: Path, hall_broker: MosquittoProcess) -> None:
    hall_toml.chmod(0o640)  # as installed: root:lobby 0640, read by the controller's group
    if os.geteuid() == 0:
        os.chown(hall_toml, 0, 65534)
    owner = (hall_toml.stat().st_mode, hall_toml.stat().st_uid, hall_toml.stat().st_gid)
    original = hall_toml.read_text(encoding="utf-8")
    conf = hall_broker.files.conf.read_bytes()
    assert provision("add", "--config", str(hall_toml), "--role", "kiosk", "--id", "kiosk-3",
                     "--no-reload").returncode == 0
    gone = provision("remove", "--config", str(hall_toml), "--id", "kiosk-3", "--no-reload")
    assert gone.returncode == 0, gone.stderr
    assert hall_toml.read_text(encoding="utf-8") == original  # comments and layout kept
    assert (hall_toml.stat().st_mode, hall_toml.stat().st_uid, hall_toml.stat().st_gid) == owner
    assert hall_broker.files.conf.read_bytes() == conf  # regenerated with the same options
    assert "kiosk-3" not in read_credentials(hall_broker.files.credentials_file)
    assert "kiosk-3" not in hall_broker.files.acl.read_text(encoding="utf-8")

    missing = provision("remove", "--config", str(hall_toml), "--id", "kiosk-3", "--no-reload")
    assert missing.returncode == 2 and "kiosk-3" in missing.stderr


def test_card_hash_prints_the_line_for_a_clerks_entry(tmp_path: Path) -> None:
    hall = tmp_path / "hall.toml"
    hall.write_text(EXAMPLE_HALL.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "hall-secret").write_bytes(b"a-hall-secret-of-enough-bytes")
    done = subprocess.run([sys.executable, "-m", "broker_config.provision", "card-hash", "--config",
                           str(hall), "0004123456"], capture_output=True, text=True, check=True)
    expected = staff_card_hash(b"a-hall-secret-of-enough-bytes", "0004123456")
    assert done.stdout == f'card_hash = "{expected}"\n'
