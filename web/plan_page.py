"""The manager's morning plan on the tablet: ``GET /plan`` (a table of the windows to open
hour by hour, by kind, and a chart) and ``GET /api/plan`` (the same as JSON), for today or
``?day=YYYY-MM-DD``.

The plan (hall/planning/) is made from the journal's past same weekdays by rehearsing the
day on the hall's engine: seconds of CPU, so it runs in a worker process (web/worker.py),
which opens the journal read-only itself. A day's plan depends only on the days before it, so
it is made once and kept; requests for a plan being made wait for that one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import date
from pathlib import Path
from typing import Protocol

from aiohttp import web

from hall.journal_reader import JournalReader
from hall.planning import Plan, plan_day
from hall.planning.history import demand_from_journal
from hallconfig import HallConfig
from web.auth import Auth
from web.charts import Series, columns
from web.errors import ApiError
from web.pages import Raw, esc, page
from web.worker import Worker

log = logging.getLogger(__name__)

PLANS_KEPT = 14  # days whose plan is kept in memory


class Today(Protocol):
    @property
    def day(self) -> date: ...


class PlanView(Protocol):
    """What the plan reads of the web service's view of the hall (web/hallview.py)."""

    @property
    def config(self) -> HallConfig: ...

    @property
    def engine(self) -> Today: ...

    @property
    def journal_path(self) -> Path: ...


def make_plan(journal: Path, config: HallConfig, day: date) -> tuple[Plan, float]:
    """In the worker: the plan of ``day`` from the journal, and the seconds it took."""
    started = time.perf_counter()
    reader = JournalReader.open(journal)
    try:
        demand = demand_from_journal(reader, config, day)
    finally:
        reader.close()
    return plan_day(config, day, demand), time.perf_counter() - started


class MorningPlan:
    """The plan's routes of one view, its worker process and the plans made so far."""

    def __init__(self, view: PlanView, auth: Auth) -> None:
        self.view = view
        self.auth = auth
        self.worker = Worker("the plan's worker")
        self._plans: dict[date, asyncio.Future[Plan]] = {}

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/plan", self.plan_page), web.get("/api/plan", self.plan_json)]

    async def plan_json(self, request: web.Request) -> web.Response:
        self.auth.need(request)
        plan = await self.plan(self._day(request))
        return web.json_response(plan.as_json())

    async def plan_page(self, request: web.Request) -> web.Response:
        session = self.auth.page_session(request)
        try:
            plan = await self.plan(self._day(request))
        except ApiError as exc:
            return page("message.html", exc.status, title=str(exc.status),
                        message_zh="无法生成排班计划", message_en=exc.message)
        cfg = self.view.config
        return page("plan.html", hall=cfg.hall.name, user=session.name,
                    role=session.role.value, day=plan.day.isoformat(),
                    weekday=_WEEKDAYS[plan.day.weekday()],
                    history=len(plan.history), rehearsals=plan.rehearsals,
                    window_hours=f"{plan.window_hours:g}",
                    all_open=f"{plan.all_open_window_hours:g}",
                    verdict=_verdict(plan), table=Raw(plan_table(plan, cfg)),
                    chart=Raw(plan_chart(plan)), targets=Raw(targets_table(plan, cfg)))

    def _day(self, request: web.Request) -> date:
        text = request.query.get("day")
        if text is None:
            return self.view.engine.day
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ApiError(400, "bad_day", f"day {text!r} is not a date (YYYY-MM-DD)") from None

    async def plan(self, day: date) -> Plan:
        """The day's plan: kept, being made, or made now in the worker."""
        made = self._plans.get(day)
        if made is None or (made.done() and (made.cancelled() or made.exception() is not None)):
            made = asyncio.ensure_future(self._make(day))
            self._plans[day] = made
            for old in sorted(self._plans)[:-PLANS_KEPT]:
                del self._plans[old]
        return await asyncio.shield(made)

    async def _make(self, day: date) -> Plan:
        try:
            plan, seconds = await self.worker.run(make_plan, self.view.journal_path,
                                                  self.view.config, day)
        except ApiError:
            self.close()  # the worker is gone (died, or stopped): so are the plans it was making
            raise
        log.info("morning plan of %s made in %.1f s from %d past days (%d staffings "
                 "rehearsed)", day, seconds, len(plan.history), plan.evaluations)
        return plan

    def close(self) -> None:
        """Stop the worker at once (a plan being made is abandoned)."""
        self.worker.close()
        for made in self._plans.values():
            made.cancel()  # (a plan already made stays)
        self._plans = {d: p for d, p in self._plans.items() if not p.cancelled()}

    async def cleanup(self, _app: web.Application) -> None:
        """For ``app.on_cleanup``: the worker stops with the app."""
        self.close()


