"""protocol.link.SyncClient, the blocking client of tools, benchmarks and tests, on a real
broker: raw bytes and MQTT 5 properties arrive as sent, PUBACKs of unawaited sends are each
reported, a refused account says why, and its follow filters outlive a broker restart."""

from __future__ import annotations

import threading

import pytest
from support.broker import NOT_AUTHORIZED, connect

from broker_config.process import MosquittoProcess, free_port
from protocol.link import Ack, BrokerSettings, NotConnected, SyncClient
from protocol.topics import CONTROLLER_ID, HallTopics, StateKind

T = HallTopics("tianping")
RAW = [b"", b"\xff\xfe\x00not json", b"{" * 2000, "签到".encode(), bytes(range(256))]


@pytest.mark.parametrize("payload", RAW)
def test_raw_bytes_and_properties_arrive_as_sent(fresh_broker: MosquittoProcess,
                                                 payload: bytes) -> None:
    settings = fresh_broker.broker_settings(CONTROLLER_ID)
    reader = connect(settings, follow=[T.all_commands])
    writer = connect(settings)
    try:
        topic = T.command("kiosk-1", "issue")
        pairs = [("a", "1"), ("a", "2"), ("名", "值")]
        ack = writer.publish(topic, payload, response_topic=T.reply("kiosk-1"),
                             correlation=b"\x00corr\xff", expiry=30, user_properties=pairs)
        assert not ack.is_failure, ack
        got = reader.wait_message(topic)
        assert (got.payload, got.retain, got.response_topic, got.correlation) == (
            payload, False, T.reply("kiosk-1"), b"\x00corr\xff")
        assert got.expiry is not None and 0 < got.expiry <= 30
        assert list(got.user_properties) == pairs
        bare = writer.publish(topic, b"bare")
        assert not bare.is_failure
        plain = reader.wait_message(topic, b"bare")
        assert (plain.response_topic, plain.correlation, plain.expiry,
                plain.user_properties) == (None, None, None, ())
    finally:
        reader.close()
        writer.close()


def test_each_unawaited_send_gets_its_own_puback(fresh_broker: MosquittoProcess) -> None:
    """Allowed and forbidden commands interleaved, none awaited: every PUBACK reaches
    on_ack once, with the answer to its own message."""
    acks: dict[int, Ack] = {}
    arrived = threading.Condition()

    def on_ack(mid: int, ack: Ack) -> None:
        with arrived:
            assert mid not in acks, f"PUBACK {mid} twice"
            acks[mid] = ack
            arrived.notify_all()

    kiosk = connect(fresh_broker.broker_settings("kiosk-1"), on_ack=on_ack)
    try:
        expected: dict[int, str | int] = {}
        for n in range(120):  # more than paho's 20 messages in flight
            allowed = n % 3 != 0
            name = "issue" if allowed else "call_next"
            mid = kiosk.send(T.command("kiosk-1", name), f"{n}".encode())
            expected[mid] = "taken" if allowed else NOT_AUTHORIZED
        with arrived:
            assert arrived.wait_for(lambda: len(acks) >= len(expected), 10)
        # taken: 0, or 16 "no matching subscribers" (nobody reads commands here)
        assert {mid: "taken" if ack.value in (0, 16) else ack.value
                for mid, ack in acks.items()} == expected
        assert len(expected) == 120
        assert not kiosk.publish(T.command("kiosk-1", "issue"), b"awaited").is_failure
    finally:
        kiosk.close()


def test_a_refused_account_says_why_and_stays_out(broker: MosquittoProcess) -> None:
    wrong = broker.broker_settings("kiosk-1").model_copy(update={"password": "wrong"})
    client = SyncClient(wrong)
    reason = client.connect()
    assert reason.is_failure and reason.value == NOT_AUTHORIZED
    assert "authori" in str(reason).lower()
    assert not client.connected


def test_no_broker_is_not_connected() -> None:
    client = SyncClient(BrokerSettings(port=free_port(), username="x", password="y"))
    with pytest.raises(NotConnected, match="no broker"):
        client.connect()


def test_follow_outlives_a_broker_restart(fresh_broker: MosquittoProcess) -> None:
    connacks: list[Ack] = []
    came = threading.Condition()

    def on_connack(ack: Ack) -> None:
        with came:
            connacks.append(ack)
            came.notify_all()

    settings = fresh_broker.broker_settings(CONTROLLER_ID)
    display = connect(settings, follow=[T.all_state], on_connack=on_connack, timeout=10)
    try:
        fresh_broker.restart()
        with came:
            assert came.wait_for(lambda: len(connacks) >= 2, 15), "did not reconnect"
        assert not connacks[-1].is_failure
        publisher = connect(settings)
        try:
            assert not publisher.publish(T.state(StateKind.HALL), b"after", retain=True).is_failure
        finally:
            publisher.close()
        assert display.wait_message(T.state(StateKind.HALL), b"after").payload == b"after"
        assert display.disconnects >= 1
    finally:
        display.close()
