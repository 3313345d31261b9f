"""The fast projection against a plain reference that asks the policy at every step.

The reference replays the queue with ``policy.pick`` on a cursor over frozen queues, one
counter at a time: the obvious, slow way. On many random hall states (mixed counter kinds,
closed counters, counters without a clerk or idle while residents wait for them, busy
counters, green and appointment lanes, out-of-order printing, transfers to a service and to
a counter, equal timestamps) both must agree exactly, including when a new walk-in ticket
of each service would be called.
"""

from __future__ import annotations

import copy
import heapq
import random
from datetime import datetime, timedelta

import pytest
from support.hall import SECRET, SHANGHAI, sign_in, with_clerks

from hall.engine.engine import HallEngine
from hall.engine.model import LANES, Desk, Ticket
from hall.engine.policy import Balance, make_policy
from hall.engine.projection import MIN_REMAINING_S, expected_seconds, project
from hallconfig import HallConfig
from protocol.messages import CounterStatus, TicketStatus

OPEN = datetime(2026, 11, 23, 8, 30, tzinfo=SHANGHAI)
SERVICES = "ABCDEFG"


class Cursor:
    """A QueueView over a frozen copy of the engine's queues, consumed as the replay runs."""

    def __init__(self, engine: HallEngine) -> None:
        self.engine = engine
        self.lanes = {(s, lane): list(q.lanes[lane].values())
                      for s, q in engine.queues.items() for lane in LANES}
        self.reserved_lists = {c: list(r.values()) for c, r in engine.reserved_lanes.items()}
        self.total = sum(map(len, self.lanes.values())) + sum(
            map(len, self.reserved_lists.values()))

    def lane_heads(self, skills: frozenset[str] | None) -> list[Ticket]:
        return [items[0] for service in self.engine.queues for lane in LANES
                if (skills is None or service in skills)
                and (items := self.lanes[(service, lane)])]

    def reserved(self, counter_id: str) -> Ticket | None:
        items = self.reserved_lists[counter_id]
        return items[0] if items else None

    def waiting(self, service: str) -> int:
        return sum(len(self.lanes[(service, lane)]) for lane in LANES)

    def take(self, desk: Desk, ticket: Ticket) -> None:
        self.total -= 1
        mine = self.reserved_lists[desk.counter_id]
        if mine and mine[0] is ticket:
            mine.pop(0)
            return
        self.lanes[(ticket.service, ticket.channel)].remove(ticket)


def desk_free_from(desk: Desk, now: float, expected: list[float],
                   services: tuple[str, ...]) -> float:
    """When a counter will be done with the resident in hand (now if it has none)."""
    ticket = desk.ticket
    if ticket is None:
        return now
    begun = ticket.started_at or ticket.called_at or now
    return max(begun + expected[services.index(ticket.service)], now + MIN_REMAINING_S)


def counts(engine: HallEngine, desk: Desk, now: float) -> bool:
    """Capacity, as the hall's rules say: open, a clerk signed in, and not idle for
    ``idle_window_min`` while someone waits for one of its services."""
    if not desk.available or desk.clerk is None:
        return False
    if desk.ticket is not None:
        return True
    waiting = [t.queued_at for s, q in engine.queues.items() if desk.serves(s)
               for t in q.tickets()] + [
        t.queued_at for t in engine.reserved_lanes[desk.counter_id].values()]
    if not waiting:
        return True
    since = max(min(waiting), desk.since or 0.0)
    return now - since < engine.config.rules.idle_window_min * 60


def reference(engine: HallEngine, now: float,
              balance: Balance | None = None) -> tuple[dict[str, float], dict[str, float]]:
    """Starts and free times by asking the policy at every step."""
    policy = engine.policy
    if balance is None:
        balance = engine.balance()
    order = tuple(engine.queues)
    expected = [expected_seconds(q, engine.services[s].mean_minutes)
                for s, q in engine.queues.items()]
    desks = sorted((d for d in engine.desks.values() if counts(engine, d, now)),
                   key=policy.rank)
    heap = [(desk_free_from(d, now, expected, order), n) for n, d in enumerate(desks)]
    heapq.heapify(heap)
    cursor = Cursor(engine)
    starts: dict[str, float] = {}
    free_at: dict[str, float] = {}
    while heap:
        free, n = heapq.heappop(heap)
        desk = desks[n]
        ticket = policy.pick(desk, cursor, free, balance) if cursor.total else None
        if ticket is None:
            free_at[desk.counter_id] = free
            continue
        cursor.take(desk, ticket)
        starts[ticket.ticket_id] = free
        heapq.heappush(heap, (free + expected[order.index(ticket.service)], n))
    return starts, free_at


def config(rng: random.Random) -> HallConfig:
    counters = []
    for n in range(rng.randint(2, 9)):
        kind = rng.random()
        skills = ["*"] if kind < 0.5 else sorted(rng.sample(SERVICES, rng.randint(1, 3)))
        counters.append({"id": str(n + 1), "name": f"{n + 1}号", "name_en": f"W{n + 1}",
                         "services": skills})
    return HallConfig.model_validate(with_clerks({
        "hall": {"id": "t", "name": "测试", "name_en": "Test"},
        "services": [{"id": s, "name": s, "name_en": s, "mean_minutes": m}
                     for s, m in zip(SERVICES, (9, 7, 12, 10, 8, 5, 11), strict=True)],
        "counters": counters}))


