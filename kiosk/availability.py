"""Whether a service takes a ticket now, and whether an appointment can be checked in.

The controller decides in the end; the kiosk works the same answer out from the retained
hall state so that it can grey out a button and say why (今日已满, opening time, last ticket)
before anyone touches it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from protocol.messages import HallState, LookupResult, ServiceInfo, ServiceState


class Intake(StrEnum):
    """Why a service does or does not take a ticket now."""

    OPEN = "open"
    FULL = "full"  # the daily quota is used up
    NOT_YET = "not_yet"  # before opening time
    ENDED = "ended"  # after the service's last-ticket time
    CLOSED_TODAY = "closed_today"
    PAUSED = "paused"  # staff stopped intake
    HELD = "held"  # this resident already holds an open ticket for it


@dataclass(frozen=True, slots=True)
class Availability:
    """A service's intake now, with the time or ticket number that explains it."""

    intake: Intake
    time: str | None = None
    number: str | None = None

    @property
    def open(self) -> bool:
        return self.intake is Intake.OPEN


class Window(StrEnum):
    """Where now falls against an appointment's check-in window."""

    OPEN = "open"
    EARLY = "early"
    LATE = "late"


@dataclass(frozen=True, slots=True)
class AppointmentOffer:
    """Today's appointment of the resident who swiped, as HH:MM local times."""

    service: str
    slot: str
    start: str
    end: str
    window: Window


def local_time(hall: HallState, now: datetime) -> datetime:
    """``now`` on the hall's clock."""
    return now.astimezone(ZoneInfo(hall.timezone))


def service_info(hall: HallState, service: str) -> ServiceInfo | None:
    """The hall's description of one service."""
    return next((s for s in hall.services if s.id == service), None)


def availability(hall: HallState, service: str, state: ServiceState | None, now: datetime,
                 held: dict[str, str] | None = None) -> Availability:
    """Whether ``service`` takes a ticket at ``now``: hours, last ticket, intake, quota, held."""
    info = service_info(hall, service)
    if info is None or hall.open_at is None or hall.close_at is None:
        return Availability(Intake.CLOSED_TODAY)
    hhmm = f"{local_time(hall, now):%H:%M}"
    if hhmm < hall.open_at:
        return Availability(Intake.NOT_YET, time=hall.open_at)
    last = min(hall.close_at, info.last_ticket or hall.close_at)
    if hhmm >= last:
        return Availability(Intake.ENDED, time=last)
    if state is not None and not state.intake_open:
        return Availability(Intake.PAUSED)
    if state is not None and state.quota_left == 0:
        return Availability(Intake.FULL)
    if held and service in held:
        return Availability(Intake.HELD, number=held[service])
    return Availability(Intake.OPEN)


def held_tickets(lookup: LookupResult | None) -> dict[str, str]:
    """Service id -> number of the open tickets a resident holds."""
    if lookup is None:
        return {}
    return {t.service: t.number for t in lookup.open_tickets}


def appointment_offer(hall: HallState, lookup: LookupResult | None,
                      now: datetime) -> AppointmentOffer | None:
    """Today's appointment to check in, and whether now is inside its window."""
    if lookup is None or lookup.appointment_service is None:
        return None
    slot, start, end = (lookup.appointment_slot, lookup.appointment_checkin_from,
                        lookup.appointment_checkin_until)
    if slot is None or start is None or end is None:
        return None
    window = Window.EARLY if now < start else Window.LATE if now > end else Window.OPEN
    return AppointmentOffer(
        service=lookup.appointment_service, slot=_hhmm(hall, slot), start=_hhmm(hall, start),
        end=_hhmm(hall, end), window=window)


def _hhmm(hall: HallState, when: datetime) -> str:
    return f"{local_time(hall, when):%H:%M}"
