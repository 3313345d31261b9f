"""How each journal event changes the engine's state: the fold that replaying the day's
events runs, one function per event kind (the table at the bottom).

The fold is total: a journal written under another config (a counter or service removed, a
prefix renamed) still replays. An event naming a counter or service the config no longer has
is adapted or skipped, with one warning per name: a ticket of a removed service keeps its
place in the day (it counts, it can be moved or closed) but waits in no queue and is never
put in a counter's hands; a counter that is gone takes no calls, so a ticket called there
stays where it was. Ticket numbers never repeat: each letter's count is the highest number
the journal holds."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from hall.engine.events import NOT_CONFIRMED, Kind
from hall.engine.model import Appointment, Desk, ServiceQueue, Ticket
from protocol.messages import Channel, CounterStatus, TicketStatus

if TYPE_CHECKING:
    from hall.engine.engine import HallEngine

log = logging.getLogger(__name__)
_warned: WeakKeyDictionary[HallEngine, set[tuple[str, str]]] = WeakKeyDictionary()


def skills(services: Iterable[str]) -> frozenset[str] | None:
    """A counter's services: None for a comprehensive window ("*")."""
    return None if "*" in services else frozenset(services)


def _unknown(e: HallEngine, what: str, name: str, then: str) -> None:
    """Warn, once per engine and name, that the journal names something the config lacks."""
    seen = _warned.setdefault(e, set())
    if (what, name) not in seen:
        seen.add((what, name))
        log.warning("the journal of %s names %s %r, which the config does not have: %s",
                    e.day, what, name, then)


def _desk(e: HallEngine, counter: str) -> Desk | None:
    desk = e.desks.get(counter)
    if desk is None:
        _unknown(e, "counter", counter, "its events are skipped")
    return desk


def _queue(e: HallEngine, service: str) -> ServiceQueue | None:
    queue = e.queues.get(service)
    if queue is None:
        _unknown(e, "service", service,
                 "its tickets count but wait in no queue until moved or closed")
    return queue


def _reserve_number(e: HallEngine, number: str) -> None:
    """Count a ticket number against its letter, so that no later ticket repeats it."""
    queue = e.queues.get(number[:1])
    if queue is not None:
        serial = number[1:]
        queue.last_number = max(queue.last_number, int(serial)) if serial.isdigit() \
            else queue.last_number + 1


def _issued(e: HallEngine, at: float, ticket: str, service: str, channel: str,
            id_hash: str | None, slot: float | None, pending: bool,
            kiosk: str | None = None) -> None:
    if ticket in e.tickets:
        log.warning("the journal of %s issues ticket %r twice: the second is skipped", e.day,
                    ticket)
        return
    e.tickets_changes += 1
    number = ticket.split("-", 1)[-1]
    _reserve_number(e, number)
    queue = _queue(e, service)
    if queue is not None:
        queue.issued += 1
    e.ticket_seq += 1
    t = Ticket(ticket, number, service, e.ticket_seq, Channel(channel), at,
               e.token_for(ticket), id_hash, slot, queued_at=at, kiosk=kiosk,
               status=TicketStatus.PENDING_PRINT if pending else TicketStatus.WAITING)
    e.tickets[ticket] = t
    e.tokens[t.token] = t
    if id_hash is not None:
        e.open_by_person[(id_hash, service)] = t
        if t.channel is Channel.APPOINTMENT and id_hash in e.appointments:
            e.appointments[id_hash].checked_in = ticket
    if not pending and queue is not None:
        queue.add(t)


def _printed(e: HallEngine, at: float, ticket: str) -> None:
    t = _open_ticket(e, ticket)
    if t is None or t.status is not TicketStatus.PENDING_PRINT:
        return
    t.status = TicketStatus.WAITING
    queue = e.queues.get(t.service)
    if queue is not None:
        queue.add(t)


def _at_desk(e: HallEngine, t: Ticket) -> Desk | None:
    """The counter holding the ticket in its hands, if one does."""
    desk = e.desks.get(t.counter) if t.counter is not None else None
    return desk if desk is not None and desk.ticket is t else None


