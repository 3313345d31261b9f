"""MosquittoProcess: start, stop, kill and restart a real broker; clear errors when it fails."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from support.broker import SyncClient, connect

from broker_config.errors import AccountError, BrokerStartError, MosquittoMissing
from broker_config.process import MosquittoProcess, free_port
from hallconfig import HallConfig, load_hall_config
from protocol.link import Link
from protocol.messages import Presence, PresenceState, Role, decode
from protocol.topics import CONTROLLER_ID, HallTopics, StateKind

T = HallTopics("tianping")
MQTT_CONNECT = bytes.fromhex("101000044d5154540402003c0004") + b"test"  # MQTT 3.1.1, anonymous


@pytest.fixture(scope="module")
def hall(hall_config_path: Path) -> HallConfig:
    return load_hall_config(hall_config_path)


def test_stop_and_start_keep_ports_accounts_and_retained_state(
        fresh_broker: MosquittoProcess) -> None:
    ports, pid = (fresh_broker.local_port, fresh_broker.lan_port), fresh_broker.pid
    controller = connect(fresh_broker.broker_settings(CONTROLLER_ID))
    controller.publish(T.state(StateKind.HALL), b"snapshot-1", retain=True)
    controller.close()
    fresh_broker.restart()
    assert (fresh_broker.local_port, fresh_broker.lan_port) == ports
    assert fresh_broker.running and fresh_broker.pid != pid
    display = connect(fresh_broker.broker_settings("display-lobby", lan=True))
    display.subscribe(T.all_state)
    assert display.wait_message(T.state(StateKind.HALL)).payload == b"snapshot-1"
    display.close()


def test_kill_drops_every_client_and_restart_brings_the_broker_back(
        fresh_broker: MosquittoProcess) -> None:
    kiosk = connect(fresh_broker.broker_settings("kiosk-1"))
    fresh_broker.kill()
    assert not fresh_broker.running
    assert kiosk.wait_disconnect() >= 1
    kiosk.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", fresh_broker.local_port), timeout=1).close()
    fresh_broker.start()
    connect(fresh_broker.broker_settings("kiosk-1")).close()


def test_missing_mosquitto_says_how_to_install_it(hall: HallConfig, tmp_path: Path) -> None:
    with pytest.raises(MosquittoMissing, match="apt-get install mosquitto"):
        MosquittoProcess(hall, tmp_path, executable="mosquitto-not-installed")


def test_a_taken_port_is_named(broker: MosquittoProcess, hall: HallConfig,
                               tmp_path: Path) -> None:
    second = MosquittoProcess(hall, tmp_path, local_port=broker.local_port)
    with pytest.raises(BrokerStartError, match=f"port {broker.local_port} .* already in use"):
        second.start()
    assert not second.running


def test_a_broker_that_exits_reports_its_log(hall: HallConfig, tmp_path: Path) -> None:
    process = MosquittoProcess(hall, tmp_path)
    with process.files.conf.open("a") as conf:
        conf.write("no_such_directive 1\n")
    with pytest.raises(BrokerStartError, match=r"(?s)exited with status.*no_such_directive"):
        process.start(timeout=5)
    assert not process.running


def _effective_uid(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[2])


def test_started_as_root_the_broker_becomes_its_user_and_still_reads_its_files(
        hall: HallConfig) -> None:
    """The production path (root drops to mosquitto); run unprivileged, it stays that user."""
    me = os.geteuid()
    expected = pwd.getpwnam("mosquitto").pw_uid if me == 0 else me
    directory = Path(tempfile.mkdtemp(prefix="lobby-broker-"))
    directory.chmod(0o755)  # the broker's user must reach its files
    try:
        with MosquittoProcess(hall, directory, run_as="mosquitto") as process:
            assert process.pid is not None and _effective_uid(process.pid) == expected
            assert process.files.passwd.stat().st_uid == expected
            assert process.files.credentials_file.stat().st_uid == me
            controller = connect(process.broker_settings(CONTROLLER_ID))
            controller.publish(T.state(StateKind.HALL), b"snapshot", retain=True)
            controller.close()
        assert (process.files.state_dir / "mosquitto.db").stat().st_uid == expected
    finally:
        shutil.rmtree(directory)


def test_settings_for_an_unknown_account_are_refused(broker: MosquittoProcess) -> None:
    with pytest.raises(AccountError, match="no broker account 'kiosk-9'"):
        broker.broker_settings("kiosk-9")


def test_free_ports_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def _self_signed(directory: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    assert openssl is not None, "apt-get install openssl"
    cert, key = directory / "server.crt", directory / "server.key"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def _answer_to_plain_connect(port: int) -> bytes:
    """The first byte a listener sends back to an unencrypted MQTT CONNECT (b"" if none)."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as plain:
        plain.sendall(MQTT_CONNECT)
        try:
            return plain.recv(1)
        except ConnectionResetError:
            return b""


def test_tls_on_the_lan_listener(hall: HallConfig, tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    with MosquittoProcess(hall, tmp_path / "broker", tls_cert=cert, tls_key=key) as process:
        settings = process.broker_settings("kiosk-1", lan=True)
        assert settings.tls_ca == str(cert) and settings.port == process.lan_port
        connect(settings).close()
        assert _answer_to_plain_connect(process.local_port) == b"\x20"  # a CONNACK
        assert _answer_to_plain_connect(process.lan_port) != b"\x20"
        connect(process.broker_settings("kiosk-1")).close()


async def test_the_protocol_link_logs_in_with_the_settings(
        fresh_broker: MosquittoProcess) -> None:
    controller = connect(fresh_broker.broker_settings(CONTROLLER_ID))
    controller.subscribe(T.presence("kiosk-1"))
    link = Link(fresh_broker.broker_settings("kiosk-1", lan=True), "tianping", "kiosk-1",
                Role.KIOSK)
    await link.start(wait=5)
    online = controller.wait_message(T.presence("kiosk-1"))
    assert decode(Presence, online.payload).state is PresenceState.ONLINE
    await link.close()
    controller.close()


def test_taking_the_controllers_client_id_does_not_leak_its_queued_commands(
        fresh_broker: MosquittoProcess) -> None:
    """Any account may knock a client off by reusing its client id, but reads stay its own."""
    hour = 3600
    controller = SyncClient(fresh_broker.broker_settings(CONTROLLER_ID),
                            client_id=CONTROLLER_ID, session_expiry=hour)
    assert not controller.connect().is_failure
    controller.subscribe(T.all_commands)
    controller.subscribe(T.state(StateKind.SUMMARY))
    controller.close()
    kiosk = connect(fresh_broker.broker_settings("kiosk-1"))
    kiosk.publish(T.command("kiosk-1", "issue"), b"queued-command")
    thief = SyncClient(fresh_broker.broker_settings("kiosk-2"), client_id=CONTROLLER_ID,
                       session_expiry=hour)
    assert not thief.connect().is_failure
    thief.subscribe(T.state(StateKind.SUMMARY))
    kiosk.publish(T.command("kiosk-1", "issue"), b"live-command")
    marker = connect(fresh_broker.broker_settings(CONTROLLER_ID))
    marker.publish(T.state(StateKind.SUMMARY), b"marker")
    assert thief.received_before(T.state(StateKind.SUMMARY), b"marker") == []
    for client in (thief, kiosk, marker):
        client.close()
