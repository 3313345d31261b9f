"""The manager's what-if: the rest of today with one or two more windows open, or one fewer,
side by side — the advice to open a tidal window (潮汐窗口).

The rehearsal runs in a worker process of its own (one, started at the first what-if and
stopped with the web apps), from a pickled snapshot of the engine taken on the loop at one
moment: seconds of simulation never hold this process's interpreter, so the pages and the
event streams keep answering meanwhile. The worker runs web/whatif_worker.py, which imports
the engine only (not aiohttp and the app). One what-if at a time: a request while one runs is
answered 429 (the tablet says so), never queued behind it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import pickle
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

from aiohttp import web

from web.auth import Auth
from web.errors import ApiError
from web.whatif_worker import Rehearsed, rehearse

if TYPE_CHECKING:
    from web.hallview import HallView

log = logging.getLogger(__name__)

WORKER_NICE = 10  # the rehearsal yields the CPU to the writer, the broker and the pages


def _lower_priority() -> None:
    """In the worker, first of all: a lower CPU priority (where the sandbox allows it)."""
    try:
        os.nice(WORKER_NICE)
    except OSError as exc:  # e.g. a unit's SystemCallFilter=~@resources
        log.warning("the what-if worker keeps its priority: %s", exc)


class WhatIf:
    """``GET /api/whatif`` of one view, and the worker process that rehearses it."""

    def __init__(self, view: HallView, auth: Auth) -> None:
        self.view = view
        self.auth = auth
        self._pool: ProcessPoolExecutor | None = None
        self._running: Future[Rehearsed] | None = None

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/whatif", self.whatif_json)]

    async def whatif_json(self, request: web.Request) -> web.Response:
        self.auth.need(request)
        if self._running is not None and not self._running.done():
            raise ApiError(429, "busy", "a what-if is already being estimated; try again in "
                                        "a few seconds")
        now = self.view.clock.now()
        snapshot = pickle.dumps(self.view.engine, pickle.HIGHEST_PROTOCOL)  # one moment
        self._running = self._worker().submit(rehearse, snapshot, now.timestamp())
        try:
            rows, pid, nice, seconds = await asyncio.wrap_future(self._running)
        except BrokenProcessPool as exc:
            self.close()
            log.error("the what-if worker stopped: %s", exc)
            raise ApiError(503, "worker_stopped", "the what-if worker stopped; try again") \
                from exc
        log.info("what-if rehearsed in worker %d (nice %d) in %.1f s (%d bytes of engine)", pid,
                 nice, seconds, len(snapshot))
        return web.json_response({"at": now.isoformat(), "outlooks": rows})

    def _worker(self) -> ProcessPoolExecutor:
        if self._pool is None:  # spawned: nothing of this process (sockets, loop) is shared
            self._pool = ProcessPoolExecutor(max_workers=1,
                                             mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_lower_priority)
        return self._pool

    def close(self) -> None:
        """Stop the worker at once (a what-if still running is abandoned)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        workers = list((pool._processes or {}).values())  # it can only wait for a task
        for worker in workers:
            worker.terminate()
        pool.shutdown(wait=True, cancel_futures=True)

    async def cleanup(self, _app: web.Application) -> None:
        """For ``app.on_cleanup``: the worker stops with the app."""
        self.close()
