"""The manager's reports: tables per service, counter, clerk and hour of the day, and the
minutes each window paused by reason, made from
the merged summaries of their days (hall/report_days.py); every ticket's row, from its day's
replay (hall/visits.py); and their CSV export.

A rating of 3 or more (基本满意 and better) counts as satisfied, as in the national 好差评
scheme. Times are shown in minutes, to a tenth.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hall.engine.events import NOT_SERVED
from hall.report_days import NO_REASON, Dist, Span
from hall.visits import Visit
from protocol.messages import PauseReason

SATISFIED_FROM = 3
MAX_RANGE_DAYS = 366


def _minutes(value: float | None) -> float | None:
    return None if value is None else round(value / 60, 1)


def _wait_stats(span: Span, kind: str, who: str) -> dict[str, float | None]:
    waits = span.group(kind, who).wait
    return {"wait_mean_min": _minutes(waits.mean()),
            "wait_p90_min": _minutes(span.p90(kind, who, "wait")),
            "wait_max_min": _minutes(waits.top)}


def _service_mean(span: Span, kind: str, who: str) -> float | None:
    return _minutes(span.group(kind, who).service.mean())


def _satisfaction(ratings: dict[int, int]) -> dict[str, float | int | None]:
    count = sum(ratings.values())
    if not count:
        return {"ratings": 0, "rating_mean": None, "satisfied_pct": None}
    good = sum(n for rating, n in ratings.items() if rating >= SATISFIED_FROM)
    return {"ratings": count,
            "rating_mean": round(sum(r * n for r, n in ratings.items()) / count, 2),
            "satisfied_pct": round(100 * good / count, 1)}


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
_OUTCOMES = ("served", "no_show", "cancelled", NOT_SERVED)
_OUTCOME_COLUMNS = (Column("served", "办结 Served"), Column("no_show", "过号 No-show"),
                    Column("cancelled", "取消 Cancelled"),
                    Column(NOT_SERVED, "未办理 Not served"))
_TARGET_COLUMNS = (Column("wait_target_min", "等候目标 Wait target (min)"),
                   Column("wait_within_pct", "等候达标 Wait within target (%)"),
                   Column("service_target_min", "办理目标 Service target (min)"),
                   Column("service_within_pct", "办理达标 Service within target (%)"))


def _within(span: Span, service: str, metric: str, target_min: float | None) -> float | None:
    """The share (%) of a service's waits or service times within ``target_min`` minutes."""
    count = span.dist("service", service, metric).n
    if target_min is None or not count:
        return None
    return round(100 * span.within("service", service, metric, target_min * 60) / count, 1)


def _targets(span: Span, service: str,
             target: tuple[float, float] | None) -> dict[str, float | None]:
    wait_target, service_target = target if target is not None else (None, None)
    return {"wait_target_min": wait_target,
            "wait_within_pct": _within(span, service, "wait", wait_target),
            "service_target_min": service_target,
            "service_within_pct": _within(span, service, "service", service_target)}


def service_table(span: Span, names: dict[str, str],
                  targets: dict[str, tuple[float, float]] | None = None) -> Table:
    """Issued (by the service at issue), how the tickets ended (by their final service),
    waiting and service time per service (each leg at a window under the service it was
    called for), with the service's targets and the shares within each; a service the config
    no longer has keeps a row (under its letter) while its tickets are reported."""
    rows = []
    for service in [*names, *sorted(set(span.ids("service")) - set(names))]:
        group = span.group("service", service)
        if service not in names and not group.count("issued") and not group.count("final"):
            continue
        rows.append({"service": service, "name": names.get(service, service),
                     "issued": group.count("issued"), **{k: group.count(k) for k in _OUTCOMES},
                     **_wait_stats(span, "service", service),
                     "service_mean_min": _service_mean(span, "service", service),
                     **_targets(span, service, (targets or {}).get(service))})
    columns = (Column("service", "业务 Service"), Column("name", "名称 Name"),
               Column("issued", "取号 Issued"), *_OUTCOME_COLUMNS,
               *_WAIT_COLUMNS, Column("service_mean_min", "平均办理 Mean service (min)"),
               *_TARGET_COLUMNS)
    return Table("services", "各业务 By service", columns, rows)


