"""The printable daily report: its page shows the report's figures and prints on at most two
A4 pages (Debian's chromium); the PDF saved at the day's close is there once, holds the
figures (pdftotext) and reads right when drawn (pdftoppm, then tesseract)."""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from browser import axe_violations, launch, sign_in
from playwright.async_api import Page, expect
from support.hall import hall_config
from support.history_days import play
from support.ocr import ocr
from webhall import MANAGER, WebHall, start_web_hall

from broker_config.process import MosquittoProcess
from hall.clock import VirtualClock
from hall.journal import Journal
from hall.reports import Report
from protocol import messages as m
from protocol.link import new_command_id
from web.daily_report import ARCHIVE, DailyArchive
from web.reports_page import names_of

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "images" / "screenshots"
FRIDAY = date(2026, 11, 20)  # played to its close; the hall's today is Monday the 23rd
TOTALS = ("issued", "served", "no_show", "cancelled", "not_served")
SERVICE_KEYS = ("service", "name", "issued", "served", "no_show", "cancelled", "not_served",
                "wait_mean_min", "wait_p90_min", "wait_max_min", "wait_within_pct")
HOUR_KEYS = ("hour", "issued", "served", "not_served", "wait_mean_min", "wait_p90_min",
             "wait_max_min")
DESK_KEYS = ("id", "name", "served", "ratings", "rating_mean", "satisfied_pct")


def shown(value: object) -> str:
    return "–" if value is None else str(value)


def expected_rows(report: Report, table: str, keys: tuple[str, ...]) -> list[list[str]]:
    return [[shown(row[k]) for k in keys] for row in report.tables[table].rows]


def busiest(report: Report) -> list[tuple[str, int]]:
    """The three hours with the most tickets issued, the earlier first on a tie."""
    hours = [(r["hour"], r["issued"]) for r in report.tables["hours"].rows if r["issued"]]
    return sorted(hours, key=lambda h: (-h[1], h[0]))[:3]


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    found = re.search(r"^Pages:\s+(\d+)$", info.stdout, re.MULTILINE)
    assert found is not None, info.stdout
    return int(found.group(1))


@pytest.fixture
async def friday_hall(fresh_broker: MosquittoProcess, tmp_path: Path) -> AsyncIterator[WebHall]:
    """The example hall on Monday the 23rd, its journal holding Friday played to its close."""
    config = hall_config()
    events = play(config, FRIDAY, seed=7, close=True)
    assert events
    journal = await Journal.open(tmp_path / "journal.sqlite3", durable=False)
    await journal.commit(FRIDAY, events[-1].at, events)
    await journal.close()
    hall = await start_web_hall(fresh_broker, tmp_path, config)
    yield hall
    await hall.stop()


async def report_of(hall: WebHall, day: date) -> Report:
    view = hall.view
    return await view.history.report(day, day, names_of(view), view.engine.tz)


async def table_rows(page: Page, section: str) -> list[list[str]]:
    rows = page.locator(f"#daily-{section} tbody tr")
    return [[c.strip() for c in await rows.nth(n).locator("td").all_inner_texts()]
            for n in range(await rows.count())]


@pytest.mark.browser
async def test_the_daily_page_shows_the_reports_figures_on_two_a4_pages(
        friday_hall: WebHall, tmp_path: Path) -> None:
    report = await report_of(friday_hall, FRIDAY)
    services = report.tables["services"].rows
    async with launch() as browser:
        page = await browser.new_page(viewport={"width": 1100, "height": 900},
                                      bypass_csp=True)
        await sign_in(page, friday_hall.url, *MANAGER)
        await page.goto(f"{friday_hall.url}/reports?from={FRIDAY}&to={FRIDAY}")
        await page.get_by_role("link", name="打印日报 Print daily report").click()
        await expect(page).to_have_url(f"{friday_hall.url}/reports/daily?day={FRIDAY}")
        await expect(page.locator("#daily-day")).to_have_text(FRIDAY.isoformat())
        kpis = await page.locator("#daily-totals .kpi").all_inner_texts()
        assert kpis == [str(sum(r[k] for r in services)) for k in TOTALS]
        assert int(kpis[0]) > 100 and int(kpis[4]) > 0  # a busy day, some left unserved
        assert await table_rows(page, "services") == expected_rows(report, "services",
                                                                   SERVICE_KEYS)
        assert len(services) == 7
        assert await table_rows(page, "hours") == expected_rows(report, "hours", HOUR_KEYS)
        for desks in ("counters", "clerks"):
            assert await table_rows(page, desks) == expected_rows(report, desks, DESK_KEYS)
        assert any(r["ratings"] for r in report.tables["clerks"].rows)
        assert len(report.tables["counters"].rows) == 13
        items = await page.locator("#daily-busiest li").all_inner_texts()
        read = [re.match(r"(\d\d:00) 取号 (\d+) issued", i.strip()) for i in items]
        assert [(r.group(1), int(r.group(2))) for r in read if r] == busiest(report)
        marked = await page.locator("#daily-hours tr.busiest td:first-child").all_inner_texts()
        assert sorted(marked) == sorted(h for h, _ in busiest(report))
        assert await axe_violations(page) == []
        await page.screenshot(path=str(SHOTS / "daily-report.png"), full_page=True)
        printed = tmp_path / "printed.pdf"
        await page.emulate_media(media="print")
        await expect(page.locator(".daily-tools")).to_be_hidden()
        await page.pdf(path=str(printed), format="A4", prefer_css_page_size=True)
    assert 1 <= pdf_pages(printed) <= 2