def _unreserve(e: HallEngine, t: Ticket) -> None:
    """Take a ticket out of the lane of the counter it was transferred to, if any (only a
    counter the config has gets one)."""
    if t.reserved_for is not None:
        e.reserved_lanes[t.reserved_for].pop(t.ticket_id, None)
        t.reserved_for = None


def _close(e: HallEngine, t: Ticket, status: TicketStatus, at: float) -> None:
    """Take a ticket out of every queue and desk, ending it with ``status``."""
    queue = e.queues.get(t.service)
    if queue is not None:
        queue.remove(t)
    if t.reserved_for is not None:
        _unreserve(e, t)
    desk = _at_desk(e, t) if t.counter is not None else None
    if desk is not None:
        desk.ticket = None
        desk.since = at
        if status is TicketStatus.DONE:
            desk.last_finished = t
            desk.served += 1
    t.status = status
    t.finished_at = at
    if t.id_hash is not None and e.open_by_person.get((t.id_hash, t.service)) is t:
        del e.open_by_person[(t.id_hash, t.service)]


def _open_ticket(e: HallEngine, ticket: str) -> Ticket | None:
    """The ticket an event acts on, if it is known and still open (else the event is moot)."""
    t = e.tickets.get(ticket)
    if t is None:
        _unknown(e, "ticket", ticket, "its events are skipped")
        return None
    return t if t.finished_at is None else None  # _close sets it: the ticket is over


def _voided(e: HallEngine, at: float, ticket: str, reason: str) -> None:
    t = _open_ticket(e, ticket)
    if t is None:
        return
    e.tickets_changes += 1
    queue = e.queues.get(t.service)
    if queue is not None:
        queue.issued -= 1
    if t.channel is Channel.APPOINTMENT and t.id_hash in e.appointments:
        e.appointments[t.id_hash].checked_in = None
    _close(e, t, TicketStatus.VOID, at)


def _called(e: HallEngine, at: float, ticket: str, counter: str) -> None:
    t = _open_ticket(e, ticket)
    desk = _desk(e, counter)
    if t is None or desk is None:
        return  # a counter that is gone: the ticket stays where it was, for another to call
    queue = e.queues.get(t.service)
    if queue is not None:
        queue.remove(t)
        desk.ticket, desk.since = t, at
    if t.reserved_for is not None:
        _unreserve(e, t)
    t.status, t.counter, t.called_at, t.recalls = TicketStatus.CALLED, counter, at, 0
    e.call_seq += 1
    e.calls.appendleft((e.call_seq, t, counter, False, at))


def _recalled(e: HallEngine, at: float, ticket: str, counter: str) -> None:
    t = _open_ticket(e, ticket)
    if t is None or t.counter != counter or _desk(e, counter) is None:
        return
    t.recalls += 1
    e.call_seq += 1
    e.calls.appendleft((e.call_seq, t, counter, True, at))


def _started(e: HallEngine, at: float, ticket: str) -> None:
    t = _open_ticket(e, ticket)
    if t is not None and t.status is TicketStatus.CALLED:
        t.status, t.started_at = TicketStatus.SERVING, at


def _done(e: HallEngine, at: float, ticket: str) -> None:
    t = _open_ticket(e, ticket)
    if t is None:
        return
    begun = t.started_at or t.called_at
    queue = e.queues.get(t.service)
    if queue is not None and begun is not None:
        queue.recent_minutes.append((at - begun) / 60)
        queue.finished += 1
    _close(e, t, TicketStatus.DONE, at)


def _no_show(e: HallEngine, at: float, ticket: str) -> None:
    t = _open_ticket(e, ticket)
    if t is not None:
        _close(e, t, TicketStatus.NO_SHOW, at)


def _cancelled(e: HallEngine, at: float, ticket: str) -> None:
    t = _open_ticket(e, ticket)
    if t is not None:
        _close(e, t, TicketStatus.CANCELLED, at)


