"""Rehearsals: the real engine played forward in virtual time, and the manager's what-if.

A ``Rehearsal`` drives a ``HallEngine`` exactly as the controller would (issue, call_next,
recall, no_show, done, counter status) while residents arrive and clerks sign in, serve, take
breaks and give up on no-shows. The benchmark simulator runs whole scenario days through it;
``what_if`` runs the rest of today from the live state with more or fewer counters open.
"""

from __future__ import annotations

import heapq
import io
import math
import pickle
import random
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from hall.engine.engine import HallEngine, Refused
from hall.engine.events import ClerkSignedIn, Event
from hall.engine.model import Desk, Ticket
from hall.engine.policy import breadth
from hall.engine.projection import MIN_REMAINING_S, expected_seconds, project, staffed
from protocol.messages import Channel, CounterStatus, TicketStatus

RECALL_INTERVAL_S = 30.0  # a clerk recalls a missing resident every half minute
PROGRESS_EVERY = 4096  # arrivals between progress reports
WHAT_IF_REHEARSALS = 4  # rehearsals per variant: common residents, averaged
FORECAST_WINDOW_S = 3600.0  # walk-in rates come from the last hour ...
MIN_WINDOW_S = 900.0  # ... or at least a quarter of an hour
NO_SHOW_PRIOR = (1.0, 25.0)  # no-shows assumed before any call: 1 in 25
DEFAULT_CV = 0.6
_FREE, _RECALL, _GIVE_UP, _CLOSE, _REOPEN, _SIGN_IN = range(6)
_OPEN = CounterStatus.OPEN


@dataclass(frozen=True, slots=True)
class Arrival:
    """One resident: when they take a ticket, for what, and how their call will go."""

    at: float
    service: str
    service_s: float | None  # None: the rehearsal's ``outcome`` decides at the call
    channel: Channel = Channel.NORMAL
    no_show: bool = False
    id_hash: str | None = None  # appointments check in with the card they booked with


@dataclass(frozen=True, slots=True)
class Break:
    """Counters closed from ``start`` to ``end`` (epoch seconds); clerks finish first."""

    counters: tuple[str, ...]
    start: float
    end: float


