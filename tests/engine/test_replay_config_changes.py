"""Starting from the journal, whatever it holds: a day journaled under one config replays
under another (a counter or service removed, a prefix renamed, a quota changed), with one
warning per name it no longer knows, and the hall goes on without reusing a ticket number."""

from __future__ import annotations

import logging
import random

import pytest
from support.dayplay import (
    Day,
    check_consistent,
    renamed,
    replayed,
    state_of,
    with_quota,
    without_counters,
    without_services,
)
from support.hall import hall_config, weekday_morning

from hall.engine.engine import Refused
from hall.engine.events import Event, TicketClosed, TicketIssued
from hall.engine.projection import project
from hall.engine.whatif import what_if
from hall.snapshots import ticket_view
from hallconfig import HallConfig
from protocol.messages import CounterStatus, ErrorCode, TicketStatus

FOLD_LOG = "hall.engine.fold"


def morning(config: HallConfig, seed: int = 1, hours: float = 2.0) -> Day:
    day = Day(config, weekday_morning().now(), seed)
    day.until(day.now + hours * 3600)
    return day


def staff(day: Day, counter: str, clerk: str) -> None:
    day.act("set_counter_status", counter, CounterStatus.OPEN)
    day.act("sign_in", counter, clerk)
    if day.engine.desks[counter].ticket is not None:
        day.act("done", counter)


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == FOLD_LOG and r.levelno == logging.WARNING]


def issued_ids(events: list[Event]) -> list[str]:
    return [e.data.ticket for e in events if isinstance(e.data, TicketIssued)]


def resumed(config: HallConfig, events: list[Event], seed: int) -> Day:
    """A hall restarted under ``config`` from the journal ``events``, its clock just after
    the last of them, ready to play on."""
    day = Day(config, weekday_morning().now(), seed)
    for event in events:
        day.engine.apply(event)
    day.now = max([day.now, *[e.at for e in events]]) + 1.0
    return day


def go_on(day: Day, hours: float = 1.0) -> None:
    """Play on (random commands), then the manager ends the day."""
    day.until(day.now + hours * 3600)
    day.act("end_day")


def test_a_removed_counter_is_skipped_with_one_warning(
        caplog: pytest.LogCaptureFixture) -> None:
    config = hall_config()
    day = morning(config)
    staff(day, "12", "S012")
    day.act("set_counter_services", "12", ["*"])
    served = day.act("call_next", "12")
    day.act("done", "12")
    in_hand = day.act("call_next", "12")  # the window is removed with this resident at it
    staff(day, "3", "S003")
    day.act("set_counter_services", "3", ["*"])
    reserved = day.act("call_next", "3")
    assert served is not None and in_hand is not None and reserved is not None
    day.act("transfer", "3", reserved.service, "12")
    assert reserved.reserved_for == "12"
    caplog.set_level(logging.WARNING, FOLD_LOG)
    hall = resumed(without_counters(config, "12"), day.events, seed=2)
    engine = hall.engine
    assert len(warnings(caplog)) == 1 and "counter '12'" in warnings(caplog)[0]
    check_consistent(engine)
    assert "12" not in engine.desks and len(engine.tickets) == len(day.engine.tickets)
    assert engine.tickets[served.ticket_id].status is TicketStatus.DONE
    for ticket in (in_hand, reserved):  # back in their queues, for a counter that exists
        t = engine.tickets[ticket.ticket_id]
        assert t.status is TicketStatus.WAITING
        assert t in engine.queues[t.service].tickets()
    project(engine, hall.now)
    go_on(hall)
    check_consistent(engine)
    assert len(warnings(caplog)) == 1


def test_a_removed_service_keeps_its_tickets_in_the_day(
        caplog: pytest.LogCaptureFixture) -> None:
    config = hall_config()
    day = morning(config, seed=3)
    day.act("set_intake", "E", True)
    for _ in range(3):
        day.act("issue", "E", pending_print=False)
    staff(day, "11", "S011")
    day.act("set_counter_services", "11", ["E"])
    in_hand = day.act("call_next", "11")
    assert in_hand is not None and in_hand.service == "E"
    waiting = [t.ticket_id for t in day.engine.tickets.values()
               if t.service == "E" and t.status is TicketStatus.WAITING]
    assert waiting
    caplog.set_level(logging.WARNING, FOLD_LOG)
    hall = resumed(without_services(config, "E"), day.events, seed=4)
    engine = hall.engine
    assert len(warnings(caplog)) == 1 and "service 'E'" in warnings(caplog)[0]
    check_consistent(engine)
    assert len(engine.tickets) == len(day.engine.tickets)  # they count in the day
    assert all(engine.tickets[t].status is TicketStatus.WAITING for t in waiting)
    assert engine.desks["11"].ticket is None  # nobody can serve E now: not at the counter
    assert engine.tickets[in_hand.ticket_id].status is TicketStatus.CALLED
    projection = project(engine, hall.now)
    view = ticket_view(engine, engine.tickets[waiting[0]], projection)  # kiosk, status page
    assert (view.status, view.ahead, view.estimated_wait_min) == ("waiting", 0, None)
    assert what_if(engine, hall.now, [1])  # the manager's what-if leaves E out
    with pytest.raises(Refused) as refused:
        engine.issue(hall.now, "E")
    assert refused.value.code is ErrorCode.UNKNOWN_SERVICE
    moved = waiting[0]
    hall.act("move", moved, "A")  # the manager moves one to a service the hall still has
    assert engine.tickets[moved] in engine.queues["A"].tickets()
    hall.act("end_day")
    closed = {e.data.ticket for e in hall.events if isinstance(e.data, TicketClosed)}
    assert {*waiting[1:], in_hand.ticket_id, moved} <= closed
    check_consistent(engine)


