"""The status page's count of who is ahead (one sort per service and picture of the hall)
is the engine's ahead_of for every waiting ticket, through a busy, changing day; and its
wait is the estimate the kiosk and the ticket show."""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass
from datetime import datetime

from support.hall import SECRET, hall_config, sign_in, weekday_morning

from hall.engine.engine import HallEngine, Refused
from hall.engine.projection import Projection, ahead_of, project
from hall.snapshots import ticket_view
from hallconfig import HallConfig
from protocol import messages as m
from web.status import Ranks, status_view

WAITING = (m.TicketStatus.WAITING, m.TicketStatus.PENDING_PRINT)


@dataclass
class View:
    config: HallConfig
    engine: HallEngine
    projection: Projection


def check_every_waiting_ticket(engine: HallEngine, now: float, version: int,
                               ranks: Ranks) -> int:
    view = View(engine.config, engine, project(engine, now))
    checked = 0
    for ticket in engine.tickets.values():
        if ticket.status not in WAITING:
            continue
        expected = ticket_view(engine, ticket, view.projection)
        assert expected.ahead == ahead_of(engine, view.projection, ticket)
        shown = status_view(view, ticket, ranks, version)  # type: ignore[arg-type]
        ahead = expected.ahead
        assert shown["ahead_en"] == ("You are next" if ahead == 0 else f"{ahead} ahead of you")
        minutes = expected.estimated_wait_min
        assert shown["wait_en"] == (
            "Wait not yet known" if minutes is None else "Estimated wait under 1 min"
            if round(minutes) < 1 else f"Estimated wait about {round(minutes)} min")
        checked += 1
    return checked


def busy_moment(engine: HallEngine, rng: random.Random, at: datetime) -> None:
    """Tickets issued (some green, some awaiting their print), and a few calls, moves,
    cancellations and windows closed or opened; refusals are part of a day."""
    services = [s.id for s in engine.config.services]
    for _ in range(rng.randint(5, 30)):
        with contextlib.suppress(Refused):
            engine.issue(at, rng.choice(services), green=rng.random() < 0.1,
                         pending_print=rng.random() < 0.2)
    for _ in range(rng.randint(0, 6)):
        action = rng.choice(("call", "call", "move", "cancel", "close", "open"))
        waiting = [t.ticket_id for t in engine.tickets.values() if t.status in WAITING]
        counter = rng.choice(list(engine.desks))
        with contextlib.suppress(Refused):
            if action == "call":
                engine.call_next(at, counter)
            elif action == "move" and waiting:
                engine.move(at, rng.choice(waiting), rng.choice(services))
            elif action == "cancel" and waiting:
                engine.cancel(at, rng.choice(waiting))
            elif action in ("close", "open"):
                engine.set_counter_status(at, counter, m.CounterStatus.CLOSED
                                          if action == "close" else m.CounterStatus.OPEN)
    engine.take_events()


def test_ahead_and_wait_match_the_engine_through_a_busy_day() -> None:
    clock = weekday_morning()
    engine = sign_in(HallEngine(hall_config(), clock.now().date(), SECRET))
    rng = random.Random(14)
    ranks = Ranks()
    checked = unserved = 0
    for version in range(1, 40):
        busy_moment(engine, rng, clock.now())
        clock.advance(rng.uniform(10, 120))
        now = clock.now().timestamp()
        checked += check_every_waiting_ticket(engine, now, version, ranks)
        projection = project(engine, now)
        unserved += sum(1 for t in engine.tickets.values()
                        if t.status in WAITING and t.ticket_id not in projection.starts)
    assert checked > 2000 and unserved > 0  # and some tickets no open window serves
