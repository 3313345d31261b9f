"""The appointments page against a real controller over Mosquitto: staff book today's slots
for a resident by ID number (hashed in the web service, found nowhere else), a full or past
slot is refused, the list shows booked / checked in / late / missed as time passes; and the
page in Debian's chromium (with its screenshot)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from browser import axe_violations, launch, sign_in
from playwright.async_api import expect
from support.hall import SECRET, hall_config
from support.ocr import ocr
from webhall import JSON, MANAGER, SUPERVISOR, WebHall, client, start_web_hall

from broker_config.process import MosquittoProcess
from hall.clock import VirtualClock
from hallconfig import HallConfig
from hardware.idcard import sample_number
from protocol import messages as m
from protocol.identity import id_hash
from protocol.link import SyncClient, new_command_id
from protocol.topics import CONTROLLER_ID

HALL = "tianping"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "images" / "screenshots"
NUMBER = sample_number(date(1949, 12, 31), "F", 7)  # a valid number (check character too)
SEEN_MS = 15000  # a booking publishes no state: the web service reads it on the next message


def config() -> HallConfig:
    """The example hall; C takes 4 bookings per 30 minutes, D one an hour."""
    raw = hall_config().model_dump()
    for service in raw["services"]:
        if service["id"] == "C":
            service.update(appointment_slot_min=30, appointment_capacity=4)
        if service["id"] == "D":
            service.update(appointment_slot_min=60, appointment_capacity=1)
    return HallConfig.model_validate(raw)


@pytest.fixture
async def hall(fresh_broker: MosquittoProcess, tmp_path: Path) -> AsyncIterator[WebHall]:
    started = await start_web_hall(fresh_broker, tmp_path, config())
    yield started
    await started.stop()


async def signed_in(hall: WebHall, who: tuple[str, str] = MANAGER) -> aiohttp.ClientSession:
    session = client(hall.url)
    response = await session.post(f"{hall.url}/api/login",
                                  json={"name": who[0], "password": who[1]})
    assert response.status == 200
    return session


async def post(session: aiohttp.ClientSession, hall: WebHall,
               body: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
    response = await session.post(f"{hall.url}/api/appointments", data=json.dumps(body),
                                  headers=JSON)
    text = await response.text()
    return response.status, json.loads(text), text


async def picture(session: aiohttp.ClientSession, hall: WebHall) -> dict[str, Any]:
    response = await session.get(f"{hall.url}/api/appointments")
    assert response.status == 200
    return dict(await response.json())


def slot(shown: dict[str, Any], service: str, start: str) -> dict[str, Any]:
    spec = next(s for s in shown["services"] if s["id"] == service)
    return dict(next(s for s in spec["slots"] if s["start"] == start))


def statuses(shown: dict[str, Any]) -> list[tuple[str, str, str, str | None]]:
    return [(a["slot"], a["service"], a["status"], a["ticket"]) for a in shown["appointments"]]


async def check_in(hall: WebHall, number: str, service: str) -> str:
    """The resident swipes the card at kiosk-1 and checks in; the ticket's number."""
    swiped = id_hash(SECRET, hall.controller.engine.day, number)
    reply = await hall.execute("issue", m.IssueTicket(
        id=new_command_id(), service=service, id_hash=swiped, appointment=True), "kiosk-1")
    assert reply.ok and reply.result, reply.error
    printed = await hall.execute("printed", m.TicketPrinted(
        id=new_command_id(), ticket=reply.result["ticket"]["ticket"]), "kiosk-1")
    assert printed.ok, printed.error
    return str(reply.result["ticket"]["number"])


