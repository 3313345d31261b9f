"""Wait estimates: what the projection promises in plain cases a clerk could check by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

from support.hall import SHANGHAI, two_service_engine

from hall.engine.engine import HallEngine
from hall.engine.policy import Default
from hall.engine.projection import MIN_REMAINING_S, ahead_of, expected_seconds, project
from protocol.messages import CounterStatus

OPEN = datetime(2026, 11, 23, 8, 30, tzinfo=SHANGHAI)


def hall(counters: dict[str, list[str]], policy: str = "default") -> HallEngine:
    return two_service_engine(counters, 10, 6, policy)


def at(minutes: float) -> datetime:
    return OPEN + timedelta(minutes=minutes)


def test_one_counter_calls_its_queue_one_service_time_apart() -> None:
    engine = hall({"1": ["*"]}, "fifo")
    tickets = [engine.issue(at(0), "A", pending_print=False) for _ in range(3)]
    engine.call_next(at(0), "1")
    projection = project(engine, at(4).timestamp())
    assert projection.wait_seconds(tickets[1]) == 6 * 60  # 10 min service, 4 min gone
    assert projection.wait_seconds(tickets[2]) == 16 * 60
    assert projection.new_ticket_wait(engine, "A") == 26 * 60
    assert ahead_of(engine, projection, tickets[2]) == 1


def test_recent_service_times_pull_the_planning_figure() -> None:
    engine = hall({"1": ["*"]})
    queue = engine.queues["A"]
    assert expected_seconds(queue, 10) == 600
    queue.recent_minutes.extend([4.0] * 10)  # ten services of 4 minutes, weighed as ten
    assert expected_seconds(queue, 10) == 7 * 60


def test_a_service_running_over_is_taken_to_end_soon() -> None:
    engine = hall({"1": ["*"]})
    engine.issue(at(0), "A", pending_print=False)
    waiting = engine.issue(at(0), "A", pending_print=False)
    engine.call_next(at(0), "1")
    projection = project(engine, at(25).timestamp())  # 25 minutes into a 10-minute service
    assert projection.wait_seconds(waiting) == MIN_REMAINING_S


def test_no_estimate_for_a_service_no_open_counter_serves() -> None:
    engine = hall({"1": ["A"], "2": ["E"]})
    engine.set_counter_status(at(0), "2", CounterStatus.CLOSED)
    ticket = engine.issue(at(0), "E", pending_print=False)
    projection = project(engine, at(1).timestamp())
    assert projection.wait_seconds(ticket) is None
    assert projection.new_ticket_wait(engine, "E") is None
    assert projection.new_ticket_wait(engine, "A") == 0.0


def test_green_ticket_estimate_follows_the_policy_not_the_position() -> None:
    engine = hall({"1": ["*"]})
    for _ in range(3):
        engine.issue(at(0), "A", pending_print=False)
    engine.call_next(at(0), "1")
    green = engine.issue(at(1), "A", green=True, pending_print=False)
    projection = project(engine, at(1).timestamp())
    assert projection.wait_seconds(green) == 9 * 60  # next, though two came before it
    assert ahead_of(engine, projection, green) == 0


def test_a_new_ticket_counts_for_the_guard() -> None:
    """The comprehensive window is free in 1 minute, E's specialist in 5, and one E ticket
    waits (older than the A ticket). Without a new ticket the window leaves that E ticket
    to the specialist, its last one, and takes the A ticket; with a new E ticket E is not
    down to its last, so the window takes the old E ticket and the specialist the new."""
    engine = hall({"1": ["*"], "2": ["E"]})
    assert isinstance(engine.policy, Default)
    engine.policy.shift_s = 0.0
    engine.issue(at(0), "A", pending_print=False)
    engine.issue(at(0), "E", pending_print=False)
    engine.call_next(at(0), "1")  # A001 until minute 10
    old_e = engine.issue(at(1), "E", pending_print=False)
    engine.issue(at(1.5), "A", pending_print=False)
    engine.call_next(at(8), "2")  # E001 until minute 14
    now = at(9)
    projection = project(engine, now.timestamp())
    assert projection.wait_seconds(old_e) == 5 * 60  # left to the specialist
    assert projection.new_ticket_wait(engine, "E") == 5 * 60  # not 11: it changes the plan
    new_e = engine.issue(now, "E", pending_print=False)
    with_it = project(engine, now.timestamp())
    assert with_it.wait_seconds(old_e) == 60
    assert with_it.wait_seconds(new_e) == 5 * 60


def test_focus_stops_early_with_the_same_answer() -> None:
    engine = hall({"1": ["*"], "2": ["E"]})
    tickets = [engine.issue(at(n / 2), "AE"[n % 2], green=n % 3 == 0, pending_print=False)
               for n in range(12)]
    now = at(6).timestamp()  # idle counters, but not yet for the hall's idle_window_min
    full = project(engine, now)
    for service in "AE":
        assert project(engine, now, service).new_ticket_wait(engine, service) == \
            full.new_ticket_wait(engine, service)
    for ticket in tickets:
        assert project(engine, now, ticket).wait_seconds(ticket) == full.wait_seconds(ticket)
    assert len(project(engine, now, tickets[0]).starts) < len(full.starts)
