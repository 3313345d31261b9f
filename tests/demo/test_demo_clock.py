"""The demo clock: accelerated hall time that skips the night and slows down, never
faster than asked, when the machine cannot keep up."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from demo.clock import BUDGETS_S, DemoClock, Governor

START = datetime(2026, 12, 3, 8, 25, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_skipping_the_night_goes_forward_only_and_keeps_the_zone() -> None:
    clock = DemoClock(START, 600)
    morning = START + timedelta(days=1)
    clock.skip_to(morning)
    assert morning <= clock.now() < morning + timedelta(minutes=5)
    clock.skip_to(START)
    assert clock.now() >= morning
    assert clock.now().tzinfo == START.tzinfo


def test_a_new_speed_carries_hall_time_on_from_where_it_was() -> None:
    clock = DemoClock(START, 3600)
    before = clock.now()
    clock.set_factor(1)
    after = clock.now()
    assert timedelta(0) <= after - before < timedelta(seconds=30)


async def test_a_sleeper_wakes_at_its_hall_time_when_the_speed_drops_meanwhile() -> None:
    clock = DemoClock(START, 600)
    wake = START + timedelta(seconds=60)  # 0.1 s of real time at 600x
    sleeper = asyncio.create_task(clock.sleep_until(wake))
    await asyncio.sleep(0.02)
    clock.set_factor(300)
    await sleeper
    assert clock.now() >= wake


@pytest.mark.parametrize("requested", [60.0, 600.0, 3600.0])
def test_the_governor_holds_the_costs_to_their_budgets_and_never_passes_the_speed_asked(
        requested: float) -> None:
    clock = DemoClock(START, requested)
    governor = Governor(clock, requested, smoothing=1.0)
    governor.spent("print", 0.1)  # a slow machine: 0.1 s to render a ticket
    assert clock.factor == pytest.approx(min(requested, BUDGETS_S["print"] / 0.1))
    governor.spent("print", 0.0001)  # cheap again
    assert clock.factor == requested
    assert governor.slowest == min(requested, BUDGETS_S["print"] / 0.1)
    governor.spent("command", 10.0)  # the machine stalls: never below real time
    assert clock.factor == 1.0


def test_the_clock_refuses_a_naive_start_or_no_speed() -> None:
    with pytest.raises(ValueError, match="ZoneInfo"):
        DemoClock(START.replace(tzinfo=None), 600)
    with pytest.raises(ValueError, match="speed"):
        DemoClock(START, 0)
