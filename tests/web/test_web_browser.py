"""The manager's tablet and the resident's status page in a real browser (Debian's chromium)."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from browser import axe_violations, launch, sign_in
from playwright.async_api import Browser, Page, expect
from webhall import MANAGER, WebHall

from hall.engine.events import Kind, TicketEvent, TicketIssued
from hall.snapshots import hall_state, ticket_view
from hardware.printer import decode_escpos, ticket_bytes
from kiosk.ticket import printout_for
from protocol import messages as m
from protocol.link import Inbound, Link, new_command_id
from protocol.topics import StateKind

pytestmark = pytest.mark.browser
HALL = "tianping"
SEEN_S = 5000  # ms Playwright waits for something to appear


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launch() as chromium:
        yield chromium


@pytest.fixture
async def tablet(browser: Browser, web_hall: WebHall) -> Page:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await sign_in(page, web_hall.url, *MANAGER)
    await page.locator("#conn.up").wait_for()
    return page


async def device(hall: WebHall, device_id: str, role: m.Role, *follow: str) -> Link:
    link = Link(hall.broker.broker_settings(device_id), HALL, device_id, role, follow=follow)
    await link.start()
    return link


async def issue(hall: WebHall, service: str) -> str:
    reply = await hall.execute("issue", m.IssueTicket(
        id=new_command_id(), service=service, print_on_kiosk=False))
    assert reply.ok and reply.result
    return str(reply.result["ticket"]["number"])


async def test_wrong_password_is_told_and_right_one_signs_in(browser: Browser,
                                                            web_hall: WebHall) -> None:
    page = await browser.new_page()
    await page.goto(f"{web_hall.url}/live")
    await expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)live$"))
    await page.get_by_label("账号").fill(MANAGER[0])
    await page.get_by_label("密码").fill("not-the-password")
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("alert")).to_have_text("name or password not recognised")
    await page.get_by_label("密码").fill(MANAGER[1])
    await page.get_by_role("button", name="登录").click()
    await expect(page).to_have_url(f"{web_hall.url}/live")
    await expect(page.locator("#counters .counter-card")).to_have_count(13)


@pytest.mark.parametrize("target", ["/%5Cevil.example/phish.html", "/%09/evil.example/x",
                                    "/%5C%5Cevil.example", "//evil.example", "%2F%2Fevil.example"])
async def test_sign_in_with_a_crafted_next_stays_on_the_site(browser: Browser, web_hall: WebHall,
                                                             target: str) -> None:
    page = await browser.new_page()
    await page.goto(f"{web_hall.url}/login?next={target}")
    await page.get_by_label("账号").fill(MANAGER[0])
    await page.get_by_label("密码").fill(MANAGER[1])
    await page.get_by_role("button", name="登录").click()
    await expect(page).to_have_url(f"{web_hall.url}/live")


async def test_sign_in_goes_where_the_manager_was_heading(browser: Browser,
                                                          web_hall: WebHall) -> None:
    page = await browser.new_page()
    await page.goto(f"{web_hall.url}/reports?from=2026-11-23")
    await expect(page).to_have_url(re.compile(r"/login\?next="))
    await page.get_by_label("账号").fill(MANAGER[0])
    await page.get_by_label("密码").fill(MANAGER[1])
    await page.get_by_role("button", name="登录").click()
    await expect(page).to_have_url(f"{web_hall.url}/reports?from=2026-11-23")


async def test_a_call_appears_live(tablet: Page, web_hall: WebHall) -> None:
    number = await issue(web_hall, "A")
    card = tablet.locator('[data-counter="1"] .card-number')
    await expect(card).to_have_text("—")
    caller = await device(web_hall, "caller-1", m.Role.CALLER)
    try:
        reply = await caller.request("call_next", m.CallNext(id=new_command_id()))
        assert reply.ok
        await expect(card).to_have_text(number, timeout=SEEN_S)
        await expect(tablet.locator('[data-counter="1"] .card-state')).to_contain_text("已呼叫")
    finally:
        await caller.close()


async def test_pause_on_the_tablet_reaches_a_display(tablet: Page, web_hall: WebHall) -> None:
    topic = f"lobby/{HALL}/state/{StateKind.COUNTER}/3"
    paused = asyncio.Event()

    def watch(inbound: Inbound) -> None:
        if isinstance(inbound.payload, m.CounterState) and inbound.payload.status == "paused":
            paused.set()

    display = await device(web_hall, "display-w3", m.Role.DISPLAY, topic)
    display.on_message(watch)
    try:
        await tablet.locator('[data-counter="3"]').click()
        dialog = tablet.locator("#counter-dialog")
        await expect(dialog).to_be_visible()
        await dialog.get_by_role("button", name="暂停 Pause").click()
        await asyncio.wait_for(paused.wait(), 5.0)
        await expect(tablet.locator('[data-counter="3"] .badge')).to_contain_text("暂停")
        assert display.state[topic].status is m.CounterStatus.PAUSED  # type: ignore[attr-defined]
    finally:
        await display.close()


def journal_statuses(events: list[tuple[Kind, dict[str, object]]]) -> dict[str, tuple[str, str]]:
    """Ticket number → (service at issue, last status), read straight off the journal."""
    last = {Kind.TICKET_ISSUED: "waiting", Kind.TICKET_CALLED: "called",
            Kind.SERVICE_STARTED: "serving", Kind.TICKET_DONE: "done",
            Kind.TICKET_NO_SHOW: "no_show", Kind.TICKET_CANCELLED: "cancelled"}
    found: dict[str, tuple[str, str]] = {}
    for kind, data in events:
        ticket = data.ticket if isinstance(data, TicketEvent) else ""
        number = ticket.split("-")[-1]
        if isinstance(data, TicketIssued):
            found[number] = (data.service, "waiting")
        elif kind in last and number in found:
            found[number] = (found[number][0], last[kind])
    return found


async def download_csv(page: Page, link: str) -> list[dict[str, str]]:
    async with page.expect_download() as waiting:
        await page.locator(link).first.click()
    download = await waiting.value
    text = Path(await download.path()).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


async def test_csv_export_matches_the_journal(tablet: Page, web_hall: WebHall) -> None:
    controller = web_hall.controller
    for service in "AABEG":
        await issue(web_hall, service)
    for name, device_id in (("call_next", "caller-1"), ("call_next", "caller-1"),
                            ("call_next", "caller-11"), ("no_show", "caller-11"),
                            ("call_next", "caller-2")):
        reply = await web_hall.execute(name, m.COMMANDS[name](id=new_command_id()), device_id)
        assert reply.ok, reply.error
    await tablet.goto(f"{web_hall.url}/reports")
    tickets = await download_csv(tablet, "#tickets-csv")
    events = await controller.journal.events_of(controller.engine.day)
    expected = journal_statuses([(e.kind, e.data) for e in events])
    assert {row["number"]: (row["service"], row["status"]) for row in tickets} == expected
    assert expected["A001"][1] == "done" and expected["E001"][1] == "no_show"
    services = await download_csv(tablet, 'a[href^="/reports/services.csv"]')
    issued = {row["业务 Service"]: int(row["取号 Issued"]) for row in services}
    for service in "ABCDEFG":
        assert issued[service] == sum(1 for s, _ in expected.values() if s == service)


def qr_url(png: Path) -> str:
    out = subprocess.run(["zbarimg", "--quiet", "--raw", str(png)], capture_output=True,
                         text=True, timeout=20, check=True)
    return out.stdout.strip()


async def test_status_page_from_the_ticket_qr_follows_the_call(
        tablet: Page, browser: Browser, web_hall: WebHall, tmp_path: Path) -> None:
    await tablet.locator("#issue-open").click()
    await tablet.locator("#issue-go").click()
    number = await tablet.locator(".issued-number").inner_text()
    engine = web_hall.controller.engine
    ticket = next(t for t in engine.tickets.values() if t.number == number)
    view = ticket_view(engine, ticket, web_hall.controller.projection)
    # The hall as configured to serve status pages from the status listener's address.
    hall = hall_state(engine).model_copy(update={"status_url_base": f"{web_hall.status_url}/t/"})
    printed = decode_escpos(ticket_bytes(printout_for(view, hall)))
    printed.images[0].save(tmp_path / "ticket.png")
    url = qr_url(tmp_path / "ticket.png")
    assert url == f"{web_hall.status_url}/t/{ticket.token}"
    phone = await browser.new_page(viewport={"width": 390, "height": 760})
    await phone.goto(url)
    await expect(phone.locator("#number")).to_have_text(number)
    await expect(phone.locator("#status-zh")).to_have_text("等候中")
    await expect(phone.locator("#ahead-en")).to_have_text("You are next")
    caller = await device(web_hall, "caller-5", m.Role.CALLER)
    try:
        assert (await caller.request("call_next", m.CallNext(id=new_command_id()))).ok
        await expect(phone.locator("#status-zh")).to_have_text("请到窗口办理", timeout=SEEN_S)
        await expect(phone.locator("#counter-zh")).to_have_text("5号窗口")
        await expect(phone.locator("#counter-en")).to_have_text("Window 5")
        await expect(phone.locator("#ahead-zh")).to_have_text("")
    finally:
        await caller.close()


async def no_serious_violations(page: Page, what: str) -> None:
    violations = await axe_violations(page)
    assert violations == [], f"{what}: {violations}"


async def test_every_page_passes_axe(browser: Browser, web_hall: WebHall) -> None:
    # The pages' CSP forbids inline scripts, so the page is told to let axe-core in.
    page = await browser.new_page(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    await page.goto(f"{web_hall.url}/login")
    await no_serious_violations(page, "sign-in page")
    await page.goto(f"{web_hall.url}/no/such/page")
    await no_serious_violations(page, "404 page")
    await sign_in(page, web_hall.url, *MANAGER)
    await issue(web_hall, "C")
    await web_hall.execute("call_next", m.CallNext(id=new_command_id()), "caller-1")
    await issue(web_hall, "A")
    await expect(page.locator("#tickets tr")).to_have_count(2)
    await no_serious_violations(page, "live hall")
    await page.locator('[data-counter="1"]').click()
    await no_serious_violations(page, "counter dialog")
    await page.keyboard.press("Escape")
    await page.locator("#issue-open").click()
    await page.locator("#issue-go").click()
    await page.locator(".issued-number").wait_for()
    await no_serious_violations(page, "staff-assisted ticket dialog")
    await page.get_by_role("link", name="打印号票 Print ticket").click()
    await expect(page.locator(".qr")).to_be_visible()
    await no_serious_violations(page, "printable ticket")
    await page.goto(f"{web_hall.url}/reports")
    await no_serious_violations(page, "reports")
    waiting = next(t for t in web_hall.controller.engine.tickets.values()
                   if t.status is m.TicketStatus.WAITING)
    await page.goto(f"{web_hall.status_url}/t/{waiting.token}")
    await no_serious_violations(page, "status page")
