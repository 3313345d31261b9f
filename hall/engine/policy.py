"""Call-next policies: which waiting ticket a counter takes when its clerk presses next.

A policy orders tickets by a fixed urgency key (when the wait began, less a head start for
the green channel and appointments) plus a shift that depends on the kind of counter and
the service, and it may leave a ticket to a more specialised counter (the guard). The
projection in projection.py plays exactly these rules forward, so estimates follow them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from hall.engine.model import LANES, Desk, Ticket
from protocol.messages import Channel

if TYPE_CHECKING:
    from hallconfig import HallConfig

Skills = frozenset[str] | None  # a counter's services; None: a comprehensive window
DEMAND_PRIOR = 10  # tickets per service assumed before any are issued, so early shares are even
SHARE_STEPS = 20  # a service's share of the day's tickets is rounded to 1/20
BALANCES_KEPT = 256  # combinations of open counters and mix remembered
_NO_SHIFT: dict[str, float] = {}


class QueueView(Protocol):
    """What a policy may see of the queues."""

    def lane_heads(self, skills: Skills) -> list[Ticket]:
        """The first ticket of every non-empty lane of the services ``skills`` covers,
        service by service."""
        ...

    def reserved(self, counter_id: str) -> Ticket | None: ...

    def waiting(self, service: str) -> int: ...


@dataclass(frozen=True, slots=True)
class Guard:
    """Counters of one more specialised kind that a ticket may be left to."""

    services: frozenset[str]
    keep: int  # leave the ticket while they have at most this many tickets to serve


@dataclass(slots=True)
class Balance:
    """A policy's constants for the hall as it is now: for each kind of open counter, a
    shift per service (seconds added to a ticket's key) and the guards per service."""

    shift: dict[Skills, dict[str, float]] = field(default_factory=dict)
    guards: dict[Skills, dict[str, tuple[Guard, ...]]] = field(default_factory=dict)
    guard_wait_s: float = 0.0
    compiled: dict[object, object] = field(default_factory=dict, repr=False)  # projection's

    def __getstate__(self) -> tuple[object, ...]:
        """A copy (the what-if's, pickled to its worker process) leaves the projection's
        compiled plans behind: they are rebuilt when needed, and a class compiled by mypyc
        cannot be unpickled."""
        return self.shift, self.guards, self.guard_wait_s

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.shift, self.guards, self.guard_wait_s = state
        self.compiled = {}


def breadth(skills: Skills) -> float:
    """How many services a counter kind serves (a comprehensive window: infinitely many)."""
    return math.inf if skills is None else len(skills)


class Policy(Protocol):
    name: str
    head_start: dict[Channel, float]

    def key(self, ticket: Ticket) -> float: ...

    def balance(self, open_kinds: tuple[Skills, ...], services: tuple[str, ...],
                issued: tuple[int, ...]) -> Balance:
        """The constants for these kinds of open counter and tickets issued per service."""
        ...

    def pick(self, desk: Desk, queues: QueueView, now: float,
             balance: Balance) -> Ticket | None: ...

    def rank(self, desk: Desk) -> tuple[float, float]: ...

    def pick_counter(self, service: str, idle: Sequence[Desk]) -> Desk: ...


class Fifo:
    """The oldest ticket the counter may serve, whatever its channel."""

    name = "fifo"

    def __init__(self) -> None:
        self.head_start = dict.fromkeys(LANES, 0.0)
        self._plain = Balance()

    def key(self, ticket: Ticket) -> float:
        """Urgency: the earlier, the sooner (ties go to the lower sequence number)."""
        return ticket.queued_at - self.head_start[ticket.channel]

    def balance(self, open_kinds: tuple[Skills, ...], services: tuple[str, ...],
                issued: tuple[int, ...]) -> Balance:
        return self._plain

    def pick(self, desk: Desk, queues: QueueView, now: float,
             balance: Balance) -> Ticket | None:
        """The choice under fixed constants: reserved first, then by key, guards obeyed."""
        reserved = queues.reserved(desk.counter_id)
        if reserved is not None:
            return reserved
        skills = desk.services
        shift = balance.shift.get(skills) or _NO_SHIFT
        guards = balance.guards.get(skills)
        head_start = self.head_start
        heads: dict[str, tuple[float, int, Ticket]] = {}
        for ticket in queues.lane_heads(skills):
            service = ticket.service
            entry = (ticket.queued_at - head_start[ticket.channel] + shift.get(service, 0.0),
                     ticket.seq, ticket)
            held = heads.get(service)
            if held is None or entry[:2] < held[:2]:
                heads[service] = entry
        if not heads:
            return None
        if not guards:
            return min(heads.values())[2]  # sequence numbers differ: tickets never compared
        ordered = sorted(heads.values())
        for _, _, ticket in ordered:
            if not left_to_specialist(ticket, guards.get(ticket.service, ()), queues, now,
                                      balance.guard_wait_s):
                return ticket
        return ordered[0][2]

    def rank(self, desk: Desk) -> tuple[float, float]:
        """Order of idle counters for a new ticket: the one idle longest first."""
        return (0.0, desk.since or 0.0)

    def pick_counter(self, service: str, idle: Sequence[Desk]) -> Desk:
        """The idle counter that takes a new ticket."""
        return min(idle, key=self.rank)


def left_to_specialist(ticket: Ticket, guards: Iterable[Guard], queues: QueueView,
                       now: float, wait_s: float) -> bool:
    """True while a young ticket is among the last a more specialised counter can serve."""
    if now - ticket.queued_at >= wait_s:
        return False
    return any(sum(queues.waiting(s) for s in g.services) <= g.keep for g in guards)


class Default(Fifo):
    """The hall's policy: priority with ageing, specialists kept busy, hall's wait target.

    With the hall's wait target T (20 min by default): a green-channel ticket counts as
    0.4 T older, an appointment as 0.2 T older; a broader counter shifts each service by up
    to 2 T according to how much the narrower open counters can take of it, and leaves a
    ticket to an open specialist while it is among the last that specialist can serve,
    unless it has waited T already. hall/README.md explains it for a hall manager.
    """

    name = "default"

    def __init__(self, config: HallConfig | None = None) -> None:
        super().__init__()
        target_s = (config.rules.wait_target_min if config else 20.0) * 60
        self.head_start = {Channel.APPOINTMENT: 0.2 * target_s, Channel.GREEN: 0.4 * target_s,
                           Channel.NORMAL: 0.0}
        self.shift_s = 2.0 * target_s
        self.guard_wait_s = target_s
        self._balances: dict[object, Balance] = {}
        self._issued: tuple[int, ...] = ()
        self._services: tuple[str, ...] = ()
        self._mix: tuple[int, ...] = ()

    def balance(self, open_kinds: tuple[Skills, ...], services: tuple[str, ...],
                issued: tuple[int, ...]) -> Balance:
        """The constants for the open counters and today's mix of tickets (each combination
        of open counters and shares of tickets, in steps of 1/20, is worked out once)."""
        if issued != self._issued or services != self._services:
            self._issued, self._services = issued, services
            step = SHARE_STEPS / (sum(issued) + DEMAND_PRIOR * len(issued))
            self._mix = tuple([round(step * (n + DEMAND_PRIOR)) for n in issued])
        signature = (open_kinds, self._services, self._mix)
        found = self._balances.get(signature)
        if found is None:
            if len(self._balances) >= BALANCES_KEPT:
                self._balances.clear()
            found = self._balances[signature] = self._balance(open_kinds, services, self._mix)
        return found

    def _balance(self, open_kinds: tuple[Skills, ...], services: tuple[str, ...],
                 mix: tuple[int, ...]) -> Balance:
        """Shifts and guards: a service is shifted at a broader counter by how much of it
        the narrower counters can take: their share of the open counters over the share of
        today's tickets they can serve."""
        kinds: dict[Skills, int] = {}
        for kind in open_kinds:
            kinds[kind] = kinds.get(kind, 0) + 1
        share = {s: max(m, 1) / SHARE_STEPS for s, m in zip(services, mix, strict=True)}
        counters = len(open_kinds)
        result = Balance(guard_wait_s=self.guard_wait_s)
        for kind in kinds:
            shift: dict[str, float] = {}
            guards: dict[str, tuple[Guard, ...]] = {}
            for service in services:
                narrower = [k for k in kinds if k is not None and service in k
                            and breadth(k) < breadth(kind)]
                if (kind is not None and service not in kind) or not narrower:
                    continue
                cover = sum(kinds[k] / (counters * sum(share.get(s, 0.0) for s in k))
                            for k in narrower if k is not None)
                shift[service] = self.shift_s * min(1.0, cover)
                guards[service] = tuple(Guard(k, kinds[k]) for k in narrower if k is not None)
            result.shift[kind] = shift
            result.guards[kind] = guards
        return result

    def rank(self, desk: Desk) -> tuple[float, float]:
        """Idle counters for a new ticket: the most specialised first, then idle longest."""
        services = desk.services
        return (math.inf if services is None else len(services), desk.since or 0.0)


POLICIES: dict[str, type[Fifo]] = {"fifo": Fifo, "default": Default}


def make_policy(name: str, config: HallConfig | None = None) -> Policy:
    """A policy by name (tuned to the hall's config when given), or ValueError naming the known."""
    if name not in POLICIES:
        raise ValueError(f"unknown policy {name!r}; known: {', '.join(POLICIES)}")
    return Default(config) if name == "default" else POLICIES[name]()
