"""Journal events: the only way the engine's state changes, so replaying them rebuilds it.

Each kind's data is one frozen, strict model; the journal stores it as JSON (``to_json``) and
reads it back validated (``event_from_row``). Fields a journal of old lacks have defaults;
the journal's schema version and its migrations are in hall/journal.py (hall/README.md)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import ClassVar, Final, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, ValidationError

from protocol.messages import AlertKind, Channel, CounterStatus, PauseReason

# The journal's schema (hall/journal.py: its tables and these models), PRAGMA user_version.
SCHEMA_VERSION = 3


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
    TICKET_CLOSED = "ticket_closed"  # still open when the day closed; its reason says why
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


NOT_SERVED: Final = "not_served"  # a TICKET_CLOSED reason: waiting, called or serving
NOT_CONFIRMED: Final = "not_confirmed"  # a TICKET_CLOSED reason: its print never confirmed
CloseReason = Literal["not_served", "not_confirmed"]


class EventData(BaseModel):
    """What every event may carry: ``by``, the staff member on whose behalf a manager's
    device acted (for the record: the fold ignores it)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)
    kind: ClassVar[Kind]

    by: str | None = None


class TicketEvent(EventData):
    """An event about one ticket."""

    ticket: str


class CounterEvent(EventData):
    """An event about one counter."""

    counter: str


class TicketIssued(TicketEvent):
    kind = Kind.TICKET_ISSUED
    service: str
    channel: Channel
    id_hash: str | None  # null once erased (hall/journal.py erase_identities)
    slot: float | None  # an appointment's slot
    pending: bool  # awaits its print's confirmation
    kiosk: str | None = None  # the kiosk printing it (journals of old have none)


class TicketPrinted(TicketEvent):
    kind = Kind.TICKET_PRINTED


class TicketVoided(TicketEvent):
    kind = Kind.TICKET_VOIDED
    reason: str


class TicketCalled(CounterEvent, TicketEvent):
    kind = Kind.TICKET_CALLED


class TicketRecalled(CounterEvent, TicketEvent):
    kind = Kind.TICKET_RECALLED


class ServiceStarted(TicketEvent):
    kind = Kind.SERVICE_STARTED


class TicketDone(TicketEvent):
    kind = Kind.TICKET_DONE


class TicketNoShow(TicketEvent):
    kind = Kind.TICKET_NO_SHOW


class TicketTransferred(TicketEvent):
    kind = Kind.TICKET_TRANSFERRED
    service: str
    counter: str | None  # the counter it is reserved for, if any


class TicketCancelled(TicketEvent):
    kind = Kind.TICKET_CANCELLED


class TicketClosed(TicketEvent):
    kind = Kind.TICKET_CLOSED
    reason: CloseReason = NOT_SERVED


class CounterStatusSet(CounterEvent):
    kind = Kind.COUNTER_STATUS
    status: CounterStatus
    reason: PauseReason | None = None  # a pause's (journals of old have none)


class CounterServicesSet(CounterEvent):
    kind = Kind.COUNTER_SERVICES
    services: tuple[str, ...]  # "*": every service


class ClerkSignedIn(CounterEvent):
    kind = Kind.CLERK_SIGNED_IN
    staff_no: str


class ClerkSignedOut(CounterEvent):
    kind = Kind.CLERK_SIGNED_OUT


class Rated(CounterEvent, TicketEvent):
    kind = Kind.RATED
    clerk: str | None
    rating: int


class IntakeSet(EventData):
    kind = Kind.INTAKE_SET
    service: str
    open: bool


class NoticeSet(EventData):
    kind = Kind.NOTICE_SET
    text: str


class AppointmentBooked(EventData):
    kind = Kind.APPOINTMENT_BOOKED
    id_hash: str | None  # null once erased
    service: str
    slot: float
    slot_day: str | None = None  # YYYY-MM-DD of the slot (None: the slot's local day)


class DayEnded(EventData):
    kind = Kind.DAY_ENDED
    auto: bool = False  # closed by the rules, not the manager (journals of old: absent)


class HelpRequested(EventData):
    kind = Kind.HELP_REQUESTED
    device: str


class AlertFollowedUp(EventData):
    kind = Kind.ALERT_FOLLOWED_UP
    alert: AlertKind
    subject: str
    note: str


MODELS: dict[Kind, type[EventData]] = {model.kind: model for model in (
    TicketIssued, TicketPrinted, TicketVoided, TicketCalled, TicketRecalled, ServiceStarted,
    TicketDone, TicketNoShow, TicketTransferred, TicketCancelled, TicketClosed,
    CounterStatusSet, CounterServicesSet, ClerkSignedIn, ClerkSignedOut, Rated, IntakeSet,
    NoticeSet, AppointmentBooked, DayEnded, HelpRequested, AlertFollowedUp)}


class Event(NamedTuple):
    """One change: its kind, when (epoch seconds) and its data (the kind's model)."""

    kind: Kind
    at: float
    data: EventData

    @classmethod
    def of(cls, at: float, data: EventData) -> Event:
        """The event of ``data`` (its kind is its model's) at ``at``."""
        return cls(data.kind, at, data)


class EventInvalid(ValueError):
    """A stored event that does not match its kind's model (or of no kind known)."""


def event_from_row(seq: int, kind: str, at: float, data: str) -> Event:
    """A stored event, validated; EventInvalid naming its sequence number and kind."""
    try:
        model = MODELS[Kind(kind)]
    except ValueError:
        raise EventInvalid(f"journal event {seq} is of unknown kind {kind!r}") from None
    try:
        return Event(model.kind, at, model.model_validate_json(data))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'data'}: {e['msg']}"
                             for e in exc.errors(include_url=False)[:3])
        raise EventInvalid(f"journal event {seq} ({kind}) does not match its schema: "
                           f"{problems}") from None


Row = tuple[str, float, str]  # kind, at, data: an event as the journal stores it


def to_row(event: Event) -> Row:
    """The event as the journal stores it (``event_from_row`` reads it back)."""
    return event.kind.value, event.at, to_json(event.data)


def to_json(data: EventData) -> str:
    """The JSON the journal stores: the fields, those at their defaults left out (as the
    journals of old left them out)."""
    return json.dumps(data.model_dump(mode="json", exclude_defaults=True))