def _desk_rows(span: Span, kind: str, names: dict[str, str]) -> list[dict[str, Any]]:
    """A row per named desk with legs or ratings, and per other desk with legs."""
    rows = []
    for who in [*names, *sorted(set(span.ids(kind)) - set(names))]:
        group = span.group(kind, who)
        if not group.count("legs") and (who not in names or not group.ratings):
            continue
        rows.append({"id": who, "name": names.get(who, who),
                     "served": group.count("served"), "no_show": group.count("no_show"),
                     **_wait_stats(span, kind, who),
                     "service_mean_min": _service_mean(span, kind, who),
                     **_satisfaction(group.ratings)})
    return rows


def _desk_columns(who: Column) -> tuple[Column, ...]:
    return (who, Column("name", "名称 Name"), Column("served", "办结 Served"),
            Column("no_show", "过号 No-show"), *_WAIT_COLUMNS,
            Column("service_mean_min", "平均办理 Mean service (min)"), *_SATISFACTION_COLUMNS)


def counter_table(span: Span, names: dict[str, str]) -> Table:
    """Per counter: served, no-shows, the waits of the tickets it called first, service time,
    and the ratings of the tickets it handled last."""
    return Table("counters", "各窗口 By counter", _desk_columns(Column("id", "窗口 Counter")),
                 _desk_rows(span, "counter", names))


def clerk_table(span: Span, names: dict[str, str]) -> Table:
    """The same per clerk (who was signed in at the counter when the ticket was called)."""
    return Table("clerks", "各工作人员 By clerk", _desk_columns(Column("id", "工号 Staff no.")),
                 _desk_rows(span, "clerk", names))


def hour_table(span: Span) -> Table:
    """Tickets issued, how many were served or not, and their waiting and service time, by
    the local hour they were issued in."""
    rows = [{"hour": f"{hour}:00", "issued": group.count("issued"),
             "served": group.count("served"), NOT_SERVED: group.count(NOT_SERVED),
             **_wait_stats(span, "hour", hour),
             "service_mean_min": _service_mean(span, "hour", hour)}
            for hour, group in ((h, span.group("hour", h)) for h in span.ids("hour"))]
    columns = (Column("hour", "时段 Hour"), Column("issued", "取号 Issued"),
               Column("served", "办结 Served"), Column(NOT_SERVED, "未办理 Not served"),
               *_WAIT_COLUMNS,
               Column("service_mean_min", "平均办理 Mean service (min)"))
    return Table("hours", "各时段 By hour of the day", columns, rows)


PAUSE_REASONS = (*(r.value for r in PauseReason), NO_REASON)
PAUSE_LABELS = {"lunch": ("午休", "Lunch"), "meeting": ("开会", "Meeting"),
                "system_down": ("系统故障", "System down"), "break": ("短暂离开", "Break"),
                "other": ("其他", "Other"), NO_REASON: ("未注明", "No reason")}
HALL_ROW = ("合计", "全部窗口 All windows")  # the pauses table's last row: every window


def _pause_row(who: str, name: str, pauses: dict[str, Dist]) -> dict[str, Any]:
    total = Dist()
    for dist in pauses.values():
        total.add(dist)
    return {"id": who, "name": name,
            **{f"pause_{r}_min": _minutes(pauses[r].sum()) if r in pauses else None
               for r in PAUSE_REASONS},
            "pause_total_min": _minutes(total.sum())}


