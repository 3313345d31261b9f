"""A staffing rehearsed: the hall's own engine and call-next policy play a day's residents with
so many windows of each kind open in each hour, and every resident's wait is checked against
their service's wait target.

A window kind is the hall's counters that serve the same services: the comprehensive windows
(一口受理, every service) and each set of specialists. Within a kind the counters open in
the config's order. A window closing at the end of an hour finishes its resident first; the
windows open in the last hour stay until everyone has been called.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from hall.engine.engine import HallEngine, Refused
from hall.engine.policy import make_policy
from hall.engine.whatif import Arrival, Break, Rehearsal
from hallconfig import HallConfig
from protocol.messages import Channel

SLOT_S = 3600.0  # the plan says what to open hour by hour from opening
SECRET = b"morning-plan-rehearsal-secret-0123"  # tickets' tokens: nobody sees them
SEATED_EARLY_S = 60.0  # clerks sit down (and closed windows close) before the doors open
FOREVER_S = 86_400.0  # a window closed in the last hour does not open again that day
Staffing = tuple[tuple[int, ...], ...]  # per hour, windows open of each kind


@dataclass(frozen=True, slots=True)
class WindowKind:
    """Counters that serve the same services (None: every service, comprehensive)."""

    key: str  # "*" or the services joined, e.g. "A+B"
    services: frozenset[str] | None
    counters: tuple[str, ...]

    def serves(self, service: str) -> bool:
        return self.services is None or service in self.services

    @property
    def breadth(self) -> int:
        return 1000 if self.services is None else len(self.services)


def window_kinds(config: HallConfig) -> tuple[WindowKind, ...]:
    """The hall's window kinds: comprehensive first, then specialists in counter order."""
    kinds: dict[frozenset[str] | None, list[str]] = {}
    for counter in config.counters:
        skills = None if "*" in counter.services else frozenset(counter.services)
        kinds.setdefault(skills, []).append(counter.id)
    found = [WindowKind("*" if s is None else "+".join(sorted(s)), s, tuple(c))
             for s, c in kinds.items()]
    return tuple(sorted(found, key=lambda k: k.services is not None))


def planning_config(config: HallConfig) -> HallConfig:
    """The hall as a rehearsal plays it: every resident of the history gets a ticket (no
    quota, no last-ticket time: the history's residents already got theirs)."""
    services = [s.model_copy(update={"daily_quota": None, "last_ticket": None})
                for s in config.services]
    return config.model_copy(update={"services": services})


