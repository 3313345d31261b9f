"""Which windows count in the wait estimates: open, staffed and calling.

At opening time windows may be open with no clerk yet; a window may be paused; a clerk may
sit at a window without calling while residents wait. None of these serves anyone, so none
may shorten an estimate, and a service no serving window covers has no estimate at all
("wait not yet known"), never a number.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

import pytest
from support.hall import SECRET, SHANGHAI, hall_config, sign_in, two_service_engine

from hall.alerts import AlertBoard
from hall.engine.engine import HallEngine, Refused
from hall.engine.policy import make_policy
from hall.engine.projection import project, serving
from hall.snapshots import service_state, summary, ticket_view
from protocol.messages import AlertKind, CounterStatus, ErrorCode

OPEN = datetime(2026, 11, 23, 8, 30, tzinfo=SHANGHAI)
SPECIALISTS_FIRST = ("10", "11", "12", "13", "1", "2", "3", "4", "5", "6", "7", "8", "9")


def opening_hall(policy: str) -> HallEngine:
    """The example hall at 08:30: every window open, no clerk signed in yet, two residents
    waiting for every service."""
    config = hall_config()
    engine = HallEngine(config, OPEN.date(), SECRET, make_policy(policy, config))
    for service in engine.services:
        for _ in range(2):
            engine.issue(OPEN, service, pending_print=False)
    engine.take_events()
    return engine


def served_by_staffed(engine: HallEngine, service: str) -> bool:
    """From the hall config: does an open window with a clerk serve ``service``?"""
    return any(engine.desks[c.id].clerk is not None
               and engine.desks[c.id].status is CounterStatus.OPEN
               and ("*" in c.services or service in c.services)
               for c in engine.config.counters)


def closed_twin(engine: HallEngine, at: datetime) -> HallEngine:
    """The same hall with every window that has no clerk closed instead of open."""
    twin = copy.deepcopy(engine)
    for desk in twin.desks.values():
        if desk.clerk is None:
            twin.set_counter_status(at, desk.counter_id, CounterStatus.CLOSED)
    return twin


def check_estimates(engine: HallEngine, at: datetime, policy: str) -> None:
    now = at.timestamp()
    projection = project(engine, now)
    hall_summary = summary(engine, projection, at)
    for service, queue in engine.queues.items():
        known = served_by_staffed(engine, service)
        state = service_state(engine, service, projection, at)
        row = next(s for s in hall_summary.services if s.service == service)
        assert (projection.new_ticket_wait(engine, service) is None) is not known, service
        assert (state.estimated_wait_min is None) is not known, service
        assert (row.estimated_wait_min is None) is not known, service
        for ticket in queue.tickets():
            view = ticket_view(engine, ticket, projection)
            assert (view.estimated_wait_min is None) is not known, ticket.number
            assert view.ahead is not None
    if policy == "fifo":  # the policy's constants do not depend on the open windows
        twin = project(closed_twin(engine, at), now)
        assert projection.starts == twin.starts
        assert projection.phantom == twin.phantom


@pytest.mark.parametrize("policy", ["fifo", "default"])
def test_windows_opening_one_by_one_count_only_once_their_clerk_signs_in(policy: str) -> None:
    engine = opening_hall(policy)
    at = OPEN
    check_estimates(engine, at, policy)
    assert all(project(engine, at.timestamp()).new_ticket_wait(engine, s) is None
               for s in engine.services)  # nobody at any window: no promise at all
    for counter in SPECIALISTS_FIRST:  # one every 30 s: none has been idle 10 minutes yet
        at += timedelta(seconds=30)
        sign_in(engine, [counter], at)
        check_estimates(engine, at, policy)
        if counter == "13":  # every specialist staffed, no comprehensive window yet
            engine.set_counter_status(at, "11", CounterStatus.PAUSED)
            check_estimates(engine, at, policy)
            assert project(engine, at.timestamp()).new_ticket_wait(engine, "E") is None
            engine.set_counter_status(at, "11", CounterStatus.OPEN)
            check_estimates(engine, at, policy)
    assert all(project(engine, at.timestamp()).new_ticket_wait(engine, s) is not None
               for s in engine.services)


def test_a_paused_or_signed_out_window_stops_counting() -> None:
    engine = two_service_engine({"1": ["*"], "2": ["*"]}, 10, 10)
    tickets = [engine.issue(OPEN, "A", pending_print=False) for _ in range(4)]
    engine.call_next(OPEN, "1")
    engine.call_next(OPEN, "2")
    now = (OPEN + timedelta(minutes=2)).timestamp()
    both = project(engine, now).wait_seconds(tickets[3])
    engine.set_counter_status(OPEN + timedelta(minutes=2), "2", CounterStatus.PAUSED)
    paused = project(engine, now).wait_seconds(tickets[3])
    engine.set_counter_status(OPEN + timedelta(minutes=2), "2", CounterStatus.OPEN)
    engine.sign_out(OPEN + timedelta(minutes=2), "2")
    signed_out = project(engine, now).wait_seconds(tickets[3])
    assert both == 8 * 60  # third and fourth start when the two in hand end
    assert paused == signed_out == 18 * 60  # one window: ticket 3 at 8 min, ticket 4 at 18


def test_a_window_idle_while_residents_wait_for_it_is_left_out() -> None:
    """Window 2 has a clerk but does not call: after the hall's idle_window_min (10) of
    residents waiting for it, the estimates stop counting on it, until it calls again."""
    engine = two_service_engine({"1": ["*"], "2": ["*"]}, 10, 10)
    assert engine.config.rules.idle_window_min == 10
    first = engine.issue(OPEN, "A", pending_print=False)
    waiting = [engine.issue(OPEN, "A", pending_print=False) for _ in range(3)]
    engine.call_next(OPEN, "1")
    assert first.counter == "1"
    window_2 = engine.desks["2"]

    def wait_of_last(minutes: float) -> float | None:
        at = (OPEN + timedelta(minutes=minutes)).timestamp()
        wait: float | None = project(engine, at).wait_seconds(waiting[-1])
        return wait

    # Residents wait for it since 08:30: it still counts at 08:39.
    assert window_2 in serving(engine, (OPEN + timedelta(minutes=9)).timestamp())
    assert wait_of_last(9) == 10 * 60  # 2 takes one now, 1 one at 08:40, 2 the last at 08:49
    assert window_2 not in serving(engine, (OPEN + timedelta(minutes=10)).timestamp())
    # window 1 alone: its resident taken to end 30 s from now (08:40:30), then every 10 min
    assert wait_of_last(10) == 20 * 60 + 30
    engine.call_next(OPEN + timedelta(minutes=11), "2")
    assert window_2 in serving(engine, (OPEN + timedelta(minutes=11)).timestamp())
    assert wait_of_last(11) == 10 * 60  # back in: 1 takes one at 08:41:30, 2 the last at 08:51


def test_an_idle_window_with_nobody_to_call_keeps_counting() -> None:
    engine = two_service_engine({"1": ["*"], "2": ["E"]}, 10, 10)
    engine.issue(OPEN, "A", pending_print=False)
    engine.call_next(OPEN, "1")
    later = OPEN + timedelta(minutes=45)
    assert engine.desks["2"] in serving(engine, later.timestamp())  # nobody waits for E
    assert project(engine, later.timestamp()).new_ticket_wait(engine, "E") == 0.0


def test_a_hall_without_sign_in_counts_and_calls_at_every_open_window() -> None:
    """``[rules] sign_in_required = false``: a hall that does not use sign-in at all."""
    engine = two_service_engine({"1": ["*"], "2": ["E"]}, 10, 10, staffed=())
    ticket = engine.issue(OPEN, "E", pending_print=False)
    with pytest.raises(Refused) as refused:
        engine.call_next(OPEN, "2")
    assert refused.value.code is ErrorCode.SIGN_IN_REQUIRED
    assert AlertBoard().check_hall(engine, OPEN)[0].kind is AlertKind.NO_CLERK
    rules = engine.config.rules.model_copy(update={"sign_in_required": False})
    engine.config = engine.config.model_copy(update={"rules": rules})
    assert project(engine, OPEN.timestamp()).wait_seconds(ticket) == 0.0
    assert AlertBoard().check_hall(engine, OPEN) == []
    assert engine.call_next(OPEN, "2") is ticket
    assert engine.desks["2"].clerk is None


def test_the_policy_balances_only_windows_that_can_call() -> None:
    """For the specialists' guard and shifts, an open specialist with no clerk signed in
    counts as a closed one (nothing is left for a window nobody can call from), and it
    counts again once its clerk signs in."""
    now = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
    unstaffed = two_service_engine({"1": ["*"], "2": ["E"]}, 8, 8, staffed=["1"])
    closed = two_service_engine({"1": ["*"], "2": ["E"]}, 8, 8, staffed=["1"])
    closed.set_counter_status(now, "2", CounterStatus.CLOSED)
    staffed = two_service_engine({"1": ["*"], "2": ["E"]}, 8, 8)
    for engine in (unstaffed, closed, staffed):
        for service in "AEE":
            engine.issue(now, service, pending_print=False)
    assert unstaffed.balance() == closed.balance()
    assert unstaffed.balance() != staffed.balance()
    unstaffed.sign_in(now, "2", "C-2")
    assert unstaffed.balance() == staffed.balance()