def test_a_renamed_prefix_never_reuses_a_number(caplog: pytest.LogCaptureFixture) -> None:
    config = hall_config()
    day = morning(config, seed=4)
    day.act("set_intake", "E", True)
    for _ in range(3):
        day.act("issue", "E", pending_print=False)
    last_e = max(int(t[-3:]) for t in issued_ids(day.events) if t.split("-")[1][0] == "E")
    caplog.set_level(logging.WARNING, FOLD_LOG)
    as_h = resumed(renamed(config, {"E": "H"}), day.events, seed=5)
    assert len(warnings(caplog)) == 1 and "service 'E'" in warnings(caplog)[0]
    check_consistent(as_h.engine)
    assert as_h.act("issue", "H", pending_print=False).number == "H001"
    journal = [*day.events, *as_h.events]
    back = resumed(config, journal, seed=6)  # the letter goes back to E
    assert "service 'H'" in warnings(caplog)[-1]
    check_consistent(back.engine)
    fresh = back.act("issue", "E", pending_print=False)
    assert fresh.number == f"E{last_e + 1:03d}"
    ids = issued_ids([*journal, *back.events])
    assert len(ids) == len(set(ids))


def test_swapped_prefixes_go_on_counting_each_letter() -> None:
    config = hall_config()
    day = morning(config, seed=6)
    hall = resumed(renamed(config, {"A": "B", "B": "A"}), day.events, seed=7)
    check_consistent(hall.engine)
    for service in ("A", "B"):
        hall.act("set_intake", service, True)
        ticket = hall.act("issue", service, pending_print=False)
        assert ticket.ticket_id not in day.engine.tickets
        assert int(ticket.number[1:]) == 1 + max(
            [int(t.number[1:]) for t in day.engine.tickets.values()
             if t.number[0] == service], default=0)


def test_a_changed_quota_counts_the_tickets_already_issued() -> None:
    config = hall_config()
    day = morning(config, seed=8)
    day.act("set_intake", "A", True)
    for _ in range(3):
        day.act("issue", "A", pending_print=False)
    issued = day.engine.queues["A"].issued
    assert issued >= 3
    tighter = resumed(with_quota(config, "A", issued - 1), day.events, seed=9)
    assert tighter.engine.queues["A"].issued == issued
    with pytest.raises(Refused) as refused:
        tighter.engine.issue(tighter.now, "A")
    assert refused.value.code is ErrorCode.QUOTA_EXHAUSTED
    looser = resumed(with_quota(config, "A", issued + 1), day.events, seed=9)
    ticket = looser.act("issue", "A", pending_print=False)
    assert ticket is not None and ticket.ticket_id not in day.engine.tickets
    assert looser.act("issue", "A", pending_print=False) is None


def _mutations(config: HallConfig, rng: random.Random) -> list[HallConfig]:
    counters = [c.id for c in config.counters]
    services = [s.id for s in config.services]
    letters = rng.sample(services, 2)
    unused = sorted(set("HIJKLMNOPQRSTUVWXYZ") - set(services))
    return [
        config,
        without_counters(config, *rng.sample(counters, rng.randint(1, len(counters) - 1))),
        without_services(config, *rng.sample(services, rng.randint(1, len(services) - 1))),
        renamed(config, {letters[0]: letters[1], letters[1]: letters[0]}),
        renamed(config, {s: unused[i] for i, s in enumerate(rng.sample(services, 3))}),
        with_quota(config, rng.choice(services), rng.randint(1, 5)),
        without_services(without_counters(config, rng.choice(counters)), rng.choice(services)),
    ]


@pytest.mark.parametrize("seed", range(12))
def test_random_days_replay_under_any_config_and_go_on(seed: int) -> None:
    """Random valid days (every command kind, the day closing or not) replay under the same
    config to the same state, and under changed configs without an error: the hall then
    plays on, closes its day, and never issues a number twice."""
    config = hall_config()
    rng = random.Random(seed)
    day = Day(config, weekday_morning().now(), seed)
    assert day.engine.close_at is not None
    day.until(day.engine.close_at + rng.choice([-4, -1, 0.5, 3]) * 3600,
              mean_step_s=rng.choice([10.0, 30.0]))
    if rng.random() < 0.3:
        day.act("end_day")
    assert state_of(replayed(config, day.engine, day.events)) == state_of(day.engine)
    for n, changed in enumerate(_mutations(config, rng)):
        hall = resumed(changed, day.events, seed * 100 + n)
        check_consistent(hall.engine)
        project(hall.engine, hall.now)
        go_on(hall, hours=0.5)
        check_consistent(hall.engine)
        assert hall.engine.ended and not [t for t in hall.engine.tickets.values() if t.is_open]
        journal = [*day.events, *hall.events]
        ids = issued_ids(journal)
        assert len(ids) == len(set(ids)), "a ticket number was issued twice"
        assert state_of(replayed(changed, hall.engine, journal)) == state_of(hall.engine)