def _closed(e: HallEngine, at: float, ticket: str, reason: str) -> None:
    """Still open when the day closed: an unconfirmed print is void, the rest not served."""
    if reason == NOT_CONFIRMED:
        _voided(e, at, ticket, reason)
        return
    t = _open_ticket(e, ticket)
    if t is not None:
        _close(e, t, TicketStatus.CANCELLED, at)


def _transferred(e: HallEngine, at: float, ticket: str, service: str,
                 counter: str | None) -> None:
    t = _open_ticket(e, ticket)
    if t is None:
        return
    old = e.queues.get(t.service)
    if old is not None:
        old.remove(t)
    _unreserve(e, t)
    desk = _at_desk(e, t)
    if desk is not None:
        desk.ticket, desk.since, desk.last_finished = None, at, t
    if t.id_hash is not None and e.open_by_person.get((t.id_hash, t.service)) is t:
        del e.open_by_person[(t.id_hash, t.service)]
        e.open_by_person[(t.id_hash, service)] = t
    t.service, t.status, t.counter = service, TicketStatus.WAITING, None
    t.called_at = t.started_at = None
    queue = _queue(e, service)
    if queue is None:
        return
    if counter is not None and _desk(e, counter) is not None:
        t.reserved_for = counter
        e.reserved_lanes[counter][ticket] = t
    else:
        queue.add(t, front=True)


def _counter_status(e: HallEngine, at: float, counter: str, status: str,
                    reason: str | None = None) -> None:
    """A window opened, paused (with its reason: journals of old have none) or closed."""
    desk = _desk(e, counter)
    if desk is None:
        return
    e.layout_changes += 1
    was = desk.status
    desk.status = CounterStatus(status)
    desk.pause_reason = reason if desk.status is CounterStatus.PAUSED else None
    if (desk.ticket is None or desk.status is not CounterStatus.OPEN) and was is not desk.status:
        desk.since = at


def _counter_services(e: HallEngine, at: float, counter: str, services: list[str]) -> None:
    desk = _desk(e, counter)
    if desk is None:
        return
    known = [s for s in services if s == "*" or _queue(e, s) is not None]
    e.layout_changes += 1
    desk.services = skills(known)


def _signed_in(e: HallEngine, at: float, counter: str, staff_no: str) -> None:
    for other in e.desks.values():
        if other.clerk == staff_no:
            other.clerk = None
    desk = _desk(e, counter)
    if desk is not None:
        desk.clerk = staff_no
    e.layout_changes += 1  # which windows can call: the policy's balance depends on it


def _signed_out(e: HallEngine, at: float, counter: str) -> None:
    desk = _desk(e, counter)
    if desk is not None:
        desk.clerk = None
    e.layout_changes += 1


def _rated(e: HallEngine, at: float, ticket: str, counter: str, clerk: str | None,
           rating: int) -> None:
    e.ratings.append((ticket, counter, clerk, rating, at))


def _intake(e: HallEngine, at: float, service: str, open: bool) -> None:
    queue = _queue(e, service)
    if queue is not None:
        queue.intake_open = open


def _notice(e: HallEngine, at: float, text: str) -> None:
    e.notice = text


def _booked(e: HallEngine, at: float, id_hash: str | None, service: str, slot: float,
            slot_day: str) -> None:
    """An appointment of the day, or of a later day (booked today: it counts against its
    slot's capacity); one whose hash was erased (a past day) matches nobody."""
    if id_hash is None or slot_day < e.day.isoformat() or _queue(e, service) is None:
        return
    day = e.appointments if slot_day == e.day.isoformat() else \
        e.later_appointments.setdefault(slot_day, {})
    day[id_hash] = Appointment(id_hash, service, slot)


def _day_ended(e: HallEngine, at: float, auto: bool = False) -> None:
    """The day is over: counters close, and whatever a journal of old left open is closed
    as at the close (the engine closes each ticket first, with its reason)."""
    e.layout_changes += 1
    for t in list(e.tickets.values()):
        if t.status is TicketStatus.PENDING_PRINT:
            _voided(e, at, t.ticket_id, NOT_CONFIRMED)
        elif t.is_open:
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
    Kind.TICKET_CLOSED: _closed,
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
