"""Test support for the real broker: start one for a hall, and a blocking MQTT 5 client.

``SyncClient`` waits for the broker's answer to every call (CONNACK, SUBACK, PUBACK) on a
``threading.Condition`` with a timeout, never on a sleep. To show that something did NOT
arrive, send a marker afterwards on a topic the client does read and look at what came
before it: the broker keeps per-client order, so the answer is final once the marker is in.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from broker_config.process import MosquittoProcess
from hallconfig import load_hall_config
from protocol.link import BrokerSettings

T = TypeVar("T")
NOT_AUTHORIZED = 135  # MQTT 5 reason code 0x87


def start_broker(hall_config_path: Path, directory: Path) -> MosquittoProcess:
    """A running MosquittoProcess for the hall in ``hall_config_path``, files in ``directory``."""
    process = MosquittoProcess(load_hall_config(hall_config_path), directory)
    process.start()
    return process


def _nodelay(_c: mqtt.Client, _u: Any, sock: Any) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class SyncClient:
    """A blocking MQTT 5 client for tests: connect, subscribe and publish wait for the ack."""

    def __init__(self, settings: BrokerSettings, *, client_id: str | None = None,
                 session_expiry: int = 0, timeout: float = 3.0) -> None:
        self.settings = settings
        self.timeout = timeout
        self.session_expiry = session_expiry  # seconds the broker keeps the session; 0: none
        self.messages: list[mqtt.MQTTMessage] = []
        self.disconnects = 0  # connections lost or refused since connect()
        self._cond = threading.Condition()
        self._connack: ReasonCode | None = None
        self._acks: dict[int, list[ReasonCode]] = {}
        name = client_id or f"test-{settings.username or 'anonymous'}-{uuid.uuid4().hex[:8]}"
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name,
                                  protocol=mqtt.MQTTv5)
        if settings.username is not None:
            self.client.username_pw_set(settings.username, settings.password)
        if settings.tls_ca:
            self.client.tls_set(ca_certs=settings.tls_ca)
        self.client.on_socket_open = _nodelay
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect

    def connect(self) -> ReasonCode:
        """Connect and return the CONNACK's reason code; a refused client is closed again."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.session_expiry
        self.client.connect(self.settings.host, self.settings.port, keepalive=30,
                            clean_start=self.session_expiry == 0, properties=props)
        self.client.loop_start()
        reason = self._wait(lambda: self._connack, "CONNACK")
        if reason.is_failure:
            self.close()
        return reason

    def subscribe(self, topic_filter: str, qos: int = 1) -> ReasonCode:
        """Subscribe and return the SUBACK's reason code (granted QoS, or a refusal)."""
        _, mid = self.client.subscribe(topic_filter, qos)
        assert mid is not None, f"subscribe {topic_filter} was not sent"
        return self._wait(lambda: self._acks.get(mid), f"SUBACK for {topic_filter}")[0]

    def publish(self, topic: str, payload: bytes = b"", *, retain: bool = False) -> ReasonCode:
        """Publish at QoS 1 and return the PUBACK's reason code (135: not authorized)."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        return self._wait(lambda: self._acks.get(info.mid), f"PUBACK for {topic}")[0]

    def wait_message(self, topic: str, payload: bytes | None = None) -> mqtt.MQTTMessage:
        """The first message received on ``topic`` (with ``payload``, if given)."""
        def find() -> mqtt.MQTTMessage | None:
            return next((msg for msg in self.messages if msg.topic == topic
                         and (payload is None or msg.payload == payload)), None)
        return self._wait(find, f"message on {topic}")

    def received_before(self, marker_topic: str, marker: bytes) -> list[mqtt.MQTTMessage]:
        """Every message that arrived before the marker ``marker`` on ``marker_topic``."""
        found = self.wait_message(marker_topic, marker)
        with self._cond:
            return self.messages[: self.messages.index(found)]

    def wait_disconnect(self) -> int:
        """Wait until the connection has been lost at least once; the count of losses."""
        return self._wait(lambda: self.disconnects or None, "disconnect")

    def close(self) -> None:
        self.client.on_disconnect = None
        self.client.disconnect()
        self.client.loop_stop()

    def _wait(self, ready: Callable[[], T | None], what: str) -> T:
        with self._cond:
            result = self._cond.wait_for(ready, self.timeout)
        if result is None:
            raise TimeoutError(f"{self.settings.username}: no {what} within {self.timeout} s")
        return result

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode,
                    _p: Any) -> None:
        if reason.is_failure:
            client.disconnect()  # no automatic retry of a refused login
        with self._cond:
            self._connack = reason
            self._cond.notify_all()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, _r: ReasonCode, _p: Any) -> None:
        with self._cond:
            self.disconnects += 1
            self._cond.notify_all()

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, mid: int, reasons: list[ReasonCode],
                      _p: Any) -> None:
        with self._cond:
            self._acks[mid] = reasons
            self._cond.notify_all()

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, reason: ReasonCode,
                    _p: Any) -> None:
        with self._cond:
            self._acks[mid] = [reason]
            self._cond.notify_all()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()


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
