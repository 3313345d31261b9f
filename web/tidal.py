"""The manager's what-if: the rest of today with one or two more windows open, or one fewer,
side by side — the advice to open a tidal window (潮汐窗口).

The rehearsal runs in a worker process (web/worker.py) from a pickled snapshot of the engine
taken on the loop at one moment: seconds of simulation never hold this process's
interpreter, so the pages and the event streams keep answering meanwhile. The worker runs
web/whatif_worker.py, which imports the engine only (not aiohttp and the app). One what-if at
a time: a request while one runs is answered 429 (the tablet says so), never queued behind
it.
"""

from __future__ import annotations

import logging
import pickle
from typing import TYPE_CHECKING

from aiohttp import web

from web.auth import Auth
from web.errors import ApiError
from web.whatif_worker import rehearse
from web.worker import Worker

if TYPE_CHECKING:
    from web.hallview import HallView

log = logging.getLogger(__name__)


class WhatIf:
    """``GET /api/whatif`` of one view, and the worker process that rehearses it."""

    def __init__(self, view: HallView, auth: Auth) -> None:
        self.view = view
        self.auth = auth
        self.worker = Worker("the what-if worker")

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/whatif", self.whatif_json)]

    async def whatif_json(self, request: web.Request) -> web.Response:
        self.auth.need(request)
        if self.worker.busy:
            raise ApiError(429, "busy", "a what-if is already being estimated; try again in "
                                        "a few seconds")
        now = self.view.clock.now()
        snapshot = pickle.dumps(self.view.engine, pickle.HIGHEST_PROTOCOL)  # one moment
        rows, pid, nice, seconds = await self.worker.run(rehearse, snapshot, now.timestamp())
        log.info("what-if rehearsed in worker %d (nice %d) in %.1f s (%d bytes of engine)", pid,
                 nice, seconds, len(snapshot))
        return web.json_response({"at": now.isoformat(), "outlooks": rows})

    async def cleanup(self, _app: web.Application) -> None:
        """For ``app.on_cleanup``: the worker stops with the app."""
        self.worker.close()
