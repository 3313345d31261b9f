"""The manager's reports: the journal's events replayed per day into visits, then tables per
service, counter, clerk and hour of the day, and their CSV export.

Pure functions: events in, tables out. Waiting is from issue to the first call, or to the
day's close for a ticket still waiting then (not served: the longest waits of a day that ran
out of time count too); service time is from the start (or the call, when no start was
pressed) to the end of each leg at a counter, so a transferred ticket counts a leg at each
counter that handled it. A rating of 3 or more (基本满意 and better) counts as satisfied, as in
the national 好差评 scheme.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from statistics import fmean
from typing import Any
from zoneinfo import ZoneInfo

from hall.engine.events import NOT_CONFIRMED, NOT_SERVED, Event, Kind

SATISFIED_FROM = 3
OPEN = ("pending_print", "waiting", "called", "serving")
MAX_RANGE_DAYS = 366


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


class _Day:
    """The fold of one day's events into visits."""

    def __init__(self, day: str) -> None:
        self.day = day
        self.visits: dict[str, Visit] = {}
        self.clerk_at: dict[str, str | None] = {}

    def apply(self, event: Event) -> None:
        handler = _FOLD.get(event.kind)
        if handler is not None:
            handler(self, event.at, event.data)

    def visit(self, data: dict[str, Any]) -> Visit | None:
        return self.visits.get(str(data.get("ticket", "")))

    def close_leg(self, visit: Visit, at: float, outcome: str) -> None:
        if visit.legs and visit.legs[-1].ended_at is None:
            visit.legs[-1].ended_at, visit.legs[-1].outcome = at, outcome


def _issued(d: _Day, at: float, data: dict[str, Any]) -> None:
    ticket = str(data["ticket"])
    d.visits[ticket] = Visit(
        d.day, ticket, ticket.split("-", 1)[-1], data["service"], data["channel"], at,
        "pending_print" if data.get("pending") else "waiting", data["service"])


def _status(status: str, outcome: str | None = None) -> Callable[[_Day, float, dict[str, Any]],
                                                                   None]:
    def fold(d: _Day, at: float, data: dict[str, Any]) -> None:
        visit = d.visit(data)
        if visit is None:
            return
        visit.status = status
        if outcome is not None:
            d.close_leg(visit, at, outcome)
            visit.finished_at = at
    return fold


def _called(d: _Day, at: float, data: dict[str, Any]) -> None:
    visit = d.visit(data)
    if visit is None:
        return
    counter = str(data["counter"])
    visit.status = "called"
    visit.called_at = visit.called_at if visit.called_at is not None else at
    visit.legs.append(Leg(counter, d.clerk_at.get(counter), visit.final_service, at))


def _started(d: _Day, at: float, data: dict[str, Any]) -> None:
    visit = d.visit(data)
    if visit is not None:
        visit.status = "serving"
        if visit.legs:
            visit.legs[-1].started_at = at


def _transferred(d: _Day, at: float, data: dict[str, Any]) -> None:
    visit = d.visit(data)
    if visit is not None:
        d.close_leg(visit, at, "transferred")
        visit.status, visit.final_service = "waiting", str(data["service"])


def _signed_in(d: _Day, at: float, data: dict[str, Any]) -> None:
    for counter, clerk in list(d.clerk_at.items()):
        if clerk == data["staff_no"]:
            d.clerk_at[counter] = None
    d.clerk_at[str(data["counter"])] = str(data["staff_no"])


def _signed_out(d: _Day, at: float, data: dict[str, Any]) -> None:
    d.clerk_at[str(data["counter"])] = None


def _rated(d: _Day, at: float, data: dict[str, Any]) -> None:
    visit = d.visit(data)
    if visit is not None:
        visit.rating, visit.rated_clerk = int(data["rating"]), data.get("clerk")


def _end(visit: Visit, d: _Day, at: float, reason: str) -> None:
    """A ticket still open when the day closed: void if never printed, else not served."""
    if visit.status in OPEN:
        status = "void" if reason == NOT_CONFIRMED or visit.status == "pending_print" \
            else NOT_SERVED
        visit.status, visit.finished_at = status, at
        d.close_leg(visit, at, NOT_SERVED)


def _closed(d: _Day, at: float, data: dict[str, Any]) -> None:
    visit = d.visit(data)
    if visit is not None:
        _end(visit, d, at, str(data.get("reason", NOT_SERVED)))


