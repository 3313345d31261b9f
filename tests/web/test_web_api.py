"""The web app's HTTP API against a real controller: sign-in, actions, validation, pushes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from webhall import JSON, MANAGER, SUPERVISOR, WebHall, client, command

from protocol import messages as m
from protocol.link import new_command_id
from web.sessions import MAX_FAILURES


@pytest.fixture
async def manager(web_hall: WebHall) -> AsyncIterator[aiohttp.ClientSession]:
    async with client(web_hall.url) as session:
        response = await session.post(f"{web_hall.url}/api/login",
                                      json={"name": MANAGER[0], "password": MANAGER[1]})
        assert response.status == 200
        yield session


async def next_event(stream: aiohttp.ClientResponse, wanted: Callable[[dict[str, Any]], bool],
                     timeout: float = 5.0) -> dict[str, Any]:
    """The first server-sent event whose JSON data satisfies ``wanted``."""
    async with asyncio.timeout(timeout):
        async for raw in stream.content:
            line = raw.decode().strip()
            if line.startswith("data: "):
                data = json.loads(line[len("data: "):])
                if wanted(data):
                    return data
    raise AssertionError("the event stream ended")


async def test_sign_in_sets_a_strict_http_only_cookie(web_hall: WebHall) -> None:
    async with client(web_hall.url) as session:
        response = await session.post(f"{web_hall.url}/api/login",
                                      json={"name": MANAGER[0], "password": MANAGER[1]})
        assert response.status == 200
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        me = await (await session.get(f"{web_hall.url}/api/me")).json()
        assert me == {"name": MANAGER[0], "role": "manager", "may_act": True}
        await session.post(f"{web_hall.url}/api/logout", json={})
        assert (await session.get(f"{web_hall.url}/api/me")).status == 401


async def test_nothing_without_signing_in(web_hall: WebHall) -> None:
    async with client(web_hall.url) as session:
        assert (await session.get(f"{web_hall.url}/api/live")).status == 401
        status, body = await command(session, web_hall, "set_notice", {"text": "x"})
        assert status == 401 and body["error"]["message"] == "sign in first"
        page = await session.get(f"{web_hall.url}/live", allow_redirects=False)
        assert page.status == 303 and page.headers["Location"].startswith("/login?next=")
    assert web_hall.controller.engine.notice == ""


async def test_lockout_after_repeated_failures(web_hall: WebHall) -> None:
    async with client(web_hall.url) as session:
        url = f"{web_hall.url}/api/login"
        for _ in range(MAX_FAILURES - 1):
            wrong = await session.post(url, json={"name": MANAGER[0], "password": "wrong!"})
            assert wrong.status == 401
        locked = await session.post(url, json={"name": MANAGER[0], "password": "wrong!"})
        assert locked.status == 429
        assert "try again in 15 min" in (await locked.json())["error"]["message"]
        right = await session.post(url, json={"name": MANAGER[0], "password": MANAGER[1]})
        assert right.status == 429  # even the right password, until the lock runs out
        other = await session.post(url, json={"name": SUPERVISOR[0], "password": SUPERVISOR[1]})
        assert other.status == 200  # only that name from that address is locked


async def test_supervisor_looks_but_may_not_act(web_hall: WebHall) -> None:
    async with client(web_hall.url) as session:
        await session.post(f"{web_hall.url}/api/login",
                           json={"name": SUPERVISOR[0], "password": SUPERVISOR[1]})
        live = await (await session.get(f"{web_hall.url}/api/live")).json()
        assert [c["counter"] for c in live["counters"]][:3] == ["1", "2", "3"]
        status, body = await command(session, web_hall, "close_counter", {"counter": "1"})
        assert status == 403 and "supervisor" in body["error"]["message"]
    assert web_hall.controller.engine.desks["1"].status is m.CounterStatus.OPEN


async def test_manager_actions_change_the_hall(web_hall: WebHall,
                                               manager: aiohttp.ClientSession) -> None:
    engine = web_hall.controller.engine
    status, body = await command(manager, web_hall, "issue", {"service": "C", "green": True})
    assert status == 200 and body["ok"]
    ticket = body["result"]["ticket"]
    assert ticket["number"] == "C001" and ticket["channel"] == "green"
    assert ticket["status"] == "waiting"  # staff assist: nothing waits for a kiosk's printer
    assert (await command(manager, web_hall, "move", {"ticket": ticket["ticket"],
                                                      "to_service": "D"}))[0] == 200
    assert engine.tickets[ticket["ticket"]].service == "D"
    assert (await command(manager, web_hall, "reprint", {"ticket": ticket["ticket"]}))[0] == 200
    assert (await command(manager, web_hall, "cancel", {"ticket": ticket["ticket"]}))[0] == 200
    assert engine.tickets[ticket["ticket"]].status is m.TicketStatus.CANCELLED
    await command(manager, web_hall, "set_counter_services", {"counter": "2", "services": ["E"]})
    await command(manager, web_hall, "close_counter", {"counter": "3"})
    await command(manager, web_hall, "set_intake", {"service": "G", "open": False})
    await command(manager, web_hall, "set_notice", {"text": "午间 12:00 起窗口减半"})
    assert engine.desks["2"].services == frozenset({"E"})
    assert engine.desks["3"].status is m.CounterStatus.CLOSED
    assert not engine.queues["G"].intake_open
    assert engine.notice == "午间 12:00 起窗口减半"
    status, _ = await command(manager, web_hall, "end_day", {})
    assert status == 200 and engine.ended


async def test_a_retried_action_acts_once(web_hall: WebHall,
                                          manager: aiohttp.ClientSession) -> None:
    body = {"id": new_command_id(), "service": "A"}
    first = await command(manager, web_hall, "issue", body)
    again = await command(manager, web_hall, "issue", body)
    assert first == again
    assert web_hall.controller.engine.queues["A"].issued == 1


BAD_REQUESTS: list[tuple[str, str | bytes, dict[str, str], int, str]] = [
    ("issue", b"{not json", JSON, 400, "not valid JSON"),
    ("issue", "[1, 2]", JSON, 400, "JSON object"),
    ("issue", "{}", JSON, 400, "service"),
    ("issue", '{"service": "a"}', JSON, 400, "service"),
    ("issue", '{"service": "Z"}', JSON, 404, "no service 'Z'"),
    ("issue", '{"service": "A", "id_hash": "' + "a" * 64 + '"}', JSON, 400, "id_hash"),
    ("issue", '{"service": "A", "colour": "red"}', JSON, 400, "colour"),
    ("issue", '{"service": "A", "v": 2}', JSON, 400, "v:"),
    ("issue", '{"service": "A", "id": "short"}', JSON, 400, "id"),
    ("issue", "service=A", {"Content-Type": "application/x-www-form-urlencoded"}, 415, "JSON"),
    ("issue", '{"service": "A"}', {**JSON, "Origin": "http://evil.example"}, 403, "another site"),
    ("close_counter", '{"counter": "99"}', JSON, 404, "no counter '99'"),
    ("close_counter", '{"counter": "../1"}', JSON, 400, "counter"),
    ("close_counter", "{}", JSON, 400, "counter: required"),
    ("set_counter_services", '{"counter": "1", "services": []}', JSON, 400, "services"),
    ("set_intake", '{"service": "A", "open": "maybe"}', JSON, 400, "open"),
    ("set_notice", '{"text": "' + "长" * 301 + '"}', JSON, 400, "text"),
    ("cancel", '{"ticket": "A001"}', JSON, 400, "ticket"),
    ("cancel", '{"ticket": "20261123-A999"}', JSON, 404, "no ticket"),
    ("set_notice", '{"text": "' + "x" * 70_000 + '"}', JSON, 413, "Too Large"),
    ("call_next", '{"counter": "1"}', JSON, 404, "no action 'call_next'"),
    ("book", "{}", JSON, 404, "no action 'book'"),
]


@pytest.mark.parametrize(("name", "body", "headers", "status", "says"), BAD_REQUESTS)
async def test_bad_requests_get_a_4xx_that_says_why(
        web_hall: WebHall, manager: aiohttp.ClientSession, name: str, body: str | bytes,
        headers: dict[str, str], status: int, says: str) -> None:
    response = await manager.post(f"{web_hall.url}/api/commands/{name}", data=body,
                                  headers=headers)
    answer = await response.json()
    assert response.status == status, answer
    assert says in answer["error"]["message"]


async def test_refused_by_the_hall_rules_is_a_conflict(
        web_hall: WebHall, manager: aiohttp.ClientSession) -> None:
    await command(manager, web_hall, "set_intake", {"service": "B", "open": False})
    status, body = await command(manager, web_hall, "issue", {"service": "B"})
    assert status == 409 and body["error"]["code"] == "closed"
    assert "takes no tickets" in body["error"]["message"]


async def test_bad_report_range_and_table(web_hall: WebHall,
                                          manager: aiohttp.ClientSession) -> None:
    for query, says in (("from=2026-13-01", "YYYY-MM-DD"), ("from=2026-11-23&to=2026-11-01",
                                                             "before it starts"),
                        ("from=2024-01-01&to=2026-11-23", "at most 366 days")):
        response = await manager.get(f"{web_hall.url}/reports/services.csv?{query}")
        assert response.status == 400 and says in (await response.json())["error"]["message"]
        page = await manager.get(f"{web_hall.url}/reports?{query}")
        assert page.status == 400 and says in await page.text()
    missing = await manager.get(f"{web_hall.url}/reports/secrets.csv")
    assert missing.status == 404 and "no table" in (await missing.json())["error"]["message"]


async def test_live_events_push_every_change(web_hall: WebHall,
                                             manager: aiohttp.ClientSession) -> None:
    async with manager.get(f"{web_hall.url}/api/live/events") as stream:
        assert stream.headers["Content-Type"] == "text/event-stream"
        first = await next_event(stream, lambda d: True)
        assert first["hall"]["notice"] == ""
        await command(manager, web_hall, "set_notice", {"text": "今日下午 3 点停水"})
        pushed = await next_event(stream, lambda d: "hall" in d and d["type"] == "delta")
        assert pushed["hall"]["notice"] == "今日下午 3 点停水"
        await web_hall.execute("pause", m.Pause(id=new_command_id()), "caller-4")
        paused = await next_event(stream, lambda d: "counters" in d)  # only the changed one
        assert [(c["counter"], c["status"]) for c in paused["counters"]] == [("4", "paused")]


async def test_status_page_hides_unknown_tokens(web_hall: WebHall) -> None:
    async with client(web_hall.url) as session:
        for token in ("a" * 30, "A" * 30, "short", "a" * 31, "g1" * 15):
            response = await session.get(f"{web_hall.status_url}/t/{token}")
            assert response.status == 404
            text = await response.text()
            assert "Ticket not found" in text and token not in text


async def test_status_page_follows_its_ticket(web_hall: WebHall,
                                              manager: aiohttp.ClientSession) -> None:
    _, body = await command(manager, web_hall, "issue", {"service": "E"})
    token = body["result"]["ticket"]["token"]
    async with client(web_hall.url) as resident:  # no sign-in
        page = await resident.get(f"{web_hall.status_url}/t/{token}")
        html = await page.text()
        assert page.status == 200 and "E001" in html and "等候中" in html
        assert page.headers["Referrer-Policy"] == "no-referrer"
        async with resident.get(f"{web_hall.status_url}/t/{token}/events") as stream:
            waiting = await next_event(stream, lambda d: True)
            assert waiting["status"] == "waiting" and waiting["ahead_en"] == "You are next"
            await web_hall.execute("call_next", m.CallNext(id=new_command_id()),
                                              "caller-11")
            called = await next_event(stream, lambda d: d["status"] == "called")
            assert called["counter_zh"] == "11号窗口" and called["counter_en"] == "Window 11"
            assert set(called) >= {"number", "status_zh", "status_en", "wait_zh"}
            assert not {"ticket", "token", "id_hash", "clerk"} & set(called)


async def test_what_if_compares_more_and_fewer_windows(web_hall: WebHall,
                                                       manager: aiohttp.ClientSession) -> None:
    for n in range(30):
        status, _ = await command(manager, web_hall, "issue", {"service": "ABCDEFG"[n % 7]})
        assert status == 200
    response = await manager.get(f"{web_hall.url}/api/whatif")
    assert response.status == 200
    outlooks = {o["label"]: o for o in (await response.json())["outlooks"]}
    assert list(outlooks) == ["now", "+1", "+2", "-1"]
    now = outlooks["now"]
    assert outlooks["+1"]["counters_open"] == now["counters_open"] + 1
    assert outlooks["-1"]["counters_open"] == now["counters_open"] - 1
    assert outlooks["+2"]["mean_wait_min"] <= outlooks["+1"]["mean_wait_min"] \
        <= now["mean_wait_min"] <= outlooks["-1"]["mean_wait_min"]
    assert len(web_hall.controller.engine.tickets) == 30  # rehearsed on a copy


async def test_what_if_needs_a_sign_in(web_hall: WebHall) -> None:
    async with client(web_hall.url) as session:
        assert (await session.get(f"{web_hall.url}/api/whatif")).status == 401


async def test_a_bad_rating_is_followed_up_from_the_tablet(web_hall: WebHall,
                                                           manager: aiohttp.ClientSession) -> None:
    controller = web_hall.controller
    await web_hall.execute("issue", m.IssueTicket(id=new_command_id(), service="B",
                                                    print_on_kiosk=False))
    await web_hall.execute("call_next", m.CallNext(id=new_command_id()), "caller-4")
    await web_hall.execute("done", m.Done(id=new_command_id()), "caller-4")
    await web_hall.execute("evaluate", m.Evaluate(id=new_command_id(),
                                                    rating=m.Rating.DISSATISFIED), "caller-4")
    live = await (await manager.get(f"{web_hall.url}/api/live")).json()
    (alert,) = [a for a in live["alerts"] if a["kind"] == "bad_rating"]
    status, body = await command(manager, web_hall, "follow_up", {
        "kind": "bad_rating", "subject": alert["subject"], "note": "已电话回访"})
    assert status == 200 and body["ok"]
    live = await (await manager.get(f"{web_hall.url}/api/live")).json()
    assert not [a for a in live["alerts"] if a["kind"] == "bad_rating"]
    rows = await controller.journal.query(
        "SELECT data FROM events WHERE kind = 'alert_followed_up'")
    assert len(rows) == 1 and "已电话回访" in json.loads(rows[0][0])["note"]