async def test_a_future_or_malformed_day_is_refused(friday_hall: WebHall) -> None:
    async with launch() as browser:
        page = await browser.new_page()
        await sign_in(page, friday_hall.url, *MANAGER)
        for day, words in (("2026-11-24", "has not come yet"), ("20-11-2026", "YYYY-MM-DD")):
            answer = await page.request.get(f"{friday_hall.url}/reports/daily.pdf?day={day}")
            assert answer.status == 400
            assert words in (await answer.json())["error"]["message"]
        signed_out = await browser.new_page()
        answer = await signed_out.request.get(f"{friday_hall.url}/reports/daily.pdf")
        assert answer.status == 401


async def serve_a_few(hall: WebHall) -> None:
    """Three tickets, two served at window 1 and rated, one left waiting."""
    for service in ("A", "A", "B"):
        reply = await hall.execute("issue", m.IssueTicket(id=new_command_id(), service=service,
                                                          print_on_kiosk=False))
        assert reply.ok, reply.error
    for rating in (5, 2):
        for name, command in (("call_next", m.CallNext(id=new_command_id())),
                              ("start", m.StartService(id=new_command_id())),
                              ("done", m.Done(id=new_command_id()))):
            reply = await hall.execute(name, command, "caller-1")
            assert reply.ok, reply.error
        rated = await hall.execute("evaluate", m.Evaluate(
            id=new_command_id(), rating=m.Rating(rating)), "caller-1")
        assert rated.ok, rated.error


def pdf_words(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    return text.split()


def holds(words: list[str], row: list[str]) -> bool:
    return any(words[n:n + len(row)] == row for n in range(len(words)))


async def test_the_pdf_is_saved_once_at_the_days_close(web_hall: WebHall) -> None:
    await serve_a_few(web_hall)
    view = web_hall.view
    archive: DailyArchive = web_hall.servers.runners[0].app[ARCHIVE]
    today = view.engine.day
    assert not archive.saving  # nothing saved while the day is open
    ended = asyncio.Event()

    def notice(_topic: str, _message: object) -> None:  # told after the archive is
        if view.engine.ended:
            ended.set()

    view.listeners.append(notice)
    reply = await web_hall.execute("end_day", m.EndDay(id=new_command_id()))
    assert reply.ok, reply.error
    await asyncio.wait_for(ended.wait(), 10)
    saved = await archive.saving[today]
    assert saved == view.state_dir / "daily" / f"{view.config.hall.id}-{today}.pdf"
    first = saved.stat()
    for _ in range(3):  # more changes, and a restarted service, write it no more
        archive.notice("", None)
    again = DailyArchive(view)
    again.notice("", None)
    assert await again.saving[today] == saved
    assert (saved.stat().st_ino, saved.stat().st_mtime_ns) == (first.st_ino, first.st_mtime_ns)
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]  # no partial file left
    report = await report_of(web_hall, today)
    words = pdf_words(saved)
    services = report.tables["services"].rows
    assert holds(words, [str(sum(r[key] for r in services)) for key in TOTALS])  # the totals
    for table, keys in (("services", SERVICE_KEYS), ("hours", HOUR_KEYS),
                        ("counters", DESK_KEYS), ("clerks", DESK_KEYS)):
        for row in expected_rows(report, table, keys):
            assert holds(words, row), (table, row)
    assert ["1", "1号窗口", "2", "2", "3.5", "50.0"] in expected_rows(report, "counters",
                                                                      DESK_KEYS)
    picture = SHOTS / "daily-report-pdf"
    subprocess.run(["pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-singlefile", "-png",
                    str(saved), str(picture)], check=True)
    read = ocr(picture.with_suffix(".png"))
    made = view.clock.now().strftime("Made%Y-%m-%d%H:%M")  # the hall's clock, not the host's
    for words_seen in ("服务日报", "report", str(today), "营业已结束", "1号窗口",
                       "社会保险与就业", made):
        assert words_seen in read, (words_seen, read)
    assert pdf_pages(saved) == 1


async def test_the_pdf_is_saved_when_the_business_day_changes(web_hall: WebHall) -> None:
    """No end_day: the controller rolls over at midnight; the day before is saved once."""
    await serve_a_few(web_hall)
    view, clock = web_hall.view, web_hall.controller.clock
    assert isinstance(clock, VirtualClock)
    archive: DailyArchive = web_hall.servers.runners[0].app[ARCHIVE]
    monday = view.engine.day
    announced = asyncio.Event()

    def notice(_topic: str, message: object) -> None:  # told after the archive is
        if isinstance(message, m.HallState) and message.date > monday.isoformat():
            announced.set()

    view.listeners.append(notice)
    clock.advance(timedelta(hours=15, minutes=5).total_seconds())  # Tuesday 00:05
    await asyncio.wait_for(announced.wait(), 20)
    saved = await archive.saving[monday]
    assert saved is not None and saved.name == f"{view.config.hall.id}-{monday}.pdf"
    text = "".join(pdf_words(saved))
    assert "营业已结束" in text and f"{monday}星期一Monday" in text
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]
    assert view.engine.day == monday + timedelta(days=1)
    assert view.engine.day not in archive.saving  # Tuesday is open
