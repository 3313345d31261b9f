"""Topics round-trip: every topic a hall builds parses back to itself, including the nearby
centres' summaries the city bridge brings in, and nothing else is taken for one."""

from __future__ import annotations

import pytest

from protocol import messages as m
from protocol.link import matches, model_for
from protocol.topics import CityTopics, EventKind, HallTopics, StateKind, Topic, TopicError, parse

T = HallTopics("tianping")


def built() -> list[str]:
    """One topic of every kind the hall builds."""
    return [
        T.command("kiosk-1", "issue"), T.reply("kiosk-1"), T.presence("caller-3"),
        T.health("kiosk-2"), T.event(EventKind.CALL), T.event(EventKind.ALERT),
        *(T.state(kind) for kind in (StateKind.HALL, StateKind.CALLS, StateKind.SUMMARY)),
        T.state(StateKind.SERVICE, "A"), T.state(StateKind.COUNTER, "12"),
        T.nearby("xujiahui"), T.nearby("hunan_lu-2"),
    ]


@pytest.mark.parametrize("topic", built())
def test_every_built_topic_parses_back_to_itself(topic: str) -> None:
    parsed = parse(topic)
    assert parsed.hall == "tianping"
    assert str(parsed) == topic


def test_a_nearby_centres_summary_sits_under_the_halls_own_state() -> None:
    topic = T.nearby("xujiahui")
    assert topic == "lobby/tianping/state/summary/xujiahui"
    assert parse(topic) == Topic("tianping", "state", "summary", "xujiahui")
    assert parse(topic).nearby == "xujiahui"
    assert matches(T.all_state, topic)  # kiosks and displays already read it
    assert matches(T.all_nearby, topic)


def test_only_nearby_topics_name_a_nearby_centre() -> None:
    others = [t for t in built() if not t.startswith(f"{T.base}/state/summary/")]
    assert all(parse(t).nearby == "" for t in others)
    assert not matches(T.all_nearby, T.state(StateKind.SUMMARY))
    assert not matches(T.state(StateKind.SUMMARY), T.nearby("xujiahui"))


def test_the_link_decodes_a_nearby_topic_as_a_hall_summary() -> None:
    assert model_for(parse(T.nearby("xujiahui"))) is m.HallSummary
    assert model_for(parse(T.state(StateKind.SUMMARY))) is m.HallSummary


@pytest.mark.parametrize("neighbour", ["tianping", "", "has space", "a/b", "+", "x" * 41])
def test_a_nearby_centre_must_be_another_halls_id(neighbour: str) -> None:
    with pytest.raises(TopicError, match=r"nearby|own"):
        T.nearby(neighbour)


@pytest.mark.parametrize("topic", [
    "lobby/tianping/state/summary/tianping",  # a hall is not its own neighbour
    "lobby/tianping/state/summary/xujiahui/more",
    "lobby/tianping/state/summary/",
    "lobby/tianping/state/nearby/xujiahui",
    "lobby/tianping/state/hall/xujiahui",
    "city/xujiahui/state/summary",
])
def test_near_misses_are_not_lobby_topics(topic: str) -> None:
    with pytest.raises(TopicError, match="not a lobby topic"):
        parse(topic)


def test_city_topics_parse_back() -> None:
    assert CityTopics.parse(CityTopics.summary("xujiahui")) == ("xujiahui", "summary")
    assert CityTopics.parse(CityTopics.bridge("xujiahui")) == ("xujiahui", "bridge")
    assert CityTopics.parse(T.nearby("xujiahui")) is None


@pytest.mark.parametrize("hall", ["tianping", "x", "hunan_lu-2", "h" * 40])
def test_the_bridge_remap_joins_into_the_summary_topic_on_each_side(hall: str) -> None:
    pattern, local, remote = CityTopics.summary_out(hall)
    assert local + pattern == HallTopics(hall).state(StateKind.SUMMARY)
    assert remote + pattern == CityTopics.summary(hall)
    assert parse(local + pattern) == Topic(hall, "state", "summary")
    assert CityTopics.parse(remote + pattern) == (hall, "summary")
    assert " " not in pattern + local + remote  # one word each in mosquitto.conf


def test_the_city_wide_filter_takes_in_every_city_topic() -> None:
    for topic in (CityTopics.summary("xujiahui"), CityTopics.bridge("xujiahui")):
        assert matches(CityTopics.everything, topic)
    assert matches(CityTopics.all_summaries, CityTopics.summary("xujiahui"))
    assert not matches(CityTopics.everything, T.state(StateKind.SUMMARY))
