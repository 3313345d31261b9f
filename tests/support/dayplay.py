"""Random but valid hall days for tests that replay journals: the real engine driven by
random commands of every kind (what the rules refuse is skipped, as the controller would
refuse it), and the engine's state as plain data to compare one replay with another."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from hall.engine.engine import HallEngine, Refused
from hall.engine.events import Event
from hall.engine.model import Ticket
from hallconfig import HallConfig
from protocol.messages import AlertKind, CounterStatus, TicketStatus

SECRET = b"test-hall-secret-0123456789abcdef"


def edited(config: HallConfig, **changes: Any) -> HallConfig:
    """A copy of ``config`` with top-level sections replaced (dicts merged into [rules])."""
    data = config.model_dump(mode="json")
    rules = changes.pop("rules", {})
    data.update(changes)
    data["rules"] = {**data["rules"], **rules}
    return HallConfig.model_validate(data)


def replayed(config: HallConfig, engine: HallEngine, events: list[Event]) -> HallEngine:
    """A new engine for the same day under ``config``, rebuilt from the events."""
    fresh = HallEngine(config, engine.day, SECRET)
    for event in events:
        fresh.apply(event)
    return fresh


class Day:
    """One engine played by random commands on a virtual clock; keeps every event."""

    def __init__(self, config: HallConfig, day: datetime, seed: int) -> None:
        self.engine = HallEngine(config, day.date(), SECRET)
        assert self.engine.open_at is not None, "the hall must open that day"
        self.now = self.engine.open_at
        self.rng = random.Random(seed)
        self.events: list[Event] = []
        self.booked: list[str] = []

    def take(self) -> None:
        self.events += self.engine.take_events()

    def act(self, name: str, *args: Any, **kw: Any) -> Any:
        """Run one engine command now; None if the hall's rules refuse it."""
        try:
            return getattr(self.engine, name)(self.now, *args, **kw)
        except Refused:
            return None
        finally:
            self.take()

    def until(self, end: float, mean_step_s: float = 20.0) -> None:
        """Random commands until ``end``, ticking the clock as the controller does."""
        while True:
            self.now += self.rng.expovariate(1 / mean_step_s)
            if self.now >= end:
                break
            self.step()
            self.act("tick")

    def step(self) -> None:
        rng, e = self.rng, self.engine
        counters, services = list(e.desks), list(e.queues)
        counter, service = rng.choice(counters), rng.choice(services)
        roll = rng.random()
        if roll < 0.30:
            self._issue(service)
        elif roll < 0.55:
            desk = e.desks[counter]
            if desk.clerk is None:
                self.act("sign_in", counter, rng.choice(list(e.clerks)))
            self.act("call_next", counter)
        elif roll < 0.70:
            action = rng.choice(["start", "done", "done", "no_show", "recall"])
            self.act(action, counter)
        elif roll < 0.75:
            self._printing()
        elif roll < 0.80:
            to_counter = rng.choice([None, *counters])
            to = rng.choice(services) if to_counter is None else rng.choice(
                [s for s in services if e.desks[to_counter].serves(s)] or services)
            self.act("transfer", counter, to, to_counter)
        elif roll < 0.84:
            self._on_a_waiting_ticket(service)
        else:
            self._hall(counter, service)

    def _issue(self, service: str) -> None:
        rng = self.rng
        if self.booked and rng.random() < 0.1:
            person = self.booked.pop()
            booking = self.engine.appointments.get(person)
            if booking is not None:
                self.act("issue", booking.service, person, appointment=True,
                         pending_print=rng.random() < 0.5)
            return
        person = f"{rng.getrandbits(64):016x}" if rng.random() < 0.3 else None
        ticket = self.act("issue", service, person, green=rng.random() < 0.1,
                          pending_print=rng.random() < 0.5)
        if ticket is not None and rng.random() < 0.7:  # most kiosks print at once
            self.act("printed", ticket.ticket_id)

    def _printing(self) -> None:
        pending = [t for t in self.engine.tickets.values()
                   if t.status is TicketStatus.PENDING_PRINT]
        if pending:
            ticket = self.rng.choice(pending)
            if self.rng.random() < 0.85:
                self.act("printed", ticket.ticket_id)
            else:
                self.act("void", ticket.ticket_id, "paper out")

    def _on_a_waiting_ticket(self, service: str) -> None:
        waiting = self.engine.queues[service].tickets()
        if waiting:
            ticket = self.rng.choice(waiting)
            if self.rng.random() < 0.5:
                self.act("cancel", ticket.ticket_id)
            else:
                self.act("move", ticket.ticket_id, self.rng.choice(list(self.engine.queues)))

    def _hall(self, counter: str, service: str) -> None:
        rng, e = self.rng, self.engine
        services = list(e.queues)
        roll = rng.random()
        if roll < 0.25:
            self.act("set_counter_status", counter, rng.choice(list(CounterStatus)))
        elif roll < 0.35:
            some = rng.sample(services, rng.randint(1, min(3, len(services))))
            self.act("set_counter_services", counter, rng.choice([["*"], some]))
        elif roll < 0.45:
            self.act("sign_out", counter)
        elif roll < 0.60:
            self.act("evaluate", counter, rng.randint(1, 5), None)
        elif roll < 0.70:
            self.act("set_intake", service, rng.random() < 0.8)
        elif roll < 0.75:
            self.act("set_notice", rng.choice(["", "午休 lunch 12:00", "系统维护"]))
        elif roll < 0.80:
            self.act("request_help", "kiosk-1")
        elif roll < 0.85:
            self.act("follow_up", AlertKind.BAD_RATING, f"{counter}:x", "talked to the resident")
        else:
            person = f"{rng.getrandbits(64):016x}"
            slot = e.local(self.now) + timedelta(minutes=rng.randint(10, 90))
            self.act("book", person, service, slot)
            self.booked.append(person)


