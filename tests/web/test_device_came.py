"""A device that came online today and went again before any tablet was open (nothing rendered
meanwhile) is shown as offline, not as one that never came today: the web service notes each
device it hears online as the message arrives, not when a page happens to render."""

from __future__ import annotations

import asyncio

import pytest
from browser import launch, sign_in
from playwright.async_api import expect
from webhall import MANAGER, WebHall

from protocol import messages as m
from protocol.link import Link

pytestmark = pytest.mark.browser
DEVICE = "caller-13"


async def heard(hall: WebHall, state: m.PresenceState) -> None:
    """Wait until the web service has heard ``DEVICE``'s presence ``state``."""
    topic = hall.view.link.topics.presence(DEVICE)
    changed = asyncio.Event()
    hall.view.listeners.append(lambda _t, _m: changed.set())
    async with asyncio.timeout(10):
        while True:
            presence = hall.view.link.state.get(topic)
            if isinstance(presence, m.Presence) and presence.state == state:
                return
            changed.clear()
            await changed.wait()


async def test_a_device_that_came_and_went_before_any_render_is_offline(
        web_hall: WebHall) -> None:
    caller = Link(web_hall.broker.broker_settings(DEVICE), "tianping", DEVICE, m.Role.CALLER)
    await caller.start()
    await heard(web_hall, m.PresenceState.ONLINE)
    caller.publish(caller.topics.presence(DEVICE), m.Presence(
        state=m.PresenceState.OFFLINE, role=m.Role.CALLER), retain=True)
    await heard(web_hall, m.PresenceState.OFFLINE)
    try:
        async with launch() as browser:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await sign_in(page, web_hall.url, *MANAGER)
            chip = page.locator(f'[data-device="{DEVICE}"]')
            await expect(chip).to_contain_text("离线 offline")
            await expect(chip).not_to_contain_text("never came today")
    finally:
        await caller.close()
