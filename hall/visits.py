"""One business day's tickets as the journal tells them: its events folded into visits, each
with its legs at counters. Nothing personal is kept.

Waiting is from issue to the first call, or to the day's close for a ticket still waiting
then (not served: the longest waits of a day that ran out of time count too); service time is
from the start (or the call, when no start was pressed) to the end of each leg at a counter,
so a transferred ticket counts a leg at each counter that handled it.

A window's pause runs from its pause to its next status (open, closed, or a pause for another
reason, which starts a new pause) or to the day's close; one still open in a day not closed
(the writer's) runs to the day's last event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar, cast

from hall.engine.events import (
    NOT_CONFIRMED,
    NOT_SERVED,
    ClerkSignedIn,
    ClerkSignedOut,
    CounterStatusSet,
    DayEnded,
    Event,
    EventData,
    Kind,
    Rated,
    ServiceStarted,
    TicketCalled,
    TicketCancelled,
    TicketClosed,
    TicketDone,
    TicketEvent,
    TicketIssued,
    TicketNoShow,
    TicketPrinted,
    TicketTransferred,
    TicketVoided,
)
from protocol.messages import CounterStatus

OPEN = ("pending_print", "waiting", "called", "serving")


@dataclass(slots=True)
class Leg:
    """One stay of a ticket at a counter: called, perhaps started, then ended somehow."""

    counter: str
    clerk: str | None
    service: str
    called_at: float
    started_at: float | None = None
    ended_at: float | None = None
    outcome: str | None = None  # done, no_show, transferred, cancelled, not_served

    @property
    def service_s(self) -> float | None:
        """Time at the counter, for a leg that was actually handled (done or passed on)."""
        if self.ended_at is None or self.outcome not in ("done", "transferred"):
            return None
        return max(0.0, self.ended_at - (self.started_at or self.called_at))


@dataclass(slots=True)
class Visit:
    """One ticket's day as the journal tells it; nothing personal."""

    day: str
    ticket: str
    number: str
    service: str  # at issue
    channel: str
    issued_at: float
    status: str
    final_service: str
    called_at: float | None = None  # first call
    finished_at: float | None = None
    rating: int | None = None
    rated_clerk: str | None = None
    legs: list[Leg] = field(default_factory=list)

    @property
    def wait_s(self) -> float | None:
        """Issue to first call; to the close for one never called before the day closed."""
        end = self.called_at
        if end is None and self.status == NOT_SERVED:
            end = self.finished_at
        return None if end is None else max(0.0, end - self.issued_at)

    @property
    def counted(self) -> bool:
        """A ticket that reached the resident (a voided one never did)."""
        return self.status != "void"


@dataclass(slots=True)
class Pause:
    """One pause of a window, for one reason (None: journals of old)."""

    counter: str
    reason: str | None
    began: float
    ended: float | None = None  # None: still paused

    def seconds(self, until: float) -> float:
        """Its length, ``until`` then if it is still paused."""
        return max(0.0, (until if self.ended is None else self.ended) - self.began)


class DayFold:
    """The fold of one day's events into visits and pauses, event by event (memory: one
    day's tickets)."""

    def __init__(self, day: str) -> None:
        self.day = day
        self.visits: dict[str, Visit] = {}
        self.clerk_at: dict[str, str | None] = {}
        self.pauses: list[Pause] = []
        self.paused: dict[str, Pause] = {}  # the windows paused now
        self.last_at = 0.0  # the latest event's time
        self.touched: set[str] = set()  # tickets whose visits events reached since taken

    def apply(self, event: Event) -> None:
        if event.at > self.last_at:
            self.last_at = event.at
        handler = _FOLD.get(event.kind)
        if handler is not None:
            handler(self, event.at, event.data)

    def visit(self, data: TicketEvent) -> Visit | None:
        """The ticket's visit, if issued this day (then marked touched)."""
        visit = self.visits.get(data.ticket)
        if visit is not None:
            self.touched.add(data.ticket)
        return visit

    def take_touched(self) -> set[str]:
        """The tickets touched since the last call."""
        touched, self.touched = self.touched, set()
        return touched

    def close_leg(self, visit: Visit, at: float, outcome: str) -> None:
        if visit.legs and visit.legs[-1].ended_at is None:
            visit.legs[-1].ended_at, visit.legs[-1].outcome = at, outcome


