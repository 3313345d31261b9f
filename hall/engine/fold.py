"""How each journal event changes the engine's state: the fold that replaying the day's
events runs, one function per event kind (the table at the bottom)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from hall.engine.events import Kind
from hall.engine.model import Appointment, Ticket
from protocol.messages import Channel, CounterStatus, TicketStatus

if TYPE_CHECKING:
    from hall.engine.engine import HallEngine


def skills(services: Iterable[str]) -> frozenset[str] | None:
    """A counter's services: None for a comprehensive window ("*")."""
    return None if "*" in services else frozenset(services)


def _issued(e: HallEngine, at: float, ticket: str, service: str, channel: str,
            id_hash: str | None, slot: float | None, pending: bool) -> None:
    e.tickets_changes += 1
    queue = e.queues[service]
    queue.last_number += 1
    queue.issued += 1
    e.ticket_seq += 1
    t = Ticket(ticket, ticket.split("-", 1)[1], service, e.ticket_seq, Channel(channel), at,
               e.token_for(ticket), id_hash, slot, queued_at=at,
               status=TicketStatus.PENDING_PRINT if pending else TicketStatus.WAITING)
    e.tickets[ticket] = t
    e.tokens[t.token] = t
    if id_hash is not None:
        e.open_by_person[(id_hash, service)] = t
        if t.channel is Channel.APPOINTMENT and id_hash in e.appointments:
            e.appointments[id_hash].checked_in = ticket
    if not pending:
        queue.add(t)


def _printed(e: HallEngine, at: float, ticket: str) -> None:
    t = e.tickets[ticket]
    t.status = TicketStatus.WAITING
    e.queues[t.service].add(t)


def _close(e: HallEngine, t: Ticket, status: TicketStatus, at: float) -> None:
    """Take a ticket out of every queue and desk, ending it with ``status``."""
    e.queues[t.service].remove(t)
    if t.reserved_for is not None:
        e.reserved_lanes[t.reserved_for].pop(t.ticket_id, None)
    if t.counter is not None and e.desks[t.counter].ticket is t:
        desk = e.desks[t.counter]
        desk.ticket = None
        desk.since = at
        if status is TicketStatus.DONE:
            desk.last_finished = t
            desk.served += 1
    t.status = status
    t.finished_at = at
    if t.id_hash is not None and e.open_by_person.get((t.id_hash, t.service)) is t:
        del e.open_by_person[(t.id_hash, t.service)]


def _voided(e: HallEngine, at: float, ticket: str, reason: str) -> None:
    e.tickets_changes += 1
    t = e.tickets[ticket]
    e.queues[t.service].issued -= 1
    if t.channel is Channel.APPOINTMENT and t.id_hash in e.appointments:
        e.appointments[t.id_hash].checked_in = None
    _close(e, t, TicketStatus.VOID, at)


def _called(e: HallEngine, at: float, ticket: str, counter: str) -> None:
    t = e.tickets[ticket]
    e.queues[t.service].remove(t)
    if t.reserved_for is not None:
        e.reserved_lanes[t.reserved_for].pop(ticket, None)
        t.reserved_for = None
    desk = e.desks[counter]
    desk.ticket, desk.since = t, at
    t.status, t.counter, t.called_at, t.recalls = TicketStatus.CALLED, counter, at, 0
    e.call_seq += 1
    e.calls.appendleft((e.call_seq, t, counter, False, at))


def _recalled(e: HallEngine, at: float, ticket: str, counter: str) -> None:
    t = e.tickets[ticket]
    t.recalls += 1
    e.call_seq += 1
    e.calls.appendleft((e.call_seq, t, counter, True, at))


def _started(e: HallEngine, at: float, ticket: str) -> None:
    t = e.tickets[ticket]
    t.status, t.started_at = TicketStatus.SERVING, at


def _done(e: HallEngine, at: float, ticket: str) -> None:
    t = e.tickets[ticket]
    begun = t.started_at or t.called_at or at
    queue = e.queues[t.service]
    queue.recent_minutes.append((at - begun) / 60)
    queue.finished += 1
    _close(e, t, TicketStatus.DONE, at)


def _no_show(e: HallEngine, at: float, ticket: str) -> None:
    _close(e, e.tickets[ticket], TicketStatus.NO_SHOW, at)


