"""Call-next policies on small halls built through the engine's own commands."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from support.hall import SECRET, SHANGHAI, sign_in, with_clerks

from hall.engine.engine import HallEngine
from hall.engine.policy import Default, Fifo, make_policy
from hallconfig import HallConfig
from protocol.messages import Channel, CounterStatus

OPEN = datetime(2026, 11, 23, 8, 30, tzinfo=SHANGHAI)
PLAN = {"A": 9, "B": 7, "E": 8}


def hall(counters: dict[str, list[str]], policy: str = "default",
         shift: bool = True) -> HallEngine:
    """A hall with services A, B and E; ``shift=False`` turns the default policy's service
    shift off, to watch its guard alone."""
    config = HallConfig.model_validate(with_clerks({
        "hall": {"id": "t", "name": "测试", "name_en": "Test"},
        "services": [{"id": s, "name": s, "name_en": s, "mean_minutes": m}
                     for s, m in PLAN.items()],
        "counters": [{"id": c, "name": c, "name_en": c, "services": skills}
                     for c, skills in counters.items()]}))
    chosen = make_policy(policy, config)
    if not shift and isinstance(chosen, Default):
        chosen.shift_s = 0.0
    return sign_in(HallEngine(config, OPEN.date(), SECRET, chosen))


def take(engine: HallEngine, at: datetime, service: str, **kind: bool) -> str:
    ticket = engine.issue(at, service, pending_print=False, **kind)
    return ticket.number


def call(engine: HallEngine, at: datetime, counter: str) -> str | None:
    ticket = engine.call_next(at, counter)
    return None if ticket is None else ticket.number


def minutes(n: float) -> datetime:
    return OPEN + timedelta(minutes=n)


def test_fifo_takes_the_oldest_it_may_serve_whatever_the_channel() -> None:
    engine = hall({"1": ["*"], "2": ["B"]}, "fifo")
    take(engine, minutes(0), "A")
    take(engine, minutes(1), "B", green=True)
    take(engine, minutes(2), "B")
    assert call(engine, minutes(3), "2") == "B001"
    assert call(engine, minutes(3), "1") == "A001"
    assert call(engine, minutes(4), "1") == "B002"


def test_green_channel_goes_ahead_by_its_head_start_only() -> None:
    engine = hall({"1": ["*"]})
    head_start = Default().head_start[Channel.GREEN] / 60  # 8 minutes
    take(engine, minutes(0), "A")
    take(engine, minutes(head_start - 1), "A", green=True)  # within the head start: first
    assert call(engine, minutes(head_start), "1") == "A002"
    take(engine, minutes(2 * head_start + 1), "A", green=True)  # too late: A001 has aged
    assert call(engine, minutes(2 * head_start + 2), "1") == "A001"
    assert call(engine, minutes(2 * head_start + 3), "1") == "A003"


def test_appointment_goes_before_walk_ins_of_the_last_minutes() -> None:
    engine = hall({"1": ["*"]})
    take(engine, minutes(0), "B")
    engine.book(OPEN - timedelta(days=1), "a" * 64, "B", minutes(3))
    engine.issue(minutes(2), "B", "a" * 64, appointment=True, pending_print=False)
    assert call(engine, minutes(2), "1") == "B002"
    take(engine, minutes(10), "B")
    engine.book(OPEN - timedelta(days=1), "b" * 64, "B", minutes(16))
    engine.issue(minutes(15), "B", "b" * 64, appointment=True, pending_print=False)
    assert call(engine, minutes(16), "1") == "B001"  # 16 min of waiting beat a 4 min head start


def test_a_stream_of_green_tickets_cannot_starve_a_walk_in() -> None:
    """Two green tickets a minute for two hours at a one-counter hall that serves one a
    minute: strict priority would never call the walk-in who came first. With ageing only
    the green tickets taken within its head start (8 minutes) go before it."""
    engine = hall({"1": ["*"]})
    walk_in = engine.issue(minutes(0), "A", pending_print=False)
    order = []
    for k in range(240):
        now = minutes(k / 2)
        take(engine, now, "A", green=True)
        if k % 2 == 0 and k:
            called = engine.call_next(now, "1")
            assert called is not None
            order.append(called)
    head_start = Default().head_start[Channel.GREEN]
    ahead = order[: order.index(walk_in)]
    assert len(ahead) == 16  # the green tickets of its first eight minutes, and no others
    assert all(t.issued_at < walk_in.issued_at + head_start for t in ahead)
    assert walk_in.called_at is not None
    assert walk_in.called_at - walk_in.issued_at <= head_start + 16 * 60 + 60
    assert all(t.channel is Channel.GREEN for t in order[len(ahead) + 1:])  # the stream goes on


def test_comprehensive_window_leaves_the_last_ticket_to_the_open_specialist() -> None:
    engine = hall({"1": ["*"], "2": ["E"]}, shift=False)
    take(engine, minutes(0), "E")
    take(engine, minutes(0), "E")
    take(engine, minutes(0.5), "A")
    assert call(engine, minutes(0.5), "2") == "E001"
    assert call(engine, minutes(1), "1") == "A001"  # E002 is the specialist's last one
    assert call(engine, minutes(2), "1") == "E002"  # nobody else waits: take it after all


def test_a_ticket_left_to_the_specialist_is_taken_once_it_has_waited_the_target() -> None:
    engine = hall({"1": ["*"], "2": ["E"]}, shift=False)
    take(engine, minutes(0), "E")
    take(engine, minutes(0), "E")
    assert call(engine, minutes(0), "2") == "E001"
    take(engine, minutes(19), "A")
    assert call(engine, minutes(19.5), "1") == "A001"  # E002 has waited 19.5 < 20 min
    take(engine, minutes(20), "A")
    assert call(engine, minutes(20.5), "1") == "E002"  # now it has waited 20.5 min


def test_no_ticket_is_left_to_a_closed_specialist() -> None:
    engine = hall({"1": ["*"], "2": ["E"]}, shift=False)
    engine.set_counter_status(minutes(0), "2", CounterStatus.CLOSED)
    take(engine, minutes(0), "E")
    take(engine, minutes(1), "A")
    assert call(engine, minutes(2), "1") == "E001"


def test_comprehensive_windows_favour_services_their_specialists_cover_least() -> None:
    """A and B share one specialist, E has its own: of two equally old tickets a
    comprehensive window takes the A one (FIFO would take E001, the lower number), since
    E's specialist takes a larger part of E's load. Without that specialist, no shift."""
    engine = hall({"1": ["*"], "2": ["*"], "3": ["A", "B"], "4": ["E"]})
    for service in "EEAABB":
        take(engine, minutes(1), service)
    balance = engine.balance()
    assert balance.shift[None]["E"] > balance.shift[None]["A"] == balance.shift[None]["B"] > 0
    assert call(engine, minutes(2), "1") == "A001"
    engine.set_counter_status(minutes(2), "4", CounterStatus.CLOSED)
    closed = engine.balance()
    assert "E" not in closed.shift[None]  # no open specialist: no shift, no guard
    assert call(engine, minutes(3), "2") == "E001"


def test_the_most_specialised_idle_counter_takes_a_new_ticket() -> None:
    engine = hall({"1": ["*"], "2": ["A", "B"], "3": ["A"]})
    idle = list(engine.desks.values())
    assert engine.policy.pick_counter("A", idle).counter_id == "3"
    assert engine.policy.pick_counter("B", [d for d in idle if d.serves("B")]).counter_id == "2"


def test_fifo_gives_a_new_ticket_to_the_counter_idle_longest() -> None:
    engine = hall({"1": ["*"], "2": ["A"]}, "fifo")
    take(engine, minutes(0), "A")
    engine.call_next(minutes(0), "2")
    engine.done(minutes(1), "2")
    idle = list(engine.desks.values())
    assert isinstance(engine.policy, Fifo)
    assert engine.policy.pick_counter("A", idle).counter_id == "1"  # free since the start


def test_the_wait_target_scales_the_policy() -> None:
    engine = hall({"1": ["*"]})
    default = Default(engine.config.model_copy(
        update={"rules": engine.config.rules.model_copy(update={"wait_target_min": 10})}))
    assert default.head_start[Channel.GREEN] == 240
    assert default.guard_wait_s == 600


def test_unknown_policy_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown policy 'sjf'; known: fifo, default"):
        make_policy("sjf")