class Rehearsal:
    """Plays one engine forward: arrivals, calls, services, recalls, no-shows and breaks."""

    def __init__(self, engine: HallEngine, estimates: bool = False,
                 outcome: Callable[[Ticket], tuple[float, bool]] | None = None,
                 called: Callable[[Ticket], None] | None = None) -> None:
        """``outcome``: how the call of a ticket whose arrival did not say goes (service
        seconds, and whether the resident never comes); by default the planning time.
        ``called`` hears each ticket called; given one, the engine forgets each ticket once
        it is done or a no-show (a long rehearsal then holds only the open ones)."""
        self.engine = engine
        self.called = called
        self.estimates = estimates
        self.outcome = outcome or (
            lambda t: (engine.services[t.service].mean_minutes * 60, False))
        self.plans: dict[str, Arrival] = {}
        self.events: list[tuple[float, int, int, str]] = []
        self.order = 0
        self.refused = 0
        self.busy_s = 0.0
        self.open_s = 0.0
        self.end = 0.0
        self._called_at: dict[str, float] = {}
        self._open_since: dict[str, float] = {}
        self._away: dict[str, int] = {}
        self._recalls = engine.config.rules.recall_limit

    def _at(self, t: float, kind: int, counter: str) -> None:
        self.order += 1
        heapq.heappush(self.events, (t, self.order, kind, counter))

    def run(self, start: float, arrivals: Iterable[Arrival], breaks: Iterable[Break] = (),
            finishing: dict[str, float] | None = None,
            progress: Callable[[float], None] | None = None,
            clerks: dict[str, float] | None = None) -> None:
        """Play from ``start`` until every arrival has been served (or given up on).
        ``finishing`` maps counters busy at the start to when they finish; ``progress``
        hears the virtual time now and then; ``clerks`` maps counters to when their clerk
        signs in (by default every counter without one gets a clerk at the start)."""
        self.end = start
        if clerks is None:
            clerks = {c: start for c, d in self.engine.desks.items() if d.clerk is None}
        for counter, t in clerks.items():
            if t <= start:
                seat_clerk(self.engine, start, counter)
            else:
                self._at(t, _SIGN_IN, counter)
        for desk in self.engine.desks.values():
            if staffed(self.engine, desk):
                self._open_since[desk.counter_id] = start
        for counter, t in (finishing or {}).items():
            self._called_at[counter] = start
            self._at(t, _FREE, counter)
        for pause in breaks:
            for counter in pause.counters:
                self._at(pause.start, _CLOSE, counter)
                self._at(pause.end, _REOPEN, counter)
        for desk in list(self.engine.desks.values()):
            if desk.available and desk.ticket is None:
                self._call(desk.counter_id, start)
        self._loop(iter(arrivals), progress)
        for since in self._open_since.values():
            self.open_s += max(0.0, self.end - since)
        self._open_since.clear()

    def _loop(self, arrivals: Iterator[Arrival],
              progress: Callable[[float], None] | None) -> None:
        events = self.events
        coming = next(arrivals, None)
        handlers = (self._free, self._recall, self._give_up, self._close, self._reopen,
                    self._sign_in)
        count = 0
        while coming is not None or events:
            if coming is not None and (not events or coming.at <= events[0][0]):
                self._arrive(coming)
                count += 1
                if progress is not None and not count % PROGRESS_EVERY:
                    progress(coming.at)
                coming = next(arrivals, None)
                continue
            t, _, kind, counter = heapq.heappop(events)
            self.end = t
            handlers[kind](t, counter)
            self.engine.take_events()  # nobody journals a rehearsal: none are kept

    # ------------------------------------------------------------ residents
    def _arrive(self, arrival: Arrival) -> None:
        engine, t = self.engine, arrival.at
        engine.take_events()  # nobody journals a rehearsal
        normal = arrival.channel is Channel.NORMAL
        before = project(engine, t, arrival.service) if self.estimates and normal else None
        try:
            ticket = engine.issue(t, arrival.service, arrival.id_hash,
                                  green=arrival.channel is Channel.GREEN,
                                  appointment=arrival.channel is Channel.APPOINTMENT,
                                  pending_print=False)
        except Refused:
            self.refused += 1
            return
        self.plans[ticket.ticket_id] = arrival
        if before is not None:
            ticket.estimate_at_issue = before.new_ticket_wait(engine, ticket.service)
        elif self.estimates:
            ticket.estimate_at_issue = project(engine, t, ticket).wait_seconds(ticket)
        service = ticket.service
        idle = [d for d in engine.desks.values() if d.ticket is None and staffed(engine, d)
                and (d.services is None or service in d.services)]
        if idle:
            self._call(engine.policy.pick_counter(ticket.service, idle).counter_id, t)

    def _call(self, counter: str, t: float) -> None:
        """Press "next" at an open counter: finishes its resident, calls the policy's pick."""
        engine = self.engine
        had = engine.desks[counter].ticket
        try:
            ticket = engine.call_next(t, counter)
        except Refused:
            return
        if had is not None:
            self.busy_s += t - self._called_at.pop(counter)
            self._finished(had)
        if ticket is None:
            return
        if self.called is not None:
            self.called(ticket)
        self._called_at[counter] = t
        plan = self.plans.pop(ticket.ticket_id, None)
        if plan is not None and plan.service_s is not None:
            service_s, no_show = plan.service_s, plan.no_show
        else:
            service_s, no_show = self.outcome(ticket)
        if no_show:
            for k in range(1, self._recalls + 1):
                self._at(t + k * RECALL_INTERVAL_S, _RECALL, counter)
            self._at(t + max(1, self._recalls) * RECALL_INTERVAL_S, _GIVE_UP, counter)
            return
        self._at(t + service_s, _FREE, counter)

    def _free(self, t: float, counter: str) -> None:
        """The clerk is done with the resident in hand: next, unless the counter closed (or
        its clerk signed out)."""
        desk = self.engine.desks[counter]
        if staffed(self.engine, desk):
            self._call(counter, t)
        else:
            self._finished(self.engine.done(t, counter))
            self.busy_s += t - self._called_at.pop(counter)

    def _give_up(self, t: float, counter: str) -> None:
        """The called resident never came: mark the no-show and call the next."""
        self._finished(self.engine.no_show(t, counter))
        self.busy_s += t - self._called_at.pop(counter)
        if self.engine.desks[counter].available:
            self._call(counter, t)

    def _finished(self, ticket: Ticket) -> None:
        """A ticket done or a no-show: forgotten when the caller hears the calls (nothing
        looks it up again; the desk keeps the last one it finished)."""
        if self.called is not None:
            del self.engine.tickets[ticket.ticket_id]
            del self.engine.tokens[ticket.token]

    def _recall(self, t: float, counter: str) -> None:
        self.engine.recall(t, counter)

    # ------------------------------------------------------------ breaks
    def _close(self, t: float, counter: str) -> None:
        self._away[counter] = self._away.get(counter, 0) + 1
        if self._away[counter] == 1:
            self.engine.set_counter_status(t, counter, CounterStatus.CLOSED)
            self.open_s += t - self._open_since.pop(counter, t)

    def _reopen(self, t: float, counter: str) -> None:
        self._away[counter] -= 1
        if self._away[counter] == 0:
            self.engine.set_counter_status(t, counter, CounterStatus.OPEN)
            self._at_work(t, counter)

    def _sign_in(self, t: float, counter: str) -> None:
        seat_clerk(self.engine, t, counter)
        self._at_work(t, counter)

    def _at_work(self, t: float, counter: str) -> None:
        """The counter can call from ``t`` (open and staffed): it calls if it is free."""
        desk = self.engine.desks[counter]
        if staffed(self.engine, desk) and counter not in self._open_since:
            self._open_since[counter] = t
            if desk.ticket is None:
                self._call(counter, t)


