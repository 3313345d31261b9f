"""The reports as they were made before day summaries (commit 30c16dc): every event of the
range replayed in memory into visits, every table computed from the visits. Kept verbatim as
the oracle the aggregated reports (hall/reports.py, hall/history.py) must match cell by cell.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from statistics import fmean
from typing import Any
from zoneinfo import ZoneInfo

from hall.engine.events import NOT_SERVED, Event
from hall.reports import Column, Names, Table, csv_cell
from hall.visits import DayFold, Leg, Visit

SATISFIED_FROM = 3


def replay(events: Iterable[tuple[str, Event]]) -> list[Visit]:
    """Every ticket of the given (day, event) pairs, in order of issue."""
    days: dict[str, DayFold] = {}
    for day, event in events:
        days.setdefault(day, DayFold(day)).apply(event)
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


def build_report(first: date, last: date, events: Iterable[tuple[str, Event]], names: Names,
                 tz: ZoneInfo) -> Report:
    """Every table of the report for the days ``first`` to ``last``."""
    visits = replay(events)
    tables = [service_table(visits, names.services, names.targets),
              counter_table(visits, names.counters), clerk_table(visits, names.clerks),
              hour_table(visits, tz), ticket_table(visits, tz)]
    return Report(first, last, visits, {t.name: t for t in tables})


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow([csv_cell(c.label) for c in table.columns])
    for row in table.rows:
        writer.writerow([csv_cell(row.get(c.key)) for c in table.columns])
    return out.getvalue()
