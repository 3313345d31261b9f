"""Every role's rights on the real broker: what it may publish and read, and what it may not.

A refused publish must come back as PUBACK 135 AND never reach a controller subscribed to the
whole hall. A refused read must either be refused at SUBACK (0x87) or, as Mosquitto 2.0.11
does (its acl_file grants every SUBACK), never be delivered. "Never" is bounded by a marker
sent afterwards on a topic the reader does read: the broker keeps per-client order.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from support.broker import NOT_AUTHORIZED, SyncClient

from broker_config.process import MosquittoProcess
from protocol.messages import ALLOWED, Role
from protocol.topics import CONTROLLER_ID, EventKind, HallTopics, StateKind

HALL = "tianping"  # examples/hall.toml
T = HallTopics(HALL)
MARKER_TOPIC = T.state(StateKind.SUMMARY)  # every account may read it
Connect = Callable[[str], SyncClient]


def _payload() -> bytes:
    return f"probe-{uuid.uuid4().hex}".encode()


def _commands(device: str, role: Role) -> list[tuple[str, str]]:
    return [(device, T.command(device, name)) for name in sorted(ALLOWED[role])]


@pytest.fixture
def watcher(broker_client: Connect) -> SyncClient:
    """The controller, subscribed to everything of the hall."""
    client = broker_client(CONTROLLER_ID)
    assert not client.subscribe(f"{T.base}/#").is_failure
    return client


PUBLISH_ALLOWED = [
    *_commands("kiosk-1", Role.KIOSK),
    ("kiosk-1", T.presence("kiosk-1")),
    ("kiosk-2", T.health("kiosk-2")),
    *_commands("caller-1", Role.CALLER),
    ("caller-1", T.presence("caller-1")),
    ("caller-13", T.health("caller-13")),
    ("display-w1", T.presence("display-w1")),
    ("display-lobby", T.health("display-lobby")),
    *_commands("manager", Role.MANAGER),
    ("manager", T.presence("manager")),
    ("upstream", T.command("upstream", "book")),
    ("upstream", T.presence("upstream")),
    (CONTROLLER_ID, T.state(StateKind.HALL)),
    (CONTROLLER_ID, T.reply("kiosk-1")),
    (CONTROLLER_ID, T.event(EventKind.CALL)),
    (CONTROLLER_ID, T.presence(CONTROLLER_ID)),
]


@pytest.mark.parametrize(("user", "topic"), PUBLISH_ALLOWED)
def test_allowed_publish_reaches_the_controller(
        broker_client: Connect, watcher: SyncClient, user: str, topic: str) -> None:
    payload = _payload()
    reason = broker_client(user).publish(topic, payload)
    assert not reason.is_failure, f"{user} on {topic}: {reason}"
    assert watcher.wait_message(topic, payload).payload == payload


PUBLISH_REFUSED = [
    ("display-w1", T.command("display-w1", "call_next")),
    ("display-lobby", T.command("display-lobby", "issue")),
    ("display-w1", T.command("caller-1", "call_next")),
    ("display-w1", T.state(StateKind.COUNTER, "1")),
    ("display-w1", T.presence("caller-1")),
    ("kiosk-1", T.command("kiosk-1", "call_next")),
    ("kiosk-1", T.command("kiosk-1", "cancel")),
    ("kiosk-1", T.command("kiosk-2", "issue")),
    ("kiosk-1", T.presence("kiosk-2")),
    ("kiosk-1", T.reply("kiosk-1")),
    ("kiosk-1", T.state(StateKind.HALL)),
    ("caller-1", T.command("caller-2", "call_next")),
    ("caller-1", T.command("caller-2", "sign_in")),
    ("caller-1", T.presence("caller-2")),
    ("caller-1", T.health("caller-2")),
    ("caller-1", T.command("caller-1", "issue")),
    ("caller-1", T.command("caller-1", "open_counter")),
    ("caller-1", T.event(EventKind.CALL)),
    ("manager", T.command("kiosk-1", "issue")),
    ("manager", T.state(StateKind.HALL)),
    ("manager", T.reply("kiosk-1")),
    ("upstream", T.command("upstream", "issue")),
    ("upstream", T.command("upstream", "end_day")),
    ("upstream", T.state(StateKind.SUMMARY)),
    (CONTROLLER_ID, HallTopics("another-hall").state(StateKind.HALL)),
]


@pytest.mark.parametrize(("user", "topic"), PUBLISH_REFUSED)
def test_forbidden_publish_is_refused_and_never_delivered(
        broker_client: Connect, watcher: SyncClient, user: str, topic: str) -> None:
    payload = _payload()
    reason = broker_client(user).publish(topic, payload)
    assert reason.value == NOT_AUTHORIZED, f"{user} on {topic}: {reason}"
    marker = _payload()
    watcher.publish(MARKER_TOPIC, marker)
    assert payload not in [m.payload for m in watcher.received_before(MARKER_TOPIC, marker)]


def test_a_refused_publish_leaves_the_client_connected(
        broker_client: Connect, watcher: SyncClient) -> None:
    """With max_queued_messages 0, Mosquitto 2.0.11 would drop the connection here."""
    kiosk = broker_client("kiosk-1")
    assert kiosk.publish(T.command("kiosk-1", "call_next"), _payload()).value == NOT_AUTHORIZED
    payload = _payload()
    assert not kiosk.publish(T.command("kiosk-1", "issue"), payload).is_failure
    watcher.wait_message(T.command("kiosk-1", "issue"), payload)
    assert kiosk.disconnects == 0


READ_ALLOWED = [
    ("kiosk-1", T.reply("kiosk-1"), T.reply("kiosk-1")),
    ("kiosk-1", T.all_state, T.state(StateKind.COUNTER, "3")),
    ("kiosk-2", T.presence(CONTROLLER_ID), T.presence(CONTROLLER_ID)),
    ("caller-1", T.reply("caller-1"), T.reply("caller-1")),
    ("caller-1", T.all_state, T.state(StateKind.CALLS)),
    ("caller-1", T.presence(CONTROLLER_ID), T.presence(CONTROLLER_ID)),
    ("display-w1", T.all_state, T.state(StateKind.HALL)),
    ("display-w1", T.event(EventKind.CALL), T.event(EventKind.CALL)),
    ("display-lobby", T.presence(CONTROLLER_ID), T.presence(CONTROLLER_ID)),
    ("manager", T.reply("manager"), T.reply("manager")),
    ("manager", T.all_events, T.event(EventKind.ALERT)),
    ("manager", T.all_presence, T.presence("kiosk-1")),
    ("manager", T.all_health, T.health("kiosk-1")),
    ("manager", T.all_state, T.state(StateKind.SERVICE, "A")),
    ("upstream", T.reply("upstream"), T.reply("upstream")),
    ("upstream", T.state(StateKind.SUMMARY), T.state(StateKind.SUMMARY)),
    (CONTROLLER_ID, T.all_commands, T.command("kiosk-1", "issue")),
]


@pytest.mark.parametrize(("user", "topic_filter", "topic"), READ_ALLOWED)
def test_allowed_read_is_delivered(broker_client: Connect, user: str, topic_filter: str,
                                   topic: str) -> None:
    reader = broker_client(user)
    assert not reader.subscribe(topic_filter).is_failure
    payload = _payload()
    broker_client(CONTROLLER_ID).publish(topic, payload)
    assert reader.wait_message(topic, payload).payload == payload


READ_REFUSED = [
    ("display-w1", f"{T.base}/cmd/#", T.command("kiosk-1", "issue")),
    ("display-w1", T.reply("caller-1"), T.reply("caller-1")),
    ("display-w1", T.event(EventKind.ALERT), T.event(EventKind.ALERT)),
    ("display-lobby", T.all_presence, T.presence("kiosk-1")),
    ("kiosk-1", T.reply("kiosk-2"), T.reply("kiosk-2")),
    ("kiosk-1", f"{T.base}/cmd/#", T.command("kiosk-2", "issue")),
    ("kiosk-1", T.event(EventKind.CALL), T.event(EventKind.CALL)),
    ("kiosk-1", "#", T.reply("kiosk-2")),
    ("caller-1", T.reply("caller-2"), T.reply("caller-2")),
    ("caller-1", T.reply("kiosk-1"), T.reply("kiosk-1")),
    ("caller-1", T.all_health, T.health("kiosk-1")),
    ("manager", T.all_commands, T.command("kiosk-1", "issue")),
    ("manager", T.reply("kiosk-1"), T.reply("kiosk-1")),
    ("upstream", f"{T.base}/state/counter/#", T.state(StateKind.COUNTER, "1")),
    ("upstream", T.all_state, T.state(StateKind.HALL)),
    ("upstream", T.event(EventKind.CALL), T.event(EventKind.CALL)),
    ("upstream", T.all_presence, T.presence("kiosk-1")),
]


def _never_delivered(reader: SyncClient, publisher: SyncClient, topic: str,
                     payload: bytes) -> bool:
    """True if ``payload`` on ``topic`` did not reach ``reader`` before a later marker."""
    assert not reader.subscribe(MARKER_TOPIC).is_failure
    marker = _payload()
    publisher.publish(MARKER_TOPIC, marker)
    before = reader.received_before(MARKER_TOPIC, marker)
    return all(not (m.topic == topic and m.payload == payload) for m in before)


@pytest.mark.parametrize(("user", "topic_filter", "topic"), READ_REFUSED)
def test_forbidden_read_is_never_delivered(broker_client: Connect, user: str,
                                           topic_filter: str, topic: str) -> None:
    reader = broker_client(user)
    granted = reader.subscribe(topic_filter)
    controller = broker_client(CONTROLLER_ID)
    payload = _payload()
    controller.publish(topic, payload)
    assert granted.value == NOT_AUTHORIZED or _never_delivered(reader, controller, topic, payload)


def test_retained_state_is_not_delivered_to_an_account_that_may_not_read_it(
        broker_client: Connect) -> None:
    controller = broker_client(CONTROLLER_ID)
    topic, payload = T.state(StateKind.COUNTER, "1"), _payload()
    controller.publish(topic, payload, retain=True)
    try:
        display = broker_client("display-w1")
        display.subscribe(f"{T.base}/state/counter/#")
        assert display.wait_message(topic, payload).retain
        upstream = broker_client("upstream")
        granted = upstream.subscribe(f"{T.base}/state/counter/#")
        assert granted.value == NOT_AUTHORIZED or _never_delivered(
            upstream, controller, topic, payload)
    finally:
        controller.publish(topic, b"", retain=True)


def test_the_lan_listener_enforces_the_same_rights(broker: MosquittoProcess) -> None:
    kiosk = SyncClient(broker.broker_settings("kiosk-1", lan=True))
    assert not kiosk.connect().is_failure
    try:
        assert kiosk.publish(T.command("kiosk-1", "call_next"), b"x").value == NOT_AUTHORIZED
        assert not kiosk.publish(T.command("kiosk-1", "issue"), b"x").is_failure
    finally:
        kiosk.close()