def pause_table(span: Span, names: dict[str, str]) -> Table:
    """Minutes paused per window by reason (– for a reason it never paused for), and the
    hall's: a row per window that paused, then the hall's total."""
    rows, hall = [], {r: Dist() for r in PAUSE_REASONS}
    for who in [*names, *sorted(set(span.ids("counter")) - set(names))]:
        pauses = span.group("counter", who).pauses
        if not pauses:
            continue
        rows.append(_pause_row(who, names.get(who, who), pauses))
        for reason, dist in pauses.items():
            hall.setdefault(reason, Dist()).add(dist)
    if rows:
        rows.append(_pause_row(*HALL_ROW, {r: d for r, d in hall.items() if d.n}))
    columns = (Column("id", "窗口 Counter"), Column("name", "名称 Name"),
               *(Column(f"pause_{r}_min", "{} {} (min)".format(*PAUSE_LABELS[r]))
                 for r in PAUSE_REASONS),
               Column("pause_total_min", "暂停合计 Paused in all (min)"))
    return Table("pauses", "各窗口暂停（分钟）Pauses by window (min)", columns, rows)


TICKET_COLUMNS = tuple(Column(k, k) for k in (
    "day", "number", "service", "final_service", "channel", "status", "issued", "called",
    "finished", "counter", "clerk", "wait_min", "service_min", "rating"))


def ticket_rows(visits: Iterable[Visit], tz: ZoneInfo) -> Iterator[dict[str, Any]]:
    """Every ticket, one row each: the raw material of the other tables."""
    def clock(t: float | None) -> str:
        return "" if t is None else datetime.fromtimestamp(t, tz).strftime("%H:%M:%S")

    for v in visits:
        yield {"day": v.day, "number": v.number, "service": v.service,
               "final_service": v.final_service, "channel": v.channel, "status": v.status,
               "issued": clock(v.issued_at), "called": clock(v.called_at),
               "finished": clock(v.finished_at),
               "counter": v.legs[-1].counter if v.legs else "",
               "clerk": (v.legs[-1].clerk or "") if v.legs else "",
               "wait_min": _minutes(v.wait_s),
               "service_min": _minutes(sum(s for s in (leg.service_s for leg in v.legs)
                                           if s is not None) if v.legs else None),
               "rating": v.rating}


@dataclass(frozen=True, slots=True)
class Report:
    """The summary tables of the days ``first`` to ``last`` (tickets: ``History.ticket_csv``)."""

    first: date
    last: date
    tables: dict[str, Table]


@dataclass(frozen=True, slots=True)
class Names:
    """Display names of the hall's services, counters and clerks; each service's wait and
    service-time targets in minutes."""

    services: dict[str, str]
    counters: dict[str, str]
    clerks: dict[str, str]
    targets: dict[str, tuple[float, float]] = field(default_factory=dict)


def report_of(first: date, last: date, span: Span, names: Names) -> Report:
    """Every summary table of a range, from the merge of its days."""
    tables = [service_table(span, names.services, names.targets),
              counter_table(span, names.counters), clerk_table(span, names.clerks),
              hour_table(span), pause_table(span, names.counters)]
    return Report(first, last, {t.name: t for t in tables})


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may read as a formula


def csv_cell(value: object) -> object:
    """A value as a CSV cell a spreadsheet reads as plain text: a text starting like a formula
    gets a leading ``'`` (OWASP, CSV injection); numbers stay numbers, None an empty cell."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_text(columns: tuple[Column, ...], rows: Iterable[dict[str, Any]],
             header: bool = True) -> str:
    """Rows as CSV text (a header row of the bilingual labels first; empty cells for no
    value), every cell quoted, so no separator inside a name can start a cell of its own."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    if header:
        writer.writerow([csv_cell(c.label) for c in columns])
    for row in rows:
        writer.writerow([csv_cell(row.get(c.key)) for c in columns])
    return out.getvalue()


def to_csv(table: Table) -> str:
    """A table as CSV text, its header first."""
    return csv_text(table.columns, table.rows)


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