def seat_clerk(engine: HallEngine, t: float, counter: str) -> None:
    """A rehearsal's own clerk signs in at ``counter`` (folded in, never journalled)."""
    if engine.desks[counter].clerk is None:
        engine.apply(Event.of(t, ClerkSignedIn(counter=counter,
                                               staff_no=f"rehearsal-{counter}")))


# ---------------------------------------------------------------- the manager's what-if
@dataclass(frozen=True, slots=True)
class Outlook:
    """The rest of today with one set of open counters: waits from ticket to call."""

    label: str  # "now", "+1", "+2", "-1", or "+3,5" for named counters
    counters_open: int
    changed: tuple[str, ...]  # the counters opened (or, for a minus, closed)
    mean_wait_min: float | None  # None (and p90, max): some would never be called
    p90_wait_min: float | None
    max_wait_min: float | None
    share_within_10_min: float
    residents: int  # per rehearsal: waiting now plus expected arrivals
    last_call: float | None  # epoch seconds of the last call, on average (None: no call)
    unserved: int = 0  # per rehearsal: residents no window would ever call (no serving window)


@dataclass(frozen=True, slots=True)
class _Variant:
    label: str
    open_ids: tuple[str, ...]
    close_ids: tuple[str, ...]
    extra: int  # tidal windows added beyond the hall's own counters


def what_if(engine: HallEngine, now: float, extra_counters: int | Sequence[int] | Sequence[str]
            = (1, 2, -1), rehearsals: int = WHAT_IF_REHEARSALS, seed: int = 0) -> list[Outlook]:
    """Expected waits for the rest of today as things are ("now", first) and with counters
    opened or closed: ``+n`` staffs n comprehensive windows not serving now (closed, or open
    without a clerk; tidal ones when the hall has none left), ``-n`` closes n serving ones,
    a list of ids staffs exactly those. Only staffed windows serve ("now" counts no window
    open without a clerk). Every variant meets the same residents (arrivals forecast from
    the last hour). A resident no window would ever call is counted in ``unserved``; the
    wait figures are then None (unbounded), and the last call is only of those called."""
    variants = [_Variant("now", (), (), 0), *_variants(engine, extra_counters)]
    forecast = Forecast(engine, now)
    results: dict[str, list[_Run]] = {v.label: [] for v in variants}
    for rep in range(rehearsals):
        rng = random.Random(seed * 1_000_003 + rep)
        arrivals = forecast.arrivals(rng)
        finishing = forecast.finishing(engine, rng)
        for variant in variants:
            results[variant.label].append(
                _rehearse(engine, now, variant, arrivals, finishing, forecast, seed + rep))
    return [_outlook(engine, v, results[v.label]) for v in variants]


