"""The printable daily report: the figures a centre reports upward for one day (issued,
served, not served; waits per service; satisfaction per window and clerk; the busiest hours;
the minutes each window paused, by reason),
as an A4 page to print (``GET /reports/daily?day=YYYY-MM-DD``) and as a PDF
(``GET /reports/daily.pdf?day=``, drawn by web/daily_pdf.py).

``DailyArchive`` saves each day's PDF once, at its close, into the web service's state
directory (``daily/<hall>-<day>.pdf``): a listener on the view's changes notices the replica's
day end (DAY_ENDED) or the business day change, and the report and the drawing run in
worker threads, off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from hall.clock import Clock
from hall.engine.events import NOT_SERVED
from hall.reports import PAUSE_LABELS, PAUSE_REASONS, RangeError, Report, parse_range
from protocol import messages as m
from web.auth import Auth
from web.daily_pdf import FontMissing, pdf_bytes
from web.errors import ApiError
from web.pages import Raw, esc, page
from web.reports_page import ReportsView, Today, names_of

if TYPE_CHECKING:
    from web.hallview import Listener

log = logging.getLogger(__name__)

BUSIEST = 3  # the busiest hours named at the top
KEPT_DAYS = 7  # days whose saving is remembered (once per day)
WEEKDAYS = (("一", "Monday"), ("二", "Tuesday"), ("三", "Wednesday"), ("四", "Thursday"),
            ("五", "Friday"), ("六", "Saturday"), ("日", "Sunday"))


@dataclass(frozen=True, slots=True)
class Col:
    key: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Section:
    """One table of the daily report: a slice of a report table's columns."""

    key: str
    zh: str
    en: str
    columns: tuple[Col, ...]
    rows: list[dict[str, Any]]

    @staticmethod
    def text(row: dict[str, Any], column: Col) -> str:
        """A figure as printed: – for none."""
        value = row.get(column.key)
        return "–" if value is None else str(value)


_WAITS = (Col("wait_mean_min", "平均等候", "Mean wait"),
          Col("wait_p90_min", "P90 等候", "P90 wait"), Col("wait_max_min", "最长等候", "Max wait"))
_SATISFACTION = (Col("served", "办结", "Served"), Col("ratings", "评价数", "Ratings"),
                 Col("rating_mean", "平均分", "Mean rating"),
                 Col("satisfied_pct", "满意率 %", "Satisfied %"))
SECTIONS: tuple[tuple[str, str, str, str, tuple[Col, ...]], ...] = (
    ("services", "services", "各业务办理与等候（分钟）", "By service (waits in minutes)", (
        Col("service", "业务", "Service"), Col("name", "名称", "Name"),
        Col("issued", "取号", "Issued"), Col("served", "办结", "Served"),
        Col("no_show", "过号", "No-show"), Col("cancelled", "取消", "Cancelled"),
        Col(NOT_SERVED, "未办理", "Not served"), *_WAITS,
        Col("wait_within_pct", "等候达标 %", "Within target %"))),
    ("hours", "hours", "各时段取号与等候（分钟）", "By hour of issue (waits in minutes)", (
        Col("hour", "时段", "Hour"), Col("issued", "取号", "Issued"),
        Col("served", "办结", "Served"), Col(NOT_SERVED, "未办理", "Not served"), *_WAITS)),
    ("counters", "counters", "各窗口满意度", "Satisfaction by window", (
        Col("id", "窗口", "Window"), Col("name", "名称", "Name"), *_SATISFACTION)),
    ("clerks", "clerks", "各工作人员满意度", "Satisfaction by clerk", (
        Col("id", "工号", "Staff no."), Col("name", "姓名", "Name"), *_SATISFACTION)),
    ("pauses", "pauses", "各窗口暂停（分钟）", "Pauses by window (minutes)", (
        Col("id", "窗口", "Window"), Col("name", "名称", "Name"),
        *(Col(f"pause_{r}_min", *PAUSE_LABELS[r]) for r in PAUSE_REASONS),
        Col("pause_total_min", "暂停合计", "In all"))),
)
TOTALS = (Col("issued", "取号", "Issued"), Col("served", "办结", "Served"),
          Col("no_show", "过号", "No-show"), Col("cancelled", "取消", "Cancelled"),
          Col(NOT_SERVED, "未办理", "Not served"))


@dataclass(frozen=True, slots=True)
class Daily:
    """A day's report as printed: the same figures on the page and in the PDF."""

    hall: str
    hall_en: str
    day: date
    closed: bool  # the day has ended (else: figures so far)
    made_at: datetime
    totals: list[tuple[Col, int]]
    busiest: list[dict[str, Any]]  # hour rows, the busiest first
    sections: list[Section]

    @property
    def weekday(self) -> tuple[str, str]:
        zh, en = WEEKDAYS[self.day.weekday()]
        return f"星期{zh}", en


