"""The reports page after "End the day" with residents still waiting: the not served are
counted in the totals, the services CSV and the tickets CSV, their waits to the close."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import aiohttp
from webhall import MANAGER, WebHall

from hall.clock import VirtualClock
from protocol import messages as m
from protocol.link import new_command_id


async def issue(hall: WebHall, service: str) -> None:
    reply = await hall.execute("issue", m.IssueTicket(
        id=new_command_id(), service=service, print_on_kiosk=False))
    assert reply.ok, reply.error


async def test_end_the_day_early_and_the_report_counts_the_not_served(web_hall: WebHall) -> None:
    controller = web_hall.controller
    clock = controller.clock
    assert isinstance(clock, VirtualClock)
    for service in "AAB":
        await issue(web_hall, service)
    called = await web_hall.execute("call_next", m.CallNext(id=new_command_id()), "caller-1")
    assert called.ok, called.error
    clock.advance(timedelta(minutes=25).total_seconds())
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                     headers={"Origin": web_hall.url}) as manager:
        login = await manager.post(f"{web_hall.url}/api/login",
                                   json={"name": MANAGER[0], "password": MANAGER[1]})
        assert login.status == 200
        ended = await manager.post(f"{web_hall.url}/api/commands/end_day", json={})
        assert ended.status == 200 and controller.engine.ended
        page = await (await manager.get(f"{web_hall.url}/reports")).text()
        figure = re.search(r'id="not-served">(\d+)<', page)
        assert figure is not None and figure.group(1) == "3"  # A001 too: called, never done
        services = await (await manager.get(f"{web_hall.url}/reports/services.csv")).text()
        tickets = await (await manager.get(f"{web_hall.url}/reports/tickets.csv")).text()
    by_service = {r["业务 Service"]: r for r in read_csv(services)}
    assert [by_service[s]["未办理 Not served"] for s in "AB"] == ["2", "1"]
    assert by_service["B"]["最长等候 Max wait (min)"] == "25.0"  # never called: to the close
    assert [r["status"] for r in read_csv(tickets)] == ["not_served"] * 3


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