def _variants(engine: HallEngine, extra: int | Sequence[int] | Sequence[str]) -> list[_Variant]:
    """What to compare with "now": counters to open or close for each requested change."""
    wanted = [extra] if isinstance(extra, int) else list(extra)
    if wanted and all(isinstance(x, str) for x in wanted):
        names = tuple(str(x) for x in wanted)
        for counter in names:
            engine.desk(counter)  # refuses an unknown counter
        return [_Variant("+" + ",".join(names), names, (), 0)]
    order = {cid: n for n, cid in enumerate(engine.desks)}
    closed = sorted((d for d in engine.desks.values() if not staffed(engine, d)),
                    key=lambda d: (-breadth(d.services), order[d.counter_id]))
    opened = sorted((d for d in engine.desks.values() if staffed(engine, d)),
                    key=lambda d: (-breadth(d.services), -order[d.counter_id]))
    variants = []
    for delta in (x for x in wanted if isinstance(x, int)):
        if delta > 0:
            ids = tuple(d.counter_id for d in closed[:delta])
            variants.append(_Variant(f"+{delta}", ids, (), delta - len(ids)))
        elif delta < 0:
            ids = tuple(d.counter_id for d in opened[:-delta])
            variants.append(_Variant(f"-{-delta}", (), ids, 0))
    return variants


class Forecast:
    """Today so far turned into expectations for the rest of it: who will come (the last
    hour's walk-in rates and the appointments still to check in), how long services take
    and how often a called resident does not come."""

    def __init__(self, engine: HallEngine, now: float) -> None:
        self.now = now
        self.close = max(now, engine.close_at or now)
        begin = max(engine.open_at or now, now - FORECAST_WINDOW_S)
        window = max(now - begin, MIN_WINDOW_S)
        counts: dict[tuple[str, Channel], int] = {}
        for ticket in engine.tickets.values():
            if ticket.issued_at >= now - window and ticket.channel is not Channel.APPOINTMENT \
                    and ticket.status is not TicketStatus.VOID and ticket.service in engine.queues:
                key = (ticket.service, ticket.channel)
                counts[key] = counts.get(key, 0) + 1
        self.rates = {key: n / window for key, n in counts.items()}
        late = engine.config.rules.appointment_late_min * 60
        self.booked = sorted((max(a.slot, now), a.service, a.id_hash)
                             for a in engine.appointments.values()
                             if a.checked_in is None and a.slot + late >= now)
        called = [t for t in engine.tickets.values() if t.called_at is not None]
        missed = sum(1 for t in called if t.status is TicketStatus.NO_SHOW)
        self.no_show = (missed + NO_SHOW_PRIOR[0]) / (len(called) + NO_SHOW_PRIOR[1])
        self.shape: dict[str, tuple[float, float]] = {}
        for service, queue in engine.queues.items():
            mean = expected_seconds(queue, engine.services[service].mean_minutes)
            self.shape[service] = (mean, _sigma(queue.recent_minutes))

    def duration(self, rng: random.Random, service: str) -> float:
        """A service time: lognormal around the expected time."""
        mean, sigma = self.shape[service]
        return rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)

    def arrivals(self, rng: random.Random) -> list[Arrival]:
        """One draw of the rest of today's residents, in time order."""
        out = []
        for (service, channel), rate in sorted(self.rates.items()):
            t = self.now
            while rate > 0:
                t += rng.expovariate(rate)
                if t >= self.close:
                    break
                out.append(self._resident(rng, t, service, channel, None))
        for slot, service, id_hash in self.booked:
            if slot < self.close:
                out.append(self._resident(rng, slot, service, Channel.APPOINTMENT, id_hash))
        out.sort(key=lambda a: a.at)
        return out

    def _resident(self, rng: random.Random, t: float, service: str, channel: Channel,
                  id_hash: str | None) -> Arrival:
        return Arrival(t, service, self.duration(rng, service), channel,
                       rng.random() < self.no_show, id_hash)

    def finishing(self, engine: HallEngine, rng: random.Random) -> dict[str, float]:
        """When each counter busy now will be done with its resident."""
        done = {}
        for desk in engine.desks.values():
            ticket = desk.ticket
            if ticket is not None:
                begun = ticket.started_at or ticket.called_at or self.now
                left = self.duration(rng, ticket.service) - (self.now - begun)
                done[desk.counter_id] = self.now + max(MIN_REMAINING_S, left)
        return done


def _sigma(recent: Iterable[float]) -> float:
    """The lognormal sigma of recent service times (a typical 0.6 cv until there are some)."""
    values = list(recent)
    cv = DEFAULT_CV
    if len(values) >= 5:
        mean = sum(values) / len(values)
        cv = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) / mean
    return math.sqrt(math.log1p(min(max(cv, 0.2), 1.5) ** 2))


# waits (s, packed: a rehearsal of a busy day calls tens of thousands), last call, residents
# never called
_Run = tuple["array[float]", float | None, int]


