"""The what-if runs in a worker process, from a snapshot of the engine: the same answer as
in-process, never in the web process, one at a time, and the worker stops with the apps."""

from __future__ import annotations

import asyncio
import copy
import logging
import multiprocessing
import os
import signal
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest
from support.procs import ignored
from webhall import MANAGER, WebHall, client, command, start_web_hall

import web.app
from broker_config.process import MosquittoProcess
from protocol import messages as m
from protocol.link import new_command_id
from web.whatif_worker import outlook_rows
from web.worker import WORKER_NICE


async def signed_in(hall: WebHall) -> aiohttp.ClientSession:
    session = client(hall.url)
    login = await session.post(f"{hall.url}/api/login",
                               json={"name": MANAGER[0], "password": MANAGER[1]})
    assert login.status == 200
    return session


async def what_if_under_way(
        hall: WebHall, manager: aiohttp.ClientSession
) -> tuple[asyncio.Task[aiohttp.ClientResponse], list[multiprocessing.process.BaseProcess]]:
    """A what-if asked of a busy hall; the worker rehearsing it."""
    await busy_hall(hall, manager, 40)
    asking = asyncio.create_task(manager.get(f"{hall.url}/api/whatif"))
    return asking, await started_workers()


async def started_workers() -> list[multiprocessing.process.BaseProcess]:
    """The worker a request starts, once started (it then ignores its group's signals)."""
    async with asyncio.timeout(10):
        while not (workers := multiprocessing.active_children()):
            await asyncio.sleep(0.01)
        for worker in workers:
            while not {signal.SIGTERM, signal.SIGINT} <= ignored(worker.pid or 0):
                await asyncio.sleep(0.01)
    return workers


async def busy_hall(hall: WebHall, manager: aiohttp.ClientSession, tickets: int) -> None:
    """Tickets issued from the tablet, three of them called; the web apps caught up."""
    for n in range(tickets):
        status, body = await command(manager, hall, "issue", {"service": "ABCDEFG"[n % 7]})
        assert status == 200, body
    for caller in ("caller-1", "caller-2", "caller-3"):
        reply = await hall.controller.execute("call_next", m.CallNext(id=new_command_id()),
                                              caller)
        assert reply.ok
    await hall.settle()


async def test_the_worker_answers_as_the_engine_would_in_process(web_hall: WebHall) -> None:
    async with await signed_in(web_hall) as manager:
        await busy_hall(web_hall, manager, 40)
        response = await manager.get(f"{web_hall.url}/api/whatif")
        assert response.status == 200
        body = await response.json()
    at = datetime.fromisoformat(body["at"])
    assert at == web_hall.view.clock.now()
    expected = outlook_rows(copy.deepcopy(web_hall.view.engine), at.timestamp())
    assert body["outlooks"] == expected
    assert [o["label"] for o in expected] == ["now", "+1", "+2", "-1"]
    assert len({o["mean_wait_min"] for o in expected}) > 1  # the variants differ


async def test_the_what_if_runs_in_another_process_that_stops_with_the_apps(
        fresh_broker: MosquittoProcess, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    hall = await start_web_hall(fresh_broker, tmp_path)
    try:
        caplog.set_level(logging.INFO, logger="web.tidal")
        async with await signed_in(hall) as manager:
            await busy_hall(hall, manager, 10)
            for _ in range(2):
                assert (await manager.get(f"{hall.url}/api/whatif")).status == 200
        runs = [r.args for r in caplog.records
                if r.name == "web.tidal" and r.msg.startswith("what-if rehearsed in worker")]
        assert len(runs) == 2 and runs[0][0] == runs[1][0]  # one worker, kept
        worker, nice = runs[0][:2]
        assert isinstance(worker, int) and worker != os.getpid()
        assert worker in [p.pid for p in multiprocessing.active_children()]
        assert nice == min(19, os.nice(0) + WORKER_NICE)  # it yields the CPU to the hall
    finally:
        await hall.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(worker, 0)  # stopped and reaped


async def test_one_what_if_at_a_time(web_hall: WebHall) -> None:
    async with await signed_in(web_hall) as manager:
        await busy_hall(web_hall, manager, 40)
        url = f"{web_hall.url}/api/whatif"
        first, second = await asyncio.gather(manager.get(url), manager.get(url))
        answers = sorted([(first.status, await first.json()), (second.status,
                                                               await second.json())],
                         key=lambda a: a[0])
        (ok, _), (busy, refusal) = answers
        assert (ok, busy) == (200, 429)
        assert refusal["error"]["code"] == "busy"
        assert "already being estimated" in refusal["error"]["message"]
        assert (await manager.get(url)).status == 200  # and free again once it is done


async def test_a_worker_that_dies_is_told_and_replaced(web_hall: WebHall) -> None:
    async with await signed_in(web_hall) as manager:
        await busy_hall(web_hall, manager, 40)
        url = f"{web_hall.url}/api/whatif"
        asking = asyncio.create_task(manager.get(url))
        for worker in await started_workers():
            os.kill(worker.pid or 0, signal.SIGKILL)
        response = await asking
        assert response.status == 503
        assert (await response.json())["error"]["code"] == "worker_stopped"
        again = await manager.get(url)
        assert again.status == 200 and len((await again.json())["outlooks"]) == 4


async def test_the_stop_signals_of_the_service_s_group_leave_a_what_if_be(
        fresh_broker: MosquittoProcess, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """As systemd stops the unit: SIGTERM to every process of its group at once, the worker
    too. The worker ignores it (and a terminal's SIGINT): a what-if under way is answered,
    the service's own stop ends the worker, and no stop is logged as a fault."""
    hall = await start_web_hall(fresh_broker, tmp_path)
    try:
        caplog.set_level(logging.INFO, logger="web")
        async with await signed_in(hall) as manager:
            asking, workers = await what_if_under_way(hall, manager)
            for worker in workers:
                os.kill(worker.pid or 0, signal.SIGTERM)
                os.kill(worker.pid or 0, signal.SIGINT)
            response = await asking
            assert response.status == 200, await response.text()
            assert len((await response.json())["outlooks"]) == 4
    finally:
        await hall.stop()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    for worker in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(worker.pid or 0, 0)  # stopped and reaped


async def test_a_what_if_left_running_when_the_service_stops_is_abandoned_not_a_fault(
        fresh_broker: MosquittoProcess, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The manager closed the tablet while a what-if ran (its handler goes on: aiohttp does
    not cancel it), then the service stops, past its grace for requests (SHUTDOWN_S, 10 ms
    here), and ends the worker: said so, not logged as the worker failing."""
    monkeypatch.setattr(web.app, "SHUTDOWN_S", 0.01)
    hall = await start_web_hall(fresh_broker, tmp_path)
    try:
        caplog.set_level(logging.INFO, logger="web")
        async with await signed_in(hall) as manager:
            asking, _ = await what_if_under_way(hall, manager)
            asking.cancel()
        await hall.servers.cleanup()
    finally:
        await hall.stop()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert "the what-if worker: its task is abandoned, the web service is stopping" in \
        caplog.text
