"""What the kiosk tells a resident when no ticket comes out, and why, in both languages.

A refusal code from the controller (protocol.messages.ErrorCode) or the kiosk's own view
of a service's intake becomes a `Notice`: a title and a body from kiosk.texts, the values
to fill in (times, a ticket number), and whether "back" returns to the service list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from kiosk.availability import (
    Availability,
    Intake,
    appointment_offer,
    availability,
    held_tickets,
)
from protocol.messages import ErrorCode, HallState, LookupResult, ServiceState


@dataclass(frozen=True)
class Notice:
    """A message screen: text keys, the values they need, the service they are about."""

    title: str
    body: str
    values: dict[str, str] = field(default_factory=dict)
    service: str | None = None
    back: bool = False  # "back" returns to the service list


def simple_notice(stem: str) -> Notice:
    """A notice whose title and body need no values (e.g. card_unreadable, no_answer)."""
    return Notice(f"{stem}.title", f"{stem}.body")


def availability_notice(service: str, found: Availability) -> Notice:
    """Why a service the resident touched takes no ticket now."""
    values = {"time": found.time or "", "number": found.number or ""}
    stem = {
        Intake.FULL: "quota_exhausted",
        Intake.NOT_YET: "closed_not_yet",
        Intake.ENDED: "closed_ended",
        Intake.CLOSED_TODAY: "closed_today",
        Intake.PAUSED: "closed_paused",
        Intake.HELD: "already_holds",
    }.get(found.intake, "refused")
    return Notice(f"{stem}.title", f"{stem}.body", values, service, back=True)


def notice_for_refusal(code: str, hall: HallState, service: str, state: ServiceState | None,
                       lookup: LookupResult | None, now: datetime) -> Notice:
    """The notice for the controller's refusal ``code`` of a ticket for ``service``."""
    if code == ErrorCode.CLOSED:
        found = availability(hall, service, state, now)
        if found.intake in (Intake.NOT_YET, Intake.ENDED, Intake.CLOSED_TODAY):
            return availability_notice(service, found)
        return availability_notice(service, Availability(Intake.PAUSED))
    if code == ErrorCode.QUOTA_EXHAUSTED:
        return availability_notice(service, Availability(Intake.FULL))
    if code == ErrorCode.ALREADY_HOLDS:
        number = held_tickets(lookup).get(service)
        if number is None:
            return Notice("already_holds.title", "already_holds_any.body", {}, service, back=True)
        return availability_notice(service, Availability(Intake.HELD, number=number))
    if code == ErrorCode.NO_APPOINTMENT:
        return Notice("no_appointment.title", "no_appointment.body", {}, service, back=True)
    if code == ErrorCode.OUTSIDE_WINDOW:
        offer = appointment_offer(hall, lookup, now)
        if offer is None:
            return Notice("outside_window.title", "outside_window_any.body", {}, service,
                          back=True)
        return Notice("outside_window.title", "outside_window.body",
                      {"start": offer.start, "end": offer.end}, service, back=True)
    return Notice("refused.title", "refused.body", {}, service, back=True)
