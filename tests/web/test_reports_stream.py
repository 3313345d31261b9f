"""The reports page and its CSV over HTTP, from the hall's history (several days of a journal
made by the engine, read-only): the tickets CSV streams (chunked, no length known up front)
and is the old replay's CSV byte for byte, every other CSV is the old table's, the page's
totals are the old figures; bad requests get clear errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from support import report_reference as old
from support.hall import SECRET, hall_config
from support.history_days import Days, names, replayed, write_history
from webhall import MANAGER, write_accounts

from broker_config.process import free_port
from hall.engine.engine import HallEngine
from hall.history import History
from hall.journal_reader import JournalReader
from hallconfig import HallConfig
from web import reports_page
from web.accounts import AccountBook
from web.auth import Auth
from web.guard import secured, served_origins

CONFIG = hall_config()
MONDAY = date(2026, 11, 23)


@dataclass
class View:
    """What the reports read of the web service's view of the hall."""

    config: HallConfig
    engine: HallEngine
    history: History


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory) -> Days:
    path = tmp_path_factory.mktemp("web-history") / "journal.sqlite3"
    return asyncio.run(write_history(path, CONFIG, MONDAY, 4))


@pytest.fixture
async def site(days: Days, tmp_path: Path) -> AsyncIterator[tuple[str, JournalReader]]:
    """The reports' routes on a real listener, the writer's day as today."""
    reader = JournalReader.open(days.journal)
    history = History(reader, tmp_path / "reports.sqlite3")
    view = View(CONFIG, HallEngine(CONFIG, days.last, SECRET), history)
    write_accounts(tmp_path / "managers.toml")
    auth = Auth(AccountBook(tmp_path / "managers.toml"))
    port = free_port()
    app = secured(64 * 1024, served_origins("127.0.0.1", port, ()))
    app.add_routes([*auth.routes(), *reports_page.routes(view, auth)])
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", reader
    await runner.cleanup()
    history.close()
    reader.close()


@pytest.fixture
async def manager(site: tuple[str, JournalReader]) -> AsyncIterator[aiohttp.ClientSession]:
    url = site[0]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                     headers={"Origin": url}) as session:
        login = await session.post(f"{url}/api/login",
                                   json={"name": MANAGER[0], "password": MANAGER[1]})
        assert login.status == 200
        yield session


async def test_the_tickets_csv_streams_the_old_csv(
        site: tuple[str, JournalReader], manager: aiohttp.ClientSession, days: Days) -> None:
    url, reader = site
    first, last = MONDAY, days.last
    response = await manager.get(f"{url}/reports/tickets.csv",
                                 params={"from": first.isoformat(), "to": last.isoformat()})
    assert response.status == 200
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in response.headers
    assert response.content_type == "text/csv" and response.charset == "utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{CONFIG.hall.id}-tickets-{first}-{last}.csv"')
    body = (await response.read()).decode("utf-8")
    tickets = replayed(reader, first, last, names(CONFIG)).tables["tickets"]
    assert body == "\ufeff" + old.to_csv(tickets)


async def test_every_table_csv_and_the_page_are_the_old_figures(
        site: tuple[str, JournalReader], manager: aiohttp.ClientSession, days: Days) -> None:
    url, reader = site
    first, last = MONDAY + timedelta(1), days.last
    expected = replayed(reader, first, last, names(CONFIG))
    query = {"from": first.isoformat(), "to": last.isoformat()}
    for name in reports_page.PAGE_TABLES:
        if name == "pauses":  # new since the old reports: tests/web/test_reports_pauses.py
            continue
        response = await manager.get(f"{url}/reports/{name}.csv", params=query)
        assert response.status == 200, name
        body = (await response.read()).decode("utf-8")
        assert body == "\ufeff" + old.to_csv(expected.tables[name]), name
    page = await (await manager.get(f"{url}/reports", params=query)).text()
    rows = expected.tables["services"].rows
    assert f'id="not-served">{sum(r["not_served"] for r in rows)}<' in page
    assert f'<span class="kpi">{sum(r["issued"] for r in rows)}</span> 取号' in page


async def test_bad_requests_are_named(site: tuple[str, JournalReader],
                                      manager: aiohttp.ClientSession) -> None:
    url = site[0]
    backwards = {"from": "2026-11-25", "to": "2026-11-24"}
    response = await manager.get(f"{url}/reports/tickets.csv", params=backwards)
    assert response.status == 400
    assert "before it starts" in (await response.json())["error"]["message"]
    page = await manager.get(f"{url}/reports", params={"from": "2026-02-30"})
    assert page.status == 400 and "YYYY-MM-DD" in await page.text()
    response = await manager.get(f"{url}/reports/secrets.csv")
    assert response.status == 404 and "tickets" in (await response.json())["error"]["message"]
    async with aiohttp.ClientSession() as stranger:
        response = await stranger.get(f"{url}/reports/tickets.csv")
        assert response.status == 401
