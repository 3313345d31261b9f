"""Halls bridged to a city broker: two kinds of Mosquitto on loopback, several halls."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from support.broker import NOT_AUTHORIZED, SyncClient, connect
from support.hall import SHANGHAI, hall_config, start_controller

from broker_config.process import MosquittoProcess, free_port
from city.broker import BridgeOptions, add_bridge, bridge_block
from city.broker_process import CityBroker
from city.overview import CityOverview, HallEntry, ranking
from city.page import routes
from protocol import messages as m
from protocol.link import new_command_id

ROOT = Path(__file__).resolve().parents[2]
HALLS = ["tianping", "xuhui", "jingan"]
FAST_RESTART = (1, 1)  # the bridge retries the city every second


@pytest.fixture
def city(tmp_path: Path) -> Iterator[CityBroker]:
    broker = CityBroker(HALLS, tmp_path / "city")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def overview(city: CityBroker) -> Iterator[CityOverview]:
    watcher = CityOverview(city.settings("overview"))
    watcher.start()
    yield watcher
    watcher.stop()


def bridge_to(city: CityBroker, hall_broker: MosquittoProcess, hall: str) -> None:
    """Add the city bridge to a hall broker's config and (re)start it."""
    hall_broker.stop()
    add_bridge(hall_broker.files.conf, bridge_block(hall, BridgeOptions(
        "127.0.0.1", city.port, city.bridge_password(hall), restart_s=FAST_RESTART)))
    hall_broker.start()


def other_hall(hall: str, directory: Path) -> MosquittoProcess:
    config = hall_config()
    config = config.model_copy(update={"hall": config.hall.model_copy(update={
        "id": hall, "name": f"{hall}社区事务受理服务中心", "name_en": f"{hall.title()} Centre"})})
    return MosquittoProcess(config, directory)


