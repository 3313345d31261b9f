"""The morning plan on the manager's tablet, in a real browser (Debian's chromium): a hall
whose journal holds past Mondays (simulated days played on the engine and written by the
controller's own journal) shows the plan's table and chart, the same figures as /api/plan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from browser import axe_violations, launch, sign_in
from playwright.async_api import Browser, expect
from support.hall import hall_config, weekday_morning
from webhall import MANAGER, WebHall, start_web_hall

from bench.plan import write_history
from broker_config.process import MosquittoProcess

pytestmark = pytest.mark.browser
SCREENSHOT = Path(__file__).resolve().parents[2] / "images" / "screenshots" / "plan.png"
PLANNED_MS = 180_000  # the plan is made in the worker at the first request (seconds of CPU)
WEEKS = 3


@pytest.fixture
async def planned_hall(fresh_broker: MosquittoProcess, tmp_path: Path) -> AsyncIterator[WebHall]:
    """The example hall on Monday 23 November 2026, its journal holding the three weeks
    before."""
    config = hall_config()
    today = weekday_morning().now().date()
    await write_history(tmp_path / "journal.sqlite3", config, today - timedelta(weeks=WEEKS),
                        7 * WEEKS, seed=3)
    hall = await start_web_hall(fresh_broker, tmp_path, config)
    yield hall
    await hall.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launch() as chromium:
        yield chromium


async def test_the_plan_page_shows_the_table_and_chart_of_the_api(
        browser: Browser, planned_hall: WebHall) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page.set_default_timeout(PLANNED_MS)
    await sign_in(page, planned_hall.url, *MANAGER)
    await page.get_by_role("link", name="排班").click()
    await expect(page).to_have_url(f"{planned_hall.url}/plan", timeout=PLANNED_MS)
    table = page.locator("#plan-table")
    await expect(table).to_be_visible(timeout=PLANNED_MS)
    api = await page.request.get(f"{planned_hall.url}/api/plan", timeout=PLANNED_MS)
    assert api.ok
    plan = await api.json()
    assert plan["day"] == "2026-11-23"
    assert plan["history"] == ["2026-11-16", "2026-11-09", "2026-11-02"]
    hours = plan["hours"]
    assert [h["start"] for h in hours] == [f"{h:02d}:30" for h in range(8, 16)]
    verdict = page.locator("#plan-verdict")
    if plan["met"]:
        assert plan["may_fall_short"] == plan["rehearsals"] // 20
        await expect(verdict).to_contain_text(
            f"Of {plan['rehearsals']} rehearsals at most {plan['may_fall_short']} left a service "
            "short")
    else:
        await expect(verdict).to_contain_text("In some rehearsals a service still missed")
    assert [k["key"] for k in plan["kinds"]] == ["*", "A+B", "E", "C+D", "F+G"]
    rows = table.locator("tbody tr")
    await expect(rows).to_have_count(len(hours))
    for n, hour in enumerate(hours):
        cells = await rows.nth(n).locator("th, td").all_inner_texts()
        assert cells[0] == hour["start"]
        assert [int(c) for c in cells[1:6]] == [hour["open"][k] for k in
                                                ("*", "A+B", "E", "C+D", "F+G")]
        assert int(cells[6]) == hour["windows"]
    windows = [h["windows"] for h in hours]
    assert max(windows) > min(windows)  # the morning's peak is staffed above the lunch lull
    assert plan["window_hours"] < plan["all_open_window_hours"]
    await expect(page.locator("#window-hours")).to_have_text(f"{plan['window_hours']:g}")
    chart = page.locator("figure.chart svg")
    await expect(chart).to_have_count(1)
    described = await chart.locator("desc").text_content() or ""
    for hour in hours:
        assert hour["start"] in described
    targets = page.locator("#plan-targets tbody tr")
    await expect(targets).to_have_count(7)
    for n, service in enumerate("ABCDEFG"):
        cells = await targets.nth(n).locator("th, td").all_inner_texts()
        assert cells[0].startswith(service)
        assert cells[2] == f"{100 * plan['services'][service]:.0f}%"
        assert cells[3] == f"{100 * plan['services_all_open'][service]:.0f}%"
    await expect(page.locator("figure.chart figcaption")).to_have_text(
        "每小时开放窗口 Windows to open by hour")
    assert await axe_violations(page) == []  # (axe is injected: the page's CSP bypassed)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOT), full_page=True)


async def test_a_bad_day_is_named_and_a_second_request_reuses_the_plan(
        browser: Browser, planned_hall: WebHall) -> None:
    page = await browser.new_page()
    page.set_default_timeout(PLANNED_MS)
    await sign_in(page, planned_hall.url, *MANAGER)
    bad = await page.request.get(f"{planned_hall.url}/api/plan?day=23-11-2026")
    assert bad.status == 400
    assert "23-11-2026" in (await bad.json())["error"]["message"]
    url = f"{planned_hall.url}/api/plan"
    first, second = await asyncio.gather(page.request.get(url, timeout=PLANNED_MS),
                                         page.request.get(url, timeout=PLANNED_MS))
    assert first.ok and second.ok
    assert await first.json() == await second.json()
