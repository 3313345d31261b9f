"""The clerk's screen /window/<counter>: a soft caller in the browser, over a real broker.

Counter 13 has the soft caller soft-13 (examples/hall.toml); the web service holds its
password. Every command must reach the controller from soft-13 (the journal's replies say
which device sent what), a wrong PIN is refused in the controller's words, the page's session
is its own, and chromium drives the page with its keyboard shortcuts.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from browser import axe_violations, launch
from PIL import Image
from playwright.async_api import Route, expect
from support.hall import TEST_PIN, clerk_of
from support.ocr import ocr
from webhall import JSON, MANAGER, WebHall, client
from yarl import URL

from hallconfig import WebSettings
from protocol import messages as m
from protocol.link import new_command_id
from web.softcallers import load_passwords

COUNTER = "13"  # serves F and G
DEVICE = "soft-13"
SHOTS = Path(__file__).resolve().parents[2] / "images" / "screenshots"


async def issue(hall: WebHall, service: str, green: bool = False) -> str:
    """A ticket handed over by staff; its number."""
    reply = await hall.execute("issue", m.IssueTicket(
        id=new_command_id(), service=service, green=green, print_on_kiosk=False))
    assert reply.ok and reply.result, reply.error
    return str(reply.result["ticket"]["number"])


async def post(session: aiohttp.ClientSession, hall: WebHall, path: str,
               body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    response = await session.post(f"{hall.url}{path}", data=json.dumps(body or {}),
                                  headers=JSON)
    return response.status, json.loads(await response.text())


async def act(session: aiohttp.ClientSession, hall: WebHall, name: str,
              **fields: Any) -> tuple[int, dict[str, Any]]:
    return await post(session, hall, f"/api/window/{COUNTER}/commands/{name}", fields)


async def shown(session: aiohttp.ClientSession, hall: WebHall) -> tuple[int, dict[str, Any]]:
    response = await session.get(f"{hall.url}/api/window/{COUNTER}")
    return response.status, json.loads(await response.text())


async def signed_in(hall: WebHall) -> aiohttp.ClientSession:
    session = client(hall.url)
    status, body = await post(session, hall, f"/api/window/{COUNTER}/sign_in",
                              {"staff_no": clerk_of(COUNTER), "pin": TEST_PIN})
    assert status == 200, body
    return session


async def senders(hall: WebHall) -> list[tuple[str, str]]:
    """(device, command) of every journaled reply, in order: read-only, as the web does."""
    rows = await hall.view.reader.query("SELECT device, name FROM replies ORDER BY at, rowid")
    return [(str(d), str(n)) for d, n in rows]


def numeral(text: str) -> str:
    """A ticket number as this font reads: tesseract takes its 0 for O."""
    return text.upper().replace("O", "0")


async def test_a_clerk_works_the_window_from_its_soft_caller(web_hall: WebHall) -> None:
    hall = web_hall
    plain = await issue(hall, "F")
    green = await issue(hall, "G", green=True)
    before = len(await senders(hall))
    session = await signed_in(hall)
    async with session:
        status, picture = await shown(session, hall)
        assert status == 200
        assert picture["clerk"]["staff_no"] == clerk_of(COUNTER)
        # the policy serves the green channel first: so does the list
        assert [t["number"] for t in picture["waiting"]][:2] == [green, plain]
        assert picture["waiting"][0]["channel"] == "green"

        assert (await act(session, hall, "call_next"))[0] == 200
        await hall.settle()
        ticket = hall.controller.engine.desks[COUNTER].ticket
        assert ticket is not None and ticket.number == green
        assert (await act(session, hall, "recall"))[0] == 200
        status, body = await act(session, hall, "transfer", to_service="F")
        assert status == 200, body
        await hall.settle()
        assert (await act(session, hall, "call_next"))[0] == 200
        await hall.settle()
        _, picture = await shown(session, hall)
        hand = picture["ticket"]
        assert hand["number"] == green and hand["service"] == "F"  # transferred, kept its place
        response = await session.get(f"{hall.url}/api/window/{COUNTER}/history")
        steps = [s["kind"] for s in (await response.json())["history"]]
        assert steps == ["ticket_issued", "ticket_called", "ticket_recalled",
                         "ticket_transferred", "ticket_called"]
        assert (await act(session, hall, "done"))[0] == 200
        status, body = await act(session, hall, "pause", reason="lunch")
        assert status == 200, body
        await hall.settle()
        assert hall.controller.engine.desks[COUNTER].pause_reason == "lunch"
        assert (await act(session, hall, "resume"))[0] == 200
        assert (await act(session, hall, "sign_out"))[0] == 200
        await hall.settle()
        assert hall.controller.engine.desks[COUNTER].clerk is None
        assert (await shown(session, hall))[0] == 401  # the page's session ended too
    sent = (await senders(hall))[before:]
    assert sent == [(DEVICE, n) for n in ("sign_in", "call_next", "recall", "transfer",
                                          "call_next", "done", "pause", "resume", "sign_out")]


async def test_a_wrong_pin_is_refused_in_the_controllers_words(
        web_hall: WebHall, caplog: pytest.LogCaptureFixture) -> None:
    hall = web_hall
    journaled = await senders(hall)
    direct = await hall.controller.execute("sign_in", m.SignIn(
        id=new_command_id(), staff_no=clerk_of(COUNTER), pin="9999"), "caller-13")
    assert not direct.ok and direct.error is not None
    async with client(hall.url) as session:
        status, body = await post(session, hall, f"/api/window/{COUNTER}/sign_in",
                                  {"staff_no": clerk_of(COUNTER), "pin": "9998"})
        assert status == 403
        assert body["error"]["code"] == direct.error.code.value == "bad_credentials"
        assert body["error"]["message"].endswith(direct.error.message)
        assert "工号或密码不对" in body["error"]["message"]
        assert (await shown(session, hall))[0] == 401  # no session from a refused PIN
        status, body = await post(session, hall, f"/api/window/{COUNTER}/sign_in",
                                  {"staff_no": clerk_of(COUNTER), "pin": "12"})
        assert status == 400 and "pin" in body["error"]["message"]
        status, _ = await post(session, hall, f"/api/window/{COUNTER}/sign_in",
                               {"staff_no": clerk_of(COUNTER), "pin": "9997"})
        assert status == 403  # the clerk's third failure: still free
        status, body = await post(session, hall, f"/api/window/{COUNTER}/sign_in",
                                  {"staff_no": clerk_of(COUNTER), "pin": TEST_PIN})
        assert status == 429 and body["error"]["code"] == "too_many_attempts"  # the right PIN
        assert re.fullmatch(r"尝试次数过多，请稍后再试 too many sign-in attempts: try again in "
                            r"\d+ s", body["error"]["message"])
        assert (await shown(session, hall))[0] == 401
    assert await senders(hall) == journaled  # refusals are not journaled: the log says
    assert "refused sign_in from soft-13: bad_credentials" in caplog.text  # who was refused


async def test_the_screen_is_the_clerks_alone(web_hall: WebHall) -> None:
    hall = web_hall
    async with client(hall.url) as manager:
        status, _ = await post(manager, hall, "/api/login",
                               {"name": MANAGER[0], "password": MANAGER[1]})
        assert status == 200
        assert (await shown(manager, hall))[0] == 401  # a manager is not this window's clerk
        assert (await act(manager, hall, "call_next"))[0] == 401
    session = await signed_in(hall)
    async with session:
        response = await session.get(f"{hall.url}/api/live")
        assert response.status == 401  # nor is a clerk a manager
        for other in ("1", "99"):  # no soft caller there
            response = await session.get(f"{hall.url}/api/window/{other}")
            assert response.status == 404
            response = await session.get(f"{hall.url}/window/{other}")
            assert response.status == 404
        assert (await act(session, hall, "open_counter"))[0] == 404  # manager's command
        status, body = await act(session, hall, "transfer", to_service="a")
        assert status == 400 and "to_service" in body["error"]["message"]
    async with client("http://evil.example") as stranger:
        stranger.cookie_jar.update_cookies(session.cookie_jar.filter_cookies(URL(hall.url)))
        assert (await act(stranger, hall, "call_next"))[0] == 403
    # the hardware caller signs another clerk in: this screen's session ends
    async with await signed_in(hall) as again:
        reply = await hall.execute("sign_out", m.SignOut(id=new_command_id()), "caller-13")
        assert reply.ok
        status, body = await shown(again, hall)
        assert status == 401 and body["error"]["code"] == "signed_out"


async def test_the_page_in_chromium_by_its_keys(web_hall: WebHall) -> None:
    hall = web_hall
    issued = {await issue(hall, "F"), await issue(hall, "G"), await issue(hall, "F"),
              await issue(hall, "G", green=True)}
    before = len(await senders(hall))
    async with launch() as browser:
        page = await browser.new_page(viewport={"width": 1180, "height": 820},
                                      bypass_csp=True)  # for axe, injected

        async def slow_picture(route: Route) -> None:  # a slow hall network: each key's reply
            await asyncio.sleep(0.3)  # comes back after the stream has redrawn the screen
            await route.continue_()
        await page.route(f"**/api/window/{COUNTER}", slow_picture)
        await page.goto(f"{hall.url}/window/{COUNTER}")
        await page.get_by_label("工号").fill(clerk_of(COUNTER))
        await page.get_by_label("密码").fill("0000")
        await page.get_by_role("button", name="签到").click()
        await expect(page.locator("#sign-in-error")).to_contain_text("工号或密码不对")
        await page.get_by_label("密码").fill(TEST_PIN)
        await page.get_by_role("button", name="签到").click()
        await page.locator("#waiting tr").first.wait_for()
        listed = page.locator("#waiting tr td.big-number")
        hand = page.locator("#hand-number")
        first = await listed.all_inner_texts()
        assert set(first) == issued
        # each key waits for its outcome line: the stream can redraw the screen before the
        # key's own reply is back, and a key pressed meanwhile is refused as still sending
        outcome = page.locator("#outcome")
        await page.locator("body").press("n")  # calls the first of the list, as listed
        await expect(outcome).to_contain_text("已叫号")
        await expect(hand).to_have_text(first[0])
        assert await listed.all_inner_texts() == first[1:]
        await page.keyboard.press("r")
        await expect(outcome).to_contain_text("已重呼")
        await expect(page.locator("#history")).to_contain_text("重呼")
        await page.keyboard.press("t")
        await page.locator("#transfer-panel").wait_for(state="visible")
        await page.keyboard.press("g")
        await expect(outcome).to_contain_text("已转移")
        await expect(hand).to_have_text("—")
        after = await listed.all_inner_texts()
        assert set(after) == issued
        await page.keyboard.press("n")
        await expect(outcome).to_contain_text("已叫号")
        await expect(hand).to_have_text(after[0])
        await page.keyboard.press("s")
        await expect(outcome).to_contain_text("开始办理")
        await expect(page.locator("#hand-service")).to_contain_text("办理中")
        served = await hand.inner_text()
        late = await issue(hall, "F", green=True)  # arrives live, ahead of the others
        await expect(listed.first).to_have_text(late)
        await expect(page.locator("#waiting tr").first).to_have_class("ch-green")
        await page.locator("#history li").nth(2).wait_for()
        assert await axe_violations(page) == []
        SHOTS.mkdir(parents=True, exist_ok=True)
        shot = SHOTS / "window.png"
        await page.screenshot(path=str(shot))
        read = ocr(shot)
        for words in ("重呼", "转移", "暂停", "开始办理", "本窗口等候", "Recall", "Transfer"):
            assert words in read, (words, read)
        number = SHOTS.parent / "window-number.png"  # tesseract misses glyphs this large:
        await hand.screenshot(path=str(number))  # read the number alone, at a third its size
        with Image.open(number) as big:
            big.resize((big.width // 3, big.height // 3), Image.Resampling.LANCZOS).save(number)
        try:
            assert numeral(ocr(number, line=True)) == numeral(served)
        finally:
            number.unlink()
        await page.keyboard.press("d")
        await expect(outcome).to_contain_text("已办结")
        await page.keyboard.press("p")
        await page.keyboard.press("1")
        await expect(outcome).to_contain_text("已暂停")
        await expect(page.locator("#status")).to_contain_text("暂停")
        await page.keyboard.press("p")
        await expect(outcome).to_contain_text("已恢复")
        await expect(page.locator("#status")).to_contain_text("开放")
        await page.keyboard.press("o")
        await page.locator("#sign-in").wait_for(state="visible")
    await hall.settle()
    desk = hall.controller.engine.desks[COUNTER]
    assert desk.clerk is None and desk.status is m.CounterStatus.OPEN
    tickets = hall.controller.engine.tickets.values()
    assert [t.status for t in tickets if t.number == served] == [m.TicketStatus.DONE]
    sent = [n for d, n in (await senders(hall))[before:] if d == DEVICE]
    assert sent == ["sign_in", "call_next", "recall", "transfer", "call_next", "start", "done",
                    "pause", "resume", "sign_out"]


def test_the_soft_callers_passwords_are_read_or_refused_by_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    assert load_passwords(WebSettings()) == {}
    good = tmp_path / "soft-callers"
    good.write_text('soft-13 = "s3cret"\n')
    assert load_passwords(WebSettings(soft_callers_file=str(good))) == {"soft-13": "s3cret"}
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))  # the unit's credential
    assert load_passwords(WebSettings()) == {"soft-13": "s3cret"}
    for text, named in (('soft-13 = 5\n', "soft-13"), ('soft-13 = "\n', "soft-callers")):
        good.write_text(text)
        with pytest.raises(OSError, match=named):
            load_passwords(WebSettings())
    with pytest.raises(ValueError, match="absolute"):
        WebSettings(soft_callers_file="soft-callers.toml")
