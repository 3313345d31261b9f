"""The hall engine: pure, deterministic, clock injected. Every change is an Event; the
engine's state is exactly the fold of the day's events, so the journal rebuilds it."""

from __future__ import annotations

import hashlib
from collections import deque
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from hall.engine.appointments import booked_in, slot_start
from hall.engine.events import (
    NOT_CONFIRMED,
    NOT_SERVED,
    AlertFollowedUp,
    AppointmentBooked,
    ClerkSignedIn,
    ClerkSignedOut,
    CloseReason,
    CounterServicesSet,
    CounterStatusSet,
    DayEnded,
    Event,
    EventData,
    HelpRequested,
    IntakeSet,
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
from hall.engine.fold import APPLY, skills
from hall.engine.model import Appointment, Desk, ServiceQueue, Ticket
from hall.engine.policy import Balance, Policy, make_policy
from hallconfig import HallConfig
from protocol.messages import (
    AlertKind,
    Channel,
    CounterStatus,
    ErrorCode,
    PauseReason,
    TicketStatus,
)

Moment = datetime | float  # an aware datetime, or epoch seconds (virtual time)


def seconds(now: Moment) -> float:
    """Epoch seconds of a moment."""
    return now if isinstance(now, float) else now.timestamp()


class Refused(Exception):
    """A command the hall's rules refuse; ``code`` tells devices why."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class HallEngine:
    """One hall, one business day."""

    def __init__(self, config: HallConfig, day: date, secret: bytes,
                 policy: Policy | None = None) -> None:
        self.config = config
        self.day = day
        self.tz = ZoneInfo(config.hall.timezone)
        self.policy = policy or make_policy(config.rules.policy, config)
        self._token_key = hashlib.sha256(b"ticket tokens:" + secret).digest()
        self.services = {s.id: s for s in config.services}
        self.queues = {s.id: ServiceQueue(s.id) for s in config.services}
        self.desks = {c.id: Desk(c.id, c.name, skills(c.services)) for c in config.counters}
        self.clerks = {c.staff_no: c for c in config.clerks}
        self.tickets: dict[str, Ticket] = {}
        self.tokens: dict[str, Ticket] = {}
        self.open_by_person: dict[tuple[str, str], Ticket] = {}
        self.appointments: dict[str, Appointment] = {}
        self.later_appointments: dict[str, dict[str, Appointment]] = {}  # by ISO day
        self.reserved_lanes: dict[str, dict[str, Ticket]] = {c: {} for c in self.desks}
        self.calls: deque[tuple[int, Ticket, str, bool, float]] = deque(maxlen=20)
        self.ratings: list[tuple[str, str, str | None, int, float]] = []
        self.notice = ""
        self.call_seq = 0
        self.ticket_seq = 0
        self.ended = False
        self.help_requests = 0
        self.followed_up: dict[tuple[str, str], str] = {}  # (alert kind, subject) -> note
        self._new: list[Event] = []
        self._day_prefix = f"{day:%Y%m%d}-"
        self.layout_changes = 0  # bumped when a counter opens, closes, changes services or clerk
        self.tickets_changes = 0  # bumped when a ticket is issued or voided
        self._balance: tuple[tuple[int, int], Balance] | None = None
        self._open_kinds: tuple[int, tuple[frozenset[str] | None, ...]] = (-1, ())
        self._services = tuple(self.queues)
        self.projection_memo: object = None  # projection.py's, kept while nothing it uses changes
        hours = config.hours.for_day(day)
        self.open_at = self._at(hours[0]) if hours else None
        self.close_at = self._at(hours[1]) if hours else None

    def __getstate__(self) -> dict[str, Any]:
        """A copy (the what-if's) recomputes the policy's constants when it needs them."""
        return {**self.__dict__, "_balance": None, "projection_memo": None}

    # ------------------------------------------------------------ events
    def take_events(self) -> list[Event]:
        """The events emitted since the last call, in order: what the journal must commit."""
        new, self._new = self._new, []
        return new

    def _emit(self, at: float, data: EventData) -> None:
        APPLY[data.kind](self, at, data)
        self._new.append(Event(data.kind, at, data))

    def apply(self, event: Event) -> None:
        """Fold one event into the state (also used to replay the journal); who acted
        (``by``, a manager's staff member) is for the record and changes nothing."""
        APPLY[event.kind](self, event.at, event.data)

    # ------------------------------------------------------------ queue view (for policies)
    def balance(self) -> Balance:
        """The policy's constants for the hall now, recomputed only after a change they
        depend on (a counter's status, services or clerk, a ticket issued or voided)."""
        stamp = (self.layout_changes, self.tickets_changes)
        if self._balance is None or self._balance[0] != stamp:
            if self._open_kinds[0] != self.layout_changes:
                self._open_kinds = (self.layout_changes, tuple(
                    [d.services for d in self.desks.values() if self.can_call(d)]))
            issued = tuple([q.issued for q in self.queues.values()])
            self._balance = (stamp, self.policy.balance(self._open_kinds[1], self._services,
                                                        issued))
        return self._balance[1]

    def can_call(self, desk: Desk) -> bool:
        """An open counter with a clerk signed in (or in a hall that does not ask for one):
        the windows the policy balances and the projection counts."""
        return desk.status is CounterStatus.OPEN and (
            desk.clerk is not None or not self.config.rules.sign_in_required)

    def lane_heads(self, skills: frozenset[str] | None) -> list[Ticket]:
        return [next(iter(tickets.values()))
                for service, queue in self.queues.items()
                if queue.size and (skills is None or service in skills)
                for tickets in queue.lanes.values() if tickets]

    def reserved(self, counter_id: str) -> Ticket | None:
        lane = self.reserved_lanes[counter_id]
        return next(iter(lane.values())) if lane else None

    def waiting(self, service: str) -> int:
        return self.queues[service].waiting

    # ------------------------------------------------------------ helpers
    def _at(self, local: time) -> float:
        return datetime.combine(self.day, local, self.tz).timestamp()

    def token_for(self, ticket_id: str) -> str:
        """The status page's token: a 120-bit keyed BLAKE2b MAC of the ticket id (unguessable)."""
        return hashlib.blake2b(ticket_id.encode(), key=self._token_key, digest_size=15,
                               person=b"ticket").hexdigest()

    def ticket(self, ticket_id: str) -> Ticket:
        try:
            return self.tickets[ticket_id]
        except KeyError:
            raise Refused(ErrorCode.UNKNOWN_TICKET, f"no ticket {ticket_id} today") from None

    def desk(self, counter_id: str | None) -> Desk:
        if counter_id is None or counter_id not in self.desks:
            raise Refused(ErrorCode.UNKNOWN_COUNTER, f"no counter {counter_id!r} in this hall")
        return self.desks[counter_id]

    def _service(self, service: str) -> ServiceQueue:
        if service not in self.queues:
            raise Refused(ErrorCode.UNKNOWN_SERVICE, f"no service {service!r} in this hall")
        return self.queues[service]

    def local(self, t: float) -> datetime:
        return datetime.fromtimestamp(t, self.tz)

    # ------------------------------------------------------------ intake
    def check_intake(self, service: str, t: float) -> ServiceQueue:
        """Refuse when the service takes no tickets now: hours, intake, quota."""
        queue = self._service(service)
        spec = self.services[service]
        if self.ended or self.open_at is None or self.close_at is None:
            raise Refused(ErrorCode.CLOSED, "the hall is closed today")
        if t < self.open_at:
            raise Refused(ErrorCode.CLOSED, f"tickets from {self.local(self.open_at):%H:%M}")
        last = self.close_at
        if spec.last_ticket:
            last = min(last, self._at(time.fromisoformat(spec.last_ticket)))
        if t >= last:
            raise Refused(ErrorCode.CLOSED,
                          f"no more tickets today (last at {self.local(last):%H:%M})")
        if not queue.intake_open:
            raise Refused(ErrorCode.CLOSED, f"service {service} takes no tickets now")
        if spec.daily_quota is not None and queue.issued >= spec.daily_quota:
            raise Refused(ErrorCode.QUOTA_EXHAUSTED, f"service {service}: today's quota is used up")
        return queue

    def issue(self, now: Moment, service: str, id_hash: str | None = None, green: bool = False,
              appointment: bool = False, pending_print: bool = True,
              kiosk: str | None = None) -> Ticket:
        """A new ticket, committed as pending its print when a kiosk will print it (only
        that kiosk may then confirm or void the print)."""
        t = seconds(now)
        queue = self.check_intake(service, t)
        if id_hash is not None and (id_hash, service) in self.open_by_person:
            held = self.open_by_person[(id_hash, service)]
            raise Refused(ErrorCode.ALREADY_HOLDS, f"this person already holds {held.number}")
        slot = None
        if appointment:
            slot = self._checkin_slot(id_hash, service, t)
        channel = Channel.GREEN if green else Channel.NORMAL
        if appointment:
            channel = Channel.APPOINTMENT
        ticket_id = f"{self._day_prefix}{service}{queue.last_number + 1:03d}"
        self._emit(t, TicketIssued(ticket=ticket_id, service=service, channel=channel,
                                   id_hash=id_hash, slot=slot, pending=pending_print,
                                   kiosk=kiosk))
        return self.tickets[ticket_id]

    def _checkin_slot(self, id_hash: str | None, service: str, t: float) -> float:
        booking = self.appointments.get(id_hash or "")
        if booking is None or booking.service != service:
            raise Refused(ErrorCode.NO_APPOINTMENT, f"no appointment for service {service} today")
        if booking.checked_in:
            raise Refused(ErrorCode.ALREADY_HOLDS, "this appointment is already checked in")
        early = booking.slot - self.config.rules.appointment_early_min * 60
        late = booking.slot + self.config.rules.appointment_late_min * 60
        if not early <= t <= late:
            raise Refused(ErrorCode.OUTSIDE_WINDOW, f"check in between {self.local(early):%H:%M} "
                          f"and {self.local(late):%H:%M}")
        return booking.slot

    def _printing(self, ticket_id: str, kiosk: str | None) -> Ticket:
        """A ticket awaiting its print, asked about by the kiosk printing it."""
        ticket = self.ticket(ticket_id)
        if kiosk is not None and ticket.kiosk not in (None, kiosk):
            raise Refused(ErrorCode.FORBIDDEN, f"{ticket.number} is printed by another kiosk")
        if ticket.status is not TicketStatus.PENDING_PRINT:
            raise Refused(ErrorCode.INVALID_STATE, f"{ticket.number} is {ticket.status.value}")
        return ticket

    def printed(self, now: Moment, ticket_id: str, kiosk: str | None = None) -> Ticket:
        ticket = self._printing(ticket_id, kiosk)
        self._emit(seconds(now), TicketPrinted(ticket=ticket_id))
        return ticket

    def void(self, now: Moment, ticket_id: str, reason: str, kiosk: str | None = None) -> Ticket:
        ticket = self._printing(ticket_id, kiosk)
        self._emit(seconds(now), TicketVoided(ticket=ticket_id, reason=reason))
        return ticket

    def tick(self, now: Moment) -> None:
        """Let time pass: close the day once it is due (``closes_at``), as at that moment
        (a tick after a restart, or the day's rollover, closes it as it should have been);
        else void tickets whose print was never confirmed."""
        t = seconds(now)
        due = self.closes_at()
        if due is not None and t >= due:
            self._close_day(due, auto=True)
            return
        limit = self.config.rules.pending_print_s
        for ticket in list(self.tickets.values()):
            if ticket.status is TicketStatus.PENDING_PRINT and t - ticket.issued_at > limit:
                self._emit(t, TicketVoided(ticket=ticket.ticket_id,
                                           reason="print not confirmed in time"))

    def closes_at(self) -> float | None:
        """When the day closes itself, as things stand (None: it has ended, or the hall does
        not open today): ``close_idle_min`` after closing time or after the last counter
        went idle, whichever is later, while no counter holds a ticket; at the latest
        ``close_grace_min`` after closing time."""
        if self.ended or self.close_at is None:
            return None
        rules = self.config.rules
        latest = self.close_at + rules.close_grace_min * 60
        if any(d.ticket is not None for d in self.desks.values()):
            return latest
        idle = max([self.close_at, *[d.since for d in self.desks.values() if d.since]])
        return min(latest, idle + rules.close_idle_min * 60)

    def _close_day(self, t: float, auto: bool) -> None:
        """Close every open ticket with its reason (journaled one by one), then the day."""
        for ticket in list(self.tickets.values()):
            if ticket.is_open:
                reason: CloseReason = NOT_CONFIRMED if ticket.status is TicketStatus.PENDING_PRINT \
                    else NOT_SERVED
                self._emit(t, TicketClosed(ticket=ticket.ticket_id, reason=reason))
        self._emit(t, DayEnded(auto=auto))

    def book(self, now: Moment, id_hash: str, service: str, slot: datetime) -> None:
        """Book a slot (today or later); a new booking replaces the person's old one that day.
        ``id_hash`` is the booking system's, keyed for the slot's day (protocol/identity.py),
        so it matches the card swiped on that day; it is journaled under that day."""
        self._service(service)
        if slot.date() < self.day:
            raise Refused(ErrorCode.INVALID_STATE, "that slot is in the past")
        held = self.appointments.get(id_hash)
        if slot.date() == self.day and held is not None and held.checked_in:
            raise Refused(ErrorCode.ALREADY_HOLDS, "today's appointment is already checked in")
        self._check_room(id_hash, service, slot)
        self._emit(seconds(now), AppointmentBooked(
            id_hash=id_hash, service=service, slot=slot.timestamp(),
            slot_day=slot.date().isoformat()))

    def _check_room(self, id_hash: str, service: str, slot: datetime) -> None:
        """Refuse a slot holding as many bookings as it takes (the person's own booking
        that day, which the new one replaces, is not counted)."""
        capacity = self.services[service].appointment_capacity
        if capacity is None:
            return
        start = slot_start(self, service, slot.timestamp())
        if booked_in(self, service, slot.date().isoformat(), start, id_hash) >= capacity:
            raise Refused(ErrorCode.SLOT_FULL, f"service {service}: the slot of "
                          f"{self.local(start):%Y-%m-%d %H:%M} is full ({capacity} bookings)")

    # ------------------------------------------------------------ counters
    def call_next(self, now: Moment, counter_id: str) -> Ticket | None:
        """Finish the ticket in hand, then call the one the policy picks (None: nobody)."""
        desk = self.desk(counter_id)
        if not desk.available:
            raise Refused(ErrorCode.INVALID_STATE, f"counter {counter_id} is {desk.status.value}")
        if desk.clerk is None and self.config.rules.sign_in_required:
            raise Refused(ErrorCode.SIGN_IN_REQUIRED,
                          f"counter {counter_id}: a clerk must sign in before calling")
        t = seconds(now)
        ticket = self.policy.pick(desk, self, t, self.balance())
        if ticket is None and desk.ticket is None:
            raise Refused(ErrorCode.NOTHING_WAITING, "nobody is waiting for this counter")
        if desk.ticket is not None:
            self._emit(t, TicketDone(ticket=desk.ticket.ticket_id))
        if ticket is not None:
            self._emit(t, TicketCalled(ticket=ticket.ticket_id, counter=counter_id))
        return ticket

    def _in_hand(self, counter_id: str | None, *allowed: TicketStatus) -> Ticket:
        desk = self.desk(counter_id)
        if desk.ticket is None or desk.ticket.status not in allowed:
            raise Refused(ErrorCode.INVALID_STATE, f"counter {counter_id} has no ticket to do that")
        return desk.ticket

    def recall(self, now: Moment, counter_id: str) -> Ticket:
        ticket = self._in_hand(counter_id, TicketStatus.CALLED)
        if ticket.recalls >= self.config.rules.recall_limit:
            raise Refused(ErrorCode.LIMIT_REACHED, f"{ticket.number} was recalled "
                          f"{ticket.recalls} times already")
        self._emit(seconds(now), TicketRecalled(ticket=ticket.ticket_id, counter=counter_id))
        return ticket

    def no_show(self, now: Moment, counter_id: str) -> Ticket:
        ticket = self._in_hand(counter_id, TicketStatus.CALLED)
        self._emit(seconds(now), TicketNoShow(ticket=ticket.ticket_id))
        return ticket

    def start(self, now: Moment, counter_id: str) -> Ticket:
        ticket = self._in_hand(counter_id, TicketStatus.CALLED)
        self._emit(seconds(now), ServiceStarted(ticket=ticket.ticket_id))
        return ticket

    def done(self, now: Moment, counter_id: str) -> Ticket:
        ticket = self._in_hand(counter_id, TicketStatus.CALLED, TicketStatus.SERVING)
        self._emit(seconds(now), TicketDone(ticket=ticket.ticket_id))
        return ticket

    def transfer(self, now: Moment, counter_id: str, to_service: str | None,
                 to_counter: str | None) -> Ticket:
        ticket = self._in_hand(counter_id, TicketStatus.CALLED, TicketStatus.SERVING)
        return self._move(now, ticket, to_service or ticket.service, to_counter)

    def move(self, now: Moment, ticket_id: str, to_service: str) -> Ticket:
        ticket = self.ticket(ticket_id)
        if ticket.status is not TicketStatus.WAITING:
            raise Refused(ErrorCode.INVALID_STATE, f"{ticket.number} is {ticket.status.value}")
        return self._move(now, ticket, to_service, None)

    def _move(self, now: Moment, ticket: Ticket, service: str, counter: str | None) -> Ticket:
        self._service(service)
        if counter is not None:
            desk = self.desk(counter)
            if not desk.serves(service):
                raise Refused(ErrorCode.INVALID_STATE,
                              f"counter {counter} does not serve {service}")
        self._emit(seconds(now), TicketTransferred(ticket=ticket.ticket_id, service=service,
                                                   counter=counter))
        return ticket

    def cancel(self, now: Moment, ticket_id: str) -> Ticket:
        ticket = self.ticket(ticket_id)
        if not ticket.is_open:
            raise Refused(ErrorCode.INVALID_STATE, f"{ticket.number} is {ticket.status.value}")
        self._emit(seconds(now), TicketCancelled(ticket=ticket_id))
        return ticket

    def set_counter_status(self, now: Moment, counter_id: str, status: CounterStatus,
                           reason: PauseReason | None = None) -> Desk:
        """Open, pause (with a reason) or close a window; a pause with another reason is
        recorded too (lunch became a meeting)."""
        desk = self.desk(counter_id)
        if status is CounterStatus.PAUSED and desk.status is status \
                and reason != desk.pause_reason:
            self._emit(seconds(now), CounterStatusSet(counter=counter_id, status=status,
                                                      reason=reason))
        elif desk.status is not status:
            paused = status is CounterStatus.PAUSED
            self._emit(seconds(now), CounterStatusSet(counter=counter_id, status=status,
                                                      reason=reason if paused else None))
        return desk

    def set_counter_services(self, now: Moment, counter_id: str, services: list[str]) -> Desk:
        desk = self.desk(counter_id)
        for service in services:
            if service != "*":
                self._service(service)
        self._emit(seconds(now), CounterServicesSet(counter=counter_id,
                                                    services=tuple(sorted(set(services)))))
        return desk

    def sign_in(self, now: Moment, counter_id: str, staff_no: str) -> Desk:
        """Sign a clerk in whose credentials were checked before (hall/signin.py)."""
        desk = self.desk(counter_id)
        if staff_no not in self.clerks:
            raise Refused(ErrorCode.BAD_CREDENTIALS, f"no clerk {staff_no!r} in this hall")
        self._emit(seconds(now), ClerkSignedIn(counter=counter_id, staff_no=staff_no))
        return desk

    def sign_out(self, now: Moment, counter_id: str) -> Desk:
        desk = self.desk(counter_id)
        if desk.clerk is not None:
            self._emit(seconds(now), ClerkSignedOut(counter=counter_id))
        return desk

    def evaluate(self, now: Moment, counter_id: str, rating: int,
                 ticket_id: str | None) -> Ticket:
        desk = self.desk(counter_id)
        ticket = self.ticket(ticket_id) if ticket_id else (desk.ticket or desk.last_finished)
        if ticket is None or ticket.counter != counter_id:
            raise Refused(ErrorCode.INVALID_STATE, f"counter {counter_id} has no ticket to rate")
        if any(r[0] == ticket.ticket_id for r in self.ratings):
            raise Refused(ErrorCode.INVALID_STATE, f"{ticket.number} was already rated")
        self._emit(seconds(now), Rated(ticket=ticket.ticket_id, counter=counter_id,
                                       clerk=desk.clerk, rating=int(rating)))
        return ticket

    def set_intake(self, now: Moment, service: str, open_: bool) -> None:
        self._service(service)
        self._emit(seconds(now), IntakeSet(service=service, open=open_))

    def set_notice(self, now: Moment, text: str) -> None:
        self._emit(seconds(now), NoticeSet(text=text))

    def request_help(self, now: Moment, device: str) -> None:
        """A resident at ``device`` asks for staff (counted, and an alert for the manager)."""
        self._emit(seconds(now), HelpRequested(device=device))

    def follow_up(self, now: Moment, kind: AlertKind, subject: str, note: str) -> None:
        """Record that the manager dealt with an alert (kept for reports and restarts)."""
        self._emit(seconds(now), AlertFollowedUp(alert=kind, subject=subject, note=note))

    def end_day(self, now: Moment) -> None:
        """The manager ends the day (early, or again: then nothing changes); tickets still
        open are closed as the day's own close would."""
        if not self.ended:
            self._close_day(seconds(now), auto=False)
