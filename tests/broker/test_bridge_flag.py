"""The city bridge's up/down flag on the hall's own broker: Mosquitto keeps it retained there
too, and the web service's account (role manager) may read it, and nothing else of the city."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.broker import connect

from broker_config.process import MosquittoProcess
from city.broker import BridgeOptions, add_bridge, bridge_block
from city.broker_process import CityBroker
from protocol.topics import CityTopics, HallTopics, StateKind

HALL = "tianping"
FLAG = CityTopics.bridge(HALL)
SUMMARY = HallTopics(HALL).state(StateKind.SUMMARY)  # every account reads it: the marker


@pytest.fixture
def city(tmp_path: Path) -> Iterator[CityBroker]:
    broker = CityBroker([HALL], tmp_path / "city")
    broker.start()
    yield broker
    broker.stop()


def test_the_web_account_reads_the_bridge_flag_as_the_city_comes_and_goes(
        fresh_broker: MosquittoProcess, city: CityBroker) -> None:
    fresh_broker.stop()
    add_bridge(fresh_broker.files.conf, bridge_block(HALL, BridgeOptions(
        "127.0.0.1", city.port, city.bridge_password(HALL), restart_s=(1, 1))))
    fresh_broker.start()
    web = connect(fresh_broker.broker_settings("web"), timeout=15)
    kiosk = connect(fresh_broker.broker_settings("kiosk-1"))
    controller = connect(fresh_broker.broker_settings("controller"))
    try:
        web.subscribe(FLAG)
        kiosk.subscribe(FLAG)
        kiosk.subscribe(SUMMARY)
        web.wait_message(FLAG, b"1")
        city.stop()
        web.wait_message(FLAG, b"0")
        city.start()
        web.wait_message(FLAG, b"1")
        late = connect(fresh_broker.broker_settings("web"), timeout=15)
        try:  # retained: a reader that comes later sees it at once
            late.subscribe(FLAG)
            assert late.wait_message(FLAG).retain
        finally:
            late.close()
        marker = f"marker-{uuid.uuid4().hex}".encode()
        controller.publish(SUMMARY, marker)
        assert [m.topic for m in kiosk.received_before(SUMMARY, marker)] == []  # not a kiosk's
    finally:
        for client in (web, kiosk, controller):
            client.close()


def test_a_hall_without_a_bridge_has_no_flag(fresh_broker: MosquittoProcess) -> None:
    web = connect(fresh_broker.broker_settings("web"))
    controller = connect(fresh_broker.broker_settings("controller"))
    try:
        web.subscribe(FLAG)
        web.subscribe(SUMMARY)
        marker = f"marker-{uuid.uuid4().hex}".encode()
        controller.publish(SUMMARY, marker)
        assert [m.topic for m in web.received_before(SUMMARY, marker)] == []
    finally:
        web.close()
        controller.close()



