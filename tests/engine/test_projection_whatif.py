"""The manager's what-if: the rest of today rehearsed with more or fewer counters open."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from support.hall import SHANGHAI, two_service_engine

from hall.engine.engine import HallEngine, Refused
from hall.engine.whatif import Forecast, what_if
from protocol.messages import CounterStatus

OPEN = datetime(2026, 11, 23, 8, 30, tzinfo=SHANGHAI)
NOW = OPEN + timedelta(hours=1)


def busy_morning(counters: dict[str, list[str]], closed: tuple[str, ...] = ()) -> HallEngine:
    """An hour of one resident every 90 s (A and E alternating) at counters that take
    8 minutes each: the queue grows."""
    engine = two_service_engine(counters, 8, 8)
    for counter in closed:
        engine.set_counter_status(OPEN, counter, CounterStatus.CLOSED)
    for n in range(40):
        t = OPEN + timedelta(seconds=90 * n)
        engine.issue(t, "AE"[n % 2], pending_print=False)
        if n % 5 == 0:
            for desk in engine.desks.values():
                if desk.available and (desk.ticket is not None or engine.policy.pick(
                        desk, engine, t.timestamp(), engine.balance())):
                    engine.call_next(t, desk.counter_id)
    engine.take_events()
    return engine


def test_more_counters_shorter_waits_fewer_longer() -> None:
    engine = busy_morning({"1": ["*"], "2": ["*"], "3": ["*"], "4": ["*"]}, closed=("3", "4"))
    outlooks = what_if(engine, NOW.timestamp(), [1, 2, -1])
    assert [o.label for o in outlooks] == ["now", "+1", "+2", "-1"]
    now, one, two, fewer = outlooks
    assert one.changed == ("3",) and two.changed == ("3", "4") and fewer.changed == ("2",)
    assert [o.counters_open for o in outlooks] == [2, 3, 4, 1]
    assert two.mean_wait_min < one.mean_wait_min < now.mean_wait_min < fewer.mean_wait_min
    assert now.residents == one.residents > 30  # the same residents in every variant
    assert one.last_call is not None and now.last_call is not None
    assert one.last_call < now.last_call


def test_with_no_closed_counter_left_a_tidal_window_is_added() -> None:
    engine = busy_morning({"1": ["*"], "2": ["E"]})
    now, tidal = what_if(engine, NOW.timestamp(), 1)
    assert tidal.changed == ("T1",)
    assert tidal.mean_wait_min < now.mean_wait_min


def test_named_counters_and_unknown_ones() -> None:
    engine = busy_morning({"1": ["*"], "2": ["*"], "3": ["E"]}, closed=("3",))
    labels = [o.label for o in what_if(engine, NOW.timestamp(), ["3"])]
    assert labels == ["now", "+3"]
    with pytest.raises(Refused, match="no counter '9'"):
        what_if(engine, NOW.timestamp(), ["9"])


def test_the_live_hall_is_left_as_it_was() -> None:
    engine = busy_morning({"1": ["*"], "2": ["*"], "3": ["*"]}, closed=("3",))
    before = {t.ticket_id: (t.status, t.called_at) for t in engine.tickets.values()}
    statuses = {d.counter_id: d.status for d in engine.desks.values()}
    first = what_if(engine, NOW.timestamp(), [1, -1])
    assert {t.ticket_id: (t.status, t.called_at) for t in engine.tickets.values()} == before
    assert {d.counter_id: d.status for d in engine.desks.values()} == statuses
    assert engine.take_events() == []
    assert what_if(engine, NOW.timestamp(), [1, -1]) == first  # same seed, same answer


def test_forecast_takes_the_last_hour_and_the_bookings_still_to_come() -> None:
    engine = busy_morning({"1": ["*"], "2": ["*"]})
    forecast = Forecast(engine, NOW.timestamp())
    assert forecast.rates[("A", "normal")] == pytest.approx(20 / 3600)  # 20 A in the hour
    engine.book(OPEN - timedelta(days=1), "c" * 64, "E", NOW + timedelta(hours=2))
    booked = Forecast(engine, NOW.timestamp())
    assert [(slot, service) for slot, service, _ in booked.booked] == [
        ((NOW + timedelta(hours=2)).timestamp(), "E")]
