"""The display model: retained state and live calls folded into one picture, without Kivy."""

from __future__ import annotations

from datetime import datetime, timedelta

from display.model import FLASH_PERIOD_S, DisplayModel
from display.sample import (
    HALL,
    SAMPLE_NOW,
    hall_state,
    recent_calls,
    sample_call_topic,
    sample_messages,
    sample_model,
)
from protocol import messages as m
from protocol.topics import CONTROLLER_ID, HallTopics, StateKind, parse

TOPICS = HallTopics(HALL)
CALLS = parse(TOPICS.state(StateKind.CALLS))
HALL_TOPIC = parse(TOPICS.state(StateKind.HALL))
CONTROLLER = parse(TOPICS.presence(CONTROLLER_ID))
LIVE = sample_call_topic()


def call(seq: int, number: str = "A001", counter: str = "3", *, recall: bool = False,
         at: datetime = SAMPLE_NOW) -> m.CallEvent:
    return m.CallEvent(seq=seq, ticket=f"{at:%Y%m%d}-{number}", number=number,
                       service=number[0], counter=counter, counter_name=f"{counter}号窗口",
                       recall=recall, at=at)


def online_model() -> DisplayModel:
    model = DisplayModel()
    model.set_link(True)
    model.fold(CONTROLLER, m.Presence(state=m.PresenceState.ONLINE, role=m.Role.CONTROLLER), 0)
    model.fold(HALL_TOPIC, hall_state(), 0)
    return model


def test_the_retained_state_of_the_sample_hall_builds_the_whole_model() -> None:
    model = sample_model()
    assert model.hall is not None and model.hall.name == "天平街道社区事务受理服务中心"
    assert sorted(model.services) == list("ABCDEFG")
    assert len(model.counters) == 13
    assert [c.seq for c in model.calls] == list(range(46, 36, -1))
    assert model.current is not None and model.current.number == "A037"
    assert not model.offline


def test_retained_calls_are_never_fresh_and_never_flash() -> None:
    model = online_model()
    folded = model.fold(CALLS, recent_calls(), now=100.0)
    assert folded.changed and folded.call is None
    assert not model.flashing(100.0)


def test_a_live_call_is_fresh_once_and_flashes_for_its_seconds() -> None:
    model = online_model()
    model.fold(CALLS, recent_calls(), now=0.0)
    new = call(47, "B022", "5")
    folded = model.fold(LIVE, new, now=10.0)
    assert folded.call == new
    assert model.current == new
    assert model.flashing(10.0) and model.flashing(10.0 + model.flash_s - 0.01)
    assert not model.flashing(10.0 + model.flash_s)
    again = model.fold(LIVE, new, now=11.0)  # a QoS 1 duplicate
    assert again.call is None and not again.changed


def test_the_flash_blinks_on_and_off_while_it_lasts() -> None:
    model = online_model()
    model.fold(LIVE, call(1), now=0.0)
    assert model.flash_on(0.0)
    assert not model.flash_on(FLASH_PERIOD_S * 0.75)
    assert model.flash_on(FLASH_PERIOD_S * 1.1)
    assert not model.flash_on(model.flash_s + 0.01)


def test_a_live_call_then_the_list_that_contains_it_lists_it_once() -> None:
    model = online_model()
    model.fold(CALLS, m.RecentCalls(calls=[call(2, "A002"), call(1, "A001")]), 0)
    model.fold(LIVE, call(3, "A003"), 1)
    model.fold(CALLS, m.RecentCalls(calls=[call(3, "A003"), call(2, "A002"), call(1, "A001")]), 1)
    assert [c.seq for c in model.calls] == [3, 2, 1]


def test_a_live_call_newer_than_the_retained_list_is_kept_when_the_list_arrives() -> None:
    model = online_model()
    model.fold(LIVE, call(5, "A005"), 0)
    model.fold(CALLS, m.RecentCalls(calls=[call(4, "A004"), call(3, "A003")]), 0)
    assert [c.seq for c in model.calls] == [5, 4, 3]
    assert model.current is not None and model.current.number == "A005"


def test_only_the_newest_calls_are_kept() -> None:
    model = DisplayModel(keep_calls=3)
    for seq in range(1, 8):
        model.fold(LIVE, call(seq, f"A{seq:03d}"), seq)
    assert [c.seq for c in model.calls] == [7, 6, 5]


def test_a_gap_in_the_live_calls_is_counted() -> None:
    model = online_model()
    model.fold(LIVE, call(1), 0)
    model.fold(LIVE, call(2, "A002"), 0)
    assert model.missed_calls == 0
    model.fold(LIVE, call(5, "A005"), 0)
    assert model.missed_calls == 2


def test_a_new_business_day_clears_the_calls_of_the_last() -> None:
    model = online_model()
    model.fold(CALLS, recent_calls(), 0)
    tomorrow = hall_state().model_copy(update={"date": "2026-05-12"})
    model.fold(HALL_TOPIC, tomorrow, 0)
    assert model.calls == []
    first = call(1, "A001", at=SAMPLE_NOW + timedelta(days=1))
    assert model.fold(LIVE, first, 0).call == first


def test_a_first_call_of_a_new_day_replaces_yesterdays_even_before_the_hall_state() -> None:
    model = online_model()
    model.fold(CALLS, recent_calls(), 0)
    first = call(1, "A001", at=SAMPLE_NOW + timedelta(days=1))
    assert model.fold(LIVE, first, 0).call == first
    assert model.calls == [first]


def test_an_empty_or_cleared_call_list_empties_the_model() -> None:
    model = online_model()
    model.fold(CALLS, recent_calls(), 0)
    assert model.fold(CALLS, m.RecentCalls(calls=[]), 0).changed
    assert model.current is None
    model.fold(CALLS, recent_calls(), 0)
    assert model.fold(CALLS, None, 0).changed
    assert model.calls == []


def test_a_cleared_counter_or_service_topic_drops_it() -> None:
    model = sample_model()
    assert model.fold(parse(TOPICS.state(StateKind.COUNTER, "9")), None, 0).changed
    assert "9" not in model.counters
    assert model.fold(parse(TOPICS.state(StateKind.SERVICE, "G")), None, 0).changed
    assert "G" not in model.services


def test_an_unchanged_snapshot_changes_nothing() -> None:
    model = sample_model()
    topic, state = next((t, s) for t, s in sample_messages() if t.kind == "counter")
    assert not model.fold(topic, state, 0).changed


def test_offline_when_the_link_or_the_controller_is_down_and_the_picture_is_kept() -> None:
    model = sample_model()
    calls_before = list(model.calls)
    assert not model.offline
    model.fold(CONTROLLER, m.Presence(state=m.PresenceState.OFFLINE, role=m.Role.CONTROLLER), 0)
    assert model.offline
    model.fold(CONTROLLER, m.Presence(state=m.PresenceState.ONLINE, role=m.Role.CONTROLLER), 0)
    assert not model.offline
    assert model.set_link(False)
    assert model.offline and model.calls == calls_before and len(model.counters) == 13
    model.set_link(True)
    assert model.offline  # the controller's presence must be heard again first


def test_two_displays_fed_the_same_state_in_another_order_have_the_same_facts() -> None:
    first, second = DisplayModel(), DisplayModel()
    for topic, message in sample_messages():
        first.fold(topic, message, 0)
    for topic, message in reversed(sample_messages()):
        second.fold(topic, message, 0)
    assert first.facts() == second.facts()
    second.fold(LIVE, call(47, "B022"), 0)
    assert first.facts() != second.facts()
