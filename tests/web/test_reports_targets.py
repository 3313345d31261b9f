"""The reports page shows each service's targets and the share of tickets within them."""

from __future__ import annotations

import re
from datetime import timedelta

import aiohttp
from webhall import MANAGER, WebHall

from hall.clock import VirtualClock
from protocol import messages as m
from protocol.link import new_command_id


async def act(hall: WebHall, name: str, command: m.Command, device: str | None = None) -> None:
    reply = await hall.execute(name, command, *([device] if device else []))
    assert reply.ok, reply.error


def service_row(page: str, service: str) -> list[str]:
    """The cells of a service's row in the services table."""
    table = page[page.index("各业务 By service</h2>"):]
    row = re.search(rf"<tr><td[^>]*>{service}</td>(.*?)</tr>", table)
    assert row is not None, f"no row for {service}"
    return [service, *re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))]


async def test_the_page_shows_targets_and_shares_within(web_hall: WebHall) -> None:
    controller = web_hall.controller
    clock = controller.clock
    assert isinstance(clock, VirtualClock)
    await act(web_hall, "issue", m.IssueTicket(id=new_command_id(), service="F",
                                               print_on_kiosk=False))
    clock.advance(timedelta(minutes=12).total_seconds())  # F's own wait target is 10
    await act(web_hall, "call_next", m.CallNext(id=new_command_id()), "caller-1")
    await act(web_hall, "start", m.StartService(id=new_command_id()), "caller-1")
    clock.advance(timedelta(minutes=4).total_seconds())  # within F's service target of 10
    await act(web_hall, "done", m.Done(id=new_command_id()), "caller-1")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                     headers={"Origin": web_hall.url}) as manager:
        login = await manager.post(f"{web_hall.url}/api/login",
                                   json={"name": MANAGER[0], "password": MANAGER[1]})
        assert login.status == 200
        page = await (await manager.get(f"{web_hall.url}/reports")).text()
    for label in ("等候目标 Wait target (min)", "等候达标 Wait within target (%)",
                  "办理目标 Service target (min)", "办理达标 Service within target (%)"):
        assert f">{label}<" in page
    assert service_row(page, "F")[-4:] == ["10.0", "0.0", "10.0", "100.0"]
    assert service_row(page, "B")[-4:] == ["20.0", "–", "21.0", "–"]  # nothing issued