def _cancelled(e: HallEngine, at: float, ticket: str) -> None:
    _close(e, e.tickets[ticket], TicketStatus.CANCELLED, at)


def _transferred(e: HallEngine, at: float, ticket: str, service: str,
                 counter: str | None) -> None:
    t = e.tickets[ticket]
    e.queues[t.service].remove(t)
    if t.counter is not None and e.desks[t.counter].ticket is t:
        desk = e.desks[t.counter]
        desk.ticket, desk.since, desk.last_finished = None, at, t
    if t.id_hash is not None and e.open_by_person.get((t.id_hash, t.service)) is t:
        del e.open_by_person[(t.id_hash, t.service)]
        e.open_by_person[(t.id_hash, service)] = t
    t.service, t.status, t.counter = service, TicketStatus.WAITING, None
    t.called_at = t.started_at = None
    if counter is not None:
        t.reserved_for = counter
        e.reserved_lanes[counter][ticket] = t
    else:
        e.queues[service].add(t, front=True)


def _counter_status(e: HallEngine, at: float, counter: str, status: str) -> None:
    e.layout_changes += 1
    desk = e.desks[counter]
    desk.status = CounterStatus(status)
    if desk.ticket is None or desk.status is not CounterStatus.OPEN:
        desk.since = at


def _counter_services(e: HallEngine, at: float, counter: str, services: list[str]) -> None:
    e.layout_changes += 1
    e.desks[counter].services = skills(services)


def _signed_in(e: HallEngine, at: float, counter: str, staff_no: str) -> None:
    for desk in e.desks.values():
        if desk.clerk == staff_no:
            desk.clerk = None
    e.desks[counter].clerk = staff_no


def _signed_out(e: HallEngine, at: float, counter: str) -> None:
    e.desks[counter].clerk = None


def _rated(e: HallEngine, at: float, ticket: str, counter: str, clerk: str | None,
           rating: int) -> None:
    e.ratings.append((ticket, counter, clerk, rating, at))


def _intake(e: HallEngine, at: float, service: str, open: bool) -> None:
    e.queues[service].intake_open = open


def _notice(e: HallEngine, at: float, text: str) -> None:
    e.notice = text


def _booked(e: HallEngine, at: float, id_hash: str, service: str, slot: float,
            slot_day: str) -> None:
    if slot_day == e.day.isoformat():
        e.appointments[id_hash] = Appointment(id_hash, service, slot)


def _day_ended(e: HallEngine, at: float) -> None:
    e.layout_changes += 1
    for t in e.tickets.values():
        if t.is_open:
            _close(e, t, TicketStatus.CANCELLED, at)
    for desk in e.desks.values():
        desk.status, desk.since = CounterStatus.CLOSED, at
    e.ended = True


def _help_requested(e: HallEngine, at: float, device: str) -> None:
    e.help_requests += 1


def _followed_up(e: HallEngine, at: float, alert: str, subject: str, note: str) -> None:
    e.followed_up[(alert, subject)] = note


APPLY: dict[Kind, Callable[..., None]] = {
    Kind.TICKET_ISSUED: _issued,
    Kind.TICKET_PRINTED: _printed,
    Kind.TICKET_VOIDED: _voided,
    Kind.TICKET_CALLED: _called,
    Kind.TICKET_RECALLED: _recalled,
    Kind.SERVICE_STARTED: _started,
    Kind.TICKET_DONE: _done,
    Kind.TICKET_NO_SHOW: _no_show,
    Kind.TICKET_TRANSFERRED: _transferred,
    Kind.TICKET_CANCELLED: _cancelled,
    Kind.COUNTER_STATUS: _counter_status,
    Kind.COUNTER_SERVICES: _counter_services,
    Kind.CLERK_SIGNED_IN: _signed_in,
    Kind.CLERK_SIGNED_OUT: _signed_out,
    Kind.RATED: _rated,
    Kind.INTAKE_SET: _intake,
    Kind.NOTICE_SET: _notice,
    Kind.APPOINTMENT_BOOKED: _booked,
    Kind.DAY_ENDED: _day_ended,
    Kind.HELP_REQUESTED: _help_requested,
    Kind.ALERT_FOLLOWED_UP: _followed_up,
}