def serve_plan(app: web.Application, view: PlanView, auth: Auth) -> None:
    """The plan's routes on the manager's app; its worker stops with the app."""
    plan = MorningPlan(view, auth)
    app.on_cleanup.append(plan.cleanup)
    app.add_routes(plan.routes())


_WEEKDAYS = ("星期一 Monday", "星期二 Tuesday", "星期三 Wednesday", "星期四 Thursday",
             "星期五 Friday", "星期六 Saturday", "星期日 Sunday")


def kind_label(key: str, counters: tuple[str, ...], config: HallConfig) -> str:
    """A window kind as the manager knows it: comprehensive, or the services it serves."""
    if key == "*":
        return f"综合窗口 Comprehensive ({len(counters)})"
    names = {s.id: s.name for s in config.services}
    served = "、".join(names.get(s, s) for s in key.split("+"))
    windows = ", ".join(counters)
    return f"{served} {key} (窗口 {windows})"


def _verdict(plan: Plan) -> str:
    if not plan.history:
        return "没有往周同日的记录，无法演练 · No past weeks' history for this weekday yet"
    if plan.met:
        short = plan.may_fall_short
        return (f"演练 {plan.rehearsals} 次，至多 {short} 次有业务未达标（或与全部开放相当）· "
                f"Of {plan.rehearsals} rehearsals at most {short} left a service short of its "
                f"wait target, or it did as well as with every window open")
    return ("部分演练中仍有业务未达标，相关时段已尽量开放 · In some rehearsals a service still "
            "missed its target: the hours its late residents came (and those before) are as "
            "open as they can be")


def plan_table(plan: Plan, config: HallConfig) -> str:
    kinds = [kind_label(k.key, k.counters, config) for k in plan.kinds]
    head = "".join(f'<th scope="col">{esc(k)}</th>' for k in kinds)
    rows = []
    for slot in plan.slots:
        cells = "".join(f'<td class="num">{n}</td>' for n in slot.open)
        within = "–" if slot.within is None else f"{100 * slot.within:.0f}%"
        rows.append(f'<tr><th scope="row">{esc(slot.label)}</th>{cells}'
                    f'<td class="num total">{sum(slot.open)}</td>'
                    f'<td class="num">{slot.expected:.0f}</td><td class="num">{within}</td></tr>')
    if not rows:
        rows.append(f'<tr><td colspan="{len(kinds) + 4}">今日不开放 Closed today</td></tr>')
    return ('<div class="scroll"><table id="plan-table"><thead><tr>'
            '<th scope="col">时段 Hour</th>' + head +
            '<th scope="col">合计 Windows</th><th scope="col">预计来人 Expected residents</th>'
            '<th scope="col">演练达标 Within target</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table></div>")


def plan_chart(plan: Plan) -> str:
    labels = [s.label for s in plan.slots]
    comprehensive = [k for k, kind in enumerate(plan.kinds) if kind.services is None]
    series = [Series("综合窗口 comprehensive",
                     [float(sum(s.open[k] for k in comprehensive)) for s in plan.slots]),
              Series("专门窗口 specialist",
                     [float(sum(n for k, n in enumerate(s.open) if k not in comprehensive))
                      for s in plan.slots])]
    windows = sum(len(k.counters) for k in plan.kinds)
    return str(columns("每小时开放窗口 Windows to open by hour", labels, series,
                       limit=float(windows)))


def targets_table(plan: Plan, config: HallConfig) -> str:
    rows = "".join(
        f'<tr><th scope="row">{esc(s.id)} {esc(s.name)}</th>'
        f'<td class="num">{config.wait_target(s.id):g}</td>'
        f'<td class="num">{_share(plan.services.get(s.id))}</td>'
        f'<td class="num">{_share(plan.all_open.get(s.id))}</td></tr>' for s in config.services)
    return ('<div class="scroll"><table id="plan-targets"><thead><tr>'
            '<th scope="col">业务 Service</th><th scope="col">等候目标 Wait target (min)</th>'
            f'<th scope="col">按计划 Planned: worst rehearsal within target (≥ '
            f'{100 * plan.level:.0f}%)</th><th scope="col">全部开放 All open</th></tr></thead>'
            f'<tbody>{rows}</tbody></table></div>')


def _share(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"
