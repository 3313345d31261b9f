"""Wait estimates from the engine's own projection of the queue.

The projection plays the rest of the queue forward: every open counter takes tickets by
the hall's own policy, each service lasting its expected time (recent service times blended
with the configured planning time). No new arrivals are assumed, so the projected start of a
ticket is when it would be called if the hall went on as it is now.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from statistics import fmean
from typing import TYPE_CHECKING

from hall.engine.model import LANES, Desk, ServiceQueue, Ticket
from protocol.messages import Channel, TicketStatus

if TYPE_CHECKING:
    from hall.engine.engine import HallEngine

PRIOR_WEIGHT = 10  # planning time counts as this many observed services
MIN_REMAINING_S = 30.0  # a service running over its expected time is taken to end soon


def expected_seconds(queue: ServiceQueue, planning_minutes: float) -> float:
    """Expected service time: recent observations shrunk towards the planning figure."""
    recent = queue.recent_minutes
    if not recent:
        return planning_minutes * 60
    n = len(recent)
    return (PRIOR_WEIGHT * planning_minutes + n * fmean(recent)) / (PRIOR_WEIGHT + n) * 60


class _Cursor:
    """A QueueView over a frozen copy of the queues, consumed as the projection runs."""

    def __init__(self, engine: HallEngine) -> None:
        self.lanes = {(s, lane): list(q.lanes[lane].values())
                      for s, q in engine.queues.items() for lane in LANES}
        self.pos = dict.fromkeys(self.lanes, 0)
        self.reserved_lists = {c: list(r.values()) for c, r in engine.reserved_lanes.items()}
        self.reserved_pos = dict.fromkeys(self.reserved_lists, 0)
        self.left = {s: q.waiting for s, q in engine.queues.items()}
        self.total = sum(len(v) for v in self.lanes.values()) + sum(
            len(v) for v in self.reserved_lists.values())

    def head(self, service: str, lane: Channel) -> Ticket | None:
        key = (service, lane)
        items, i = self.lanes[key], self.pos[key]
        return items[i] if i < len(items) else None

    def reserved(self, counter_id: str) -> Ticket | None:
        items, i = self.reserved_lists[counter_id], self.reserved_pos[counter_id]
        return items[i] if i < len(items) else None

    def waiting(self, service: str) -> int:
        return self.left[service]

    def take(self, desk: Desk, ticket: Ticket) -> None:
        self.total -= 1
        if self.reserved(desk.counter_id) is ticket:
            self.reserved_pos[desk.counter_id] += 1
            return
        self.pos[(ticket.service, ticket.channel)] += 1
        self.left[ticket.service] -= 1


@dataclass(slots=True)
class Projection:
    """Projected call times of waiting tickets, and when each counter would next be free."""

    now: float
    starts: dict[str, float] = field(default_factory=dict)
    free_at: dict[str, float] = field(default_factory=dict)

    def wait_seconds(self, ticket: Ticket) -> float | None:
        start = self.starts.get(ticket.ticket_id)
        return None if start is None else max(0.0, start - self.now)

    def new_ticket_wait(self, engine: HallEngine, service: str) -> float | None:
        """Wait of a normal ticket taken now: the first counter serving it to come free."""
        frees = [self.free_at[d.counter_id] for d in engine.desks.values()
                 if d.counter_id in self.free_at and d.serves(service)]
        return max(0.0, min(frees) - self.now) if frees else None


def project(engine: HallEngine, now: float) -> Projection:
    """Play the queue forward from ``now`` with the hall's policy."""
    expected = {s: expected_seconds(q, engine.services[s].mean_minutes)
                for s, q in engine.queues.items()}
    desks = [d for d in engine.desks.values() if d.available]
    heap: list[tuple[float, int, Desk]] = []
    for order, desk in enumerate(desks):
        heap.append((_free_from(desk, now, expected), order, desk))
    heapq.heapify(heap)
    result = Projection(now)
    cursor = _Cursor(engine)
    services = list(engine.queues)
    while heap:
        free, order, desk = heapq.heappop(heap)
        ticket = engine.policy.choose(desk, cursor, free, desks, services) if cursor.total else None
        if ticket is None:
            result.free_at[desk.counter_id] = free
            continue
        cursor.take(desk, ticket)
        result.starts[ticket.ticket_id] = free
        heapq.heappush(heap, (free + expected[ticket.service], order, desk))
    return result


def _free_from(desk: Desk, now: float, expected: dict[str, float]) -> float:
    ticket = desk.ticket
    if ticket is None:
        return now
    begun = ticket.started_at or ticket.called_at or now
    end = begun + expected[ticket.service]
    if ticket.status is TicketStatus.CALLED and ticket.started_at is None:
        end = max(end, now + MIN_REMAINING_S)
    return max(end, now + MIN_REMAINING_S)


def ahead_of(engine: HallEngine, projection: Projection, ticket: Ticket) -> int:
    """Tickets of the same service projected to be called before this one."""
    mine = projection.starts.get(ticket.ticket_id)
    queue = engine.queues[ticket.service]
    if mine is None:
        return sum(1 for t in queue.tickets() if t is not ticket)
    return sum(1 for t in queue.tickets()
               if t is not ticket and projection.starts.get(t.ticket_id, float("inf")) < mine)
