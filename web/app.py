"""The hall's two web apps, served by the web service (``python -m web``), a process of its
own beside the controller: the manager's app (``[web]``) and the residents' status page
(``[status_page]``), each on a listener of its own, so the guest Wi-Fi need reach nothing of
the manager's.

``start_web(view, config.web, config.status_page)`` is all a caller needs; the ``cleanup()``
of what it returns stops both. A listener with ``tls_cert`` and ``tls_key`` serves HTTPS
only, and tells browsers so (HSTS); without them it serves plain HTTP. The apps read the
hall through a ``HallView`` (the journal read-only, the hall's MQTT state) and act only by
sending commands over MQTT (``HallView.execute``): the single writer stays the only writer.
"""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from hallconfig import StatusPageSettings, TlsFiles, WebSettings
from web import actions, appointments_page, live, reports_page, status, ticket_print, tidal
from web.accounts import DEFAULT_FILE, ENV_FILE, AccountBook
from web.auth import Auth
from web.daily_report import serve_daily
from web.guard import Origin, safe_next, secured, served_origins
from web.live import Hub, StreamLimits, fit_open_files
from web.notify import NoticeWatch, make_notifier
from web.pages import page
from web.plan_page import serve_plan
from web.softcallers import SoftCallers, load_passwords
from web.window_page import serve_windows

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler

    from web.hallview import HallView

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
STATUS_STATIC = ("app.css", "status.js")  # all the status page loads
SHUTDOWN_S = 3.0
HSTS = "max-age=31536000"  # a year; no includeSubDomains: a hall names no subdomains


def build_manager_app(view: HallView, hub: Hub, streams: StreamLimits,
                      managers: Path | None = None,
                      origins: frozenset[Origin] = frozenset(),
                      callers: SoftCallers | None = None) -> web.Application:
    """The manager's app of one hall; ``managers`` is the accounts file, ``origins``
    those its writes may come from, ``callers`` the soft callers of the clerks' screens."""
    book = AccountBook(managers or default_managers_path(view))
    if not len(book):
        log.warning("no manager accounts in %s: add one with python -m web.accounts "
                    "--file %s add NAME --role manager", book.path, book.path)
    if not origins:
        log.warning("the manager's web app accepts no writes: list the addresses the tablet "
                    "opens it at in [web] origins")
    auth = Auth(book)
    app = secured(64 * 1024, origins)

    async def home(request: web.Request) -> web.Response:
        auth.page_session(request)
        raise web.HTTPSeeOther("/live")

    async def login_page(request: web.Request) -> web.Response:
        return page("login.html", hall=view.config.hall.name,
                    hall_en=view.config.hall.name_en,
                    next=safe_next(request.query.get("next")))

    async def live_page(request: web.Request) -> web.Response:
        session = auth.page_session(request)
        return page("live.html", hall=view.config.hall.name, user=session.name,
                    role=session.role.value, may_act="true" if session.may_act else "false")

    whatif = tidal.WhatIf(view, auth)  # its worker process stops with the app
    app.on_cleanup.append(whatif.cleanup)
    serve_plan(app, view, auth)  # the morning plan: /plan, /api/plan, its worker process
    serve_daily(app, view, auth)  # /reports/daily(.pdf); its PDF saved at each day's close
    if callers is not None:  # the clerks' screens: /window/<counter>
        serve_windows(app, view, hub, streams, callers)
    app.add_routes([web.get("/", home), web.get("/login", login_page),
                    web.get("/live", live_page), *live.routes(view, hub, auth, streams),
                    *auth.routes(), *actions.routes(view, auth),
                    *reports_page.routes(view, auth), *appointments_page.routes(view, auth),
                    *ticket_print.routes(view, auth), *whatif.routes(),
                    web.static("/static", STATIC)])
    return app


