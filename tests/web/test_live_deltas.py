"""The tablet's event stream: a snapshot on connect, then numbered deltas of only what
changed, which folded together give the hall's snapshot; and the page built on them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from browser import launch, sign_in
from playwright.async_api import Page, expect
from webhall import MANAGER, WebHall, client, command

from protocol import messages as m
from protocol.link import new_command_id
from web.live import WAITS_EVERY_S

SEEN_S = 5000  # ms Playwright waits for something to appear
OPEN = {m.TicketStatus.WAITING, m.TicketStatus.PENDING_PRINT, m.TicketStatus.CALLED,
        m.TicketStatus.SERVING}


@pytest.fixture
async def manager(web_hall: WebHall) -> AsyncIterator[aiohttp.ClientSession]:
    async with client(web_hall.url) as session:
        response = await session.post(f"{web_hall.url}/api/login",
                                      json={"name": MANAGER[0], "password": MANAGER[1]})
        assert response.status == 200
        yield session


class Stream:
    """The frames of one event stream, each with its size on the wire."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self, timeout: float = 5.0) -> tuple[dict[str, Any], int]:
        async with asyncio.timeout(timeout):
            async for raw in self.response.content:
                if raw.startswith(b"data: "):
                    return json.loads(raw[len(b"data: "):]), len(raw) + 1
        raise AssertionError("the event stream ended")

    async def until(self, seq: int) -> list[dict[str, Any]]:
        """Every message up to number ``seq``."""
        got: list[dict[str, Any]] = []
        while not got or got[-1]["seq"] < seq:
            got.append((await self.next())[0])
        return got


def fold(state: dict[str, Any] | None, message: dict[str, Any]) -> dict[str, Any]:
    """What the page does with a message (web/static/live.js), in Python."""
    if message["type"] == "snapshot":
        return {**message, "tickets": {t["ticket"]: t for t in message["tickets"]}}
    assert state is not None and message["seq"] == state["seq"] + 1, "a gap"
    state = {**state, "seq": message["seq"], "tickets": dict(state["tickets"])}
    for key in ("hall", "alerts", "devices"):
        if key in message:
            state[key] = message[key]
    for key, name in (("counters", "counter"), ("services", "service")):
        changed = {row[name]: row for row in message.get(key, [])}
        state[key] = [changed.get(row[name], row) for row in state[key]]
    for row in message.get("tickets", []):
        state["tickets"][row["ticket"]] = row
    for ticket in message.get("gone", []):
        del state["tickets"][ticket]
    for ticket, wait in message.get("waits", {}).items():
        state["tickets"][ticket] = {**state["tickets"][ticket], "estimated_wait_min": wait}
    return state


def picture(state: dict[str, Any]) -> dict[str, Any]:
    """A snapshot or a folded state without its number and time."""
    tickets = state["tickets"]
    rows = tickets.values() if isinstance(tickets, dict) else tickets
    return {key: value for key, value in state.items() if key not in ("seq", "now", "now_ts",
                                                                       "type", "tickets")} \
        | {"tickets": sorted(rows, key=lambda t: t["ticket"])}


async def issue(session: aiohttp.ClientSession, hall: WebHall, service: str) -> dict[str, Any]:
    status, body = await command(session, hall, "issue", {"service": service})
    assert status == 200, body
    ticket: dict[str, Any] = body["result"]["ticket"]
    return ticket


async def test_a_new_ticket_and_a_call_come_as_small_deltas(
        web_hall: WebHall, manager: aiohttp.ClientSession) -> None:
    for n in range(60):
        await issue(manager, web_hall, "ABCDEFG"[n % 7])
    await web_hall.settle()
    async with manager.get(f"{web_hall.url}/api/live/events") as response:
        stream = Stream(response)
        snapshot, snapshot_bytes = await stream.next()
        assert snapshot["type"] == "snapshot" and len(snapshot["tickets"]) == 60
        ticket = await issue(manager, web_hall, "C")
        added, added_bytes = await stream.next()
        assert added["type"] == "delta" and added["seq"] == snapshot["seq"] + 1
        assert [t["number"] for t in added["tickets"]] == [ticket["number"]]
        assert [s["service"] for s in added["services"]] == ["C"]
        assert "counters" not in added and "gone" not in added
        assert added_bytes * 10 < snapshot_bytes
        await web_hall.execute("call_next", m.CallNext(id=new_command_id()), "caller-1")
        called, called_bytes = await stream.next()
        assert called["seq"] == added["seq"] + 1
        assert [c["counter"] for c in called["counters"]] == ["1"]
        (row,) = [t for t in called["tickets"] if t["status"] == "called"]
        assert row["counter"] == "1" and called["counters"][0]["number"] == row["number"]
        assert called_bytes * 5 < snapshot_bytes


async def test_the_deltas_fold_into_the_hall_as_it_is(web_hall: WebHall,
                                                      manager: aiohttp.ClientSession) -> None:
    """Every kind of change, one after another: the folded stream equals a fresh snapshot
    after each, and carries no part that did not change."""
    async with manager.get(f"{web_hall.url}/api/live/events") as response:
        stream = Stream(response)
        state = fold(None, (await stream.next())[0])
        tickets = [await issue(manager, web_hall, s) for s in "AACEE"]
        steps: list[tuple[str, Any]] = [
            ("set_notice", {"text": "午休 12:00–13:00"}),
            ("cancel", {"ticket": tickets[1]["ticket"]}),
            ("move", {"ticket": tickets[2]["ticket"], "to_service": "A"}),
            ("pause", {"counter": "2"}),
            ("set_intake", {"service": "E", "open": False}),
            ("issue", {"service": "A", "green": True}),
            ("close_counter", {"counter": "5"}),
        ]
        for name, body in steps:
            status, answer = await command(manager, web_hall, name, body)
            assert status == 200, answer
            state = await caught_up(web_hall, manager, stream, state)
        for caller in ("caller-1", "caller-3", "caller-1"):
            await web_hall.execute("call_next", m.CallNext(id=new_command_id()), caller)
            state = await caught_up(web_hall, manager, stream, state)
        still_open = {t.ticket_id for t in web_hall.controller.engine.tickets.values()
                      if t.status in OPEN}
        assert set(state["tickets"]) == still_open and len(still_open) >= 4


