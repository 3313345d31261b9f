"""The city overview's page and JSON: every hall side by side, shortest wait first."""

from __future__ import annotations

import asyncio
import html
from typing import TYPE_CHECKING

from aiohttp import web

from city.overview import HallEntry, entry_json, ranking

if TYPE_CHECKING:
    from city.overview import CityOverview

REFRESH_S = 10
_STYLE = """
body{font-family:"Noto Sans CJK SC","WenQuanYi Zen Hei",system-ui,sans-serif;margin:0;
background:#eef1f5;color:#1c2430}header{background:#1d3f6e;color:#fff;padding:.6rem 1rem}
h1{font-size:1.2rem;margin:0}main{padding:1rem}table{border-collapse:collapse;width:100%;
background:#fff}th,td{padding:.4rem .6rem;border-bottom:1px solid #d5dbe3;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{font-size:.8rem;color:#4f5b6b}
.best{background:#e3f4e8;color:#176b34;font-weight:700}.down{color:#a4161a;font-weight:700}
.en{color:#4f5b6b;font-size:.85em}form{margin-bottom:.8rem}
"""


def _services(entries: list[HallEntry]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for entry in entries:
        for s in entry.summary.services if entry.summary else []:
            seen.setdefault(s.service, s.name)
    return sorted(seen.items())


def _row(entry: HallEntry, services: list[tuple[str, str]], best: dict[str, float]) -> str:
    summary = entry.summary
    assert summary is not None
    waits = {s.service: s for s in summary.services}
    cells = []
    for sid, _ in services:
        s = waits.get(sid)
        if s is None:
            cells.append("<td>–</td>")
            continue
        if s.estimated_wait_min is None:  # no window serves it there now
            cells.append(f"<td>待定 <span class=en>unknown ({s.waiting})</span></td>")
            continue
        mark = ' class="best"' if s.estimated_wait_min == best.get(sid) else ""
        cells.append(f"<td{mark}>{s.estimated_wait_min:.0f} <span class=en>({s.waiting})</span>"
                     "</td>")
    bridge = {True: "在线 up", False: '<span class="down">断开 down</span>', None: "?"}
    return (f"<tr><td>{html.escape(summary.name)}<br><span class=en>"
            f"{html.escape(summary.name_en)}</span></td><td>{summary.counters_open}</td>"
            + "".join(cells) + f"<td>{summary.issued_today}</td><td>{summary.served_today}</td>"
            f"<td>{bridge[entry.bridge_up]}</td></tr>")


def page_html(entries: list[HallEntry], service: str | None) -> str:
    ranked = ranking(entries, service)
    services = _services(ranked)
    best = {sid: min((s.estimated_wait_min for e in ranked if e.summary
                      for s in e.summary.services
                      if s.service == sid and s.estimated_wait_min is not None), default=-1.0)
            for sid, _ in services}
    head = "".join(f"<th scope=col>{html.escape(sid)} {html.escape(name)}</th>"
                   for sid, name in services)
    rows = "".join(_row(e, services, best) for e in ranked)
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta http-equiv="refresh" content="{REFRESH_S}"><title>全市通办 City overview'
            f"</title><style>{_STYLE}</style></head><body><header><h1>全市通办 各中心等候 "
            f"<span lang=en>City overview: waits at every centre</span></h1></header><main>"
            f"<p>预计等候（分钟），括号内为等候人数。<span class=en lang=en>Estimated wait in "
            f"minutes; people waiting in brackets. Shortest first.</span></p>"
            f"<table><thead><tr><th scope=col>中心 Centre</th><th scope=col>开放窗口 Open</th>"
            f"{head}<th scope=col>取号 Issued</th><th scope=col>办结 Served</th>"
            f"<th scope=col>连接 Link</th></tr></thead><tbody>{rows}</tbody></table>"
            f"</main></body></html>")


def routes(overview: CityOverview) -> list[web.RouteDef]:
    """``/`` (the page) and ``/api/halls?service=A&near=h1,h2`` (JSON, shortest wait first)."""

    async def index(request: web.Request) -> web.Response:
        service = request.query.get("service") or None
        return web.Response(text=page_html(overview.halls(), service), content_type="text/html")

    async def halls(request: web.Request) -> web.Response:
        service = request.query.get("service") or None
        near = request.query.get("near")
        only = [h for h in near.split(",") if h] if near else None
        ranked = ranking(overview.halls(), service, only)
        return web.json_response([entry_json(e) for e in ranked])

    return [web.get("/", index), web.get("/api/halls", halls)]


async def serve(overview: CityOverview, host: str, port: int) -> None:
    """Serve the page and the JSON until cancelled (Ctrl-C)."""
    app = web.Application()
    app.add_routes(routes(overview))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    print(f"city overview on http://{host}:{port}/", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