def _day_ended(d: _Day, at: float, data: dict[str, Any]) -> None:
    """Journals written before tickets were closed one by one left them to this event."""
    for visit in d.visits.values():
        _end(visit, d, at, NOT_SERVED)


_FOLD: dict[Kind, Callable[[_Day, float, dict[str, Any]], None]] = {
    Kind.TICKET_ISSUED: _issued,
    Kind.TICKET_PRINTED: _status("waiting"),
    Kind.TICKET_VOIDED: _status("void", "cancelled"),
    Kind.TICKET_CALLED: _called,
    Kind.SERVICE_STARTED: _started,
    Kind.TICKET_DONE: _status("done", "done"),
    Kind.TICKET_NO_SHOW: _status("no_show", "no_show"),
    Kind.TICKET_TRANSFERRED: _transferred,
    Kind.TICKET_CANCELLED: _status("cancelled", "cancelled"),
    Kind.TICKET_CLOSED: _closed,
    Kind.CLERK_SIGNED_IN: _signed_in,
    Kind.CLERK_SIGNED_OUT: _signed_out,
    Kind.RATED: _rated,
    Kind.DAY_ENDED: _day_ended,
}


def replay(events: Iterable[tuple[str, Event]]) -> list[Visit]:
    """Every ticket of the given (day, event) pairs, in order of issue."""
    days: dict[str, _Day] = {}
    for day, event in events:
        days.setdefault(day, _Day(day)).apply(event)
    return [v for d in sorted(days) for v in days[d].visits.values()]


