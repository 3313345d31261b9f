"""The manager's actions: ``POST /api/commands/<name>`` with the command's JSON fields.

Each becomes the protocol command of that name, sent over MQTT from the web service's own
account (``HallView.execute``) with the signed-in staff member's name (``by``, journaled), to
the same single writer as any device's. A body may carry its own ``id`` so a retried click
is answered with the stored reply instead of acting twice.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from protocol import messages as m
from protocol.link import new_command_id
from web.auth import Auth, json_body
from web.errors import ApiError
from web.hallview import HallUnreachable

if TYPE_CHECKING:
    from web.hallview import HallView

log = logging.getLogger(__name__)

WEB_COMMANDS = m.MANAGER_COMMANDS - {"book"}  # staff book on /api/appointments (by ID number)
_STAFF_ASSIST_REFUSES = ("id_hash", "appointment", "print_on_kiosk")

_HTTP_STATUS: dict[m.ErrorCode, int] = {
    m.ErrorCode.MALFORMED: 400,
    m.ErrorCode.BAD_VERSION: 400,
    m.ErrorCode.UNKNOWN_COMMAND: 404,
    m.ErrorCode.UNKNOWN_SERVICE: 404,
    m.ErrorCode.UNKNOWN_COUNTER: 404,
    m.ErrorCode.UNKNOWN_TICKET: 404,
    m.ErrorCode.UNKNOWN_DEVICE: 403,
    m.ErrorCode.FORBIDDEN: 403,
    m.ErrorCode.BAD_CREDENTIALS: 403,
    m.ErrorCode.INTERNAL: 500,
}


def command_from(name: str, body: dict[str, object]) -> m.Command:
    """The protocol command for a web request, or ApiError 400/404 naming what is wrong."""
    if name not in WEB_COMMANDS:
        raise ApiError(404, "unknown_command",
                       f"no action {name!r}; actions: {', '.join(sorted(WEB_COMMANDS))}")
    if "v" in body:
        raise ApiError(400, "malformed", "v: set by the server, leave it out")
    if name == "issue":
        for field in _STAFF_ASSIST_REFUSES:
            if field in body:
                raise ApiError(400, "malformed",
                               f"{field}: a staff-assisted ticket takes only service and green")
        body = {**body, "print_on_kiosk": False}
    body = {"id": new_command_id(), **body}
    try:
        return m.decode(m.COMMANDS[name], json.dumps(body))
    except m.PayloadError as exc:
        raise ApiError(400, exc.code.value, str(exc)) from None


def _check_alert(view: HallView, command: m.FollowUpAlert) -> None:
    """Only an alert on the board, or one already followed up while its cause lasts (a
    retry), may be followed up: ApiError 404 otherwise, before anything reaches the journal."""
    key = (m.AlertKind(command.kind), command.subject)
    if key in view.alerts.active or key in view.alerts.handled:
        return
    raise ApiError(404, "unknown_alert",
                   f"no {command.kind} alert about {command.subject!r} is on the board")


def routes(view: HallView, auth: Auth) -> list[web.RouteDef]:
    """The command endpoint."""

    async def run(request: web.Request) -> web.Response:
        session = auth.need(request, act=True)
        name = request.match_info["name"]
        command = command_from(name, await json_body(request))
        if isinstance(command, m.FollowUpAlert):
            _check_alert(view, command)
        try:
            reply = await view.execute(name, command, by=session.name)
        except HallUnreachable as exc:
            raise ApiError(503, "hall_unreachable", f"the hall controller did not answer "
                           f"({exc}); nothing may have been done: try again") from None
        log.info("%s ran %s %s: %s", session.name, name, command.id,
                 "ok" if reply.ok else reply.error.code if reply.error else "refused")
        status = 200 if reply.ok or reply.error is None else _HTTP_STATUS.get(reply.error.code, 409)
        return web.json_response(reply.model_dump(mode="json", exclude={"clock"}), status=status)

    return [web.post("/api/commands/{name}", run)]
