"""Nearby centres over the city bridge: the hall config's [city] table, the bridge's ``in``
lines, the city's read grants, and two real hall brokers bridged through a real city broker."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from support.broker import NOT_AUTHORIZED, SyncClient, connect
from support.hall import SHANGHAI, hall_config, start_controller

from broker_config.accounts import Access, Grant
from broker_config.errors import BrokerConfigError
from broker_config.process import MosquittoProcess
from city.broker import (
    BridgeOptions,
    add_bridge,
    bridge_block,
    city_accounts,
    generate_city,
    main,
    read_nearby,
)
from city.broker_process import CityBroker
from demo.nearby import NearbyCentres
from demo.summary import fit, nearby_text
from hallconfig import ConfigError, load_hall_config
from protocol import messages as m
from protocol.link import Inbound, Link
from protocol.topics import HallTopics, StateKind, parse

ROOT = Path(__file__).resolve().parents[2]
HALLS = ["tianping", "xuhui", "jingan"]
NEARBY = {"tianping": ["xuhui"]}  # the city lets tianping's bridge read xuhui's summary only
OPTIONS = BridgeOptions("city.example", 8883, "pw-123")
A = HallTopics("tianping")


def summary(hall: str, waiting: int) -> m.HallSummary:
    return m.HallSummary(
        hall=hall, name=f"{hall}中心", name_en=hall, at=datetime.now(SHANGHAI), counters_open=9,
        issued_today=40, served_today=20,
        services=[m.ServiceSummary(service="A", name="社会保险与就业", waiting=waiting,
                                   estimated_wait_min=waiting * 2.0)])


# ---------------------------------------------------------------- the hall config
def config_with(tmp_path: Path, city: str) -> Path:
    text = (ROOT / "examples" / "hall.toml").read_text(encoding="utf-8")
    start = text.index("[city]")
    path = tmp_path / "hall.toml"
    path.write_text(text[:start] + city + text[text.index("\n\n", start):], encoding="utf-8")
    return path


def test_the_example_hall_has_two_nearby_centres() -> None:
    assert hall_config().city.nearby == ["xujiahui", "hunanlu"]


@pytest.mark.parametrize(("table", "problem"), [
    ('[city]\nnearby = ["tianping"]', "city.nearby: 'tianping' is this hall itself"),
    ('[city]\nnearby = ["xuhui", "xuhui"]', "city.nearby: hall id 'xuhui' appears twice"),
    ('[city]\nnearby = ["xu hui"]', "city.nearby: hall id 'xu hui' must be"),
    ('[city]\nnearby = ["a", "b", "c", "d", "e", "f", "g"]', "city.nearby: List should have "
                                                             "at most 6 items"),
    ('[city]\nnearby = "xuhui"', "city.nearby: Input should be a valid list"),
    ('[city]\nnear = ["xuhui"]', "city.near: unknown key"),
])
def test_a_bad_city_table_is_refused_naming_the_key(tmp_path: Path, table: str,
                                                    problem: str) -> None:
    with pytest.raises(ConfigError, match="hall.toml: .*" + problem.replace("(", r"\(")):
        load_hall_config(config_with(tmp_path, table))


def test_without_a_city_table_there_are_no_nearby_centres(tmp_path: Path) -> None:
    assert load_hall_config(config_with(tmp_path, "")).city.nearby == []


# ---------------------------------------------------------------- the bridge block
def test_the_bridge_brings_each_nearby_summary_onto_the_halls_nearby_topic() -> None:
    lines = [line for line in bridge_block("tianping", OPTIONS, ["xuhui", "jingan"]).splitlines()
             if line.startswith("topic ")]
    assert lines == [
        "topic state/summary out 1 lobby/tianping/ city/tianping/",
        'topic "" in 1 lobby/tianping/state/summary/xuhui city/xuhui/state/summary',
        'topic "" in 1 lobby/tianping/state/summary/jingan city/jingan/state/summary',
    ]
    assert "state/summary/" not in bridge_block("tianping", OPTIONS)


@pytest.mark.parametrize(("nearby", "problem"), [
    (["tianping"], "lists itself"),
    (["xuhui", "xuhui"], "'xuhui' twice"),
    (["xu hui"], "nearby hall id 'xu hui' must be"),
    ([f"h{i}" for i in range(7)], "7 nearby centres; at most 6"),
])
def test_bad_nearby_centres_are_refused(nearby: list[str], problem: str) -> None:
    with pytest.raises(BrokerConfigError, match=problem):
        bridge_block("tianping", OPTIONS, nearby)


def test_the_bridge_verb_takes_the_nearby_centres_from_the_hall_config(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    city = generate_city(["tianping", "xujiahui", "hunanlu"], tmp_path / "city")
    conf = tmp_path / "mosquitto.conf"
    conf.write_text("listener 1883 127.0.0.1\n", encoding="utf-8")
    status = main(["bridge", "--hall", str(ROOT / "examples" / "hall.toml"), "--conf", str(conf),
                   "--city-host", "city.example", "--city-credentials",
                   str(city.credentials_file)])
    assert status == 0 and "(2 nearby centres)" in capsys.readouterr().out
    text = conf.read_text(encoding="utf-8")
    for neighbour in ("xujiahui", "hunanlu"):
        assert f'topic "" in 1 {A.nearby(neighbour)} city/{neighbour}/state/summary' in text


# ---------------------------------------------------------------- the city's accounts
def test_a_bridge_account_may_read_exactly_its_nearby_summaries() -> None:
    grants = {a.username: a.grants for a in city_accounts(HALLS, NEARBY)}
    assert grants["bridge-tianping"] == (
        Grant(Access.WRITE, "city/tianping/state/summary"),
        Grant(Access.WRITE, "city/tianping/bridge"),
        Grant(Access.READ, "city/xuhui/state/summary"))
    assert all(g.access is Access.WRITE for g in grants["bridge-xuhui"])


@pytest.mark.parametrize(("nearby", "problem"), [
    ({"songjiang": ["xuhui"]}, "'songjiang' is not one of the city's halls"),
    ({"tianping": ["songjiang"]}, "tianping's nearby centre 'songjiang' is not one of"),
    ({"tianping": ["tianping"]}, "lists itself"),
])
def test_a_neighbour_map_naming_unknown_halls_is_refused(nearby: dict[str, list[str]],
                                                         problem: str) -> None:
    with pytest.raises(BrokerConfigError, match=problem):
        city_accounts(HALLS, nearby)


def test_the_neighbour_map_file(tmp_path: Path) -> None:
    path = tmp_path / "nearby.toml"
    path.write_text('tianping = ["xuhui", "jingan"]\nxuhui = ["tianping"]\n', encoding="utf-8")
    assert read_nearby(path) == {"tianping": ["xuhui", "jingan"], "xuhui": ["tianping"]}
    for text, problem in (('tianping = "xuhui"', "tianping: must be a list of hall ids"),
                          ("tianping = [", "not valid TOML"),
                          ('tianping = ["tianping"]', "lists itself")):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(BrokerConfigError, match=f"nearby.toml: .*{problem}"):
            read_nearby(path)


def test_the_city_verb_takes_a_neighbour_map_and_refuses_a_bad_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nearby.toml"
    path.write_text('tianping = ["xuhui"]\n', encoding="utf-8")
    argv = ["city", "--halls", ",".join(HALLS), "--out", str(tmp_path / "city"),
            "--nearby", str(path)]
    assert main(argv) == 0
    acl = (tmp_path / "city" / "acl").read_text(encoding="utf-8")
    assert acl.count("topic read city/xuhui/state/summary") == 1
    path.write_text('tianping = ["songjiang"]\n', encoding="utf-8")
    assert main(argv) == 2
    assert "'songjiang' is not one of the city's halls" in capsys.readouterr().err
    assert main([*argv[:-1], str(tmp_path / "missing.toml")]) == 2
    assert "missing.toml: No such file" in capsys.readouterr().err


# ---------------------------------------------------------------- real brokers
@pytest.fixture
def city(tmp_path: Path) -> Iterator[CityBroker]:
    broker = CityBroker(HALLS, tmp_path / "city", nearby=NEARBY)
    broker.start()
    yield broker
    broker.stop()


def test_bridge_accounts_cannot_read_or_write_other_halls_summaries(city: CityBroker) -> None:
    tianping = connect(city.settings("bridge-tianping"))
    xuhui = connect(city.settings("bridge-xuhui"))
    jingan = connect(city.settings("bridge-jingan"))
    try:
        for topic in ("city/xuhui/state/summary", "city/jingan/state/summary"):
            assert tianping.publish(topic, b"{}").value == NOT_AUTHORIZED, topic
        tianping.subscribe("city/jingan/state/summary")
        tianping.subscribe("city/xuhui/state/summary")
        xuhui.subscribe("city/tianping/state/summary")
        assert not jingan.publish("city/jingan/state/summary", b"jingan").is_failure
        assert not tianping.publish("city/tianping/state/summary", b"tianping").is_failure
        assert not xuhui.publish("city/xuhui/state/summary", b"marker").is_failure
        assert tianping.received_before("city/xuhui/state/summary", b"marker") == []
        assert xuhui.messages == []  # nor does a bridge without neighbours read anything
    finally:
        for client in (tianping, xuhui, jingan):
            client.close()


def bridge_to(city: CityBroker, hall_broker: MosquittoProcess, hall: str,
              nearby: list[str]) -> None:
    hall_broker.stop()
    add_bridge(hall_broker.files.conf, bridge_block(hall, BridgeOptions(
        "127.0.0.1", city.port, city.bridge_password(hall), restart_s=(1, 1)), nearby))
    hall_broker.start()


def nearby_messages(client: SyncClient) -> list[tuple[str, bytes]]:
    return [(msg.topic, bytes(msg.payload)) for msg in client.messages
            if msg.topic.startswith(f"{A.base}/state/summary/")]


async def test_a_neighbours_summary_reaches_the_halls_kiosks_and_nothing_else_does(
        fresh_broker: MosquittoProcess, city: CityBroker, tmp_path: Path) -> None:
    config = hall_config()
    xuhui_broker = MosquittoProcess(config.model_copy(update={"hall": config.hall.model_copy(
        update={"id": "xuhui", "name": "徐汇中心", "name_en": "Xuhui"})}), tmp_path / "xuhui")
    # tianping's bridge also asks for jingan, which the city does not let it read.
    bridge_to(city, fresh_broker, "tianping", ["xuhui", "jingan"])
    bridge_to(city, xuhui_broker, "xuhui", [])
    controller = await start_controller(fresh_broker, tmp_path / "tianping")
    kiosk = await asyncio.to_thread(connect, fresh_broker.broker_settings("kiosk-1"))
    xuhui = await asyncio.to_thread(connect, xuhui_broker.broker_settings("controller"))
    jingan = await asyncio.to_thread(connect, city.settings("bridge-jingan"))
    first, second = m.encode(summary("xuhui", 7)), m.encode(summary("xuhui", 3))
    try:
        await asyncio.to_thread(kiosk.subscribe, A.all_state)
        await asyncio.to_thread(jingan.publish, "city/jingan/state/summary",
                                m.encode(summary("jingan", 1)), retain=True)
        await asyncio.to_thread(xuhui.publish, "lobby/xuhui/state/summary", first, retain=True)
        arrived = await asyncio.to_thread(kiosk.wait_message, A.nearby("xuhui"), first)
        assert m.decode(m.HallSummary, arrived.payload).hall == "xuhui"

        await controller.stop()  # a restart republishes the hall's own state, never these
        controller = await start_controller(fresh_broker, tmp_path / "tianping")
        await asyncio.to_thread(xuhui.publish, "lobby/xuhui/state/summary", second, retain=True)
        seen = await asyncio.to_thread(kiosk.received_before, A.nearby("xuhui"), second)
        assert A.state(StateKind.SUMMARY) in {msg.topic for msg in seen}  # it did republish
        assert set(nearby_messages(kiosk)) == {(A.nearby("xuhui"), first),
                                               (A.nearby("xuhui"), second)}
        late = await asyncio.to_thread(connect, fresh_broker.broker_settings("kiosk-2"))
        try:
            await asyncio.to_thread(late.subscribe, A.all_nearby)
            kept = await asyncio.to_thread(late.wait_message, A.nearby("xuhui"))
            assert kept.retain and kept.payload == second
        finally:
            late.close()
    finally:
        await controller.stop()
        for client in (kiosk, xuhui, jingan):
            client.close()
        xuhui_broker.stop()


async def test_the_demo_halls_kiosks_follow_two_simulated_nearby_centres(
        tmp_path: Path) -> None:
    config = hall_config()
    hall_broker = MosquittoProcess(config, tmp_path / "broker")
    centres = NearbyCentres(config, tmp_path / "city", random.Random(1))
    centres.start(hall_broker)
    hall_broker.start()
    kiosk = Link(hall_broker.broker_settings("kiosk-1"), "tianping", "kiosk-1", m.Role.KIOSK,
                 follow=[A.all_state])
    arrived = asyncio.Event()

    def both_in(_inbound: Inbound) -> None:
        if sum(1 for topic in kiosk.state if parse(topic).nearby) == 2:
            arrived.set()

    kiosk.on_message(both_in)
    running = asyncio.create_task(centres.run())
    try:
        await kiosk.start()
        await asyncio.wait_for(arrived.wait(), 10.0)
        line = nearby_text(kiosk, datetime.now(SHANGHAI))
        assert "徐家汇街道 约" in line and "湖南路街道 约" in line, line
        assert isinstance(kiosk.state[A.nearby("hunanlu")], m.HallSummary)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await kiosk.close()
        hall_broker.stop()
        centres.stop()


def test_the_demo_line_is_cut_to_the_terminal_counting_chinese_as_two_cells() -> None:
    assert fit("附近 徐家汇", 6) == "附近 "
    assert fit("附近 徐家汇", 9) == "附近 徐家"
    assert fit("Mon 09:10", 80) == "Mon 09:10"
