"""The upstream link's real state on the manager's tablet, in chromium: a hall broker with its
real city bridge (Mosquitto's notification flag on city/H/bridge) to a real city broker. The
tablet says connected (since when), disconnected when the city goes away, connected again when
it is back, and which summary went up: the very one the city received; one published while the
city was away waits, and goes up on reconnecting. Without a bridge: never seen."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import pytest
from browser import launch, sign_in
from playwright.async_api import Page, expect
from support.broker import connect
from webhall import MANAGER, WebHall, start_web_hall

from broker_config.process import MosquittoProcess
from city.broker import BridgeOptions, add_bridge, bridge_block
from city.broker_process import CityBroker
from city.overview import OVERVIEW_USER
from hall.clock import VirtualClock
from protocol import messages as m
from protocol.link import Received, SyncClient, new_command_id
from protocol.topics import CityTopics, StateKind

pytestmark = pytest.mark.browser
HALL = "tianping"
UP = CityTopics.summary(HALL)


@pytest.fixture
def city(tmp_path: Path) -> Iterator[CityBroker]:
    broker = CityBroker([HALL], tmp_path / "city")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
async def bridged_hall(fresh_broker: MosquittoProcess, city: CityBroker,
                       tmp_path: Path) -> AsyncIterator[WebHall]:
    """The example hall whose broker bridges to ``city`` (reconnecting every second)."""
    fresh_broker.stop()
    add_bridge(fresh_broker.files.conf, bridge_block(HALL, BridgeOptions(
        "127.0.0.1", city.port, city.bridge_password(HALL), restart_s=(1, 1))))
    fresh_broker.start()
    hall = await start_web_hall(fresh_broker, tmp_path / "hall")
    yield hall
    await hall.stop()


@asynccontextmanager
async def tablet(hall: WebHall) -> AsyncIterator[Page]:
    async with launch() as browser:
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        await sign_in(page, hall.url, *MANAGER)
        await page.locator("#conn.up").wait_for()
        yield page


def hms(at: datetime) -> str:
    return f"{at:%H:%M:%S}"


async def summary_in_city(overview: SyncClient, at: datetime) -> None:
    """Wait until the city has received the hall's summary of time ``at``."""
    def arrived(msg: Received) -> bool:
        return msg.topic == UP and m.decode(m.HallSummary, msg.payload).at == at
    found = await asyncio.to_thread(overview.wait_for, arrived, 20.0)
    assert found is not None, f"the city received no summary of {at}"


async def published_summary(hall: WebHall, when: Callable[[m.HallSummary], bool]) -> datetime:
    """The time of the summary the web service follows, once one meets ``when``."""
    arrived = asyncio.Event()
    topic = hall.view.link.topics.state(StateKind.SUMMARY)

    def latest() -> m.HallSummary | None:
        summary = hall.view.link.state.get(topic)
        return summary if isinstance(summary, m.HallSummary) and when(summary) else None

    def listen(_topic: str, _message: m.Message | None) -> None:
        if latest() is not None:
            arrived.set()

    hall.view.listeners.append(listen)
    try:
        if latest() is None:
            await asyncio.wait_for(arrived.wait(), 10)
        found = latest()
        assert found is not None
        return found.at
    finally:
        hall.view.listeners.remove(listen)


async def test_the_tablet_follows_the_bridge_through_an_outage(bridged_hall: WebHall,
                                                               city: CityBroker) -> None:
    hall = bridged_hall
    clock = hall.controller.clock
    assert isinstance(clock, VirtualClock)
    start = clock.now()
    overview = connect(city.settings(OVERVIEW_USER), follow=[UP], timeout=20)
    try:
        async with tablet(hall) as page:
            bridge, sent = page.locator("#bridge"), page.locator("#upstream-summary")
            # up before the web service came: connected, at the latest since it first saw it
            await expect(bridge).to_contain_text(f"已连接，至迟 {start:%H:%M} 起")
            await expect(bridge).to_contain_text(f"connected since {start:%H:%M} or earlier")
            await expect(bridge).to_have_class("upstream-line ok")
            await summary_in_city(overview, start)
            await expect(sent).to_contain_text(f"last summary sent {hms(start)}")

            clock.advance(125)  # 09:02:05: the summary goes up again, as every minute
            await summary_in_city(overview, clock.now())
            await expect(sent).to_contain_text(f"last summary sent {hms(clock.now())}")
            before = clock.now()
            await asyncio.to_thread(city.stop)  # the city goes away
            await expect(bridge).to_contain_text(f"已断开，{before:%H:%M} 起")
            await expect(bridge).to_contain_text(f"disconnected since {before:%H:%M}")
            await expect(bridge).to_have_class("upstream-line bad")
            await expect(sent).to_contain_text(f"last summary sent {hms(before)}")

            clock.advance(30)  # a ticket: a new summary, which waits for the bridge
            reply = await hall.execute("issue", m.IssueTicket(
                id=new_command_id(), service="A", print_on_kiosk=False), "kiosk-1")
            assert reply.ok
            waiting = await published_summary(hall, lambda s: s.issued_today == 1)
            await expect(sent).to_contain_text(f"latest summary {hms(waiting)} not sent yet")
            await expect(sent).to_contain_text(f"last sent {hms(before)}")
            await expect(sent).to_have_class("upstream-line bad")

            clock.advance(180)  # 09:05:35: the city is back
            back = clock.now()
            await asyncio.to_thread(city.start)
            await expect(bridge).to_contain_text(f"已连接，{back:%H:%M} 起")
            await expect(bridge).to_contain_text(f"connected since {back:%H:%M}")
            await expect(bridge).to_have_class("upstream-line ok")
            await summary_in_city(overview, waiting)  # the waiting one went up on reconnecting
            await summary_in_city(overview, back)  # and the minute's refresh after it
            await expect(sent).to_contain_text(f"last summary sent {hms(back)}")
            await expect(sent).to_have_class("upstream-line")  # nothing waits: no longer red
    finally:
        overview.close()


async def test_without_a_bridge_the_tablet_says_never_seen(web_hall: WebHall) -> None:
    summary = await published_summary(web_hall, lambda _s: True)
    async with tablet(web_hall) as page:
        await expect(page.locator("#bridge")).to_contain_text("城市链路：未见")
        await expect(page.locator("#bridge")).to_contain_text("city bridge: never seen")
        await expect(page.locator("#upstream-summary")).to_contain_text(
            f"latest summary {hms(summary)} not sent yet")
        await expect(page.locator("#bridge")).to_have_class("upstream-line never")