async def test_a_booking_is_hashed_here_and_the_number_goes_nowhere(
        hall: WebHall, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sniffer = SyncClient(hall.broker.broker_settings(CONTROLLER_ID))
    assert not sniffer.connect().is_failure
    assert not sniffer.subscribe(f"lobby/{HALL}/#").is_failure
    session = await signed_in(hall)
    try:
        status, answer, text = await post(session, hall, {
            "service": "C", "slot": "10:00", "id_number": NUMBER.lower()})
        assert status == 200, answer
        assert answer == {"ok": True, "service": "C", "slot": "10:00"}
        shown = await picture(session, hall)
        page = await (await session.get(f"{hall.url}/appointments")).text()
        await asyncio.to_thread(sniffer.wait_for, lambda r: r.topic.endswith("/reply/web")
                                and b'"slot"' in r.payload, 5.0)
    finally:
        await session.close()
    hashed = id_hash(SECRET, hall.controller.engine.day, NUMBER)
    assert statuses(shown) == [("10:00", "C", "booked", None)]
    assert slot(shown, "C", "10:00") == {"start": "10:00", "booked": 1, "free": 3,
                                         "bookable": True}
    journal = b"".join(p.read_bytes() for p in tmp_path.glob("journal.sqlite3*"))  # and WAL
    sent = [r for r in sniffer.messages if r.topic.endswith("/cmd/web/book")]
    sniffer.close()
    assert hashed.encode() in journal and len(sent) == 1 and hashed.encode() in sent[0].payload
    for variant in (NUMBER, NUMBER.lower(), NUMBER[:17]):
        assert variant.encode() not in journal
        assert all(variant.encode() not in r.payload for r in sniffer.messages)
        assert variant not in caplog.text
        assert variant not in text + json.dumps(shown) + page
    assert hashed not in text + json.dumps(shown) + page + caplog.text


BAD_NUMBER = NUMBER[:17] + ("1" if NUMBER[17] != "1" else "2")


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"service": "C", "slot": "10:00", "id_number": BAD_NUMBER}, 400, "bad_id_number"),
    ({"service": "C", "slot": "10:00", "id_number": NUMBER[:17]}, 400, "bad_id_number"),
    ({"service": "C", "slot": "10:00"}, 400, "bad_id_number"),
    ({"service": "Q", "slot": "10:00", "id_number": NUMBER}, 404, "unknown_service"),
    ({"service": "C", "slot": "10:15", "id_number": NUMBER}, 400, "malformed"),
    ({"service": "C", "slot": "10am", "id_number": NUMBER}, 400, "malformed"),
    ({"service": "C", "slot": "08:30", "id_number": NUMBER}, 409, "slot_passed"),
])
async def test_a_bad_booking_is_named_and_repeats_no_number(
        hall: WebHall, body: dict[str, Any], status: int, code: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    session = await signed_in(hall)
    try:
        got, answer, text = await post(session, hall, body)
    finally:
        await session.close()
    assert (got, answer["error"]["code"]) == (status, code), answer
    assert NUMBER[:17] not in text + caplog.text
    assert not hall.controller.engine.appointments


async def test_only_a_signed_in_manager_books(hall: WebHall) -> None:
    body = {"service": "C", "slot": "10:00", "id_number": NUMBER}
    supervisor = await signed_in(hall, SUPERVISOR)
    async with client(hall.url) as nobody:
        try:
            assert (await post(supervisor, hall, body))[0] == 403
            assert (await picture(supervisor, hall))["appointments"] == []  # may look
            assert (await post(nobody, hall, body))[0] == 401
        finally:
            await supervisor.close()
    session = await signed_in(hall)
    try:
        response = await session.post(f"{hall.url}/api/appointments", data=json.dumps(body),
                                      headers={**JSON, "Origin": "http://evil.example"})
        assert response.status == 403
    finally:
        await session.close()
    assert not hall.controller.engine.appointments


async def test_a_full_slot_is_no_longer_offered_and_refused(hall: WebHall) -> None:
    session = await signed_in(hall)
    try:
        assert (await post(session, hall, {"service": "D", "slot": "10:00",
                                           "id_number": NUMBER}))[0] == 200
        full = slot(await picture(session, hall), "D", "10:00")
        assert (full["free"], full["bookable"]) == (0, False)
        other = sample_number(date(1950, 1, 2), "M", 3)
        got, answer, _ = await post(session, hall, {"service": "D", "slot": "10:00",
                                                    "id_number": other})
        assert (got, answer["error"]["code"]) == (409, "slot_full")
    finally:
        await session.close()
    assert len(hall.controller.engine.appointments) == 1


async def test_the_list_follows_the_day(hall: WebHall) -> None:
    """Booked, then checked in with its ticket, or late, then missed (a virtual clock)."""
    clock = hall.controller.clock
    assert isinstance(clock, VirtualClock)
    early, late = sample_number(date(1960, 5, 5), "M", 1), sample_number(date(1961, 6, 6), "F", 2)
    session = await signed_in(hall)
    try:
        for number, at in ((early, "09:30"), (late, "10:00")):
            assert (await post(session, hall, {"service": "C", "slot": at,
                                               "id_number": number}))[0] == 200
        assert statuses(await picture(session, hall)) == [
            ("09:30", "C", "booked", None), ("10:00", "C", "booked", None)]
        clock.advance(20 * 60)  # 09:20: the 09:30 resident checks in at a kiosk
        ticket = await check_in(hall, early, "C")
        clock.advance(45 * 60)  # 10:05
        assert statuses(await picture(session, hall)) == [
            ("09:30", "C", "checked_in", ticket), ("10:00", "C", "late", None)]
        clock.advance(10 * 60)  # 10:15: check-in closes at the end of this minute
        assert statuses(await picture(session, hall))[1][2] == "late"
        clock.advance(1)
        assert statuses(await picture(session, hall))[1][2] == "missed"
    finally:
        await session.close()


@pytest.mark.browser
async def test_booking_on_the_page_shows_in_the_list(hall: WebHall) -> None:
    clock = hall.controller.clock
    assert isinstance(clock, VirtualClock)
    day = clock.now().replace(hour=9)
    for n, at in enumerate((day.replace(minute=0), day.replace(minute=0), day.replace(hour=10))):
        reply = await hall.controller.execute("book", m.BookAppointment(
            id=new_command_id(), id_hash=id_hash(SECRET, day.date(), sample_number(
                date(1955, 3, 3), "F", 20 + n)), service="C", slot=at), "upstream")
        assert reply.ok, reply.error
    walk_in = sample_number(date(1955, 3, 3), "F", 20)
    ticket = await check_in(hall, walk_in, "C")
    clock.advance(10 * 60)  # 09:10: the other 09:00 booking is late
    async with launch() as chromium:
        page = await chromium.new_page(viewport={"width": 1280, "height": 800}, bypass_csp=True)
        await sign_in(page, hall.url, *MANAGER)
        await page.get_by_role("link", name="预约 Appointments").click()
        await expect(page.locator("#bookings tr")).to_have_count(3)
        await page.get_by_label("业务 Service").select_option("C")
        ten = page.locator("#slots label", has_text="10:00")
        await expect(ten).to_contain_text("余 3 left")
        await ten.click()
        await page.get_by_label("身份证号 ID number").fill(NUMBER)
        await page.get_by_role("button", name="预约 Book").click()
        await expect(page.locator("#toast")).to_contain_text("已预约 Booked: C 10:00",
                                                             timeout=SEEN_MS)
        await expect(page.locator("#bookings tr")).to_have_count(4)
        await expect(page.get_by_label("身份证号 ID number")).to_have_value("")
        await expect(ten).to_contain_text("余 2 left")
        rows = page.locator("#bookings tr")
        await expect(rows.nth(0)).to_contain_text("已签到 Checked in")
        await expect(rows.nth(1)).to_contain_text("迟到 Late")
        await expect(rows.nth(3)).to_contain_text("已预约 Booked")
        assert NUMBER not in await page.content()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "appointments.png"), full_page=True)
        read = ocr(SCREENSHOTS / "appointments.png")
        for seen in ("今日预约Today'sappointments", "预约名单Bookings4", "已签到Checkedin", ticket,
                     "迟到Late", "已预约Booked", "代居民预约Bookaslotforaresident"):
            assert seen in read, f"{seen!r} not read on the screenshot: {read}"
        await page.get_by_label("身份证号 ID number").fill(BAD_NUMBER)
        await page.locator("#slots label", has_text="10:30").click()
        await page.get_by_role("button", name="预约 Book").click()
        await expect(page.get_by_role("alert")).to_contain_text("身份证号无效")
        assert await axe_violations(page) == []
    assert len(hall.controller.engine.appointments) == 4
