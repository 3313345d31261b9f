"""The manager's what-if: the rest of today with one or two more windows open, or one fewer,
side by side — the advice to open a tidal window (潮汐窗口)."""

from __future__ import annotations

import asyncio
import copy
from dataclasses import asdict
from typing import Any

from aiohttp import web

from hall.controller import Controller
from hall.engine.engine import HallEngine
from hall.engine.whatif import Outlook, last_call_text, what_if
from web.auth import Auth

VARIANTS = (1, 2, -1)


def routes(controller: Controller, auth: Auth) -> list[web.RouteDef]:
    """``GET /api/whatif``: one outlook per variant, "now" first."""
    one_at_a_time = asyncio.Lock()

    async def whatif_json(request: web.Request) -> web.Response:
        auth.need(request)
        async with one_at_a_time:
            # Copied on the loop, so the rehearsal sees one consistent moment of the hall;
            # rehearsed in a thread, so the single writer keeps answering meanwhile.
            engine = copy.deepcopy(controller.engine)
            now = controller.clock.now()
            outlooks = await asyncio.get_running_loop().run_in_executor(
                None, what_if, engine, now.timestamp(), VARIANTS)
        return web.json_response({"at": now.isoformat(),
                                  "outlooks": [_row(engine, o) for o in outlooks]})

    return [web.get("/api/whatif", whatif_json)]


def _row(engine: HallEngine, outlook: Outlook) -> dict[str, Any]:
    row = asdict(outlook)
    row["last_call"] = last_call_text(engine, outlook)  # with its date when not today
    row["changed"] = list(row["changed"])
    return row