def state_of(engine: HallEngine) -> dict[str, Any]:
    """Everything the engine's fold decides, as plain data (tickets by id)."""
    def tid(ticket: Ticket | None) -> str | None:
        return None if ticket is None else ticket.ticket_id

    return {
        "tickets": {t.ticket_id: (t.number, t.service, t.seq, t.channel, t.issued_at, t.status,
                                  t.queued_at, t.reserved_for, t.counter, t.called_at,
                                  t.started_at, t.finished_at, t.recalls, t.token)
                    for t in engine.tickets.values()},
        "tokens": sorted(engine.tokens),
        "queues": {s: ({lane: list(tickets) for lane, tickets in q.lanes.items()},
                       q.last_number, q.issued, q.intake_open, list(q.recent_minutes),
                       q.finished, q.size) for s, q in engine.queues.items()},
        "desks": {c: (d.status, tid(d.ticket), d.clerk, d.since, tid(d.last_finished), d.served,
                      d.services) for c, d in engine.desks.items()},
        "reserved": {c: list(lane) for c, lane in engine.reserved_lanes.items()},
        "people": {k: tid(t) for k, t in engine.open_by_person.items()},
        "appointments": {k: (a.service, a.slot, a.checked_in)
                         for k, a in engine.appointments.items()},
        "calls": [(seq, tid(t), c, r, at) for seq, t, c, r, at in engine.calls],
        "hall": (engine.ratings, engine.notice, engine.call_seq, engine.ticket_seq,
                 engine.ended, engine.help_requests, engine.followed_up),
    }


def check_consistent(engine: HallEngine) -> None:
    """The invariants every fold must keep, whatever the journal held."""
    for service, queue in engine.queues.items():
        queued = queue.tickets()
        assert queue.size == len(queued)
        for t in queued:
            assert t.status is TicketStatus.WAITING and t.service == service, t
            assert engine.tickets[t.ticket_id] is t
    for counter, lane in engine.reserved_lanes.items():
        for t in lane.values():
            assert t.status is TicketStatus.WAITING and t.reserved_for == counter, t
            assert t.service in engine.queues
    for desk in engine.desks.values():
        if desk.ticket is not None:
            assert desk.ticket.status in (TicketStatus.CALLED, TicketStatus.SERVING)
            assert desk.ticket.counter == desk.counter_id
            assert desk.ticket.service in engine.queues
    for _, _ticket, counter, _, _ in engine.calls:
        assert counter in engine.desks
    for t in engine.tickets.values():
        assert t.is_open or t.finished_at is not None, t


def without_counters(config: HallConfig, *ids: str) -> HallConfig:
    """The hall with these counters (and the devices serving them) taken out."""
    data = config.model_dump(mode="json")
    data["counters"] = [c for c in data["counters"] if c["id"] not in ids]
    data["devices"] = [d for d in data["devices"] if d.get("counter") not in ids]
    return HallConfig.model_validate(data)


def without_services(config: HallConfig, *ids: str) -> HallConfig:
    """The hall with these services taken out; a counter left with none serves everything."""
    data = config.model_dump(mode="json")
    data["services"] = [s for s in data["services"] if s["id"] not in ids]
    for counter in data["counters"]:
        counter["services"] = [s for s in counter["services"] if s not in ids] or ["*"]
    return HallConfig.model_validate(data)


def renamed(config: HallConfig, letters: dict[str, str]) -> HallConfig:
    """The hall with service letters changed (``{"E": "H"}``; a swap is allowed)."""
    data = config.model_dump(mode="json")
    for service in data["services"]:
        service["id"] = letters.get(service["id"], service["id"])
    for counter in data["counters"]:
        counter["services"] = [letters.get(s, s) for s in counter["services"]]
    return HallConfig.model_validate(data)


def with_quota(config: HallConfig, service: str, quota: int | None) -> HallConfig:
    data = config.model_dump(mode="json")
    for spec in data["services"]:
        if spec["id"] == service:
            spec["daily_quota"] = quota
    return HallConfig.model_validate(data)
