"""Journal events: the only way the engine's state changes, so replaying them rebuilds it."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, NamedTuple


class Kind(StrEnum):
    TICKET_ISSUED = "ticket_issued"
    TICKET_PRINTED = "ticket_printed"
    TICKET_VOIDED = "ticket_voided"
    TICKET_CALLED = "ticket_called"
    TICKET_RECALLED = "ticket_recalled"
    SERVICE_STARTED = "service_started"
    TICKET_DONE = "ticket_done"
    TICKET_NO_SHOW = "ticket_no_show"
    TICKET_TRANSFERRED = "ticket_transferred"
    TICKET_CANCELLED = "ticket_cancelled"
    TICKET_CLOSED = "ticket_closed"  # still open when the day closed; data["reason"] says why
    COUNTER_STATUS = "counter_status"
    COUNTER_SERVICES = "counter_services"
    CLERK_SIGNED_IN = "clerk_signed_in"
    CLERK_SIGNED_OUT = "clerk_signed_out"
    RATED = "rated"
    INTAKE_SET = "intake_set"
    NOTICE_SET = "notice_set"
    APPOINTMENT_BOOKED = "appointment_booked"
    DAY_ENDED = "day_ended"
    HELP_REQUESTED = "help_requested"
    ALERT_FOLLOWED_UP = "alert_followed_up"


class Event(NamedTuple):
    """One change: its kind, when (epoch seconds) and its data (JSON-serialisable)."""

    kind: Kind
    at: float
    data: dict[str, Any]


BY = "by"  # in any event's data: the staff member on whose behalf a manager's device acted
NOT_SERVED = "not_served"  # a TICKET_CLOSED reason: waiting, called or serving at the close
NOT_CONFIRMED = "not_confirmed"  # a TICKET_CLOSED reason: its print was never confirmed
