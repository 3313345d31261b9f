"""The manager's what-if: the rest of today rehearsed with more or fewer counters open."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta

import pytest
from support.hall import SECRET, SHANGHAI, hall_config, sign_in, two_service_engine

from hall.engine.engine import HallEngine, Refused
from hall.engine.whatif import Forecast, Outlook, Rehearsal, last_call_text, what_if
from hallconfig import Hours
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


# ---------------------------------------------------------------- the hall's full range
SATURDAY = datetime(2026, 11, 28, 8, 30, tzinfo=SHANGHAI)  # the example hall: 08:30-11:30
LONG_DAY = Hours.model_validate({day: ["08:30", "20:00"] for day in (
    "monday", "tuesday", "wednesday", "thursday", "friday")})


def full_hall_morning(opened: datetime, hours: Hours | None, staffed: tuple[str, ...],
                      paused: tuple[str, ...] = (), closed: tuple[str, ...] = (),
                      residents: int = 90) -> tuple[HallEngine, float]:
    """The example hall (every service) from opening: the ``staffed`` windows' clerks sign in
    one a minute while residents of every service come every 40 s; ``paused`` windows pause,
    ``closed`` ones close, the rest stay open without a clerk. Staffed windows call as
    their residents finish (planning times)."""
    config = hall_config()
    if hours is not None:
        config = config.model_copy(update={"hours": hours})
    engine = HallEngine(config, opened.date(), SECRET)
    for counter in closed:
        engine.set_counter_status(opened, counter, CounterStatus.CLOSED)
    services = list(engine.services)
    for n in range(residents):
        t = opened + timedelta(seconds=40 * n)
        if n % 3 == 0 and n // 3 < len(staffed):
            sign_in(engine, [staffed[n // 3]], t)
        engine.issue(t, services[n % len(services)], green=n % 11 == 0, pending_print=False)
        for desk in engine.desks.values():
            busy = desk.ticket is not None and t.timestamp() - (desk.since or 0) < 60 * \
                engine.services[desk.ticket.service].mean_minutes
            if desk.clerk is not None and desk.available and not busy and (
                    desk.ticket is not None or engine.policy.pick(
                        desk, engine, t.timestamp(), engine.balance())):
                engine.call_next(t, desk.counter_id)
    now = opened + timedelta(seconds=40 * residents)
    for counter in paused:
        engine.set_counter_status(now, counter, CounterStatus.PAUSED)
    engine.take_events()
    return engine, now.timestamp()


def last_call_key(outlook: Outlook) -> float:
    """Later is worse; residents no window would ever call are the worst of all."""
    if outlook.unserved:
        return math.inf
    return -math.inf if outlook.last_call is None else outlook.last_call


def worst(value: float | None) -> float:
    """A wait figure, None (someone is never called) being the worst."""
    return math.inf if value is None else value


@pytest.mark.parametrize("opened", [SATURDAY, OPEN], ids=["short-hours", "long-hours"])
@pytest.mark.parametrize(("staffed", "paused", "closed"), [
    (("10", "11", "12", "13", "1", "2", "3"), ("13",), ()),  # opening: 4-9 without a clerk
    (("1", "11"), (), ("2", "3", "4", "5", "6", "7", "8", "9", "10", "12", "13")),
    (("11", "1", "2"), ("2",), ("3", "4", "5")),
], ids=["opening", "two-windows", "paused-and-closed"])
def test_more_windows_never_look_worse_for_waits_or_the_last_call(
        opened: datetime, staffed: tuple[str, ...], paused: tuple[str, ...],
        closed: tuple[str, ...]) -> None:
    engine, now = full_hall_morning(opened, None if opened is SATURDAY else LONG_DAY,
                                    staffed, paused, closed)
    outlooks = what_if(engine, now, [1, 2, -1])
    two, one, same, fewer = (outlooks[2], outlooks[1], outlooks[0], outlooks[3])
    assert [o.counters_open for o in (two, one, same, fewer)] == [
        len(staffed) - len(paused) + k for k in (2, 1, 0, -1)]
    for figure in ("mean_wait_min", "p90_wait_min", "max_wait_min"):
        values = [worst(getattr(o, figure)) for o in (two, one, same, fewer)]
        assert values == sorted(values), figure
    assert two.share_within_10_min >= one.share_within_10_min >= same.share_within_10_min \
        >= fewer.share_within_10_min
    assert last_call_key(two) <= last_call_key(one) <= last_call_key(same) \
        <= last_call_key(fewer)
    assert same.residents == fewer.residents == two.residents > 0


def test_closing_the_only_window_for_services_leaves_their_residents_unserved() -> None:
    engine, now = full_hall_morning(OPEN, LONG_DAY, ("1", "11"), closed=(
        "2", "3", "4", "5", "6", "7", "8", "9", "10", "12", "13"))
    same, fewer = what_if(engine, now, -1)
    assert fewer.changed == ("1",)
    assert same.unserved == 0 and fewer.unserved > 0  # only E is served by window 11
    assert same.mean_wait_min is not None and fewer.mean_wait_min is None
    assert fewer.residents == same.residents
    assert last_call_text(engine, fewer) == (
        f"{fewer.unserved} 人无窗口办理 · {fewer.unserved} never called")


def test_a_window_open_without_a_clerk_does_not_serve_in_the_what_if() -> None:
    engine, now = full_hall_morning(OPEN, None, ("1",), residents=45)
    assert engine.desks["2"].available and engine.desks["2"].clerk is None
    same, one = what_if(engine, now, 1)
    assert same.counters_open == 1 and one.counters_open == 2
    assert one.changed == ("2",)  # the first comprehensive window without a clerk gets one
    assert one.mean_wait_min < same.mean_wait_min


def test_a_last_call_after_midnight_shows_its_date() -> None:
    engine = two_service_engine({"1": ["*"]}, 30, 30)
    for n in range(40):  # a resident every 90 s from 15:00: 40 services of half an hour
        engine.issue(OPEN + timedelta(hours=6, minutes=30, seconds=90 * n), "AE"[n % 2],
                     pending_print=False)
    now = (OPEN + timedelta(hours=7, minutes=30)).timestamp()
    same, fewer = what_if(engine, now, -1)
    assert same.last_call is not None and engine.local(same.last_call).date() > engine.day
    assert re.fullmatch(r"2026-11-2[4-9] \d\d:\d\d", last_call_text(engine, same))
    assert fewer.unserved == fewer.residents >= 40  # nobody left to call anyone
    assert fewer.last_call is None and fewer.share_within_10_min == 0.0
    empty = two_service_engine({"1": ["*"]}, 30, 30)
    nobody = what_if(empty, OPEN.timestamp() + 60, [])[0]  # at 08:31: nobody, no call
    assert last_call_text(empty, nobody) == "–"


def test_a_last_call_today_shows_the_time_only() -> None:
    engine = busy_morning({"1": ["*"], "2": ["*"], "3": ["*"]})
    outlook = what_if(engine, NOW.timestamp(), [])[0]
    assert outlook.last_call is not None
    assert last_call_text(engine, outlook) == f"{engine.local(outlook.last_call):%H:%M}"


def test_a_clerk_who_signed_out_finishes_the_resident_in_hand_and_calls_nobody() -> None:
    engine = two_service_engine({"1": ["*"], "2": ["*"]}, 8, 8)
    for _ in range(3):
        engine.issue(OPEN, "A", pending_print=False)
    engine.call_next(OPEN, "2")
    engine.sign_out(OPEN, "2")
    engine.take_events()
    start = OPEN.timestamp() + 60
    Rehearsal(engine).run(start, [], finishing={"2": start + 300}, clerks={})
    assert engine.desks["2"].ticket is None and engine.desks["2"].served == 1
    assert [t.counter for t in engine.tickets.values()] == ["2", "1", "1"]  # 1 calls the rest
