"""The evaluator on gpiozero's MockFactory: mappings, arming, one rating per arming, timeout."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hardware.gpio import Evaluator, EvaluatorPins, ManualClock, Rating, mock_factory, press

FIVE = [23, 24, 25, 16, 20]
LED = 21


class Counter:
    """A simulated evaluator: mock pins, a manual clock and the ratings given."""

    def __init__(self) -> None:
        self.factory = mock_factory()
        self.clock = ManualClock()
        self.ratings: list[Rating] = []
        self.evaluators: list[Evaluator] = []

    def open(self, **pins: Any) -> Evaluator:
        evaluator = Evaluator(EvaluatorPins(**pins), self.factory, self.clock)
        evaluator.on_rating(self.ratings.append)
        self.evaluators.append(evaluator)
        return evaluator

    def press(self, pin: int, **how: Any) -> None:
        press(self.factory, pin, self.clock, **how)

    def led_lit(self) -> bool:
        return bool(self.factory.pin(LED).state)


@pytest.fixture
def counter() -> Iterator[Counter]:
    simulated = Counter()
    yield simulated
    for evaluator in simulated.evaluators:
        evaluator.close()
    simulated.factory.reset()


@pytest.mark.parametrize(("pin", "rating"), [(23, 5), (24, 4), (25, 3), (16, 2), (20, 1)])
def test_five_buttons_give_the_five_levels(pin: int, rating: int, counter: Counter) -> None:
    counter.open().arm()
    counter.press(pin)
    assert counter.ratings == [rating]
    assert isinstance(counter.ratings[0], int)


def test_three_buttons_default_to_very_satisfied_basic_very_dissatisfied(
    counter: Counter,
) -> None:
    evaluator = counter.open(buttons=[23, 24, 25])
    for pin in (23, 24, 25):
        evaluator.arm()
        counter.press(pin)
    assert counter.ratings == [Rating.VERY_SATISFIED, Rating.BASIC, Rating.VERY_DISSATISFIED]


def test_three_buttons_can_be_given_other_levels(counter: Counter) -> None:
    evaluator = counter.open(buttons=[23, 24, 25], ratings=[5, 4, 1])
    evaluator.arm()
    counter.press(24)
    assert counter.ratings == [4]


def test_a_press_while_not_armed_is_ignored(counter: Counter) -> None:
    counter.open()
    counter.press(23)
    assert counter.ratings == []
    assert not counter.led_lit()


def test_one_rating_per_arming(counter: Counter) -> None:
    evaluator = counter.open()
    evaluator.arm()
    counter.press(23)
    counter.press(20)
    assert counter.ratings == [5]
    assert not evaluator.armed
    evaluator.arm()
    counter.press(20)
    assert counter.ratings == [5, 1]


def test_the_please_rate_led_is_lit_only_while_armed(counter: Counter) -> None:
    evaluator = counter.open()
    assert not counter.led_lit()
    evaluator.arm()
    assert counter.led_lit()
    counter.press(24)
    assert not counter.led_lit()


def test_disarm_stops_a_rating(counter: Counter) -> None:
    evaluator = counter.open()
    evaluator.arm()
    evaluator.disarm()
    counter.press(25)
    assert counter.ratings == []
    assert not counter.led_lit()


def test_expire_if_idle_disarms_only_after_the_timeout(counter: Counter) -> None:
    evaluator = counter.open(armed_s=30)
    evaluator.arm()
    assert evaluator.expire_if_idle(counter.clock() + 29.9) is False
    assert evaluator.armed and counter.led_lit()
    counter.clock.advance(30)
    assert evaluator.expire_if_idle() is True
    assert not evaluator.armed and not counter.led_lit()
    assert evaluator.expire_if_idle() is False
    counter.press(23)
    assert counter.ratings == []


def test_a_press_after_the_timeout_is_ignored_even_unexpired(counter: Counter) -> None:
    evaluator = counter.open(armed_s=30)
    evaluator.arm()
    counter.clock.advance(31)
    counter.press(23)
    assert counter.ratings == []
    assert not evaluator.armed


def test_bounce_right_after_a_rating_does_not_use_the_next_arming(counter: Counter) -> None:
    evaluator = counter.open(debounce_ms=50)
    evaluator.arm()
    counter.press(23, rest_s=0.01)
    evaluator.arm()
    counter.press(23, rest_s=0.05)
    assert counter.ratings == [5]
    assert evaluator.armed
    counter.press(16)
    assert counter.ratings == [5, 2]
