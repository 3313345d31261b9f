"""The web apps' worker process (web/worker.py): a lower priority, deaf to its group's stop
signals, a death told and the worker replaced, a task cut short by a stop told apart."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from pathlib import Path

import pytest
from support.procs import ignored

from web.errors import ApiError
from web.worker import WORKER_NICE, Worker


async def test_a_task_runs_apart_at_a_lower_priority_deaf_to_stop_signals() -> None:
    worker = Worker("the test worker")
    try:
        pid = await worker.run(os.getpid)
        assert pid != os.getpid()
        assert await worker.run(os.nice, 0) == min(19, os.nice(0) + WORKER_NICE)
        assert await worker.run(os.sched_getscheduler, 0) == os.SCHED_IDLE  # any wakeup
        # of the hall's processes takes its CPU at once
        assert {signal.SIGTERM, signal.SIGINT} <= ignored(pid)
        os.kill(pid, signal.SIGTERM)  # as systemd stops the unit: the whole group
        os.kill(pid, signal.SIGINT)  # as Ctrl-C in a terminal
        assert await worker.run(os.getpid) == pid  # the same worker, still there
    finally:
        worker.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # stopped and reaped


async def asleep(worker: Worker, pid: int) -> asyncio.Task[None]:
    """A minute's sleep given to ``worker`` (process ``pid``), once it sleeps."""
    sleeping = asyncio.create_task(worker.run(time.sleep, 60))
    wchan = Path(f"/proc/{pid}/wchan")
    async with asyncio.timeout(10):
        while "nanosleep" not in wchan.read_text():
            await asyncio.sleep(0.01)
    assert worker.busy
    return sleeping


async def test_a_worker_that_dies_is_told_and_replaced(
        caplog: pytest.LogCaptureFixture) -> None:
    worker = Worker("the test worker")
    try:
        first = await worker.run(os.getpid)
        sleeping = await asleep(worker, first)
        os.kill(first, signal.SIGKILL)
        with pytest.raises(ApiError) as told:
            await sleeping
        assert (told.value.status, told.value.code) == (503, "worker_stopped")
        assert "the test worker stopped; try again" in told.value.message
        assert [r.levelno for r in caplog.records if r.name == "web.worker"] == [logging.ERROR]
        assert await worker.run(os.getpid) not in (first, os.getpid())  # a new one
    finally:
        worker.close()


async def test_a_task_under_way_at_a_stop_is_abandoned_not_a_fault(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="web.worker")
    worker = Worker("the test worker")
    pid = await worker.run(os.getpid)
    sleeping = await asleep(worker, pid)
    worker.close()
    with pytest.raises(ApiError) as told:
        await sleeping
    assert (told.value.status, told.value.code) == (503, "stopping")
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, "the test worker: its task is abandoned, the web service is stopping")]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
