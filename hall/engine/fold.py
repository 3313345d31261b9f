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
from typing import TYPE_CHECKING, TypeVar, cast
from weakref import WeakKeyDictionary

from hall.engine.events import (
    NOT_CONFIRMED,
    AlertFollowedUp,
    AppointmentBooked,
    ClerkSignedIn,
    ClerkSignedOut,
    CounterServicesSet,
    CounterStatusSet,
    DayEnded,
    EventData,
    HelpRequested,
    IntakeSet,
    Kind,
    NoticeSet,
    Rated,
    ServiceStarted,
    TicketCalled,
    TicketCancelled,
    TicketClosed,
    TicketDone,
    TicketIssued,
    TicketNoShow,
    TicketPrinted,
    TicketRecalled,
    TicketTransferred,
    TicketVoided,
)
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


def _issued(e: HallEngine, at: float, d: TicketIssued) -> None:
    ticket, service, id_hash = d.ticket, d.service, d.id_hash
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
    t = Ticket(ticket, number, service, e.ticket_seq, d.channel, at,
               e.token_for(ticket), id_hash, d.slot, queued_at=at, kiosk=d.kiosk,
               status=TicketStatus.PENDING_PRINT if d.pending else TicketStatus.WAITING)
    e.tickets[ticket] = t
    e.tokens[t.token] = t
    if id_hash is not None:
        e.open_by_person[(id_hash, service)] = t
        if t.channel is Channel.APPOINTMENT and id_hash in e.appointments:
            e.appointments[id_hash].checked_in = ticket
    if not d.pending and queue is not None:
        queue.add(t)


def _printed(e: HallEngine, at: float, d: TicketPrinted) -> None:
    t = _open_ticket(e, d.ticket)
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


def _voided(e: HallEngine, at: float, d: TicketVoided) -> None:
    _void(e, at, d.ticket)


def _void(e: HallEngine, at: float, ticket: str) -> None:
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


def _called(e: HallEngine, at: float, d: TicketCalled) -> None:
    ticket, counter = d.ticket, d.counter
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


def _recalled(e: HallEngine, at: float, d: TicketRecalled) -> None:
    t, counter = _open_ticket(e, d.ticket), d.counter
    if t is None or t.counter != counter or _desk(e, counter) is None:
        return
    t.recalls += 1
    e.call_seq += 1
    e.calls.appendleft((e.call_seq, t, counter, True, at))


def _started(e: HallEngine, at: float, d: ServiceStarted) -> None:
    t = _open_ticket(e, d.ticket)
    if t is not None and t.status is TicketStatus.CALLED:
        t.status, t.started_at = TicketStatus.SERVING, at


def _done(e: HallEngine, at: float, d: TicketDone) -> None:
    t = _open_ticket(e, d.ticket)
    if t is None:
        return
    begun = t.started_at or t.called_at
    queue = e.queues.get(t.service)
    if queue is not None and begun is not None:
        queue.recent_minutes.append((at - begun) / 60)
        queue.finished += 1
    _close(e, t, TicketStatus.DONE, at)


def _no_show(e: HallEngine, at: float, d: TicketNoShow) -> None:
    t = _open_ticket(e, d.ticket)
    if t is not None:
        _close(e, t, TicketStatus.NO_SHOW, at)


def _cancelled(e: HallEngine, at: float, d: TicketCancelled) -> None:
    t = _open_ticket(e, d.ticket)
    if t is not None:
        _close(e, t, TicketStatus.CANCELLED, at)


def _closed(e: HallEngine, at: float, d: TicketClosed) -> None:
    """Still open when the day closed: an unconfirmed print is void, the rest not served."""
    if d.reason == NOT_CONFIRMED:
        _void(e, at, d.ticket)
        return
    t = _open_ticket(e, d.ticket)
    if t is not None:
        _close(e, t, TicketStatus.CANCELLED, at)


def _transferred(e: HallEngine, at: float, d: TicketTransferred) -> None:
    ticket, service, counter = d.ticket, d.service, d.counter
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


def _counter_status(e: HallEngine, at: float, d: CounterStatusSet) -> None:
    """A window opened, paused (with its reason: journals of old have none) or closed."""
    desk = _desk(e, d.counter)
    if desk is None:
        return
    e.layout_changes += 1
    was = desk.status
    desk.status = d.status
    desk.pause_reason = d.reason if desk.status is CounterStatus.PAUSED else None
    if (desk.ticket is None or desk.status is not CounterStatus.OPEN) and was is not desk.status:
        desk.since = at