def random_hall(seed: int, policy: str, most: int = 60) -> tuple[HallEngine, float]:
    """A hall in the middle of a busy morning, built through the engine's own commands."""
    rng = random.Random(seed)
    cfg = config(rng)
    engine = HallEngine(cfg, OPEN.date(), SECRET, make_policy(policy, cfg))
    sign_in(engine, [c for c in engine.desks if rng.random() < 0.9])
    t = OPEN
    pending = []
    for n in range(rng.randint(0, most)):
        t += timedelta(seconds=rng.choice((0, 0, 5, 40, 90)))
        service = rng.choice(SERVICES[: rng.randint(2, 7)])
        kind = rng.random()
        person = f"{seed:08x}{n:056x}"
        if kind < 0.15:
            engine.book(OPEN - timedelta(days=1), person, service, t + timedelta(minutes=5))
            ticket = engine.issue(t, service, person, appointment=True, pending_print=True)
        else:
            ticket = engine.issue(t, service, green=kind < 0.3, pending_print=True)
        pending.append(ticket)
        if rng.random() < 0.7:
            rng.shuffle(pending)
            engine.printed(t, pending.pop().ticket_id)
        if rng.random() < 0.2:
            _counter_move(engine, rng, t)
    for ticket in pending:
        engine.printed(t, ticket.ticket_id)
    for desk in engine.desks.values():
        if rng.random() < 0.15:
            engine.set_counter_status(t, desk.counter_id, CounterStatus.CLOSED)
    return engine, (t + timedelta(seconds=rng.choice((0, 30, 600)))).timestamp()


def _counter_move(engine: HallEngine, rng: random.Random, t: datetime) -> None:
    """A counter calls, serves, transfers or finishes, as clerks do."""
    desk = rng.choice(list(engine.desks.values()))
    if desk.ticket is None:
        if desk.clerk is None:
            sign_in(engine, [desk.counter_id], t)  # a clerk comes late
        elif engine.policy.pick(desk, engine, t.timestamp(), engine.balance()):
            engine.call_next(t, desk.counter_id)
        elif rng.random() < 0.3:
            engine.sign_out(t, desk.counter_id)  # and another leaves
        return
    action = rng.random()
    if action < 0.2:
        engine.transfer(t, desk.counter_id, rng.choice(SERVICES), None)
    elif action < 0.35:
        other = rng.choice([d for d in engine.desks.values() if d.serves(desk.ticket.service)])
        engine.transfer(t, desk.counter_id, None, other.counter_id)
    elif action < 0.6 and desk.ticket.status is TicketStatus.CALLED:
        engine.start(t, desk.counter_id)
    else:
        engine.queues[desk.ticket.service].recent_minutes.append(rng.uniform(2, 15))
        engine.done(t, desk.counter_id)


@pytest.mark.parametrize("policy", ["fifo", "default"])
def test_projection_matches_the_policy_step_by_step(policy: str) -> None:
    checked = 0
    for seed in range(150):
        engine, now = random_hall(seed, policy)
        fast = project(engine, now)
        starts, free_at = reference(engine, now)
        assert fast.starts == starts, f"seed {seed}"
        assert fast.free_at == free_at, f"seed {seed}"
        checked += len(starts)
    assert checked > 1500  # the states really had queues


@pytest.mark.parametrize(("policy", "seeds", "most"), [
    ("fifo", range(60), 60), ("default", range(60), 60), ("default", range(1000, 1300), 12)])
def test_new_ticket_wait_is_where_a_real_new_ticket_would_be_called(
        policy: str, seeds: range, most: int) -> None:
    """Small halls put specialists at their last ticket often: the guard cases."""
    for seed in seeds:
        engine, now = random_hall(seed, policy, most)
        fast = project(engine, now)
        balance = engine.balance()
        balance = copy.deepcopy(balance)  # the constants of the hall before the ticket
        for service in SERVICES:
            trial = copy.deepcopy(engine)
            when = datetime.fromtimestamp(now, SHANGHAI)
            ticket = trial.issue(when, service, pending_print=False)
            starts, _ = reference(trial, now, balance)
            expected = starts.get(ticket.ticket_id)
            got = fast.new_ticket_wait(engine, service)
            assert got == (None if expected is None else max(0.0, expected - now)), (
                f"seed {seed} service {service}")


@pytest.mark.parametrize("policy", ["fifo", "default"])
def test_a_focused_projection_gives_the_full_ones_answer(policy: str) -> None:
    for seed in range(2000, 2100):
        engine, now = random_hall(seed, policy, 30)
        full = project(engine, now)
        for service in SERVICES:
            assert project(engine, now, service).new_ticket_wait(engine, service) == \
                full.new_ticket_wait(engine, service), f"seed {seed} service {service}"
        for queue in engine.queues.values():
            for ticket in queue.tickets():
                assert project(engine, now, ticket).wait_seconds(ticket) == \
                    full.wait_seconds(ticket), f"seed {seed} ticket {ticket.number}"
