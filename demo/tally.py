"""What became of every resident of a demo day, as the simulated devices saw it.

A resident who comes in ends one of three ways: with a ticket, refused by the hall (with the
controller's reason), or gone without a ticket (a kiosk out of service, a failed print). A
ticket is waiting (not yet called), at a window, served, a no-show, or not served (still
open when the day was closed); the five add up to the tickets issued."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from statistics import fmean

from protocol import messages as m

WAITING, AT_WINDOW, SERVED, NO_SHOW, NOT_SERVED = (
    "waiting", "at a window", "served", "no-show", "not served")
FATES = (WAITING, AT_WINDOW, SERVED, NO_SHOW, NOT_SERVED)
OPEN = (WAITING, AT_WINDOW)


@dataclass
class DayTotals:
    """A day's (or several days') closing figures."""

    arrived: int = 0
    fates: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)  # controller's reason -> residents
    left: Counter[str] = field(default_factory=Counter)  # why -> residents
    waits_min: list[float] = field(default_factory=list)
    seq_gaps: int = 0

    @property
    def issued(self) -> int:
        return sum(self.fates.values())

    @property
    def accounted(self) -> int:
        return self.issued + sum(self.refused.values()) + sum(self.left.values())

    def __add__(self, other: DayTotals) -> DayTotals:
        return DayTotals(self.arrived + other.arrived, self.fates + other.fates,
                         self.refused + other.refused, self.left + other.left,
                         self.waits_min + other.waits_min, self.seq_gaps + other.seq_gaps)

    def closing_line(self, title: str) -> str:
        """Every resident accounted for: issued (by fate), refused and left (by reason)."""
        shown = (SERVED, NO_SHOW, NOT_SERVED, *(f for f in OPEN if self.fates[f]))
        fates = ", ".join(f"{self.fates[f]} {f}" for f in shown)
        mean = f"{fmean(self.waits_min):.1f} min" if self.waits_min else "-"
        at_kiosk = self.arrived - self.accounted
        still = f", {at_kiosk} still at a kiosk" if at_kiosk else ""
        return (f"{title}: {self.arrived} residents: {self.issued} issued ({fates}), "
                f"{sum(self.refused.values())} refused{_reasons(self.refused)}, "
                f"{sum(self.left.values())} left without a ticket{_reasons(self.left)}{still}; "
                f"mean wait {mean}; calls in order: "
                f"{'yes' if self.seq_gaps == 0 else f'no ({self.seq_gaps} gaps)'}")


def _reasons(counts: Counter[str]) -> str:
    if not counts:
        return ""
    return " (" + ", ".join(f"{why}: {n}" for why, n in counts.most_common()) + ")"


@dataclass
class Tally:
    """The day in progress: updated by the kiosks, the counters and the lobby display."""

    day: date | None = None
    totals: DayTotals = field(default_factory=DayTotals)
    tickets: dict[str, str] = field(default_factory=dict)  # ticket id -> its fate so far
    issued_at: dict[str, float] = field(default_factory=dict)  # ticket id -> epoch seconds
    alerts: Counter[str] = field(default_factory=Counter)  # alert kind -> how many today
    last_seq: int = 0
    first_ticket: str = ""  # the day's first ticket number, as printed

    def start_day(self, day: date) -> None:
        self.day, self.totals, self.last_seq, self.first_ticket = day, DayTotals(), 0, ""
        self.tickets.clear()
        self.issued_at.clear()
        self.alerts.clear()

    # ------------------------------------------------------------ residents
    def arrive(self) -> None:
        self.totals.arrived += 1

    def refuse(self, reason: str) -> None:
        self.totals.refused[reason] += 1

    def leave(self, reason: str) -> None:
        self.totals.left[reason] += 1

    def numbered(self, number: str) -> None:
        """The hall gave out a ticket number (the resident has it once it is printed)."""
        self.first_ticket = self.first_ticket or number

    def issue(self, ticket: str, issued_at: float) -> None:
        self.tickets[ticket] = WAITING
        self.totals.fates[WAITING] += 1
        self.issued_at[ticket] = issued_at

    def move(self, ticket: str, fate: str) -> None:
        """A ticket's next fate; a ticket the tally never saw issued is left alone."""
        before = self.tickets.get(ticket)
        if before is None or before == fate:
            return
        self.tickets[ticket] = fate
        self.totals.fates[before] -= 1
        self.totals.fates[fate] += 1

    def settle(self) -> int:
        """Close the day: tickets still open are not served; how many there were."""
        still_open = [t for t, fate in self.tickets.items() if fate in OPEN]
        for ticket in still_open:
            self.move(ticket, NOT_SERVED)
        return len(still_open)

    # ------------------------------------------------------------ the lobby display
    def heard_call(self, call: m.CallEvent) -> None:
        """Every call in order, and the wait each first call ended."""
        if self.last_seq and call.seq != self.last_seq + 1:
            self.totals.seq_gaps += 1
        self.last_seq = call.seq
        issued = self.issued_at.get(call.ticket)
        if not call.recall and issued is not None:
            self.totals.waits_min.append((call.at.timestamp() - issued) / 60)

    def heard_alert(self, alert: m.Alert) -> None:
        self.alerts[alert.kind.value] += 1

    # ------------------------------------------------------------ figures
    @property
    def at_kiosk(self) -> int:
        """Residents who came in and have no answer yet."""
        return self.totals.arrived - self.totals.accounted

    @property
    def open_tickets(self) -> int:
        return sum(self.totals.fates[f] for f in OPEN)

    def count(self, fate: str) -> int:
        return self.totals.fates[fate]
