"""Appointments: each service's slots and what they take, and today's bookings with their
status. Pure queries of the engine's state (the fold of the journal), nothing personal in
what they return: the web service reads them from its replica.

A service's slots are ``appointment_slot_min`` long, counted from midnight (hall time): a
booking for 10:20 with 30-minute slots is in the 10:00 slot. ``appointment_capacity`` is
how many bookings one slot takes (none: no limit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from hall.engine.model import Appointment

if TYPE_CHECKING:
    from hall.engine.engine import HallEngine


class AppointmentStatus(StrEnum):
    BOOKED = "booked"  # its slot has not begun
    CHECKED_IN = "checked_in"  # a ticket was issued for it
    LATE = "late"  # its slot has begun, check-in is still open
    MISSED = "missed"  # check-in closed without it


@dataclass(frozen=True, slots=True)
class SlotLoad:
    """One slot of a service: when it starts (epoch seconds), what it takes, what it holds."""

    service: str
    start: float
    capacity: int | None
    booked: int

    @property
    def free(self) -> int | None:
        """Bookings it still takes (None: no limit)."""
        return None if self.capacity is None else max(0, self.capacity - self.booked)


@dataclass(frozen=True, slots=True)
class BookingRow:
    """A booking of today as staff see it: no hash, nothing that names the resident."""

    service: str
    slot: float
    status: AppointmentStatus
    ticket: str | None  # the ticket it checked in with


def slot_start(engine: HallEngine, service: str, t: float) -> float:
    """The start of the service's slot that holds the moment ``t``."""
    length = engine.services[service].appointment_slot_min
    local = datetime.fromtimestamp(t, engine.tz)
    minutes = local.hour * 60 + local.minute
    minutes -= minutes % length
    return local.replace(hour=minutes // 60, minute=minutes % 60, second=0,
                         microsecond=0).timestamp()


def bookings_on(engine: HallEngine, day: str) -> dict[str, Appointment]:
    """The bookings the engine holds for ``day`` (ISO), by keyed hash."""
    if day == engine.day.isoformat():
        return engine.appointments
    return engine.later_appointments.get(day, {})


def booked_in(engine: HallEngine, service: str, day: str, start: float,
              besides: str | None = None) -> int:
    """Bookings in the service's slot starting at ``start`` on ``day``, but ``besides``'s."""
    return sum(1 for a in bookings_on(engine, day).values()
               if a.service == service and a.id_hash != besides
               and slot_start(engine, service, a.slot) == start)


def slot_loads(engine: HallEngine, service: str) -> list[SlotLoad]:
    """Today's slots of a service while it takes tickets (opening to its last ticket)."""
    if engine.open_at is None or engine.close_at is None:
        return []
    spec = engine.services[service]
    last = engine.close_at
    if spec.last_ticket:
        last = min(last, datetime.combine(engine.day, time.fromisoformat(spec.last_ticket),
                                          engine.tz).timestamp())
    counts: dict[float, int] = {}
    for booking in engine.appointments.values():
        if booking.service == service:
            start = slot_start(engine, service, booking.slot)
            counts[start] = counts.get(start, 0) + 1
    loads = []
    local = datetime.fromtimestamp(slot_start(engine, service, engine.open_at), engine.tz)
    while local.timestamp() < last:
        start = local.timestamp()
        loads.append(SlotLoad(service, start, spec.appointment_capacity, counts.get(start, 0)))
        local += timedelta(minutes=spec.appointment_slot_min)
    return loads


def status_of(engine: HallEngine, booking: Appointment, now: float) -> AppointmentStatus:
    """Where a booking of today stands at ``now``."""
    if booking.checked_in is not None:
        return AppointmentStatus.CHECKED_IN
    if now <= booking.slot:
        return AppointmentStatus.BOOKED
    if now <= booking.slot + engine.config.rules.appointment_late_min * 60:
        return AppointmentStatus.LATE
    return AppointmentStatus.MISSED


def todays_bookings(engine: HallEngine, now: float) -> list[BookingRow]:
    """Today's bookings in slot order, each with its status at ``now``."""
    return [BookingRow(b.service, b.slot, status_of(engine, b, now), b.checked_in)
            for b in sorted(engine.appointments.values(), key=lambda b: (b.slot, b.service))]
