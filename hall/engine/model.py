"""The engine's state objects: tickets, counters (desks), queues and appointments."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from protocol.messages import Channel, CounterStatus, TicketStatus

OPEN_STATUSES = frozenset(
    {TicketStatus.PENDING_PRINT, TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING})
LANES = (Channel.APPOINTMENT, Channel.GREEN, Channel.NORMAL)


@dataclass(slots=True, eq=False)
class Ticket:
    """One ticket of the day; times are epoch seconds."""

    ticket_id: str
    number: str
    service: str
    seq: int
    channel: Channel
    issued_at: float
    token: str
    id_hash: str | None = None
    slot: float | None = None
    kiosk: str | None = None  # the kiosk that prints it: only it may confirm or void the print
    status: TicketStatus = TicketStatus.WAITING
    queued_at: float = 0.0  # fairness key: when its wait began (kept across a transfer)
    reserved_for: str | None = None  # a counter it was transferred to
    counter: str | None = None
    called_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    recalls: int = 0
    estimate_at_issue: float | None = None  # projected wait in seconds, for accuracy reports

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(slots=True, eq=False)
class Desk:
    """A counter (window) as the engine sees it."""

    counter_id: str
    name: str
    services: frozenset[str] | None  # None: comprehensive, serves every service
    status: CounterStatus = CounterStatus.OPEN
    ticket: Ticket | None = None
    clerk: str | None = None
    since: float | None = None
    pause_reason: str | None = None  # while paused (protocol PauseReason)
    last_finished: Ticket | None = None
    served: int = 0

    def serves(self, service: str) -> bool:
        return self.services is None or service in self.services

    @property
    def available(self) -> bool:
        return self.status is CounterStatus.OPEN


@dataclass(slots=True, eq=False)
class ServiceQueue:
    """One service's waiting tickets in lanes, in queue order, plus its day counters."""

    service: str
    lanes: dict[Channel, dict[str, Ticket]] = field(
        default_factory=lambda: {lane: {} for lane in LANES})
    last_number: int = 0
    issued: int = 0  # tickets that count against the quota (not voided)
    intake_open: bool = True
    recent_minutes: deque[float] = field(default_factory=lambda: deque(maxlen=30))
    finished: int = 0  # services finished today (each adds to recent_minutes)
    size: int = 0  # waiting tickets, all lanes
    version: int = 0  # bumped whenever a lane changes
    ordered: tuple[int, object, object] | None = None  # projection.py's cache of the order

    def add(self, ticket: Ticket, front: bool = False) -> None:
        lane = self.lanes[ticket.channel]
        if front:
            items = [(ticket.ticket_id, ticket), *lane.items()]
            lane.clear()
            lane.update(items)
        else:
            lane[ticket.ticket_id] = ticket
        self.size = sum(map(len, self.lanes.values()))
        self.version += 1

    def remove(self, ticket: Ticket) -> None:
        if self.lanes[ticket.channel].pop(ticket.ticket_id, None) is not None:
            self.size -= 1
            self.version += 1

    def head(self, lane: Channel) -> Ticket | None:
        tickets = self.lanes[lane]
        return next(iter(tickets.values())) if tickets else None

    @property
    def waiting(self) -> int:
        return self.size

    def tickets(self) -> list[Ticket]:
        return [t for lane in self.lanes.values() for t in lane.values()]


@dataclass(slots=True, eq=False)
class Appointment:
    """A booked slot for one person (by keyed hash) on this day."""

    id_hash: str
    service: str
    slot: float
    checked_in: str | None = None  # the ticket id once checked in