def busiest_hours(hours: list[dict[str, Any]], count: int = BUSIEST) -> list[dict[str, Any]]:
    """The ``count`` hours with the most tickets issued (the earlier first on a tie)."""
    ranked = sorted((r for r in hours if r["issued"]), key=lambda r: -r["issued"])
    return ranked[:count]


def daily_of(report: Report, hall: tuple[str, str], closed: bool, made_at: datetime) -> Daily:
    """The daily report of a one-day ``report``."""
    services = report.tables["services"].rows
    sections = [Section(key, zh, en, cols, report.tables[table].rows)
                for key, table, zh, en, cols in SECTIONS]
    return Daily(hall[0], hall[1], report.first, closed, made_at,
                 [(c, sum(r[c.key] for r in services)) for c in TOTALS],
                 busiest_hours(report.tables["hours"].rows), sections)


class DailyView(ReportsView, Protocol):
    """What the daily report reads of the web service's view (web/hallview.py)."""

    @property
    def engine(self) -> DayState: ...

    @property
    def state_dir(self) -> Path: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def listeners(self) -> list[Listener]: ...


class DayState(Today, Protocol):
    @property
    def ended(self) -> bool: ...


async def load_daily(view: DailyView, day: date) -> Daily:
    """The daily report of ``day`` from the view's history (in worker threads)."""
    engine = view.engine
    report = await view.history.report(day, day, names_of(view), engine.tz)
    closed = day < engine.day or (day == engine.day and engine.ended)
    hall = view.config.hall
    return daily_of(report, (hall.name, hall.name_en), closed, view.clock.now())


# ---------------------------------------------------------------- the page
def _head(columns: tuple[Col, ...]) -> str:
    return "".join(f'<th scope="col" class="{_align(c)}">{esc(c.zh)}'
                   f'<span class="en" lang="en">{esc(c.en)}</span></th>' for c in columns)


def _align(column: Col) -> str:
    return "" if column.key in {"service", "name", "id", "hour"} else "num"


def section_html(section: Section, marked: frozenset[str] = frozenset()) -> str:
    rows = "".join(
        f'<tr{" class=busiest" if row.get("hour") in marked else ""}>'
        + "".join(f'<td class="{_align(c)}">{esc(section.text(row, c))}</td>'
                  for c in section.columns) + "</tr>" for row in section.rows)
    if not section.rows:
        rows = (f'<tr><td colspan="{len(section.columns)}">'
                '无数据 <span lang="en">No data</span></td></tr>')
    return (f'<section class="sheet-part" id="daily-{section.key}">'
            f'<h2>{esc(section.zh)} <span class="en" lang="en">{esc(section.en)}</span></h2>'
            f"<table><thead><tr>{_head(section.columns)}</tr></thead>"
            f"<tbody>{rows}</tbody></table></section>")


def busiest_html(daily: Daily) -> str:
    if not daily.busiest:
        return '<li>无数据 <span lang="en">No data</span></li>'
    return "".join(f'<li><span class="hour">{esc(r["hour"])}</span> 取号 '
                   f'<span class="num">{r["issued"]}</span> <span lang="en">issued</span></li>'
                   for r in daily.busiest)


def daily_page(daily: Daily) -> web.Response:
    by_key = {s.key: s for s in daily.sections}
    marked = frozenset(r["hour"] for r in daily.busiest)
    totals = "".join(f'<p><span class="kpi">{value}</span> {esc(c.zh)} '
                     f'<span class="en" lang="en">{esc(c.en)}</span></p>'
                     for c, value in daily.totals)
    zh_day, en_day = daily.weekday
    state = ("营业已结束 <span lang='en'>Day closed</span>" if daily.closed else
             f"营业中，截至 {daily.made_at:%H:%M} <span lang='en'>In progress, as of "
             f"{daily.made_at:%H:%M}</span>")
    return page("daily.html", hall=daily.hall, hall_en=daily.hall_en, day=daily.day.isoformat(),
                weekday=zh_day, weekday_en=en_day, state=Raw(state), totals=Raw(totals),
                busiest=Raw(busiest_html(daily)),
                made=f"{daily.made_at:%Y-%m-%d %H:%M}",
                pdf=f"/reports/daily.pdf?day={daily.day.isoformat()}",
                back=f"/reports?from={daily.day.isoformat()}&to={daily.day.isoformat()}",
                services=Raw(section_html(by_key["services"])),
                hours=Raw(section_html(by_key["hours"], marked)),
                counters=Raw(section_html(by_key["counters"])),
                clerks=Raw(section_html(by_key["clerks"])),
                pauses=Raw(section_html(by_key["pauses"])))


