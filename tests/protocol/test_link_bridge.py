"""The link follows its hall's city bridge flag (``city/H/bridge``, Mosquitto's own "1" or "0",
retained on the hall's broker) as a typed BridgeFlag, and still drops every other topic that is
not a lobby topic: another hall's flag, the city's summaries, anything else."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pytest

from protocol import messages as m
from protocol.link import BrokerSettings, Inbound, Link
from protocol.topics import CityTopics, HallTopics, StateKind, Topic, TopicError, parse_local

HALL = "tianping"
FLAG = CityTopics.bridge(HALL)


@dataclass
class Received:
    """What the link reads of a delivered message (paho is the link's alone: tests/test_layers)."""

    topic: str
    payload: bytes
    retain: bool


def message(topic: str, payload: bytes, retain: bool = True) -> Any:
    return Received(topic, payload, retain)


@pytest.fixture
def link() -> tuple[Link, list[Inbound]]:
    link = Link(BrokerSettings(), HALL, "web", m.Role.MANAGER)
    link.follow = [*link.follow, link.topics.bridge]
    got: list[Inbound] = []
    link.on_message(got.append)
    return link, got


def test_the_halls_bridge_topic_is_the_citys_flag_and_parses_back() -> None:
    topics = HallTopics(HALL)
    assert topics.bridge == FLAG == "city/tianping/bridge"
    assert parse_local(FLAG) == Topic(HALL, "bridge")
    assert str(parse_local(FLAG)) == FLAG
    for lobby in (topics.state(StateKind.SUMMARY), topics.presence("kiosk-1")):
        assert str(parse_local(lobby)) == lobby


@pytest.mark.parametrize("foreign", [
    CityTopics.summary(HALL), "city/tianping/bridge/x", "city//bridge", "city/tian ping/bridge",
    "other/tianping/bridge", "lobby/tianping/bridge", "city/tianping"])
def test_nothing_else_of_the_city_parses(foreign: str) -> None:
    with pytest.raises(TopicError):
        parse_local(foreign)


async def test_the_link_takes_its_bridge_flag_up_down_and_cleared(
        link: tuple[Link, list[Inbound]]) -> None:
    follower, got = link
    for raw, connected in ((b"1", True), (b"0", False), (b"1", True)):
        follower._dispatch(message(FLAG, raw))
        assert got[-1].topic == Topic(HALL, "bridge")
        assert got[-1].payload == m.BridgeFlag(connected=connected)
        assert follower.state[FLAG] == m.BridgeFlag(connected=connected)
    follower._dispatch(message(FLAG, b""))  # the retained flag cleared
    assert got[-1].payload is None
    assert FLAG not in follower.state
    assert len(got) == 4


@pytest.mark.parametrize(("topic", "raw"), [
    (CityTopics.bridge("xuhui"), b"1"),  # another hall's flag: not ours to follow
    (CityTopics.summary(HALL), b"{}"),
    ("city/tianping/bridge/x", b"1"),
    ("something/else", b"1"),
    (FLAG, b"yes"),  # not Mosquitto's "1" or "0"
    (FLAG, b"10"),
    (FLAG, b'{"v": 1, "connected": true}'),
])
async def test_the_link_drops_foreign_topics_and_bad_flags(
        link: tuple[Link, list[Inbound]], topic: str, raw: bytes,
        caplog: pytest.LogCaptureFixture) -> None:
    follower, got = link
    with caplog.at_level(logging.WARNING, "protocol.link"):
        follower._dispatch(message(topic, raw))
    assert got == []
    assert follower.state == {}
    assert topic in caplog.text