# ---------------------------------------------------------------- statistics
def p90(values: Sequence[float]) -> float | None:
    """The 90th percentile by the nearest-rank method (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def _minutes(value: float | None) -> float | None:
    return None if value is None else round(value / 60, 1)


def _wait_stats(waits: Sequence[float]) -> dict[str, float | None]:
    return {"wait_mean_min": _minutes(fmean(waits)) if waits else None,
            "wait_p90_min": _minutes(p90(waits)),
            "wait_max_min": _minutes(max(waits)) if waits else None}


def _service_mean(legs: Sequence[Leg]) -> float | None:
    times = [s for s in (leg.service_s for leg in legs) if s is not None]
    return _minutes(fmean(times)) if times else None


def _satisfaction(ratings: Sequence[int]) -> dict[str, float | int | None]:
    if not ratings:
        return {"ratings": 0, "rating_mean": None, "satisfied_pct": None}
    good = sum(1 for r in ratings if r >= SATISFIED_FROM)
    return {"ratings": len(ratings), "rating_mean": round(fmean(ratings), 2),
            "satisfied_pct": round(100 * good / len(ratings), 1)}


# ---------------------------------------------------------------- tables
@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str  # bilingual header, also the CSV header


@dataclass(frozen=True, slots=True)
class Table:
    """A report table: what the page shows and the CSV holds."""

    name: str
    title: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]


_WAIT_COLUMNS = (Column("wait_mean_min", "平均等候 Mean wait (min)"),
                 Column("wait_p90_min", "P90 等候 P90 wait (min)"),
                 Column("wait_max_min", "最长等候 Max wait (min)"))
_SATISFACTION_COLUMNS = (Column("ratings", "评价数 Ratings"),
                         Column("rating_mean", "平均分 Mean rating"),
                         Column("satisfied_pct", "满意率 Satisfied (%)"))


def _outcomes(visits: Iterable[Visit]) -> dict[str, int]:
    counts = {"served": 0, "no_show": 0, "cancelled": 0, NOT_SERVED: 0}
    for visit in visits:
        key = "served" if visit.status == "done" else visit.status
        if key in counts:
            counts[key] += 1
    return counts


_OUTCOME_COLUMNS = (Column("served", "办结 Served"), Column("no_show", "过号 No-show"),
                    Column("cancelled", "取消 Cancelled"),
                    Column(NOT_SERVED, "未办理 Not served"))


def _within(values: Sequence[float], target_min: float | None) -> float | None:
    """The share (%) of ``values`` (seconds) within ``target_min`` minutes."""
    if target_min is None or not values:
        return None
    return round(100 * sum(1 for v in values if v <= target_min * 60) / len(values), 1)


def _targets(waits: Sequence[float], legs: Sequence[Leg],
             target: tuple[float, float] | None) -> dict[str, float | None]:
    wait_target, service_target = target if target is not None else (None, None)
    times = [s for s in (leg.service_s for leg in legs) if s is not None]
    return {"wait_target_min": wait_target, "wait_within_pct": _within(waits, wait_target),
            "service_target_min": service_target,
            "service_within_pct": _within(times, service_target)}


_TARGET_COLUMNS = (Column("wait_target_min", "等候目标 Wait target (min)"),
                   Column("wait_within_pct", "等候达标 Wait within target (%)"),
                   Column("service_target_min", "办理目标 Service target (min)"),
                   Column("service_within_pct", "办理达标 Service within target (%)"))


def service_table(visits: Sequence[Visit], names: dict[str, str],
                  targets: dict[str, tuple[float, float]] | None = None) -> Table:
    """Issued, served, no-show, not served, waiting and service time per service, with the
    service's targets and the share of waits and of legs at a window within each; a service
    the config no longer has keeps a row (under its letter) while its tickets are reported."""
    rows = []
    seen = {v.service for v in visits} | {v.final_service for v in visits}
    for service in [*names, *sorted(seen - set(names))]:
        issued = [v for v in visits if v.service == service and v.counted]
        ended = [v for v in visits if v.final_service == service]
        legs = [leg for v in visits for leg in v.legs if leg.service == service]
        waits = [w for w in (v.wait_s for v in issued) if w is not None]
        if service not in names and not issued and not ended:
            continue
        rows.append({"service": service, "name": names.get(service, service),
                     "issued": len(issued), **_outcomes(ended),
                     **_wait_stats(waits), "service_mean_min": _service_mean(legs),
                     **_targets(waits, legs, (targets or {}).get(service))})
    columns = (Column("service", "业务 Service"), Column("name", "名称 Name"),
               Column("issued", "取号 Issued"), *_OUTCOME_COLUMNS,
               *_WAIT_COLUMNS, Column("service_mean_min", "平均办理 Mean service (min)"),
               *_TARGET_COLUMNS)
    return Table("services", "各业务 By service", columns, rows)


def _by_desk(visits: Sequence[Visit], key: Callable[[Leg], str | None],
             rating_key: Callable[[Visit], str | None],
             names: dict[str, str]) -> list[dict[str, Any]]:
    legs: dict[str, list[tuple[Visit, Leg]]] = defaultdict(list)
    for visit in visits:
        for leg in visit.legs:
            who = key(leg)
            if who is not None:
                legs[who].append((visit, leg))
    ratings: dict[str, list[int]] = defaultdict(list)
    for visit in visits:
        who = rating_key(visit)
        if visit.rating is not None and who is not None:
            ratings[who].append(visit.rating)
    rows = []
    for who in [*names, *sorted(set(legs) - set(names))]:
        mine = legs.get(who, [])
        first_calls = [v.wait_s for v, leg in mine if v.legs[0] is leg and v.wait_s is not None]
        if not mine and not ratings.get(who):
            continue
        rows.append({"id": who, "name": names.get(who, who),
                     "served": sum(1 for _, leg in mine if leg.outcome == "done"),
                     "no_show": sum(1 for _, leg in mine if leg.outcome == "no_show"),
                     **_wait_stats(first_calls), "service_mean_min": _service_mean(
                         [leg for _, leg in mine]), **_satisfaction(ratings.get(who, []))})
    return rows


def _desk_columns(who: Column) -> tuple[Column, ...]:
    return (who, Column("name", "名称 Name"), Column("served", "办结 Served"),
            Column("no_show", "过号 No-show"), *_WAIT_COLUMNS,
            Column("service_mean_min", "平均办理 Mean service (min)"), *_SATISFACTION_COLUMNS)


def counter_table(visits: Sequence[Visit], names: dict[str, str]) -> Table:
    """Served, waiting of the tickets it called first, service time and satisfaction per counter."""
    rows = _by_desk(visits, lambda leg: leg.counter,
                    lambda v: v.legs[-1].counter if v.legs else None, names)
    return Table("counters", "各窗口 By counter", _desk_columns(Column("id", "窗口 Counter")), rows)


def clerk_table(visits: Sequence[Visit], names: dict[str, str]) -> Table:
    """The same per clerk (who was signed in at the counter when the ticket was called)."""
    rows = _by_desk(visits, lambda leg: leg.clerk, lambda v: v.rated_clerk, names)
    return Table("clerks", "各工作人员 By clerk", _desk_columns(Column("id", "工号 Staff no.")),
                 rows)


def hour_table(visits: Sequence[Visit], tz: ZoneInfo) -> Table:
    """Tickets issued and their waiting, by the local hour they were issued in."""
    by_hour: dict[int, list[Visit]] = defaultdict(list)
    for visit in visits:
        if visit.counted:
            by_hour[datetime.fromtimestamp(visit.issued_at, tz).hour].append(visit)
    rows = []
    for hour in sorted(by_hour):
        mine = by_hour[hour]
        waits = [w for w in (v.wait_s for v in mine) if w is not None]
        legs = [leg for v in mine for leg in v.legs]
        rows.append({"hour": f"{hour:02d}:00", "issued": len(mine),
                     "served": sum(1 for v in mine if v.status == "done"),
                     NOT_SERVED: sum(1 for v in mine if v.status == NOT_SERVED),
                     **_wait_stats(waits), "service_mean_min": _service_mean(legs)})
    columns = (Column("hour", "时段 Hour"), Column("issued", "取号 Issued"),
               Column("served", "办结 Served"), Column(NOT_SERVED, "未办理 Not served"),
               *_WAIT_COLUMNS,
               Column("service_mean_min", "平均办理 Mean service (min)"))
    return Table("hours", "各时段 By hour of the day", columns, rows)


def ticket_table(visits: Sequence[Visit], tz: ZoneInfo) -> Table:
    """Every ticket, one row each: the raw material of the other tables."""
    def clock(t: float | None) -> str:
        return "" if t is None else datetime.fromtimestamp(t, tz).strftime("%H:%M:%S")

    rows = [{"day": v.day, "number": v.number, "service": v.service,
             "final_service": v.final_service, "channel": v.channel, "status": v.status,
             "issued": clock(v.issued_at), "called": clock(v.called_at),
             "finished": clock(v.finished_at),
             "counter": v.legs[-1].counter if v.legs else "",
             "clerk": (v.legs[-1].clerk or "") if v.legs else "",
             "wait_min": _minutes(v.wait_s),
             "service_min": _minutes(sum(s for s in (leg.service_s for leg in v.legs)
                                         if s is not None) if v.legs else None),
             "rating": v.rating} for v in visits]
    columns = tuple(Column(k, k) for k in (
        "day", "number", "service", "final_service", "channel", "status", "issued", "called",
        "finished", "counter", "clerk", "wait_min", "service_min", "rating"))
    return Table("tickets", "各号 Tickets", columns, rows)


@dataclass(frozen=True, slots=True)
class Report:
    first: date
    last: date
    visits: list[Visit]
    tables: dict[str, Table]


@dataclass(frozen=True, slots=True)
class Names:
    """Display names of the hall's services, counters and clerks; each service's wait and
    service-time targets in minutes."""

    services: dict[str, str]
    counters: dict[str, str]
    clerks: dict[str, str]
    targets: dict[str, tuple[float, float]] = field(default_factory=dict)


def build_report(first: date, last: date, events: Iterable[tuple[str, Event]], names: Names,
                 tz: ZoneInfo) -> Report:
    """Every table of the report for the days ``first`` to ``last``."""
    visits = replay(events)
    tables = [service_table(visits, names.services, names.targets),
              counter_table(visits, names.counters), clerk_table(visits, names.clerks),
              hour_table(visits, tz), ticket_table(visits, tz)]
    return Report(first, last, visits, {t.name: t for t in tables})


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may read as a formula


def csv_cell(value: object) -> object:
    """A value as a CSV cell a spreadsheet reads as plain text: a text starting like a formula
    gets a leading ``'`` (OWASP, CSV injection); numbers stay numbers, None an empty cell."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(table: Table) -> str:
    """A table as CSV text (header row of the bilingual labels; empty cells for no value),
    every cell quoted, so no separator inside a name can start a cell of its own."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow([csv_cell(c.label) for c in table.columns])
    for row in table.rows:
        writer.writerow([csv_cell(row.get(c.key)) for c in table.columns])
    return out.getvalue()


class RangeError(ValueError):
    """A report range that cannot be used; the message says why."""


def parse_range(first: str | None, last: str | None, today: date) -> tuple[date, date]:
    """The report's days from ``YYYY-MM-DD`` strings (default: today), checked."""
    try:
        start = date.fromisoformat(first) if first else today
        end = date.fromisoformat(last) if last else start
    except ValueError as exc:
        raise RangeError(f"dates must be YYYY-MM-DD: {exc}") from None
    if end < start:
        raise RangeError(f"the range ends ({end}) before it starts ({start})")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise RangeError(f"a report covers at most {MAX_RANGE_DAYS} days")
    return start, end