def build_status_app(view: HallView, hub: Hub, streams: StreamLimits) -> web.Application:
    """The residents' status pages and the two files they load; nothing else."""
    app = secured(1024)
    app.add_routes([*status.routes(view, hub, streams),
                    *(web.get(f"/static/{name}", _file(STATIC / name)) for name in STATUS_STATIC)])
    return app


def _file(path: Path) -> Handler:
    async def serve(_request: web.Request) -> web.StreamResponse:
        return web.FileResponse(path)
    return serve


def default_managers_path(view: HallView) -> Path:
    """``$LOBBY_MANAGERS``, else managers.toml beside the journal (the hall's state)."""
    return Path(os.environ.get(ENV_FILE) or view.journal_path.parent / DEFAULT_FILE)


@dataclass
class WebServers:
    """The running listeners and the hub that pushes to their pages; ``cleanup()`` stops."""

    view: HallView
    hub: Hub
    runners: list[web.AppRunner]
    notices: NoticeWatch | None = None  # the residents' notices, if [web] notifier is set

    async def cleanup(self) -> None:
        self.hub.close()  # open event streams end, so the listeners stop at once
        if self.notices is not None:
            await self.notices.stop()
        if self.hub.notice in self.view.listeners:
            self.view.listeners.remove(self.hub.notice)
        for runner in reversed(self.runners):
            await runner.cleanup()


async def start_web(view: HallView, manager: WebSettings, status_page: StatusPageSettings,
                    managers: Path | None = None,
                    soft_callers: Mapping[str, str] | None = None) -> WebServers:
    """Serve the manager's app and the residents' status page, each on its own listener, in
    the running loop; OSError (nothing left running) if either cannot listen, or if the soft
    callers' passwords (``soft_callers``, else read as ``[web]`` says) cannot be read."""
    passwords = load_passwords(manager) if soft_callers is None else soft_callers
    callers = SoftCallers(view.config, view.link.broker, passwords)
    hub = Hub()
    view.listeners.append(hub.notice)
    fit_open_files(manager.max_streams + status_page.max_streams)
    servers = WebServers(view, hub, [])
    notifier = make_notifier(manager.notifier, view.state_dir)
    if notifier is not None:
        servers.notices = NoticeWatch(view, notifier)
        servers.notices.start()
    origins = served_origins(manager.host, manager.port, manager.origins, _scheme(manager))
    try:
        for app, listener, what in (
                (build_manager_app(view, hub, _limits(manager, "manager's web app"), managers,
                                   origins, callers), manager, "manager's web app"),
                (build_status_app(view, hub, _limits(status_page, "residents' status page")),
                 status_page, "residents' status page")):
            context = tls_context(listener, what)
            if context is not None:
                app.on_response_prepare.append(_strict_transport)
            runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_S, access_log=None,
                                   # a resident's page that closed ends its stream at once
                                   handler_cancellation=listener is status_page)
            await runner.setup()
            servers.runners.append(runner)
            await web.TCPSite(runner, listener.host, listener.port, ssl_context=context).start()
            log.info("%s on %s://%s:%s/", what, _scheme(listener), listener.host, listener.port)
    except OSError:
        await servers.cleanup()
        raise
    return servers


def _limits(listener: WebSettings | StatusPageSettings, what: str) -> StreamLimits:
    return StreamLimits(what, listener.max_streams, listener.max_streams_per_address)


def _scheme(listener: TlsFiles) -> str:
    return "http" if listener.tls_cert is None else "https"


def tls_context(listener: TlsFiles, what: str) -> ssl.SSLContext | None:
    """The server TLS context of a listener with a certificate (TLS 1.2 and up), else None;
    an OSError naming the listener and its files if they cannot be loaded."""
    if listener.tls_cert is None or listener.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(listener.tls_cert, listener.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise OSError(f"{what}: cannot load tls_cert {listener.tls_cert} and tls_key "
                      f"{listener.tls_key}: {exc.strerror or exc}") from exc
    return context


async def _strict_transport(_request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Strict-Transport-Security"] = HSTS