def summary(hall: str, wait_a: float, issued: int) -> m.HallSummary:
    return m.HallSummary(
        hall=hall, name=f"{hall}中心", name_en=hall, at=datetime.now(SHANGHAI), counters_open=9,
        issued_today=issued, served_today=issued // 2,
        services=[m.ServiceSummary(service="A", name="社会保险与就业", waiting=int(wait_a // 8),
                                   estimated_wait_min=wait_a)])


def test_each_bridge_account_writes_only_its_own_hall(city: CityBroker) -> None:
    bridge = connect(city.settings("bridge-xuhui"))
    reader = connect(city.settings("overview"))
    try:
        assert not bridge.publish("city/xuhui/state/summary", b"{}").is_failure
        assert not bridge.publish("city/xuhui/bridge", b"1").is_failure
        for topic in ("city/tianping/state/summary", "city/xuhui/state/counter/1",
                      "lobby/xuhui/state/summary", "city/xuhui"):
            assert bridge.publish(topic, b"{}").value == NOT_AUTHORIZED, topic
        assert reader.publish("city/xuhui/state/summary", b"{}").value == NOT_AUTHORIZED
        assert not reader.subscribe("city/#").is_failure
    finally:
        bridge.close()
        reader.close()


def test_bridge_block_remaps_only_the_summary(tmp_path: Path) -> None:
    block = bridge_block("tianping", BridgeOptions("city.example", 8883, "pw-123"))
    assert "topic state/summary out 1 lobby/tianping/ city/tianping/" in block
    assert [line for line in block.splitlines() if line.startswith("topic ")] == [
        "topic state/summary out 1 lobby/tianping/ city/tianping/"]
    assert "bridge_protocol_version mqttv50" in block
    assert "remote_username bridge-tianping" in block
    conf = tmp_path / "mosquitto.conf"
    conf.write_text("listener 1883 127.0.0.1\n")
    add_bridge(conf, block)
    add_bridge(conf, block.replace("pw-123", "pw-456"))  # again: replaced, not doubled
    text = conf.read_text()
    assert text.count("connection city-tianping") == 1 and "pw-456" in text
    assert text.startswith("listener 1883 127.0.0.1\n")


async def wait_for(overview: CityOverview, ready: object, timeout: float = 10.0) -> bool:
    return await asyncio.to_thread(overview.wait_until, ready, timeout)  # type: ignore[arg-type]


async def test_halls_reach_the_city_and_the_bridge_survives_a_city_restart(
        fresh_broker: MosquittoProcess, city: CityBroker, overview: CityOverview,
        tmp_path: Path) -> None:
    bridge_to(city, fresh_broker, "tianping")
    others = {hall: other_hall(hall, tmp_path / hall) for hall in ("xuhui", "jingan")}
    publishers: list[SyncClient] = []
    spy = connect(city.settings("overview"))
    spy.subscribe("city/#")
    controller = await start_controller(fresh_broker, tmp_path / "tianping")
    try:
        for hall, process in others.items():
            bridge_to(city, process, hall)
            publisher = connect(process.broker_settings("controller"))
            publishers.append(publisher)
            publisher.publish(f"lobby/{hall}/state/summary", m.encode(
                summary(hall, wait_a=12.0 if hall == "xuhui" else 35.0, issued=40)), retain=True)
        await controller.execute("sign_in", m.SignIn(id=new_command_id(), staff_no="S001",
                                                     pin="1234"), "caller-1")
        await controller.execute("issue", m.IssueTicket(id=new_command_id(), service="A",
                                                        print_on_kiosk=False))
        assert await wait_for(overview, lambda h: set(h) == set(HALLS) and all(
            e.summary is not None and e.bridge_up for e in h.values())
            and h["tianping"].summary.issued_today == 1)  # type: ignore[union-attr]
        ranked = [e.hall for e in ranking(overview.halls(), "A")]
        assert ranked == ["tianping", "xuhui", "jingan"]  # 0, 12 and 35 min for service A

        city.stop()
        for service in "BC":  # the summary changes while the city is away
            await controller.execute("issue", m.IssueTicket(id=new_command_id(),
                                                            service=service, print_on_kiosk=False))
        city.start()

        def latest(halls: dict[str, HallEntry]) -> bool:
            entry = halls["tianping"]
            return entry.summary is not None and entry.summary.issued_today == 3
        assert await wait_for(overview, latest, timeout=15.0)
        assert await wait_for(overview, lambda h: all(e.bridge_up for e in h.values()))
    finally:
        await controller.stop()
        for publisher in publishers:
            publisher.close()
        for process in others.values():
            process.stop()
    topics = {msg.topic for msg in spy.messages}
    spy.close()
    assert topics == {f"city/{h}/{k}" for h in HALLS for k in ("state/summary", "bridge")}
    for msg in spy.messages:
        if msg.topic.endswith("summary"):
            decoded = m.decode(m.HallSummary, msg.payload)  # extra keys would be refused
            assert "王丽" not in msg.payload.decode() and decoded.hall in HALLS


def test_city_cli_prints_the_halls_shortest_wait_first(city: CityBroker) -> None:
    publishers = [connect(city.settings(f"bridge-{hall}")) for hall in HALLS]
    try:
        for publisher, hall, wait in zip(publishers, HALLS, (30.0, 5.0, 18.0), strict=True):
            publisher.publish(f"city/{hall}/state/summary",
                              m.encode(summary(hall, wait, issued=10)), retain=True)
        out = subprocess.run(
            [sys.executable, "-m", "city", "--broker", f"127.0.0.1:{city.port}",
             "--credentials", str(city.files.credentials_file), "--service", "A", "--once",
             "--json"], capture_output=True, text=True, cwd=ROOT, timeout=30, check=True)
    finally:
        for publisher in publishers:
            publisher.close()
    listed = json.loads(out.stdout.strip().splitlines()[-1])
    assert [entry["hall"] for entry in listed] == ["xuhui", "jingan", "tianping"]
    assert listed[0]["summary"]["services"][0]["estimated_wait_min"] == 5.0


async def test_city_page_and_json_for_a_kiosk_idle_screen(city: CityBroker,
                                                          overview: CityOverview) -> None:
    publishers = [connect(city.settings(f"bridge-{hall}")) for hall in HALLS]
    try:
        for publisher, hall, wait in zip(publishers, HALLS, (30.0, 5.0, 18.0), strict=True):
            publisher.publish(f"city/{hall}/state/summary",
                              m.encode(summary(hall, wait, issued=10)), retain=True)
        assert await wait_for(overview, lambda h: len(h) == 3)
        app = web.Application()
        app.add_routes(routes(overview))
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with aiohttp.ClientSession() as session:
                near = await (await session.get(
                    f"http://127.0.0.1:{port}/api/halls?service=A&near=tianping,jingan")).json()
                page = await (await session.get(f"http://127.0.0.1:{port}/")).text()
        finally:
            await runner.cleanup()
    finally:
        for publisher in publishers:
            publisher.close()
    assert [entry["hall"] for entry in near] == ["jingan", "tianping"]
    assert page.index("xuhui中心") < page.index("jingan中心") < page.index("tianping中心")
    assert '<td class="best">5 ' in page
