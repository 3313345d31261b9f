"""Wait estimates from the engine's own projection of the queue.

The projection plays the rest of the queue forward: every open counter takes tickets by
the hall's own policy, each service lasting its expected time (recent service times blended
with the configured planning time). No new arrivals are assumed, so the projected start of a
ticket is when it would be called if the hall went on as it is now. Alongside, it finds when
a new walk-in ticket of each service would be called (the "phantom" ticket).

Only the counters that really serve count (``serving``): open, staffed (a clerk signed in,
where the hall requires sign-in) and not left idle while residents wait for them; a service
no such counter serves gets no estimate (None: "wait not yet known").

It is exact with respect to the policy's rules (policy.Fifo.pick) yet fast: each kind of
counter keeps a small heap of its services' first tickets, so a call costs a few heap
operations (2,000 waiting tickets at 50 counters take about 2 ms compiled, 3 ms as Python;
``python -m bench.sim_speed``). setup.py compiles this module with mypyc: it must stay
within what mypyc compiles (typed attributes, no copy.copy of a run).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import chain, islice
from operator import le
from typing import TYPE_CHECKING

from hall.engine.model import LANES, Desk, ServiceQueue, Ticket
from hall.engine.policy import Balance, Policy, Skills, breadth
from protocol.messages import Channel

if TYPE_CHECKING:
    from hall.engine.engine import HallEngine

PRIOR_WEIGHT = 10  # planning time counts as this many observed services
MIN_REMAINING_S = 30.0  # a service running over its expected time is taken to end soon
_LAST = 1 << 62  # the phantom ticket's sequence number: after every real ticket
_NONE: frozenset[int] = frozenset()
_NO_TICKETS: list[Ticket] = []  # shared, never filled: a counter with nothing reserved
_NO_ORDER: tuple[list[tuple[float, int, Ticket]], bool] = ([], True)  # shared: an empty queue
# a candidate weighed: shifted key, seq, service, position, guarded, phantoms releasing it
_Seen = tuple[float, int, int, int, bool, frozenset[int] | set[int]]


def staffed(engine: HallEngine, desk: Desk) -> bool:
    """An open counter that can call: a clerk is signed in (or the hall does not ask)."""
    return engine.can_call(desk)


def serving(engine: HallEngine, now: float) -> list[Desk]:
    """The counters that count as capacity: staffed, and not idle for the hall's
    ``idle_window_min`` while someone waits for one of their services (a clerk who has
    not pressed "next" that long is not at the window, whatever the sign-in says)."""
    idle_s = engine.config.rules.idle_window_min * 60
    return [d for d in engine.desks.values() if staffed(engine, d) and (
        d.ticket is not None or now - _waited_for(engine, d) < idle_s)]


def _waited_for(engine: HallEngine, desk: Desk) -> float:
    """Since when an idle counter has had someone to call (now: nobody waits for it)."""
    oldest = min([head.queued_at for service, queue in engine.queues.items()
                  if queue.size and desk.serves(service)
                  for lane in LANES if (head := queue.head(lane)) is not None]
                 + [t.queued_at for t in engine.reserved_lanes[desk.counter_id].values()],
                 default=None)
    return math.inf if oldest is None else max(oldest, desk.since or oldest)


def expected_seconds(queue: ServiceQueue, planning_minutes: float) -> float:
    """Expected service time: recent observations shrunk towards the planning figure."""
    recent = queue.recent_minutes
    if not recent:
        return planning_minutes * 60
    return (PRIOR_WEIGHT * planning_minutes + sum(recent)) / (PRIOR_WEIGHT + len(recent)) * 60


@dataclass(slots=True)
class Projection:
    """Projected call times of waiting tickets, when each counter would next be free, and
    when a new walk-in ticket of each service would be called."""

    now: float
    starts: dict[str, float] = field(default_factory=dict)
    free_at: dict[str, float] = field(default_factory=dict)
    phantom: dict[str, float] = field(default_factory=dict)

    def wait_seconds(self, ticket: Ticket) -> float | None:
        start = self.starts.get(ticket.ticket_id)
        return None if start is None else max(0.0, start - self.now)

    def new_ticket_wait(self, engine: HallEngine, service: str) -> float | None:
        """Wait of a normal ticket taken now (None: no serving counter serves the service)."""
        start = self.phantom.get(service)
        return None if start is None else max(0.0, start - self.now)


def project(engine: HallEngine, now: float, focus: str | Ticket | None = None) -> Projection:
    """Play the queue forward from ``now`` with the hall's policy.

    With ``focus`` the play stops as soon as one answer is known: a service's new-ticket
    wait (only that service's phantom is followed) or one waiting ticket's start.
    """
    if focus is not None:
        at_once = _called_at_once(engine, now, focus)
        if at_once is not None:
            return at_once
    policy = engine.policy
    queues = engine.queues
    memo = _memo(engine, now)
    expected, plan = memo.expected, memo.plan
    desks = sorted(memo.desks, key=policy.rank)
    floor = now + MIN_REMAINING_S
    free = [now if (t := d.ticket) is None else max(
        (t.started_at or t.called_at or now) + expected[memo.index[t.service]], floor)
        for d in desks]
    result = Projection(now)
    reserved = engine.reserved_lanes
    if any([q.size for q in queues.values()]) or any(
            reserved[d.counter_id] for d in desks):
        target = None if focus is None else memo.index[focus] if isinstance(focus, str) else -1
        run = _start(engine, policy, plan, desks, now, expected, free, target)
        run.play(result, focus if isinstance(focus, Ticket) else None)
    else:
        _empty_hall(plan, desks, free, result)
    return result


@dataclass(slots=True)
class _Memo:
    """What a projection needs that changes only with the counters or a finished service."""

    layout: tuple[int, Balance]  # the engine's layout changes and the policy's constants
    index: dict[str, int]
    desks: list[Desk]  # the serving counters
    plan: _Plan
    expected: list[float]  # per service, worked out when ``counted`` services had finished
    counted: list[int]


def _memo(engine: HallEngine, now: float) -> _Memo:
    balance = engine.balance()
    memo = engine.projection_memo
    desks = serving(engine, now)
    if not (isinstance(memo, _Memo) and memo.layout[1] is balance
            and memo.layout[0] == engine.layout_changes and memo.desks == desks):
        services = tuple(engine.queues)
        memo = _Memo((engine.layout_changes, balance),
                     {s: i for i, s in enumerate(services)}, desks,
                     _Plan.of(balance, services, desks),
                     [0.0] * len(services), [-1] * len(services))
        engine.projection_memo = memo
    for n, (service, queue) in enumerate(engine.queues.items()):
        if memo.counted[n] != queue.finished:
            memo.counted[n] = queue.finished
            memo.expected[n] = expected_seconds(queue, engine.services[service].mean_minutes)
    return memo


def _called_at_once(engine: HallEngine, now: float, focus: str | Ticket) -> Projection | None:
    """The focus is the only one waiting (or nobody is) and an idle serving counter serves it:
    it is called now, whatever the policy (the full play gives the same answer)."""
    service = focus if isinstance(focus, str) else focus.service
    waiting = sum([q.size for q in engine.queues.values()])
    if waiting != (0 if isinstance(focus, str) else 1) or any(engine.reserved_lanes.values()):
        return None
    if not any(d.ticket is None and d.serves(service) for d in serving(engine, now)):
        return None
    result = Projection(now)
    if isinstance(focus, str):
        result.phantom[service] = now
    else:
        result.starts[focus.ticket_id] = now
    return result


def _empty_hall(plan: _Plan, desks: list[Desk], free: list[float], result: Projection) -> None:
    """Nobody waiting: every counter is free when done with its resident, and a new ticket
    goes to the first counter free that serves it."""
    for t, n in sorted((t, n) for n, t in enumerate(free)):
        desk = desks[n]
        result.free_at[desk.counter_id] = t
        for i in plan.kinds[desk.services].served:
            result.phantom.setdefault(plan.services[i], t)


class _Kind:
    """One kind of open counter: its shifts and guards, as service indices."""

    __slots__ = ("guards", "no", "served", "shift")

    def __init__(self, no: int, skills: Skills, balance: Balance, index: dict[str, int]) -> None:
        self.no = no
        self.served = [i for s, i in index.items() if skills is None or s in skills]
        shift = balance.shift.get(skills, {})
        self.shift = [shift.get(s, 0.0) for s in index]
        self.guards = {index[s]: [([index[x] for x in g.services if x in index], g.keep)
                                  for g in gs]
                       for s, gs in balance.guards.get(skills, {}).items() if gs}


class _Plan:
    """A policy's constants compiled for the hall's services and kinds of open counter."""

    __slots__ = ("guard_wait_s", "index", "keep", "kinds", "kinds_with", "services")

    def __init__(self, balance: Balance, services: tuple[str, ...],
                 skills: frozenset[Skills]) -> None:
        self.services = services
        self.index = index = {s: i for i, s in enumerate(services)}
        self.guard_wait_s = balance.guard_wait_s
        ordered = sorted(skills, key=lambda k: (breadth(k), sorted(k or ())))
        self.kinds = {k: _Kind(n, k, balance, index) for n, k in enumerate(ordered)}
        self.kinds_with = [[k for k in self.kinds.values() if i in k.served]
                           for i in range(len(services))]
        self.keep = max((keep for k in self.kinds.values() for gs in k.guards.values()
                         for _, keep in gs), default=-1)

    def __deepcopy__(self, memo: dict[int, object]) -> _Plan:
        """Read-only once built: a copy of the engine (the tidal what-if's) shares it."""
        return self

    @classmethod
    def of(cls, balance: Balance, services: tuple[str, ...], desks: list[Desk]) -> _Plan:
        """The plan for these counters, compiled once per set of constants."""
        layout = (services, frozenset([d.services for d in desks]))
        plan = balance.compiled.get(layout)
        if not isinstance(plan, _Plan):
            plan = balance.compiled[layout] = cls(balance, services, layout[1])
        return plan


class _Fixed:
    """What a projection and its trials share: the moment, the counters and the constants."""

    __slots__ = ("desks", "duration", "guard_reach", "guard_wait_s", "index", "keep", "kind_of",
                 "kinds_with", "low_mark", "now", "phantom_key", "services", "sorted")

    def __init__(self, policy: Policy, plan: _Plan, desks: list[Desk], now: float,
                 expected: list[float], in_order: list[bool]) -> None:
        self.now, self.desks, self.services = now, desks, plan.services
        self.guard_wait_s, self.index = plan.guard_wait_s, plan.index
        self.kinds_with = plan.kinds_with
        self.sorted = in_order
        self.duration = expected
        self.kind_of = [plan.kinds[d.services] for d in desks]
        self.keep = plan.keep
        self.low_mark = max(plan.keep, 0)
        self.phantom_key = now - policy.head_start[Channel.NORMAL]
        # a ticket whose shifted key is this far behind is too old for any guard
        self.guard_reach = self.guard_wait_s + max(policy.head_start.values())


def _start(engine: HallEngine, policy: Policy, plan: _Plan, desks: list[Desk], now: float,
           expected: list[float], free: list[float], focus: int | None) -> _Run:
    """A run from the hall as it is: each kind's heap holds its services' first tickets.
    ``focus``: follow only that service's phantom (-1: none); None: every service's."""
    ordered = [_order(q, policy) if q.size else _NO_ORDER for q in engine.queues.values()]
    items = [items for items, _ in ordered]
    left = [len(tickets) for tickets in items]
    lanes = engine.reserved_lanes
    reserved = [
        list(reversed(lanes[d.counter_id].values())) if lanes[d.counter_id] else _NO_TICKETS
        for d in desks] if any(lanes.values()) else [_NO_TICKETS] * len(desks)
    heaps = []
    for k in plan.kinds.values():
        shift = k.shift
        heap = [(items[i][0][0] + shift[i], items[i][0][1], i, 0) for i in k.served if left[i]]
        heapq.heapify(heap)
        heaps.append(heap)
    desk_heap = [(t, n) for n, t in enumerate(free)]
    heapq.heapify(desk_heap)
    fixed = _Fixed(policy, plan, desks, now, expected, [in_order for _, in_order in ordered])
    run = _Run(fixed, items, [0] * len(items), left, reserved, heaps, desk_heap)
    if focus is None:
        run.follow(range(len(items)), to_the_end=True)
    elif focus >= 0:
        run.follow([focus])
    return run


class _Run:
    """One projection: per service its waiting tickets in the order the policy takes them.

    Each kind of counter has a heap with one entry per service, its first ticket when the
    entry was made. Another kind taking that ticket makes the entry stale: too early, never
    too late, in a service in key order, so it is refreshed when it surfaces (a service out
    of order is refreshed in every kind at once). A service's phantom (a new walk-in ticket)
    is its last, so it changes nothing before its call except the guards' counts: when it
    would flip a guard's decision, a trial with the phantom is played from that step.
    """

    def __init__(self, fixed: _Fixed, items: list[list[tuple[float, int, Ticket]]],
                 ptr: list[int], left: list[int], reserved: list[list[Ticket]],
                 heaps: list[list[tuple[float, int, int, int]]],
                 desk_heap: list[tuple[float, int]]) -> None:
        """A run following no phantom (``follow`` adds them): a trial's, or a start."""
        self.fixed, self.items, self.ptr, self.left = fixed, items, ptr, left
        self.reserved, self.heaps, self.desk_heap = reserved, heaps, desk_heap
        # phantoms whose call time is still unknown; ready: those a kind may call now
        self.todo = [False] * len(left)
        self.ready: list[set[int]] = [set() for _ in heaps]
        self.low: set[int] = set()
        self.to_place, self.placed, self.finished = 0, 0, True
        self.flips: frozenset[int] | set[int] = _NONE

    def follow(self, services: Iterable[int], to_the_end: bool = False) -> None:
        """Find when the phantoms of these services would be called; ``to_the_end``: and
        every waiting ticket's start (else stop once the phantoms are placed)."""
        left, keep = self.left, self.fixed.keep
        for i in services:
            kinds = self.fixed.kinds_with[i]
            if not kinds:
                continue  # no open counter serves it
            self.todo[i] = True
            self.to_place += 1
            if left[i] <= keep:
                self.low.add(i)
            if not left[i]:
                for kind in kinds:
                    self.ready[kind.no].add(i)
        if to_the_end:
            self.to_place = -1
        self.finished = self.to_place == 0

    def _entry(self, kind: _Kind, i: int) -> tuple[float, int, int, int]:
        p = self.ptr[i]
        key, seq, _ = self.items[i][p]
        return (key + kind.shift[i], seq, i, p)

    def play(self, result: Projection, stop: Ticket | None) -> float | None:
        """Every open counter takes tickets in turn, earliest free first. With ``stop``,
        return when that ticket is called; without, once no phantom is left to place."""
        fixed = self.fixed
        heap, reserved, kind_of, items = self.desk_heap, self.reserved, fixed.kind_of, self.items
        ptr, left, duration, ready = self.ptr, self.left, fixed.duration, self.ready
        heaps, in_order, todo, low_mark = self.heaps, fixed.sorted, self.todo, fixed.low_mark
        starts, heapreplace = result.starts, heapq.heapreplace
        while heap and not (self.finished and stop is None):
            free, n = heap[0]
            if reserved[n]:
                self._take_reserved(n, free, starts)
                continue
            kind = kind_of[n]
            seen: list[_Seen] | None = [] if self.low or ready[kind.no] else None
            found = self._top(kind, free, seen)
            if found is None:
                self._idle(n, kind, free, result)
                continue
            i, p, on_top = found
            if seen:
                self._phantoms(kind, free, seen, (i, p), on_top, result.phantom)
            ticket = items[i][p][2]
            starts[ticket.ticket_id] = free
            if ticket is stop:
                return free
            ptr[i] = q = p + 1
            left[i] -= 1
            if on_top and left[i] and in_order[i]:
                key, seq, _ = items[i][q]
                heapreplace(heaps[kind.no], (key + kind.shift[i], seq, i, q))
            else:
                self._advance(kind, i, on_top)
            if left[i] <= low_mark and todo[i]:
                self._running_low(i)
            heapreplace(heap, (free + duration[i], n))
        return None

    def _take_reserved(self, n: int, free: float, starts: dict[str, float]) -> None:
        """A ticket transferred to this very counter goes first."""
        ticket = self.reserved[n].pop()
        starts[ticket.ticket_id] = free
        fixed = self.fixed
        heapq.heapreplace(self.desk_heap, (free + fixed.duration[fixed.index[ticket.service]], n))

    def _idle(self, n: int, kind: _Kind, free: float, result: Projection) -> None:
        """Counter n finds nobody left: it is free from ``free``, and so are phantoms."""
        result.free_at[self.fixed.desks[n].counter_id] = free
        for i in list(self.ready[kind.no]):
            self._place(i, free, result.phantom)
        heapq.heappop(self.desk_heap)

    def _top(self, kind: _Kind, free: float,
             seen: list[_Seen] | None) -> tuple[int, int, bool] | None:
        """The kind's pick at ``free``: service, position, and whether its entry is still on
        top of the kind's heap. Fills ``seen`` with the candidates weighed, in order."""
        heap, ptr, left, items = self.heaps[kind.no], self.ptr, self.left, self.items
        while heap:
            key, seq, i, p = heap[0]
            if p != ptr[i]:
                if left[i]:
                    q = ptr[i]
                    fresh, seq, _ = items[i][q]
                    heapq.heapreplace(heap, (fresh + kind.shift[i], seq, i, q))
                else:
                    heapq.heappop(heap)
                continue
            if key > free - self.fixed.guard_reach and i in kind.guards:
                queued_at = items[i][p][2].queued_at
                if free - queued_at < self.fixed.guard_wait_s and self._guarded(
                        kind, i, queued_at, free):
                    return self._unguarded(kind, free, seen)
            if seen is not None:
                seen.append((key, seq, i, p, False, _NONE))
            return i, p, True
        return None

    def _guarded(self, kind: _Kind, i: int, queued_at: float, free: float,
                 phantom: int = -1) -> bool:
        """The policy's guard: a young ticket among the last a specialist can serve.
        Leaves in ``self.flips`` the phantoms whose presence would release it."""
        guards = kind.guards.get(i)
        self.flips = _NONE
        if not guards or free - queued_at >= self.fixed.guard_wait_s:
            return False
        left, held, flips = self.left, False, None
        for services, keep in guards:
            count = left[services[0]] if len(services) == 1 else sum([left[j] for j in services])
            count += phantom in services
            if count <= keep:
                held = True
                if phantom >= 0 or not self.low:
                    return True
                at_limit = self.low.intersection(services) if count == keep else set()
                flips = at_limit if flips is None else flips & at_limit
        self.flips = flips or _NONE
        return held

    def _unguarded(self, kind: _Kind, free: float,
                   seen: list[_Seen] | None) -> tuple[int, int, bool]:
        """The slow path: the first candidate not left to a specialist (or the first of all).
        The chosen entry leaves the heap; the others go back."""
        heap, skipped = self.heaps[kind.no], []
        chosen = None
        while heap:
            key, seq, i, p = heapq.heappop(heap)
            if p != self.ptr[i]:
                if self.left[i]:
                    heapq.heappush(heap, self._entry(kind, i))
                continue
            held = self._guarded(kind, i, self.items[i][p][2].queued_at, free)
            if seen is not None:
                seen.append((key, seq, i, p, held, self.flips))
            if not held:
                chosen = (i, p, False)
                break
            skipped.append((key, seq, i, p))
        if chosen is None:
            _, _, i, p = skipped.pop(0)
            chosen = (i, p, False)
        for entry in skipped:
            heapq.heappush(heap, entry)
        return chosen

    def _advance(self, kind: _Kind, i: int, on_top: bool) -> None:
        """Service i's first ticket was taken by a counter of ``kind``: its next one (if
        any) becomes the kind's entry, and an unsorted service is refreshed everywhere."""
        heap = self.heaps[kind.no]
        if self.left[i]:
            if on_top:
                heapq.heapreplace(heap, self._entry(kind, i))
            else:
                heapq.heappush(heap, self._entry(kind, i))
        elif on_top:
            heapq.heappop(heap)
        if not self.fixed.sorted[i]:
            self._refresh(kind, i)

    def _running_low(self, i: int) -> None:
        """Service i is down to the guards' limit, its phantom may now flip decisions; or
        used up, and its phantom may be called."""
        if self.left[i] <= self.fixed.keep:
            self.low.add(i)
        if not self.left[i]:
            for other in self.fixed.kinds_with[i]:
                self.ready[other.no].add(i)

    def _refresh(self, taker: _Kind, i: int) -> None:
        """Bring service i's entry up to date in every other kind (unsorted services only)."""
        for kind in self.fixed.kinds_with[i]:
            if kind is not taker:
                heap = [e for e in self.heaps[kind.no] if e[2] != i]
                if self.left[i]:
                    heap.append(self._entry(kind, i))
                heapq.heapify(heap)
                self.heaps[kind.no] = heap

    def _phantoms(self, kind: _Kind, free: float, seen: list[_Seen], chosen: tuple[int, int],
                  on_top: bool, phantom: dict[str, float]) -> None:
        """For each service whose phantom bears on this step (used up, or releasing a guard):
        would the step go otherwise with it in the queue? Called here: place it; another
        ticket called: play its trial from here; the same ticket: nothing to do yet."""
        bearing = set(self.ready[kind.no])
        for entry in seen:
            bearing.update(entry[5])
        forked = []
        for i in sorted(bearing):
            if not self.todo[i]:
                continue
            pick = self._pick_with_phantom(kind, free, seen, i)
            if pick is None:
                self._place(i, free, phantom)
            elif pick != chosen:
                forked.append(i)
        if forked:
            self._fork(kind, seen, chosen, on_top, forked, phantom)

    def _pick_with_phantom(self, kind: _Kind, free: float, seen: list[_Seen],
                           i: int) -> tuple[int, int] | None:
        """This step's pick had a walk-in ticket of service i been waiting (None: that one)."""
        present = i in self.ready[kind.no]
        key = self.fixed.phantom_key + kind.shift[i]
        held = present and self._guarded(kind, i, self.fixed.now, free, i)
        for entry in seen:
            if present and not held and key < entry[0]:
                return None
            if not entry[4] or i in entry[5]:
                return entry[2], entry[3]
        if present and (not held or key < seen[0][0]):
            return None
        return seen[0][2], seen[0][3]

    def _place(self, i: int, free: float | None, phantom: dict[str, float]) -> None:
        self.todo[i] = False
        self.placed += 1
        self.finished = self.placed == self.to_place
        self.low.discard(i)
        if free is not None:
            phantom[self.fixed.services[i]] = free
        for kind in self.fixed.kinds_with[i]:
            self.ready[kind.no].discard(i)

    def _fork(self, kind: _Kind, seen: list[_Seen], chosen: tuple[int, int], on_top: bool,
              forked: list[int], phantom: dict[str, float]) -> None:
        """Play a trial for each phantom that changes this step, from the step's start."""
        heap = self.heaps[kind.no]
        back = None
        if not on_top:
            back = next(e[:4] for e in seen if (e[2], e[3]) == chosen)
            heapq.heappush(heap, back)
        for i in forked:
            self._place(i, self._trial(i), phantom)
        if back is not None:
            heap.remove(back)
            heapq.heapify(heap)

    def _trial(self, i: int) -> float | None:
        """When a new walk-in ticket of service i would be called, played from this step."""
        fixed = self.fixed
        ticket = Ticket("", "", fixed.services[i], _LAST, Channel.NORMAL, fixed.now, "",
                        queued_at=fixed.now)
        items = list(self.items)
        items[i] = [*items[i], (fixed.phantom_key, _LAST, ticket)]
        left = list(self.left)
        left[i] += 1
        trial = _Run(fixed, items, list(self.ptr), left, [list(r) for r in self.reserved],
                     [list(h) for h in self.heaps], list(self.desk_heap))
        if not self.left[i]:
            for kind in fixed.kinds_with[i]:
                heapq.heappush(trial.heaps[kind.no], trial._entry(kind, i))
        return trial.play(Projection(fixed.now), ticket)


_Order = tuple[list[tuple[float, int, Ticket]], bool]


def _order(queue: ServiceQueue, policy: Policy) -> _Order:
    """A service's waiting tickets as (key, seq, ticket) in the order the policy takes them
    (its lanes merged head by head), and whether that order is sorted; kept on the queue
    until it changes."""
    cached = queue.ordered
    if cached is not None and cached[0] == queue.version and cached[1] is policy:
        return cached[2]  # type: ignore[return-value]
    order = _merged(queue, policy)
    queue.ordered = (queue.version, policy, order)
    return order


def _merged(queue: ServiceQueue, policy: Policy) -> _Order:
    lanes = []
    for lane, tickets in queue.lanes.items():
        if tickets:
            offset = policy.head_start[lane]
            lanes.append([(t.queued_at - offset, t.seq, t) for t in tickets.values()])
    in_order = all(all(map(le, lane, islice(lane, 1, None))) for lane in lanes)
    if len(lanes) <= 1:
        return (lanes[0] if lanes else []), in_order
    if in_order:
        return sorted(chain.from_iterable(lanes)), True
    merged = list(heapq.merge(*lanes))
    return merged, all(map(le, merged, islice(merged, 1, None)))


def ahead_of(engine: HallEngine, projection: Projection, ticket: Ticket) -> int:
    """Tickets of the same service projected to be called before this one."""
    mine = projection.starts.get(ticket.ticket_id)
    queue = engine.queues.get(ticket.service)
    if queue is None:  # a service the config no longer has: its tickets wait in no queue
        return 0
    if mine is None:
        return sum(1 for t in queue.tickets() if t is not ticket)
    # Calls at the same projected moment go in queue order: compare (start, issue order).
    me = (mine, ticket.seq)
    starts = projection.starts
    return sum(1 for t in queue.tickets()
               if t is not ticket and (starts.get(t.ticket_id, float("inf")), t.seq) < me)