@dataclass(frozen=True, slots=True)
class Hours:
    """One day's opening and its hours: (start, end) epoch seconds from opening on."""

    day: date
    open_at: float
    close_at: float
    slots: tuple[tuple[float, float], ...]

    def slot_of(self, t: float) -> int:
        return min(len(self.slots) - 1, max(0, int((t - self.open_at) // SLOT_S)))


def hours_of(config: HallConfig, day: date) -> Hours | None:
    """The day's plan hours (the last may be shorter); None when the hall is shut."""
    engine = HallEngine(config, day, SECRET)
    if engine.open_at is None or engine.close_at is None:
        return None
    slots = []
    start = engine.open_at
    while start < engine.close_at:
        slots.append((start, min(start + SLOT_S, engine.close_at)))
        start += SLOT_S
    return Hours(day, engine.open_at, engine.close_at, tuple(slots))


def breaks_of(kinds: Sequence[WindowKind], staffing: Staffing, hours: Hours) -> list[Break]:
    """Each counter's closed stretches (consecutive closed hours joined into one)."""
    out = []
    for k, kind in enumerate(kinds):
        for rank, counter in enumerate(kind.counters):
            closed_from: float | None = None
            for s, (start, _) in enumerate(hours.slots):
                closed = staffing[s][k] <= rank
                if closed and closed_from is None:
                    closed_from = start - SEATED_EARLY_S if s == 0 else start
                elif not closed and closed_from is not None:
                    out.append(Break((counter,), closed_from, start))
                    closed_from = None
            if closed_from is not None:
                out.append(Break((counter,), closed_from, hours.close_at + FOREVER_S))
    return out


@dataclass(slots=True)
class Tally:
    """One rehearsal's residents: per (hour of arrival, service) how many and how many
    waited past their target; per (hour, kind) the seconds its windows served."""

    residents: dict[tuple[int, str], int]
    late: dict[tuple[int, str], int]
    busy_s: dict[tuple[int, int], float]
    waits_s: list[float]

    def service_totals(self) -> dict[str, tuple[int, int]]:
        """Per service: (late, residents) over the day."""
        out: dict[str, list[int]] = {}
        for (_, service), n in self.residents.items():
            row = out.setdefault(service, [0, 0])
            row[0] += self.late.get((_, service), 0)
            row[1] += n
        return {s: (v[0], v[1]) for s, v in out.items()}


def rehearse(config: HallConfig, hours: Hours, kinds: Sequence[WindowKind], staffing: Staffing,
             residents: Sequence[Arrival], until: float | None = None,
             held: float = 1.0) -> Tally:
    """One rehearsal of ``staffing`` with ``residents`` (those arriving before ``until``, or
    all): how long each waited from ticket to call, late past ``held`` times their service's
    target. ``config`` is a planning_config."""
    engine = HallEngine(config, hours.day, SECRET, make_policy(config.rules.policy, config))
    return tally(play(engine, hours, kinds, staffing, residents, until), hours, kinds, held)


def play(engine: HallEngine, hours: Hours, kinds: Sequence[WindowKind], staffing: Staffing,
         residents: Sequence[Arrival], until: float | None = None) -> HallEngine:
    """Play the day on ``engine`` (a fresh one of ``hours.day``) until everyone is called."""
    arrivals = [_booked(engine, a, n, hours) for n, a in enumerate(residents)
                if until is None or a.at < until]
    engine.take_events()
    Rehearsal(engine).run(hours.open_at - SEATED_EARLY_S, arrivals,
                          breaks_of(kinds, staffing, hours))
    return engine


def _booked(engine: HallEngine, arrival: Arrival, n: int, hours: Hours) -> Arrival:
    """An appointment is booked for the moment its holder arrives (the engine's check-in
    window holds it); should the booking be refused, the resident comes in the green lane."""
    if arrival.channel is not Channel.APPOINTMENT:
        return arrival
    id_hash = f"{n:064x}"
    try:
        engine.book(hours.open_at - FOREVER_S / 4, id_hash, arrival.service,
                    datetime.fromtimestamp(arrival.at, engine.tz))
    except Refused:
        return Arrival(arrival.at, arrival.service, arrival.service_s, Channel.GREEN,
                       arrival.no_show)
    return Arrival(arrival.at, arrival.service, arrival.service_s, arrival.channel,
                   arrival.no_show, id_hash)


def tally(engine: HallEngine, hours: Hours, kinds: Sequence[WindowKind],
          held: float = 1.0) -> Tally:
    """Each resident's wait against ``held`` times their service's target, by hour of
    arrival."""
    targets = {s.id: engine.config.wait_target(s.id) * 60 * held
               for s in engine.config.services}
    kind_of = {c: k for k, kind in enumerate(kinds) for c in kind.counters}
    residents: dict[tuple[int, str], int] = {}
    late: dict[tuple[int, str], int] = {}
    busy: dict[tuple[int, int], float] = {}
    waits = []
    for ticket in engine.tickets.values():
        key = (hours.slot_of(ticket.issued_at), ticket.service)
        residents[key] = residents.get(key, 0) + 1
        wait = float("inf") if ticket.called_at is None else ticket.called_at - ticket.issued_at
        waits.append(wait)
        if wait > targets[ticket.service]:
            late[key] = late.get(key, 0) + 1
        if ticket.called_at is not None and ticket.counter is not None:
            _add_busy(busy, hours, kind_of[ticket.counter], ticket.called_at,
                      ticket.finished_at or ticket.called_at)
    return Tally(residents, late, busy, waits)


def _add_busy(busy: dict[tuple[int, int], float], hours: Hours, kind: int, start: float,
              end: float) -> None:
    for s, (a, b) in enumerate(hours.slots):
        overlap = min(b, end) - max(a, start)
        if overlap > 0:
            busy[(s, kind)] = busy.get((s, kind), 0.0) + overlap


def allowed_late(residents: int, level: float) -> int:
    """How many of ``residents`` may wait past the target at a service level ``level``."""
    return int((1.0 - level) * residents + 1e-9)


def meets(tally: Tally, level: float) -> bool:
    """Every service had at least ``level`` of its residents called within its target."""
    return all(late <= allowed_late(n, level) for late, n in tally.service_totals().values())