# ---------------------------------------------------------------- routes
def day_of(view: DailyView, query: dict[str, str]) -> date:
    """The requested ``day`` (default today), or ApiError 400 naming the problem."""
    today = view.engine.day
    try:
        day, _ = parse_range(query.get("day"), None, today)
    except RangeError as exc:
        raise ApiError(400, "bad_day", str(exc)) from None
    if day > today:
        raise ApiError(400, "bad_day", f"{day} has not come yet (today is {today})")
    return day


def file_name(view: DailyView, day: date) -> str:
    return f"{view.config.hall.id}-{day.isoformat()}.pdf"


def routes(view: DailyView, auth: Auth) -> list[web.RouteDef]:
    """The daily report's page and its PDF."""

    async def daily(request: web.Request) -> web.Response:
        auth.page_session(request)
        try:
            day = day_of(view, dict(request.query))
        except ApiError as exc:
            return page("message.html", 400, title="400", message_zh="日期有误",
                        message_en=exc.message)
        return daily_page(await load_daily(view, day))

    async def daily_pdf(request: web.Request) -> web.Response:
        auth.need(request)
        day = day_of(view, dict(request.query))
        daily = await load_daily(view, day)
        try:
            body = await asyncio.to_thread(pdf_bytes, daily)
        except FontMissing as exc:
            raise ApiError(503, "no_cjk_font", str(exc)) from None
        return web.Response(body=body, content_type="application/pdf", headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'inline; filename="{file_name(view, day)}"'})

    return [web.get("/reports/daily", daily), web.get("/reports/daily.pdf", daily_pdf)]


# ---------------------------------------------------------------- saved at the close
class DailyArchive:
    """Saves each day's PDF once, at the day's close, into ``<state_dir>/daily``; add
    ``notice`` to the view's listeners, and ``await stop()`` before the view stops."""

    def __init__(self, view: DailyView) -> None:
        self.view = view
        self.directory = view.state_dir / "daily"
        self._day = view.engine.day
        self.saving: dict[date, asyncio.Task[Path | None]] = {}

    def path(self, day: date) -> Path:
        return self.directory / file_name(self.view, day)

    def notice(self, _topic: str, message: object) -> None:
        """A change in the view: save the day it saw end, or the day before the one the
        controller announces (it announces a new day once the old one's close committed)."""
        engine = self.view.engine
        if engine.ended:
            self.save(engine.day)
        if isinstance(message, m.HallState):
            announced = date.fromisoformat(message.date)
            if announced > self._day:
                self.save(self._day)
                self._day = announced

    def save(self, day: date) -> asyncio.Task[Path | None]:
        """Save ``day``'s PDF unless it is saved or being saved (the task saving it)."""
        task = self.saving.get(day)
        if task is None:
            task = self.saving[day] = asyncio.create_task(self._save(day),
                                                           name=f"daily-pdf-{day}")
            for old in [d for d in self.saving if d < day - timedelta(KEPT_DAYS)]:
                del self.saving[old]
        return task

    async def _save(self, day: date) -> Path | None:
        path = self.path(day)
        if path.exists():
            return path
        try:
            daily = await load_daily(self.view, day)
            if not daily.totals[0][1]:
                log.info("no tickets on %s: no daily report saved", day)
                return None
            await asyncio.to_thread(write_once, path, daily)
        except Exception:
            log.exception("the daily report of %s could not be saved to %s", day, path)
            return None
        log.info("daily report of %s saved to %s", day, path)
        return path

    async def stop(self) -> None:
        """Let a saving under way finish."""
        await asyncio.gather(*self.saving.values(), return_exceptions=True)


def write_once(path: Path, daily: Daily) -> None:
    """Write the PDF atomically (a whole file or none), unless one is there."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("wb") as out:
        out.write(pdf_bytes(daily))
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)


ARCHIVE = web.AppKey("daily_archive", DailyArchive)


def serve_daily(app: web.Application, view: DailyView, auth: Auth) -> DailyArchive:
    """The daily report's routes on ``app``, and its PDF saved at each day's close while the
    app runs (``app[ARCHIVE]``)."""
    archive = app[ARCHIVE] = DailyArchive(view)
    view.listeners.append(archive.notice)

    async def stop(_app: web.Application) -> None:
        if archive.notice in view.listeners:  # the app may be cleaned up twice
            view.listeners.remove(archive.notice)
        await archive.stop()

    app.on_cleanup.append(stop)
    app.add_routes(routes(view, auth))
    archive.notice("", None)  # a day that had ended before the service started
    return archive
