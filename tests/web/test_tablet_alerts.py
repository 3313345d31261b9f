"""The manager's tablet in chromium: the chime on a new alert (Web Audio stubbed to count the
tones), alerts' Chinese large with the English beside, devices grouped with those that never
came today, a paused window's reason, the last summary sent upstream."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from browser import launch, sign_in
from playwright.async_api import Browser, Page, expect
from webhall import MANAGER, WebHall

from protocol import messages as m
from protocol.link import Link, new_command_id

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "images" / "screenshots"
# Web Audio, counted: each tone is two oscillators started
COUNT_TONES = """
window.tones = 0;
window.AudioContext = class {
  constructor() { this.state = "running"; this.currentTime = 0; this.destination = {}; }
  resume() { return Promise.resolve(); }
  createGain() { return { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} },
                          connect(x) { return x; } }; }
  createOscillator() { return { frequency: {}, connect(x) { return x; },
                                start() { window.tones += 0.5; }, stop() {} }; }
};
"""


@pytest.fixture
async def tablet(web_hall: WebHall) -> AsyncIterator[Page]:
    async with launch() as browser:
        page = await tablet_page(browser, web_hall)
        yield page


async def tablet_page(browser: Browser, hall: WebHall) -> Page:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.add_init_script(COUNT_TONES)
    await sign_in(page, hall.url, *MANAGER)
    await page.locator("#conn.up").wait_for()
    return page


async def help_at(hall: WebHall, kiosk: str) -> None:
    assert (await hall.execute("help", m.RequestHelp(id=new_command_id()), kiosk)).ok


async def test_chime_sounds_for_a_new_alert_only_when_turned_on(tablet: Page,
                                                                web_hall: WebHall) -> None:
    chime = tablet.locator("#chime")
    await expect(chime).to_have_attribute("aria-checked", "false")
    await help_at(web_hall, "kiosk-1")
    await expect(tablet.locator(".alert.kind-help_requested")).to_have_count(1)
    assert await tablet.evaluate("window.tones") == 0  # off: silent
    await chime.click()
    await expect(chime).to_have_attribute("aria-checked", "true")
    assert await tablet.evaluate("window.tones") == 1  # the tap plays it once
    await help_at(web_hall, "kiosk-2")
    await expect(tablet.locator(".alert.kind-help_requested")).to_have_count(2)
    await tablet.wait_for_function("window.tones === 2")
    await tablet.reload()  # remembered; the alerts already on the board do not chime
    await expect(tablet.locator("#chime")).to_have_attribute("aria-checked", "true")
    await expect(tablet.locator(".alert.kind-help_requested")).to_have_count(2)
    assert await tablet.evaluate("window.tones") == 0
    await tablet.locator("#chime").click()
    await expect(tablet.locator("#chime")).to_have_attribute("aria-checked", "false")


async def test_alert_text_devices_pause_reason_and_upstream(tablet: Page,
                                                            web_hall: WebHall) -> None:
    await help_at(web_hall, "kiosk-1")
    alert = tablet.locator(".alert.kind-help_requested")
    await expect(alert).to_have_count(1)  # the board reaches the web service after the reply
    message = next(iter(web_hall.view.alerts.active.values())).message
    zh, _, en = message.partition(" / ")
    if en:  # Chinese first, large; the English smaller beside it
        await expect(alert.locator(".alert-zh")).to_have_text(zh)
        await expect(alert.locator(".alert-en")).to_have_text(en)
        big = await alert.locator(".alert-zh").evaluate("e => getComputedStyle(e).fontSize")
        small = await alert.locator(".alert-en").evaluate("e => getComputedStyle(e).fontSize")
        assert float(big[:-2]) > float(small[:-2])
    else:
        await expect(alert.locator(".alert-zh")).to_have_text(message)
    groups = tablet.locator(".device-group")
    await expect(groups).to_have_count(3 if not _others(web_hall) else 4)
    await expect(groups.nth(0)).to_have_attribute("data-group", "kiosk")
    kiosk = Link(web_hall.broker.broker_settings("kiosk-2"), "tianping", "kiosk-2", m.Role.KIOSK)
    await kiosk.start()  # a device that came: online
    try:
        await expect(tablet.locator('[data-device="kiosk-2"]')).to_contain_text("在线 online")
    finally:
        await kiosk.close()
    await expect(tablet.locator('[data-device="kiosk-2"]')).to_contain_text("已停止 stopped")
    never = [d.id for d in web_hall.view.config.devices
             if d.role in (m.Role.DISPLAY, m.Role.CALLER, m.Role.KIOSK) and d.id != "kiosk-2"]
    for device in never[:5]:
        await expect(tablet.locator(f'[data-device="{device}"]')).to_contain_text(
            "未上线 never came today")
    assert await tablet.locator("#devices").get_by_text("unknown").count() == 0
    for hidden in ("web", "manager"):
        assert await tablet.locator(f'[data-device="{hidden}"]').count() == 0
    for device in ("caller-13", "soft-13"):  # window 13's two callers told apart
        await expect(tablet.locator(f'[data-device="{device}"]')).to_contain_text(f"13号 {device}")
    await expect(tablet.locator('[data-device="caller-1"]')).to_have_text(
        re.compile(r"^1号 未上线"))
    assert (await web_hall.execute("pause", m.Pause(id=new_command_id(),
                                                    reason=m.PauseReason.LUNCH), "caller-1")).ok
    card = tablet.locator('[data-counter="1"]')
    await expect(card.locator(".pause-reason")).to_contain_text("午休")
    await expect(card.locator(".pause-reason")).to_contain_text("lunch")
    await expect(tablet.locator("#upstream")).to_contain_text("最近摘要")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await tablet.screenshot(path=str(SHOTS / "live-alerts.png"), full_page=True)


def _others(hall: WebHall) -> bool:
    return any(d.role == m.Role.UPSTREAM for d in hall.view.config.devices)


async def test_a_window_paused_with_a_ticket_in_hand_says_why(tablet: Page,
                                                              web_hall: WebHall) -> None:
    assert (await web_hall.execute("issue", m.IssueTicket(
        id=new_command_id(), service="A", print_on_kiosk=False))).ok  # staff-assisted
    called = await web_hall.execute("call_next", m.CallNext(id=new_command_id()), "caller-1")
    assert called.ok and called.result and called.result["called"]
    assert (await web_hall.execute("pause", m.Pause(
        id=new_command_id(), reason=m.PauseReason.MEETING), "caller-1")).ok
    card = tablet.locator('[data-counter="1"]')
    await expect(card.locator(".card-number")).to_have_text(called.result["called"]["number"])
    await expect(card.locator(".pause-reason")).to_contain_text("开会")
    await expect(card.locator(".pause-reason")).to_contain_text("meeting")
