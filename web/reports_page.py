"""The reports page (tables and charts for today or a range of days) and its CSV export,
from the hall's history (hall/history.py: merged day summaries, computed in worker threads);
the tickets CSV streams a day at a time."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Protocol
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from hall.history import History
from hall.reports import Names, RangeError, Report, Table, parse_range, to_csv
from hallconfig import HallConfig
from web.auth import Auth
from web.charts import Series, columns, hbars
from web.errors import ApiError
from web.pages import Raw, esc, page

PAGE_TABLES = ("services", "counters", "clerks", "hours", "pauses")
CSV_TABLES = (*PAGE_TABLES, "tickets")

log = logging.getLogger(__name__)


class Today(Protocol):
    """What the reports read of the hall's engine: its business day and time zone."""

    @property
    def day(self) -> date: ...

    @property
    def tz(self) -> ZoneInfo: ...


class ReportsView(Protocol):
    """What the reports read of the web service's view of the hall (web/hallview.py)."""

    @property
    def config(self) -> HallConfig: ...

    @property
    def engine(self) -> Today: ...

    @property
    def history(self) -> History: ...


def names_of(view: ReportsView) -> Names:
    cfg = view.config
    return Names(services={s.id: s.name for s in cfg.services},
                 counters={c.id: c.name for c in cfg.counters},
                 clerks={c.staff_no: c.name for c in cfg.clerks},
                 targets={s.id: (cfg.wait_target(s.id), cfg.service_target(s.id))
                          for s in cfg.services})


def range_of(view: ReportsView, query: dict[str, str]) -> tuple[date, date]:
    """The requested days (``from``, ``to``), or ApiError 400 naming the bad date."""
    try:
        return parse_range(query.get("from"), query.get("to"), view.engine.day)
    except RangeError as exc:
        raise ApiError(400, "bad_range", str(exc)) from None


async def load_report(view: ReportsView, query: dict[str, str]) -> Report:
    """The report for a requested range, or ApiError 400 naming the bad date."""
    start, end = range_of(view, query)
    return await view.history.report(start, end, names_of(view), view.engine.tz)


def _cell(value: object) -> str:
    return "–" if value is None else esc(value)


def table_html(table: Table, query: str) -> str:
    head = "".join(f'<th scope="col">{esc(c.label)}</th>' for c in table.columns)
    numeric = {c.key for c in table.columns  # a column of figures: its – too to the right
               if any(isinstance(row.get(c.key), int | float) for row in table.rows)}
    rows = "".join("<tr>" + "".join(
        f'<td class="{"num" if c.key in numeric else ""}">'
        f"{_cell(row.get(c.key))}</td>" for c in table.columns) + "</tr>" for row in table.rows)
    if not table.rows:
        rows = f'<tr><td colspan="{len(table.columns)}">无数据 No data</td></tr>'
    link = f'/reports/{table.name}.csv?{query}'
    return (f'<section class="panel" id="table-{esc(table.name)}"><div class="panel-head">'
            f'<h2>{esc(table.title)}</h2>'
            f'<a class="button small" href="{esc(link)}" download>导出 CSV Export CSV</a></div>'
            f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{rows}</tbody></table></div></section>')


def charts_html(report: Report, target: float) -> str:
    services = report.tables["services"].rows
    hours = report.tables["hours"].rows
    counters = [r for r in report.tables["counters"].rows if r["ratings"]]
    labels = [f"{r['service']} {r['name']}" for r in services]
    return "".join([
        hbars("各业务取号与办结 Tickets by service", labels, [
            Series("取号 issued", [r["issued"] for r in services]),
            Series("办结 served", [r["served"] for r in services]),
            Series("过号 no-show", [r["no_show"] for r in services]),
            Series("未办理 not served", [r["not_served"] for r in services])]),
        hbars("各业务等候（分钟）Waiting by service (min)", labels, [
            Series("平均 mean", [r["wait_mean_min"] for r in services]),
            Series("P90", [r["wait_p90_min"] for r in services])], limit=target),
        columns("各时段等候（分钟）Waiting by hour of issue (min)", [r["hour"] for r in hours], [
            Series("平均 mean", [r["wait_mean_min"] for r in hours]),
            Series("P90", [r["wait_p90_min"] for r in hours])], limit=target),
        hbars("各窗口满意率 Satisfied by counter (%)", [r["name"] for r in counters], [
            Series("满意 satisfied %", [r["satisfied_pct"] for r in counters])], unit="%"),
    ])


def _shortcuts(today: date) -> str:
    spans = [("今天 Today", today, today), ("近 7 天 Last 7 days", today - timedelta(6), today),
             ("近 30 天 Last 30 days", today - timedelta(29), today)]
    return "".join(f'<a class="button small ghost" href="/reports?'
                   f'{esc(urlencode({"from": a.isoformat(), "to": b.isoformat()}))}">'
                   f"{esc(label)}</a>" for label, a, b in spans)


def routes(view: ReportsView, auth: Auth) -> list[web.RouteDef]:
    """The reports page and the CSV downloads."""

    async def reports(request: web.Request) -> web.Response:
        session = auth.page_session(request)
        try:
            report = await load_report(view, dict(request.query))
        except ApiError as exc:
            return page("message.html", 400, title="400", message_zh="日期有误",
                        message_en=exc.message)
        query = urlencode({"from": report.first.isoformat(), "to": report.last.isoformat()})
        rows = report.tables["services"].rows
        served, issued = sum(r["served"] for r in rows), sum(r["issued"] for r in rows)
        not_served = sum(r["not_served"] for r in rows)
        return page(
            "reports.html", hall=view.config.hall.name, user=session.name,
            role=session.role.value, first=report.first.isoformat(),
            last=report.last.isoformat(), shortcuts=Raw(_shortcuts(view.engine.day)),
            issued=issued, served=served, not_served=not_served,
            tickets_csv=f"/reports/tickets.csv?{query}",
            daily=f"/reports/daily?{urlencode({'day': report.last.isoformat()})}",
            charts=Raw(charts_html(report, view.config.rules.wait_target_min)),
            tables=Raw("".join(table_html(report.tables[n], query) for n in PAGE_TABLES)))

    async def csv_export(request: web.Request) -> web.StreamResponse:
        auth.need(request)
        name = request.match_info["table"]
        if name not in CSV_TABLES:
            raise ApiError(404, "unknown_table", f"no table {name!r}; tables: "
                           f"{', '.join(CSV_TABLES)}")
        first, last = range_of(view, dict(request.query))
        response = web.StreamResponse(headers={
            "Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{view.config.hall.id}-{name}-'
                                   f'{first}-{last}.csv"'})
        if name == "tickets":
            await response.prepare(request)
            try:
                await response.write("\ufeff".encode())  # BOM: Excel reads UTF-8
                async for text in view.history.ticket_csv(first, last, view.engine.tz):
                    await response.write(text.encode("utf-8"))
            except ConnectionResetError:  # aiohttp's ClientConnectionResetError is one
                log.info("tickets CSV %s to %s: the client went away", first, request.remote)
                return response
        else:
            report = await view.history.report(first, last, names_of(view), view.engine.tz)
            await response.prepare(request)
            await response.write(("\ufeff" + to_csv(report.tables[name])).encode("utf-8"))
        await response.write_eof()
        return response

    return [web.get("/reports", reports), web.get("/reports/{table}.csv", csv_export)]