def _rehearse(engine: HallEngine, now: float, variant: _Variant, arrivals: list[Arrival],
              finishing: dict[str, float], forecast: Forecast, seed: int) -> _Run:
    """One rehearsal of one variant: the waits (seconds) of everyone called from now on,
    the last call, and how many were never called (no serving window for them)."""
    clone = _clone(engine)
    at = now
    for counter in variant.open_ids:
        clone.set_counter_status(at, counter, CounterStatus.OPEN)
    for counter in variant.close_ids:
        clone.set_counter_status(at, counter, CounterStatus.CLOSED)
    for n in range(1, variant.extra + 1):
        tidal = f"T{n}"
        clone.desks[tidal] = Desk(tidal, f"潮汐窗口{n}", None)
        clone.reserved_lanes[tidal] = {}
        clone.layout_changes += 1
    clone.take_events()
    staff = {c: at for c in (*variant.open_ids, *(f"T{n}" for n in range(1, variant.extra + 1)))}

    def waiting_now(ticket: Ticket) -> tuple[float, bool]:
        return forecast.duration(random.Random(seed * 7919 + zlib.crc32(
            ticket.ticket_id.encode())), ticket.service), False

    waits = array("d")
    calls = array("d")
    # tickets called at ``now`` already: counted as they end (the rehearsal forgets them)
    before = {t.ticket_id: t for t in clone.tickets.values()
              if t.called_at is not None and t.called_at >= now}

    def count(ticket: Ticket) -> None:
        if ticket.called_at is not None and ticket.called_at >= now:
            waits.append(ticket.called_at - ticket.issued_at)
            calls.append(ticket.called_at)

    def called(ticket: Ticket) -> None:
        before.pop(ticket.ticket_id, None)
        count(ticket)

    Rehearsal(clone, outcome=waiting_now, called=called).run(now, arrivals, finishing=finishing,
                                                             clerks=staff)
    for ticket in before.values():
        count(ticket)
    never = sum(1 for t in clone.tickets.values() if t.status is TicketStatus.WAITING)
    return waits, max(calls, default=None), never


def _clone(engine: HallEngine) -> HallEngine:
    """A private copy of the engine's state (the config and policy are shared, read-only)."""
    shared = {id(engine.config): engine.config, id(engine.policy): engine.policy}
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL)
    pickler.persistent_id = lambda obj: id(obj) if id(obj) in shared else None  # type: ignore[method-assign]
    pickler.dump(engine)
    buffer.seek(0)
    unpickler = pickle.Unpickler(buffer)
    unpickler.persistent_load = shared.__getitem__  # type: ignore[method-assign]
    clone: HallEngine = unpickler.load()
    return clone


def last_call_text(engine: HallEngine, outlook: Outlook) -> str:
    """The last call as the tablet shows it: "HH:MM" today, "YYYY-MM-DD HH:MM" on a later
    day, "–" with nobody to call; with residents no window serves, how many."""
    if outlook.unserved:
        return f"{outlook.unserved} 人无窗口办理 · {outlook.unserved} never called"
    if outlook.last_call is None:
        return "–"
    local = engine.local(outlook.last_call)
    return f"{local:%H:%M}" if local.date() == engine.day else f"{local:%Y-%m-%d %H:%M}"


def _outlook(engine: HallEngine, variant: _Variant, runs: list[_Run]) -> Outlook:
    waits = sorted(w / 60 for run, _, _ in runs for w in run)
    never = sum(n for _, _, n in runs)
    ends = [end for _, end, _ in runs if end is not None]
    counters = sum(1 for d in engine.desks.values() if staffed(engine, d)) + len(
        variant.open_ids) + variant.extra - len(variant.close_ids)
    changed = variant.open_ids + tuple(f"T{n}" for n in range(1, variant.extra + 1)) \
        or variant.close_ids
    everyone = len(waits) + never
    if not everyone:
        return Outlook(variant.label, counters, changed, 0.0, 0.0, 0.0, 1.0, 0, None)
    bounded = bool(waits) and not never
    return Outlook(
        label=variant.label, counters_open=counters, changed=changed,
        mean_wait_min=round(sum(waits) / len(waits), 2) if bounded else None,
        p90_wait_min=round(waits[max(0, math.ceil(0.9 * len(waits)) - 1)], 2)
        if bounded else None,
        max_wait_min=round(waits[-1], 2) if bounded else None,
        share_within_10_min=round(sum(1 for w in waits if w <= 10) / everyone, 3),
        residents=round(everyone / len(runs)),
        last_call=sum(ends) / len(ends) if ends else None,
        unserved=round(never / len(runs)))
