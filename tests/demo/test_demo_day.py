"""The demo day's plan: exactly the residents asked for, inside the hours asked for, and a
default day with something to show for every part of the product."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from demo.day import plan_day
from hardware.idcard import parse_id_number, sample_number

OPENING = datetime(2026, 12, 3, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize("arrivals", [0, 1, 15, 498, 499, 560, 2000, 5000])
@pytest.mark.parametrize("hours", [0.1, 0.25, 1.5, 8, 15])
def test_the_plan_has_exactly_the_residents_asked_for_inside_the_hours(
        arrivals: int, hours: float) -> None:
    plan = plan_day(OPENING, hours, arrivals, random.Random(arrivals), first_serial=700)
    closing = OPENING + timedelta(hours=hours)
    assert len(plan.residents) == arrivals
    assert [r.serial for r in plan.residents] == list(range(700, 700 + arrivals))
    assert all(OPENING <= r.arrives <= closing for r in plan.residents)
    assert [r.arrives for r in plan.residents] == sorted(r.arrives for r in plan.residents)
    for r in plan.residents:
        if r.slot is not None:  # appointments come within their check-in window
            assert r.slot - timedelta(minutes=30) <= r.arrives <= r.slot + timedelta(minutes=15)
    numbers = {sample_number(r.born, "M", r.serial) for r in plan.residents}
    assert len(numbers) == arrivals
    assert all(parse_id_number(n, OPENING.date()) for n in list(numbers)[:50])


def test_the_default_day_shows_what_the_product_does() -> None:
    plan = plan_day(OPENING, 8, 560, random.Random(1))
    assert plan.busy is not None and plan.busy.time() == time(10, 0)
    busy = [r for r in plan.residents
            if plan.busy <= r.arrives < plan.busy + timedelta(minutes=10) and r.service == "A"]
    assert len(busy) >= 40  # enough for one service to pass the 20-minute target
    assert plan.paper_low is not None and plan.paper_low[2] == "kiosk-2"
    lunch = [b for b in plan.breaks if b.lunch]
    assert {b.counter for b in lunch} == {"1", "2", "3", "4", "5", "6", "10", "11"}
    pauses = [b for b in plan.breaks if not b.lunch]
    assert len(pauses) == 1 and pauses[0].end - pauses[0].start > timedelta(minutes=30)
    assert plan.bad_rating is not None
    booked = [r for r in plan.residents if r.slot is not None]
    old = [r for r in plan.residents if (OPENING.date() - r.born).days > 70 * 366]
    assert len(booked) >= 40 and len(old) >= 20
    shown = "\n".join(plan.highlights())
    for words in ("busy hour", "long-wait alert", "paper runs low", "lunch", "sign out",
                  "paused-too-long", "bad-rating", "appointments", "green channel", "clerk"):
        assert words in shown, words


def test_a_short_day_lists_only_what_happens_in_it() -> None:
    plan = plan_day(OPENING, 0.25, 15, random.Random(1))
    assert plan.busy is None and plan.paper_low is None and plan.bad_rating is None
    assert plan.breaks == []
    assert len(plan.highlights()) == 1