def _issued(d: DayFold, at: float, data: TicketIssued) -> None:
    ticket = data.ticket
    d.touched.add(ticket)
    d.visits[ticket] = Visit(
        d.day, ticket, ticket.split("-", 1)[-1], data.service, data.channel.value, at,
        "pending_print" if data.pending else "waiting", data.service)


def _status(status: str, outcome: str | None = None) -> Callable[[DayFold, float, TicketEvent],
                                                                   None]:
    def fold(d: DayFold, at: float, data: TicketEvent) -> None:
        visit = d.visit(data)
        if visit is None:
            return
        visit.status = status
        if outcome is not None:
            d.close_leg(visit, at, outcome)
            visit.finished_at = at
    return fold


def _called(d: DayFold, at: float, data: TicketCalled) -> None:
    visit = d.visit(data)
    if visit is None:
        return
    counter = data.counter
    visit.status = "called"
    visit.called_at = visit.called_at if visit.called_at is not None else at
    visit.legs.append(Leg(counter, d.clerk_at.get(counter), visit.final_service, at))


def _started(d: DayFold, at: float, data: ServiceStarted) -> None:
    visit = d.visit(data)
    if visit is not None:
        visit.status = "serving"
        if visit.legs:
            visit.legs[-1].started_at = at


def _transferred(d: DayFold, at: float, data: TicketTransferred) -> None:
    visit = d.visit(data)
    if visit is not None:
        d.close_leg(visit, at, "transferred")
        visit.status, visit.final_service = "waiting", data.service


def _signed_in(d: DayFold, at: float, data: ClerkSignedIn) -> None:
    for counter, clerk in list(d.clerk_at.items()):
        if clerk == data.staff_no:
            d.clerk_at[counter] = None
    d.clerk_at[data.counter] = data.staff_no


def _signed_out(d: DayFold, at: float, data: ClerkSignedOut) -> None:
    d.clerk_at[data.counter] = None


def _counter_status(d: DayFold, at: float, data: CounterStatusSet) -> None:
    _resume(d, data.counter, at)
    if data.status is CounterStatus.PAUSED:
        pause = d.paused[data.counter] = Pause(data.counter, data.reason, at)
        d.pauses.append(pause)


def _resume(d: DayFold, counter: str, at: float) -> None:
    pause = d.paused.pop(counter, None)
    if pause is not None:
        pause.ended = at


def _rated(d: DayFold, at: float, data: Rated) -> None:
    visit = d.visit(data)
    if visit is not None:
        visit.rating, visit.rated_clerk = data.rating, data.clerk


def _end(visit: Visit, d: DayFold, at: float, reason: str) -> None:
    """A ticket still open when the day closed: void if never printed, else not served."""
    if visit.status in OPEN:
        status = "void" if reason == NOT_CONFIRMED or visit.status == "pending_print" \
            else NOT_SERVED
        visit.status, visit.finished_at = status, at
        d.close_leg(visit, at, NOT_SERVED)


def _closed(d: DayFold, at: float, data: TicketClosed) -> None:
    visit = d.visit(data)
    if visit is not None:
        _end(visit, d, at, data.reason)


def _day_ended(d: DayFold, at: float, data: DayEnded) -> None:
    """Windows still paused stop; journals written before tickets were closed one by one
    left them to this event."""
    for counter in list(d.paused):
        _resume(d, counter, at)
    d.touched.update(d.visits)
    for visit in d.visits.values():
        _end(visit, d, at, NOT_SERVED)


D = TypeVar("D", bound=EventData)
Fold = Callable[[DayFold, float, EventData], None]


def _on(model: type[D], fold: Callable[[DayFold, float, D], None]) -> tuple[Kind, Fold]:
    """A table entry: mypy checks that the fold takes its kind's model."""
    return model.kind, cast(Fold, fold)


_FOLD: dict[Kind, Fold] = dict([
    _on(TicketIssued, _issued),
    _on(TicketPrinted, _status("waiting")),
    _on(TicketVoided, _status("void", "cancelled")),
    _on(TicketCalled, _called),
    _on(ServiceStarted, _started),
    _on(TicketDone, _status("done", "done")),
    _on(TicketNoShow, _status("no_show", "no_show")),
    _on(TicketTransferred, _transferred),
    _on(TicketCancelled, _status("cancelled", "cancelled")),
    _on(TicketClosed, _closed),
    _on(CounterStatusSet, _counter_status),
    _on(ClerkSignedIn, _signed_in),
    _on(ClerkSignedOut, _signed_out),
    _on(Rated, _rated),
    _on(DayEnded, _day_ended),
])
