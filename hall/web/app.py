"""The hall's web app, served from the controller's own process and event loop.

``start_web(controller, host, port)`` is all a caller needs; it returns the aiohttp runner,
whose ``cleanup()`` stops it. The app reads the controller's state and acts only through
``Controller.execute``, so it is never a second copy of the hall.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from hall.web import actions, reports_page, status, ticket_print, tidal
from hall.web.accounts import DEFAULT_FILE, ENV_FILE, AccountBook
from hall.web.auth import Auth
from hall.web.errors import ApiError
from hall.web.live import Hub, event_stream, live_snapshot
from hall.web.pages import SECURITY_HEADERS, not_found_page, page

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler

    from hall.controller import Controller

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
SHUTDOWN_S = 3.0
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _error_json(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": {"code": code, "message": message}},
                             status=status)


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Security headers everywhere; CSRF checks on writes; every failure a clear 4xx."""
    try:
        if request.method in _UNSAFE:
            _check_write(request)
        response = await handler(request)
    except ApiError as exc:
        response = _error_json(exc.status, exc.code, exc.message)
    except web.HTTPException as exc:
        if exc.status == 404 and not request.path.startswith("/api/"):
            response = not_found_page()
        elif exc.status >= 400 and request.path.startswith("/api/"):
            response = _error_json(exc.status, "http", exc.reason)
        else:
            raise
    except Exception:
        log.exception("web request %s %s failed", request.method, request.path)
        response = _error_json(500, "internal", "internal error; see the controller log")
    if not response.prepared:
        response.headers.update(SECURITY_HEADERS)
    return response


def _check_write(request: web.Request) -> None:
    """A write must be JSON from this very origin: no cross-site form can send one."""
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type",
                       "send the body as JSON (Content-Type: application/json)")
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        raise ApiError(403, "cross_origin", "requests from another site are refused")


def build_app(controller: Controller, managers: Path | None = None) -> web.Application:
    """The web app of one controller; ``managers`` is the accounts file."""
    book = AccountBook(managers or default_managers_path(controller))
    if not len(book):
        log.warning("no manager accounts in %s: add one with python -m hall.web.accounts "
                    "--file %s add NAME --role manager", book.path, book.path)
    auth, hub = Auth(book), Hub()
    app = web.Application(middlewares=[guard], client_max_size=64 * 1024)

    async def home(request: web.Request) -> web.Response:
        auth.page_session(request)
        raise web.HTTPSeeOther("/live")

    async def login_page(request: web.Request) -> web.Response:
        return page("login.html", hall=controller.config.hall.name,
                    hall_en=controller.config.hall.name_en)

    async def live_page(request: web.Request) -> web.Response:
        session = auth.page_session(request)
        return page("live.html", hall=controller.config.hall.name, user=session.name,
                    role=session.role.value, may_act="true" if session.may_act else "false")

    async def live_json(request: web.Request) -> web.Response:
        auth.need(request)
        return web.json_response(live_snapshot(controller))

    async def live_events(request: web.Request) -> web.StreamResponse:
        auth.need(request)
        return await event_stream(request, hub,
                                  lambda: live_snapshot(controller) if auth.current(request)
                                  else None)

    app.add_routes([web.get("/", home), web.get("/login", login_page),
                    web.get("/live", live_page), web.get("/api/live", live_json),
                    web.get("/api/live/events", live_events),
                    *auth.routes(), *actions.routes(controller, auth),
                    *reports_page.routes(controller, auth), *status.routes(controller, hub),
                    *ticket_print.routes(controller, auth), *tidal.routes(controller, auth),
                    web.static("/static", STATIC)])
    controller.listeners.append(hub.notice)

    async def on_shutdown(_app: web.Application) -> None:
        hub.close()
        if hub.notice in controller.listeners:
            controller.listeners.remove(hub.notice)

    app.on_shutdown.append(on_shutdown)
    return app


def default_managers_path(controller: Controller) -> Path:
    """``$LOBBY_MANAGERS``, else managers.toml beside the journal (the hall's state)."""
    return Path(os.environ.get(ENV_FILE) or controller.journal_path.parent / DEFAULT_FILE)


async def start_web(controller: Controller, host: str, port: int,
                    managers: Path | None = None) -> web.AppRunner:
    """Serve the web app on ``host:port`` in the running loop; ``await runner.cleanup()`` stops."""
    runner = web.AppRunner(build_app(controller, managers), shutdown_timeout=SHUTDOWN_S,
                           access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("web app on http://%s:%s/", host, port)
    return runner