async def caught_up(hall: WebHall, session: aiohttp.ClientSession, stream: Stream,
                    state: dict[str, Any]) -> dict[str, Any]:
    """The folded state once the stream reached the snapshot /api/live gives now (after the
    web apps read the change): equal to it, and reached by deltas of changed parts only."""
    await hall.settle()
    now = await (await session.get(f"{hall.url}/api/live")).json()
    assert now["seq"] > state["seq"]  # the change came as a delta
    for message in await stream.until(now["seq"]):
        assert message["type"] == "delta"
        for part, key in (("counters", "counter"), ("services", "service"),
                          ("tickets", "ticket")):
            rows = state[part].values() if part == "tickets" else state[part]
            before = {row[key]: row for row in rows}
            assert all(before.get(row[key]) != row for row in message.get(part, []))
        state = fold(state, message)
    assert picture(state) == picture(now)
    return state


async def test_moved_estimates_follow_within_their_cadence(
        web_hall: WebHall, manager: aiohttp.ClientSession,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing windows one after another moves every waiting ticket's estimate: the stream
    carries them (at most every WAITS_EVERY_S), until the folded estimates are the hall's;
    long before a keepalive's render would have."""
    monkeypatch.setattr("web.live.KEEPALIVE_S", 120.0)
    for n in range(40):
        await issue(manager, web_hall, "ABCDEFG"[n % 7])
    await web_hall.settle()
    async with manager.get(f"{web_hall.url}/api/live/events") as response:
        stream = Stream(response)
        state = fold(None, (await stream.next())[0])
        before = estimates(state)
        for counter in ("1", "2", "3", "4", "5"):  # each after the last one's delta came
            status, body = await command(manager, web_hall, "close_counter", {"counter": counter})
            assert status == 200, body
            closed = False
            while not closed:
                message = (await stream.next())[0]
                state = fold(state, message)
                closed = any(c["counter"] == counter for c in message.get("counters", []))
        await web_hall.settle()
        projection = web_hall.view.projection
        hall = {t.ticket_id: None if (w := projection.wait_seconds(t)) is None else round(w / 60)
                for t in web_hall.view.engine.tickets.values() if t.status in OPEN}
        carried = 0
        async with asyncio.timeout(WAITS_EVERY_S + 30):
            while estimates(state) != hall:
                message = (await stream.next(WAITS_EVERY_S + 30))[0]
                carried += len(message.get("waits", {}))
                state = fold(state, message)
    assert hall != before and carried > 0


def estimates(state: dict[str, Any]) -> dict[str, int | None]:
    return {tid: row["estimated_wait_min"] for tid, row in state["tickets"].items()}


# ---------------------------------------------------------------- the page
async def test_the_tablet_shows_a_new_ticket_and_a_call_from_deltas(
        web_hall: WebHall, manager: aiohttp.ClientSession) -> None:
    async with launch() as browser:
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        frames = await sse_frames(page)
        await sign_in(page, web_hall.url, *MANAGER)
        await page.locator("#conn.up").wait_for()
        await expect(page.locator("#ticket-count")).to_have_text("0")
        await expect(page.locator("#hall-offline")).to_be_hidden()  # the controller is up
        first = await issue(manager, web_hall, "C")
        second = await issue(manager, web_hall, "C")
        rows = page.locator("#tickets tr")
        await expect(rows).to_have_count(2, timeout=SEEN_S)
        await expect(rows.first).to_contain_text(first["number"])
        await web_hall.execute("call_next", m.CallNext(id=new_command_id()), "caller-3")
        await expect(page.locator('[data-counter="3"] .card-number')).to_have_text(
            first["number"], timeout=SEEN_S)
        called = page.locator(f'#tickets tr[data-number="{first["number"]}"]')
        await expect(called).to_contain_text("已呼叫")
        await expect(called).to_contain_text("→ 3")
        await expect(rows.first).to_contain_text(second["number"])  # waiting ones first
        kinds = [json.loads(f)["type"] for f in frames]
        assert kinds[0] == "snapshot" and set(kinds[1:]) == {"delta"} and len(kinds) >= 3
        await gap_brings_a_snapshot(page)


async def sse_frames(page: Page) -> list[str]:
    """The data of every server-sent event the page receives (Chromium's DevTools)."""
    frames: list[str] = []
    cdp = await page.context.new_cdp_session(page)
    cdp.on("Network.eventSourceMessageReceived", lambda e: frames.append(e["data"]))
    await cdp.send("Network.enable")
    return frames


async def gap_brings_a_snapshot(page: Page) -> None:
    """A delta numbered past the next one: the page starts again from a snapshot."""
    notice = page.locator("#notice-text")
    await page.evaluate("state.hall = { ...state.hall, notice: 'stale' }; render([])")
    await expect(notice).to_have_text("stale")
    await page.evaluate("receive({ type: 'delta', seq: seq + 2, now_ts: Date.now() / 1000 })")
    await expect(notice).not_to_have_text("stale", timeout=SEEN_S)
