"""The resident's status page in chromium: large text, a vibration and (after the resident's
tap) a tone when three or fewer are ahead and when called; navigator.vibrate and Web Audio
are stubbed to count."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import launch
from playwright.async_api import expect
from webhall import WebHall

from protocol import messages as m
from protocol.link import new_command_id

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "images" / "screenshots"
STUBS = """
window.vibrations = [];
navigator.vibrate = (pattern) => { window.vibrations.push(pattern); return true; };
window.tones = 0;
window.AudioContext = class {
  constructor() { this.state = "running"; this.currentTime = 0; this.destination = {}; }
  resume() { return Promise.resolve(); }
  createGain() { return { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} },
                          connect(x) { return x; } }; }
  createOscillator() { return { frequency: {}, connect(x) { return x; },
                                start() { window.tones += 1; }, stop() {} }; }
};
"""


async def issue(hall: WebHall) -> str:
    reply = await hall.execute("issue", m.IssueTicket(
        id=new_command_id(), service="A", print_on_kiosk=False))
    assert reply.ok and reply.result
    return str(reply.result["ticket"]["ticket"])


async def call(hall: WebHall) -> None:
    assert (await hall.execute("call_next", m.CallNext(id=new_command_id()), "caller-1")).ok
    assert (await hall.execute("done", m.Done(id=new_command_id()), "caller-1")).ok


async def test_near_and_called_are_said_large_with_vibration_and_tone(
        web_hall: WebHall) -> None:
    for counter in [c.id for c in web_hall.view.config.counters if c.id != "1"]:
        assert (await web_hall.execute("close_counter", m.CloseCounter(
            id=new_command_id(), counter=counter))).ok  # one window: one call, one fewer ahead
    tickets = [await issue(web_hall) for _ in range(6)]
    mine = tickets[-1]
    token = web_hall.view.engine.token_for(mine)
    async with launch() as browser:
        page = await browser.new_page(viewport={"width": 390, "height": 844})
        await page.add_init_script(STUBS)
        await page.goto(f"{web_hall.status_url}/t/{token}")
        big = page.locator("#big-alert")
        await expect(page.locator("#ahead-zh")).to_have_text("前面还有 5 人")
        await expect(big).to_be_hidden()
        await page.get_by_role("button", name="开启提醒").click()  # unlocks audio
        await expect(page.locator("#alerts-on")).to_have_attribute("aria-pressed", "true")
        tapped = await page.evaluate("window.tones")
        await call(web_hall)
        await expect(page.locator("#ahead-zh")).to_have_text("前面还有 4 人")
        await expect(big).to_be_hidden()
        assert await page.evaluate("window.vibrations.length") == 0
        await call(web_hall)
        await expect(page.locator("#ahead-zh")).to_have_text("前面还有 3 人")
        await expect(big).to_be_visible()
        await expect(big).to_contain_text("快到您了")
        await expect(big).to_contain_text("Almost your turn")
        size = await page.locator("#alert-zh").evaluate("e => getComputedStyle(e).fontSize")
        assert float(size[:-2]) >= 32
        await page.wait_for_function("window.vibrations.length === 1")
        assert await page.evaluate("window.tones") > tapped
        near_tones = await page.evaluate("window.tones")
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / "status-near.png"), full_page=True)
        await call(web_hall)  # 2 ahead: still near, no second buzz
        await expect(page.locator("#ahead-zh")).to_have_text("前面还有 2 人")
        for _ in range(2):
            await call(web_hall)
        await expect(page.locator("#ahead-zh")).to_have_text("前面没有人")
        assert await page.evaluate("window.vibrations.length") == 1
        assert (await web_hall.execute("call_next", m.CallNext(id=new_command_id()),
                                       "caller-1")).ok
        await expect(big).to_contain_text("请到 1号窗口")
        await expect(big).to_contain_text("Please go to Window 1")
        await page.wait_for_function("window.vibrations.length === 2")
        assert await page.evaluate("window.tones") > near_tones
        await page.screenshot(path=str(SHOTS / "status-called.png"), full_page=True)
