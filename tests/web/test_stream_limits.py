"""Caps on open event streams: per client address and in all, for the residents' status page
and the manager's app; one over a cap gets a 429 naming it, and the process keeps serving."""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import aiohttp
import pytest
from webhall import MANAGER, WebHall, client, command
from yarl import URL

from hallconfig import StatusPageSettings, WebSettings
from protocol import messages as m
from protocol.link import new_command_id
from web.live import FILES_MARGIN

STATUS = StatusPageSettings()
MANAGER_APP = WebSettings()
WAIT_S = 5.0  # the status listener ends the stream of a closed connection at once


async def first_data(stream: aiohttp.ClientResponse) -> dict[str, object]:
    """The stream's first event (so it was admitted and is being served)."""
    async with asyncio.timeout(5):
        async for raw in stream.content:
            line = raw.decode().strip()
            if line.startswith("data: "):
                data: dict[str, object] = json.loads(line[len("data: "):])
                return data
    raise AssertionError("the event stream ended")


async def open_streams(stack: AsyncExitStack, session: aiohttp.ClientSession, url: str,
                       count: int) -> list[aiohttp.ClientResponse]:
    streams = []
    for _ in range(count):
        stream = await stack.enter_async_context(session.get(url))
        assert stream.status == 200, await stream.text()
        await first_data(stream)
        streams.append(stream)
    return streams


async def refused(session: aiohttp.ClientSession, url: str) -> str:
    """The message of a 429 refusal; the server closes that connection."""
    async with session.get(url) as response:
        assert response.status == 429, response.status
        assert response.headers["Connection"] == "close"
        assert response.headers["Retry-After"] == "30"
        body = await response.json()
    assert body["ok"] is False and body["error"]["code"] == "too_many_streams"
    return str(body["error"]["message"])


@pytest.fixture
async def token(web_hall: WebHall) -> str:
    reply = await web_hall.execute("issue", m.IssueTicket(id=new_command_id(), service="E",
                                                          print_on_kiosk=False))
    assert reply.ok and reply.result
    return str(reply.result["ticket"]["token"])


@pytest.fixture
async def signed_in(web_hall: WebHall) -> AsyncIterator[list[aiohttp.ClientSession]]:
    """One signed-in manager's cookie, in a session from each of 127.0.0.1 … 127.0.0.N,
    enough addresses to pass the manager app's total cap at the per-address cap."""
    addresses = -(-(MANAGER_APP.max_streams + 1) // MANAGER_APP.max_streams_per_address)
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(client(web_hall.url))
        login = await first.post(f"{web_hall.url}/api/login",
                                 json={"name": MANAGER[0], "password": MANAGER[1]})
        assert login.status == 200
        sessions = [first]
        for n in range(2, addresses + 1):
            other = await stack.enter_async_context(client(web_hall.url, f"127.0.0.{n}"))
            other.cookie_jar.update_cookies(first.cookie_jar.filter_cookies(URL(web_hall.url)))
            sessions.append(other)
        yield sessions


async def test_status_streams_per_address_are_capped(web_hall: WebHall, token: str) -> None:
    url = f"{web_hall.status_url}/t/{token}/events"
    cap = STATUS.max_streams_per_address
    async with AsyncExitStack() as stack:
        flood = await stack.enter_async_context(client(local="127.0.0.1"))
        streams = await open_streams(stack, flood, url, cap)
        for _ in range(3):
            why = await refused(flood, url)
            assert f"127.0.0.1 has {cap} event streams open" in why and "status page" in why
        # Another address (a kiosk, a resident) is served: its page and its stream.
        async with client(local="127.0.0.2") as resident:
            page = await resident.get(f"{web_hall.status_url}/t/{token}")
            assert page.status == 200 and "E001" in await page.text()
            async with resident.get(url) as stream:
                assert stream.status == 200
                assert (await first_data(stream))["number"] == "E001"
        # A stream the flooder closes frees its place at once.
        streams[0].close()
        await admitted_again(flood, url)


async def admitted_again(session: aiohttp.ClientSession, url: str) -> None:
    async with asyncio.timeout(WAIT_S):
        while True:
            async with session.get(url) as response:
                if response.status == 200:
                    await first_data(response)
                    return
                assert response.status == 429
            await asyncio.sleep(0.2)  # polling for the server to notice the closed stream


async def test_manager_streams_are_capped_per_address_and_in_all(
        web_hall: WebHall, signed_in: list[aiohttp.ClientSession]) -> None:
    url = f"{web_hall.url}/api/live/events"
    per_address, total = MANAGER_APP.max_streams_per_address, MANAGER_APP.max_streams
    async with AsyncExitStack() as stack:
        first, *others = signed_in
        await open_streams(stack, first, url, per_address)
        assert "the limit for one address" in await refused(first, url)
        opened = per_address
        for session in others:
            take = min(per_address, total - opened)
            await open_streams(stack, session, url, take)
            opened += take
        assert opened == total
        why = await refused(others[-1], url)
        assert f"the manager's web app has {total} event streams open, its limit" in why
        # The app still answers everything else, and the hall still acts.
        status, body = await command(first, web_hall, "set_notice", {"text": "满了"})
        assert status == 200 and body["ok"]
        await web_hall.settle()
        live = await (await first.get(f"{web_hall.url}/api/live")).json()
        assert live["hall"]["notice"] == "满了"


async def test_refused_streams_leave_the_status_page_serving(web_hall: WebHall,
                                                            token: str) -> None:
    """Ten times the per-address cap from one address: every extra one refused and its
    connection closed at once; the kiosks' residents are served throughout."""
    url = f"{web_hall.status_url}/t/{token}/events"
    cap = STATUS.max_streams_per_address
    async with AsyncExitStack() as stack:
        flood = await stack.enter_async_context(client(local="127.0.0.3"))
        await open_streams(stack, flood, url, cap)
        answers = await asyncio.gather(*(flood.get(url) for _ in range(9 * cap)))
        assert [a.status for a in answers] == [429] * (9 * cap)
        for answer in answers:
            answer.release()
        async with client(local="127.0.0.4") as resident, resident.get(url) as stream:
            assert stream.status == 200 and (await first_data(stream))["status"] == "waiting"


def test_the_process_allows_the_files_its_streams_need() -> None:
    """Started with a soft limit of 256 open files (systemd's default is 1024), the web
    service raises it for its caps' streams."""
    streams = STATUS.max_streams + MANAGER_APP.max_streams
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < streams + FILES_MARGIN:
        pytest.fail(f"this machine's hard limit {hard} is below what the test needs")
    code = ("import resource; from web.live import fit_open_files; "
            f"fit_open_files({streams}); print(resource.getrlimit(resource.RLIMIT_NOFILE)[0])")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard)))
    assert int(out.stdout) == streams + FILES_MARGIN


def test_a_hard_limit_too_low_is_told() -> None:
    """Below the hard limit's reach, the soft limit goes as high as allowed and the log says
    what to raise."""
    streams = STATUS.max_streams + MANAGER_APP.max_streams
    code = ("import logging, resource; from web.live import fit_open_files; "
            "logging.basicConfig(); "
            f"fit_open_files({streams}); print(resource.getrlimit(resource.RLIMIT_NOFILE)[0])")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (256, 512)))
    assert int(out.stdout) == 512
    assert f"only 512 open files allowed (hard limit); {streams} event streams" in out.stderr
    assert "raise LimitNOFILE" in out.stderr
