"""A display's picture is live only after the controller's 'online' or a call delivered live
(retain flag off) since its link came up: a broker restarted from an old save hands back a
retained 'online' for a controller that may be down. A live snapshot alone is not enough: a
controller (re)connecting publishes every snapshot, then 'online'."""

from __future__ import annotations

import pytest

from display.model import DisplayModel
from display.sample import HALL, sample_call_topic, sample_messages
from protocol import messages as m
from protocol.topics import CONTROLLER_ID, HallTopics, StateKind, Topic, parse

TOPICS = HallTopics(HALL)
CONTROLLER = parse(TOPICS.presence(CONTROLLER_ID))
ONLINE = m.Presence(state=m.PresenceState.ONLINE, role=m.Role.CONTROLLER)
STOPPED = m.Presence(state=m.PresenceState.STOPPED, role=m.Role.CONTROLLER)


def retained_burst(model: DisplayModel) -> None:
    """What the broker hands a display on connecting: every snapshot and 'online', retained."""
    for topic, message in sample_messages():
        model.fold(topic, message, 0.0, retained=True)


def connected() -> DisplayModel:
    model = DisplayModel()
    model.set_link(True)
    retained_burst(model)
    return model


def counter_snapshot() -> tuple[Topic, m.CounterState]:
    topic, state = next((t, s) for t, s in sample_messages() if t.kind == StateKind.COUNTER)
    assert isinstance(state, m.CounterState)
    return topic, state


def live_call() -> m.CallEvent:
    calls = dict(sample_messages())[parse(TOPICS.state(StateKind.CALLS))]
    assert isinstance(calls, m.RecentCalls)
    return calls.calls[0].model_copy(update={"seq": calls.calls[0].seq + 1})


def test_retained_state_and_online_alone_are_not_live() -> None:
    model = connected()
    assert model.controller_online and len(model.counters) == 13 and model.calls
    assert model.offline


@pytest.mark.parametrize("live", ["presence", "call"])
def test_the_controllers_live_online_or_a_live_call_makes_the_picture_live(live: str) -> None:
    model = connected()
    if live == "presence":
        assert model.fold(CONTROLLER, ONLINE, 1.0, retained=False).changed
    else:
        assert model.fold(sample_call_topic(), live_call(), 1.0, retained=False).call
    assert not model.offline


def test_a_live_snapshot_alone_is_not_live() -> None:
    """The controller coming back publishes its snapshots first: the rest may still be old."""
    model = connected()
    topic, state = counter_snapshot()
    model.fold(topic, state.model_copy(update={"number": "A999"}), 1.0, retained=False)
    assert model.counters[topic.ident].number == "A999"
    assert model.offline


def test_a_retained_message_after_the_burst_still_is_not_live() -> None:
    model = connected()
    model.fold(sample_call_topic(), live_call(), 1.0, retained=True)
    model.fold(CONTROLLER, ONLINE, 1.0, retained=True)
    assert model.offline


def test_a_reconnect_is_not_live_again_until_a_live_message() -> None:
    model = connected()
    model.fold(CONTROLLER, ONLINE, 1.0)
    assert not model.offline
    assert model.set_link(False)
    assert model.set_link(True)
    retained_burst(model)
    assert model.offline
    model.fold(CONTROLLER, ONLINE, 2.0)
    assert not model.offline


def test_a_live_stopped_presence_is_not_live_and_online_after_it_is() -> None:
    model = connected()
    model.fold(CONTROLLER, STOPPED, 1.0)
    assert model.offline
    model.fold(CONTROLLER, ONLINE, 2.0)
    assert not model.offline
