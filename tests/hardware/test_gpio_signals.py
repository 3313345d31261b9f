"""Status lights and buzzer on gpiozero's MockFactory, read back from the mock pins."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hardware.gpio import Buzzer, LightPins, StatusLights, WindowState, mock_factory

GREEN, AMBER, RED, BUZZER = 17, 27, 22, 4


def wait_until(condition: Callable[[], bool], timeout_s: float = 2.0) -> bool:
    """Wait for a condition another thread makes true; False if it never did."""
    deadline = time.monotonic() + timeout_s
    tick = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            return False
        tick.wait(0.005)
    return True


@pytest.fixture
def factory() -> Iterator[Any]:
    simulated = mock_factory()
    yield simulated
    simulated.reset()


@pytest.fixture
def lights(factory: Any) -> Iterator[StatusLights]:
    opened = StatusLights(LightPins(blink_ms=20), factory)
    yield opened
    opened.close()


def lit(factory: Any) -> tuple[bool, bool, bool]:
    return (
        bool(factory.pin(GREEN).state),
        bool(factory.pin(AMBER).state),
        bool(factory.pin(RED).state),
    )


def test_the_lights_open_dark_and_idle(lights: StatusLights, factory: Any) -> None:
    assert lights.state is WindowState.IDLE
    assert lit(factory) == (False, False, False)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("serving", (True, False, False)),
        ("paused", (False, True, False)),
        ("idle", (False, False, False)),
    ],
)
def test_each_steady_state_lights_its_led(
    state: str, expected: tuple[bool, bool, bool], lights: StatusLights, factory: Any
) -> None:
    lights.show(WindowState.PAUSED if state != "paused" else WindowState.SERVING)
    lights.show(state)
    assert lit(factory) == expected
    assert lights.state == state


def test_offline_blinks_the_red_led(lights: StatusLights, factory: Any) -> None:
    lights.show(WindowState.SERVING)
    red = factory.pin(RED)
    red.clear_states()
    lights.show(WindowState.OFFLINE)
    assert wait_until(lambda: len(red.states) >= 5), red.states
    flips = [entry.state for entry in red.states[1:5]]
    assert flips == [True, False, True, False]
    assert not factory.pin(GREEN).state
    assert not factory.pin(AMBER).state


def test_leaving_offline_stops_the_blink(lights: StatusLights, factory: Any) -> None:
    lights.show(WindowState.OFFLINE)
    assert wait_until(lambda: len(factory.pin(RED).states) >= 3)
    lights.show(WindowState.SERVING)
    assert lit(factory) == (True, False, False)


def test_an_unknown_state_is_refused_by_name(lights: StatusLights, factory: Any) -> None:
    lights.show(WindowState.SERVING)
    with pytest.raises(ValueError, match=r"unknown window state 'busy'.*serving, idle, paused"):
        lights.show("busy")
    assert lights.state is WindowState.SERVING
    assert lit(factory) == (True, False, False)


def test_a_light_that_is_not_fitted_is_skipped(factory: Any) -> None:
    lights = StatusLights(LightPins(paused=None), factory)
    try:
        lights.show(WindowState.PAUSED)
        assert lit(factory) == (False, False, False)
        lights.show(WindowState.SERVING)
        assert lit(factory) == (True, False, False)
    finally:
        lights.close()


def test_the_buzzer_beeps_the_number_of_times_asked(factory: Any) -> None:
    buzzer = Buzzer(BUZZER, factory, beep_s=0.005)
    try:
        pin = factory.pin(BUZZER)
        pin.clear_states()
        buzzer.beep(3, wait=True)
        beeps = [entry.state for entry in pin.states]
        assert beeps == [False, True, False, True, False, True, False]
    finally:
        buzzer.close()


@pytest.mark.parametrize("times", [0, 11])
def test_a_silly_number_of_beeps_is_refused(times: int, factory: Any) -> None:
    buzzer = Buzzer(BUZZER, factory)
    try:
        with pytest.raises(ValueError, match=f"1-10, not {times}"):
            buzzer.beep(times)
        assert not factory.pin(BUZZER).state
    finally:
        buzzer.close()
