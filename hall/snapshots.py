"""Build the retained state snapshots devices read from the engine's state.

Each carries the business day and ``rev``, the number of the day's events committed when it
was built (the controller's journal count, so it survives a restart): a device never takes a
snapshot older than one it has already shown."""

from __future__ import annotations

from datetime import datetime

from hall.engine.engine import HallEngine
from hall.engine.model import LANES, Desk, Ticket
from hall.engine.projection import Projection, ahead_of, staffed
from protocol import messages as m


def hall_state(engine: HallEngine, rev: int = 0) -> m.HallState:
    cfg = engine.config
    return m.HallState(
        hall=cfg.hall.id, name=cfg.hall.name, name_en=cfg.hall.name_en,
        timezone=cfg.hall.timezone, date=engine.day.isoformat(),
        open_at=_hhmm(engine, engine.open_at), close_at=_hhmm(engine, engine.close_at),
        notice=engine.notice, green_age=cfg.rules.green_age,
        services=[m.ServiceInfo(id=s.id, name=s.name, name_en=s.name_en,
                                daily_quota=s.daily_quota, last_ticket=s.last_ticket)
                  for s in cfg.services],
        counters=[m.CounterInfo(id=c.id, name=c.name, name_en=c.name_en,
                                services=_skills(engine.desks[c.id]))
                  for c in cfg.counters],
        status_url_base=cfg.hall.status_url_base, rev=rev)


def service_state(engine: HallEngine, service: str, projection: Projection,
                  now: datetime, rev: int = 0) -> m.ServiceState:
    queue = engine.queues[service]
    spec = engine.services[service]
    oldest = min((head.queued_at for lane in LANES if (head := queue.head(lane))), default=None)
    return m.ServiceState(
        service=service, waiting=queue.waiting,
        estimated_wait_min=_minutes(projection.new_ticket_wait(engine, service)),
        longest_wait_min=round((now.timestamp() - oldest) / 60 if oldest else 0.0, 1),
        issued_today=queue.issued,
        quota_left=None if spec.daily_quota is None else max(0, spec.daily_quota - queue.issued),
        intake_open=queue.intake_open, updated=now, day=engine.day.isoformat(), rev=rev)


def counter_state(engine: HallEngine, desk: Desk, now: datetime,
                  rev: int = 0) -> m.CounterState:
    ticket = desk.ticket
    clerk = engine.clerks.get(desk.clerk) if desk.clerk else None
    return m.CounterState(
        counter=desk.counter_id, name=desk.name, status=desk.status, services=_skills(desk),
        ticket=ticket.ticket_id if ticket else None, number=ticket.number if ticket else None,
        ticket_status=ticket.status if ticket else None,
        clerk=m.Clerk(name=clerk.name, staff_no=clerk.staff_no) if clerk else None,
        since=engine.local(desk.since) if desk.since else None,
        pause_reason=desk.pause_reason,
        recalls=ticket.recalls if ticket else 0, updated=now, day=engine.day.isoformat(),
        rev=rev)


def call_event(engine: HallEngine, seq: int, ticket: Ticket, counter: str, recall: bool,
               at: float) -> m.CallEvent:
    return m.CallEvent(seq=seq, ticket=ticket.ticket_id, number=ticket.number,
                       service=ticket.service, counter=counter,
                       counter_name=engine.desks[counter].name, recall=recall,
                       at=engine.local(at))


def recent_calls(engine: HallEngine, rev: int = 0) -> m.RecentCalls:
    return m.RecentCalls(calls=[call_event(engine, *c) for c in list(engine.calls)[:10]],
                         day=engine.day.isoformat(), rev=rev)


def summary(engine: HallEngine, projection: Projection, now: datetime,
            rev: int = 0) -> m.HallSummary:
    """The hall for the city tier: windows open with a clerk (those that can call), tickets,
    and each service's wait (None: not yet known)."""
    cfg = engine.config
    served = sum(d.served for d in engine.desks.values())
    return m.HallSummary(
        hall=cfg.hall.id, name=cfg.hall.name, name_en=cfg.hall.name_en, at=now,
        counters_open=sum(1 for d in engine.desks.values() if staffed(engine, d)),  # serving
        issued_today=sum(q.issued for q in engine.queues.values()), served_today=served,
        services=[m.ServiceSummary(
            service=s.id, name=s.name, waiting=engine.queues[s.id].waiting,
            estimated_wait_min=_minutes(projection.new_ticket_wait(engine, s.id)))
            for s in cfg.services], day=engine.day.isoformat(), rev=rev)


def ticket_view(engine: HallEngine, ticket: Ticket, projection: Projection | None,
                wait_s: float | None = None) -> m.TicketView:
    """A ticket for a reply or the status page; ``wait_s`` overrides the projection."""
    ahead = estimate = None
    if ticket.status in (m.TicketStatus.WAITING, m.TicketStatus.PENDING_PRINT):
        if wait_s is None and projection is not None:
            wait_s = projection.wait_seconds(ticket)
        if projection is not None:
            ahead = ahead_of(engine, projection, ticket)
        estimate = _minutes(wait_s)
    return m.TicketView(ticket=ticket.ticket_id, number=ticket.number, service=ticket.service,
                        status=ticket.status, channel=ticket.channel,
                        issued_at=engine.local(ticket.issued_at), ahead=ahead,
                        estimated_wait_min=estimate, counter=ticket.counter, token=ticket.token)


def _minutes(wait_s: float | None) -> float | None:
    """A wait in minutes, one decimal; None (no counter serves it now) stays None."""
    return None if wait_s is None else round(wait_s / 60, 1)


def _skills(desk: Desk) -> list[str]:
    return ["*"] if desk.services is None else sorted(desk.services)


def _hhmm(engine: HallEngine, t: float | None) -> str | None:
    return None if t is None else f"{engine.local(t):%H:%M}"
