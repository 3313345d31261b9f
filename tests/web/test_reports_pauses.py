"""Minutes paused by reason on the reports page (a day, and a range running into the hall's
open day), in its CSV export, on the printable daily report and in its PDF (pdftotext): the
figures of the scripted Friday (tests/support/pause_days.py) and a pause made today."""

from __future__ import annotations

import csv
import io
import subprocess
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from browser import axe_violations, launch, sign_in
from playwright.async_api import Page
from support.pause_days import CONFIG, FRIDAY, FRIDAY_ROWS, FRIDAY_STEPS, played, row
from webhall import MANAGER, WebHall, start_web_hall

from broker_config.process import MosquittoProcess
from hall.clock import VirtualClock
from hall.journal import Journal
from hall.reports import PAUSE_REASONS
from protocol import messages as m
from protocol.link import new_command_id

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "images" / "screenshots"
KEYS = ("id", "name", *(f"pause_{r}_min" for r in PAUSE_REASONS), "pause_total_min")


def shown(rows: list[dict[str, Any]]) -> list[list[str]]:
    """Rows as the page prints them: – for no pause of that reason."""
    return [["–" if r[k] is None else str(r[k]) for k in KEYS] for r in rows]


@pytest.fixture
async def paused_hall(fresh_broker: MosquittoProcess, tmp_path: Path) -> AsyncIterator[WebHall]:
    """The example hall on Monday the 23rd, its journal holding Friday's pauses."""
    events = played(FRIDAY, FRIDAY_STEPS)
    journal = await Journal.open(tmp_path / "journal.sqlite3", durable=False)
    await journal.commit(FRIDAY, events[-1].at, events)
    await journal.close()
    hall = await start_web_hall(fresh_broker, tmp_path, CONFIG)
    yield hall
    await hall.stop()


async def cells(page: Page, rows_selector: str) -> list[list[str]]:
    rows = page.locator(rows_selector)
    return [[c.strip() for c in await rows.nth(n).locator("td").all_inner_texts()]
            for n in range(await rows.count())]


async def pause_today(hall: WebHall, minutes: float) -> None:
    """Window 1 pauses for lunch for ``minutes`` on the hall's clock, then resumes."""
    clock = hall.controller.clock
    assert isinstance(clock, VirtualClock)
    reply = await hall.execute("pause", m.Pause(id=new_command_id(),
                                                reason=m.PauseReason.LUNCH), "caller-1")
    assert reply.ok, reply.error
    clock.advance(timedelta(minutes=minutes).total_seconds())
    reply = await hall.execute("resume", m.Resume(id=new_command_id()), "caller-1")
    assert reply.ok, reply.error


def pdf_words(pdf: bytes) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()
    return text.split()


def holds(words: list[str], line: list[str]) -> bool:
    flat = [w for cell in line for w in cell.split()]
    return any(words[n:n + len(flat)] == flat for n in range(len(words)))


@pytest.mark.browser
async def test_pause_minutes_on_the_page_in_the_csv_and_the_daily_report(
        paused_hall: WebHall, tmp_path: Path) -> None:
    today = paused_hall.view.engine.day
    await pause_today(paused_hall, 30)
    url = paused_hall.url
    async with launch() as browser:
        page = await browser.new_page(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        await sign_in(page, url, *MANAGER)
        await page.goto(f"{url}/reports?from={FRIDAY}&to={FRIDAY}")
        assert await cells(page, "#table-pauses tbody tr") == shown(FRIDAY_ROWS)
        heads = await page.locator("#table-pauses thead th").all_inner_texts()
        assert heads[2:] == ["午休 Lunch (min)", "开会 Meeting (min)", "系统故障 System down (min)",
                             "短暂离开 Break (min)", "其他 Other (min)", "未注明 No reason (min)",
                             "暂停合计 Paused in all (min)"]
        answer = await page.request.get(f"{url}/reports/pauses.csv?from={FRIDAY}&to={FRIDAY}")
        assert answer.status == 200
        table = list(csv.reader(io.StringIO((await answer.text()).lstrip("\ufeff"))))
        assert table[1:] == [["" if c == "–" else c for c in r] for r in shown(FRIDAY_ROWS)]

        await page.goto(f"{url}/reports?from={FRIDAY}&to={today}")  # today's 30 min lunch
        week = shown([row("1", "1号窗口", lunch=75.0, meeting=20.0), *FRIDAY_ROWS[1:-1],
                      row("合计", "全部窗口 All windows", lunch=135.0, meeting=20.0,
                          system_down=12.5, **{"break": 40.0}, other=3.2, none=7.0)])
        assert await cells(page, "#table-pauses tbody tr") == week
        assert await axe_violations(page) == []
        await page.locator("#table-pauses").screenshot(path=str(SHOTS / "reports-pauses.png"))

        await page.goto(f"{url}/reports/daily?day={FRIDAY}")
        assert await cells(page, "#daily-pauses tbody tr") == shown(FRIDAY_ROWS)
        assert await axe_violations(page) == []
        pdf = await page.request.get(f"{url}/reports/daily.pdf?day={FRIDAY}")
        assert pdf.status == 200
        body = await pdf.body()
    (tmp_path / "daily.pdf").write_bytes(body)
    words = pdf_words(body)
    assert holds(words, ["各窗口暂停（分钟）", "Pauses", "by", "window", "(minutes)"])
    for line in shown(FRIDAY_ROWS):
        assert holds(words, line), line