def _counter_services(e: HallEngine, at: float, d: CounterServicesSet) -> None:
    desk = _desk(e, d.counter)
    if desk is None:
        return
    known = [s for s in d.services if s == "*" or _queue(e, s) is not None]
    e.layout_changes += 1
    desk.services = skills(known)


def _signed_in(e: HallEngine, at: float, d: ClerkSignedIn) -> None:
    staff_no = d.staff_no
    for other in e.desks.values():
        if other.clerk == staff_no:
            other.clerk = None
    desk = _desk(e, d.counter)
    if desk is not None:
        desk.clerk = staff_no
    e.layout_changes += 1  # which windows can call: the policy's balance depends on it


def _signed_out(e: HallEngine, at: float, d: ClerkSignedOut) -> None:
    desk = _desk(e, d.counter)
    if desk is not None:
        desk.clerk = None
    e.layout_changes += 1


def _rated(e: HallEngine, at: float, d: Rated) -> None:
    e.ratings.append((d.ticket, d.counter, d.clerk, d.rating, at))


def _intake(e: HallEngine, at: float, d: IntakeSet) -> None:
    queue = _queue(e, d.service)
    if queue is not None:
        queue.intake_open = d.open


def _notice(e: HallEngine, at: float, d: NoticeSet) -> None:
    e.notice = d.text


def _booked(e: HallEngine, at: float, d: AppointmentBooked) -> None:
    """An appointment of the day, or of a later day (booked today: it counts against its
    slot's capacity); one whose hash was erased (a past day) matches nobody."""
    slot_day = d.slot_day or e.local(d.slot).date().isoformat()
    if d.id_hash is None or slot_day < e.day.isoformat() or _queue(e, d.service) is None:
        return
    day = e.appointments if slot_day == e.day.isoformat() else \
        e.later_appointments.setdefault(slot_day, {})
    day[d.id_hash] = Appointment(d.id_hash, d.service, d.slot)


def _day_ended(e: HallEngine, at: float, d: DayEnded) -> None:
    """The day is over: counters close, and whatever a journal of old left open is closed
    as at the close (the engine closes each ticket first, with its reason)."""
    e.layout_changes += 1
    for t in list(e.tickets.values()):
        if t.status is TicketStatus.PENDING_PRINT:
            _void(e, at, t.ticket_id)
        elif t.is_open:
            _close(e, t, TicketStatus.CANCELLED, at)
    for desk in e.desks.values():
        desk.status, desk.since = CounterStatus.CLOSED, at
    e.ended = True


def _help_requested(e: HallEngine, at: float, d: HelpRequested) -> None:
    e.help_requests += 1


def _followed_up(e: HallEngine, at: float, d: AlertFollowedUp) -> None:
    e.followed_up[(d.alert, d.subject)] = d.note


D = TypeVar("D", bound=EventData)
Apply = Callable[["HallEngine", float, EventData], None]


def _on(model: type[D], handler: Callable[[HallEngine, float, D], None]) -> tuple[Kind, Apply]:
    """A table entry: mypy checks that the handler takes its kind's model."""
    return model.kind, cast(Apply, handler)


APPLY: dict[Kind, Apply] = dict([
    _on(TicketIssued, _issued),
    _on(TicketPrinted, _printed),
    _on(TicketVoided, _voided),
    _on(TicketCalled, _called),
    _on(TicketRecalled, _recalled),
    _on(ServiceStarted, _started),
    _on(TicketDone, _done),
    _on(TicketNoShow, _no_show),
    _on(TicketTransferred, _transferred),
    _on(TicketCancelled, _cancelled),
    _on(TicketClosed, _closed),
    _on(CounterStatusSet, _counter_status),
    _on(CounterServicesSet, _counter_services),
    _on(ClerkSignedIn, _signed_in),
    _on(ClerkSignedOut, _signed_out),
    _on(Rated, _rated),
    _on(IntakeSet, _intake),
    _on(NoticeSet, _notice),
    _on(AppointmentBooked, _booked),
    _on(DayEnded, _day_ended),
    _on(HelpRequested, _help_requested),
    _on(AlertFollowedUp, _followed_up),
])
