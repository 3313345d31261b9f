"""The worker process a web app gives its seconds of CPU (the what-if, the morning plan), so
they never hold the web service's loop.

One process, spawned (nothing of this one, sockets or loop, is shared) at the first task and
stopped with the apps. It runs at a lower CPU priority, in Linux's SCHED_IDLE class: the
writer, the broker and the pages keep the CPU first, and any of them waking takes it from the
worker at once. It ignores the stop signals its process group gets (systemd's SIGTERM to the
unit, a terminal's Ctrl-C): the web service ends it, so a stop is told from a crash.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from web.errors import ApiError

log = logging.getLogger(__name__)
T = TypeVar("T")

WORKER_NICE = 10  # added to the web service's own


def _start() -> None:
    """In the worker, first of all."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        os.nice(WORKER_NICE)
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except OSError as exc:  # e.g. a unit's SystemCallFilter=~@resources
        log.warning("the worker keeps its priority: %s", exc)


class Worker:
    """One worker process, named ``what`` in what it logs and answers."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._pool: ProcessPoolExecutor | None = None
        self._running: Future[Any] | None = None

    @property
    def busy(self) -> bool:
        """A task is under way (even one whose request has gone)."""
        return self._running is not None and not self._running.done()

    async def run(self, task: Callable[..., T], *args: Any) -> T:
        """``task(*args)`` in the worker. ApiError 503: the worker died (``worker_stopped``;
        a new one starts at the next task) or the service is stopping (``stopping``)."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, initializer=_start,
                                             mp_context=multiprocessing.get_context("spawn"))
        self._running = self._pool.submit(task, *args)
        try:
            return await asyncio.wrap_future(self._running)
        except BrokenProcessPool as exc:
            if self._pool is None:  # closed: the service stops, past its grace for requests
                log.info("%s: its task is abandoned, the web service is stopping", self.what)
                raise ApiError(503, "stopping", "the web service is stopping; try again in "
                                                "a minute") from exc
            self.close()
            log.error("%s stopped: %s", self.what, exc)
            raise ApiError(503, "worker_stopped", f"{self.what} stopped; try again") from exc

    def close(self) -> None:
        """Stop the worker at once (a task under way is abandoned)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for worker in list((pool._processes or {}).values()):  # it can only wait for a task
            worker.kill()  # it ignores SIGTERM
        pool.shutdown(wait=True, cancel_futures=True)
