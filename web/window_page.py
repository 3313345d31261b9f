"""The clerk's screen, ``/window/<counter>``: a soft caller in the browser.

The clerk signs in with staff number and PIN; the service sends them as ``sign_in`` from the
counter's soft caller device (web/softcallers.py), and the controller checks the PIN and
counts failures as for a hardware caller. The page's session (its own cookie: a clerk is not
a manager) is bound to that clerk and counter, and ends when the counter's clerk changes.
Every button sends the caller's command from the soft caller, never from the service's
manager account. The page shows this window's waiting tickets (numbers only) in the order
the hall's policy will call them, the ticket in hand with its history, and follows the hall
by server-sent events.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import ValidationError

from protocol import messages as m
from protocol.link import new_command_id
from web.auth import json_body
from web.errors import ApiError
from web.hallview import HallUnreachable
from web.live import Hub, StreamLimits, event_stream
from web.pages import not_found_page, page

if TYPE_CHECKING:
    from hall.engine.engine import HallEngine
    from hall.engine.model import Desk, Ticket
    from web.hallview import HallView
    from web.softcallers import SoftCallers

log = logging.getLogger(__name__)

COOKIE = "lobby_window"  # distinct from the managers' lobby_session
IDLE_S = 2 * 3600.0
MAX_S = 12 * 3600.0
SHOWN_WAITING = 40  # rows of the waiting list sent; the count is whole
SETTLE_S = 3.0
COMMANDS: dict[str, type[m.CounterCommand]] = {
    "call_next": m.CallNext, "recall": m.Recall, "no_show": m.NoShow, "start": m.StartService,
    "done": m.Done, "transfer": m.Transfer, "pause": m.Pause, "resume": m.Resume,
    "sign_out": m.SignOut}
FIELDS = {"transfer": {"to_service", "to_counter"}, "pause": {"reason"}}
_ZH = {m.ErrorCode.SIGN_IN_REQUIRED: "请先签到", m.ErrorCode.BAD_CREDENTIALS: "工号或密码不对",
       m.ErrorCode.TOO_MANY_ATTEMPTS: "尝试次数过多，请稍后再试",
       m.ErrorCode.INVALID_STATE: "现在不能这样做",
       m.ErrorCode.STORAGE_UNAVAILABLE: "大厅暂时无法记录", m.ErrorCode.FORBIDDEN: "无权操作"}
_STATUS = {m.ErrorCode.MALFORMED: 400, m.ErrorCode.FORBIDDEN: 403,
           m.ErrorCode.BAD_CREDENTIALS: 403, m.ErrorCode.TOO_MANY_ATTEMPTS: 429,
           m.ErrorCode.UNKNOWN_SERVICE: 404, m.ErrorCode.UNKNOWN_COUNTER: 404}


@dataclass
class WindowSession:
    """One clerk signed in to one counter's screen."""

    token: str
    counter: str
    staff_no: str
    started: float
    seen: float


class WindowSessions:
    """The clerks' screen sessions, in memory (a restart signs them out of the page only)."""

    def __init__(self) -> None:
        self._by_token: dict[str, WindowSession] = {}

    def start(self, counter: str, staff_no: str) -> WindowSession:
        now = time.monotonic()
        for old in [s for s in self._by_token.values() if s.counter == counter]:
            self.end(old.token)  # one clerk per window: a new sign-in ends the last
        session = WindowSession(secrets.token_urlsafe(32), counter, staff_no, now, now)
        self._by_token[session.token] = session
        return session

    def get(self, token: str | None, counter: str) -> WindowSession | None:
        session = self._by_token.get(token or "")
        now = time.monotonic()
        if session is None or session.counter != counter:
            return None
        if now - session.seen > IDLE_S or now - session.started > MAX_S:
            self.end(session.token)
            return None
        session.seen = now
        return session

    def end(self, token: str | None) -> None:
        self._by_token.pop(token or "", None)


def _hhmm(engine: HallEngine, t: float | None) -> str | None:
    return None if t is None else f"{engine.local(t):%H:%M}"


def waiting_for(view: HallView, desk: Desk) -> list[Ticket]:
    """The waiting tickets this window may call, in the order the hall's policy ranks them
    for it (channel head starts, its balance's shifts); first the one the next call takes."""
    engine = view.engine
    balance = engine.balance()
    shift = balance.shift.get(desk.services) or {}
    mine = [t for t in engine.tickets.values()
            if t.status is m.TicketStatus.WAITING and desk.serves(t.service)
            and t.reserved_for in (None, desk.counter_id)]
    mine.sort(key=lambda t: (t.reserved_for is None,
                             engine.policy.key(t) + shift.get(t.service, 0.0), t.seq))
    first = engine.policy.pick(desk, engine, view.clock.now().timestamp(), balance)
    if first is not None and first in mine:  # guards may leave the head to a specialist
        mine.remove(first)
        mine.insert(0, first)
    return mine


def picture(view: HallView, counter: str) -> dict[str, Any]:
    """What the clerk's screen shows: numbers, services and minutes, nothing personal."""
    engine = view.engine
    desk = engine.desks[counter]
    now = view.clock.now().timestamp()
    waiting = waiting_for(view, desk)
    clerk = engine.clerks.get(desk.clerk) if desk.clerk else None
    services = [s for s in engine.config.services if desk.serves(s.id)]
    return {
        "counter": counter, "name": desk.name, "status": desk.status.value,
        "pause_reason": desk.pause_reason, "since": _hhmm(engine, desk.since),
        "online": view.controller_online, "now": f"{engine.local(now):%H:%M}",
        "clerk": None if clerk is None else {"staff_no": clerk.staff_no, "name": clerk.name},
        "services": [{"id": s.id, "name": s.name, "name_en": s.name_en,
                      "waiting": sum(1 for t in waiting if t.service == s.id)}
                     for s in services],
        "waiting_count": len(waiting),
        "waiting": [{"number": t.number, "service": t.service, "channel": t.channel.value,
                     "waited_min": int(max(0.0, now - t.queued_at) // 60),
                     "reserved": t.reserved_for == counter}
                    for t in waiting[:SHOWN_WAITING]],
        "ticket": None if desk.ticket is None else _in_hand(engine, desk.ticket, now),
        "transfer_to": [{"id": s.id, "name": s.name, "name_en": s.name_en}
                        for s in engine.config.services],
    }


def _in_hand(engine: HallEngine, ticket: Ticket, now: float) -> dict[str, Any]:
    spec = engine.services.get(ticket.service)
    return {"id": ticket.ticket_id, "number": ticket.number, "service": ticket.service,
            "service_name": spec.name if spec else ticket.service,
            "service_name_en": spec.name_en if spec else "",
            "status": ticket.status.value, "channel": ticket.channel.value,
            "recalls": ticket.recalls, "issued": _hhmm(engine, ticket.issued_at),
            "called": _hhmm(engine, ticket.called_at),
            "minutes": int(max(0.0, now - (ticket.called_at or now)) // 60)}


async def history(view: HallView, ticket_id: str) -> list[dict[str, Any]]:
    """The ticket's events of today from the journal (read-only): issued, called, recalls,
    transfers, start; times and services only."""
    engine = view.engine
    rows = await view.reader.query(
        "SELECT at, kind, data FROM events WHERE day = ? AND json_extract(data, '$.ticket') = ?"
        " ORDER BY seq", (engine.day.isoformat(), ticket_id))
    steps = []
    for at, kind, data in rows:
        step: dict[str, Any] = {"at": _hhmm(engine, at), "kind": kind}
        detail = json.loads(data)
        for key in ("service", "counter"):
            if isinstance(detail.get(key), str):
                step[key] = detail[key]
        steps.append(step)
    return steps


class WindowPages:
    """The clerk's screen of every counter with a soft caller here."""

    def __init__(self, view: HallView, hub: Hub, streams: StreamLimits,
                 callers: SoftCallers) -> None:
        self.view = view
        self.hub = hub
        self.streams = streams
        self.callers = callers
        self.sessions = WindowSessions()
        self._signing_in: set[str] = set()  # counters with a PIN being checked

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/window/{counter}", self.page),
                web.get("/api/window/{counter}", self.current),
                web.get("/api/window/{counter}/events", self.events),
                web.get("/api/window/{counter}/history", self.ticket_history),
                web.post("/api/window/{counter}/sign_in", self.sign_in),
                web.post("/api/window/{counter}/commands/{name}", self.command)]

    # ------------------------------------------------------------ who
    def _counter(self, request: web.Request) -> str:
        counter = request.match_info["counter"]
        if self.callers.device_for(counter) is None or counter not in self.view.engine.desks:
            raise ApiError(404, "unknown_counter", f"窗口 {counter} 没有软叫号器 counter "
                           f"{counter} has no soft caller here")
        return counter

    def _session(self, request: web.Request, counter: str) -> WindowSession:
        """The clerk signed in to this screen, who must still be the counter's clerk."""
        session = self.sessions.get(request.cookies.get(COOKIE), counter)
        if session is None:
            raise ApiError(401, "not_signed_in", "请先签到 sign in first")
        if self.view.engine.desks[counter].clerk != session.staff_no:
            self.sessions.end(session.token)
            raise ApiError(401, "signed_out", "已在别处签退或换人签到 signed out at the window, "
                                              "or another clerk signed in")
        return session

    # ------------------------------------------------------------ pages
    async def page(self, request: web.Request) -> web.Response:
        try:
            counter = self._counter(request)
        except ApiError:
            return not_found_page()
        desk = self.view.engine.desks[counter]
        return page("window.html", hall=self.view.config.hall.name, counter=counter,
                    window=desk.name)

    async def current(self, request: web.Request) -> web.Response:
        counter = self._counter(request)
        self._session(request, counter)
        return web.json_response(picture(self.view, counter))

    async def events(self, request: web.Request) -> web.StreamResponse:
        counter = self._counter(request)
        session = self._session(request, counter)

        def render() -> dict[str, Any] | None:
            if self.sessions.get(session.token, counter) is None or \
                    self.view.engine.desks[counter].clerk != session.staff_no:
                return None
            return picture(self.view, counter)

        return await event_stream(request, self.hub, self.streams, render)

    async def ticket_history(self, request: web.Request) -> web.Response:
        counter = self._counter(request)
        self._session(request, counter)
        ticket = self.view.engine.desks[counter].ticket
        steps = [] if ticket is None else await history(self.view, ticket.ticket_id)
        return web.json_response({"ticket": ticket.ticket_id if ticket else None,
                                  "history": steps})

    # ------------------------------------------------------------ acting
    async def sign_in(self, request: web.Request) -> web.Response:
        counter = self._counter(request)
        body = await json_body(request)
        try:
            command = m.SignIn(id=new_command_id(), counter=counter,
                               staff_no=body.get("staff_no"), pin=body.get("pin"))
        except ValidationError:
            raise ApiError(400, "malformed", "工号为字母或数字，密码为4-8位数字 staff_no: "
                                             "letters and digits; pin: 4-8 digits") from None
        if counter in self._signing_in:  # one PIN at a time per window
            raise ApiError(429, "busy", "正在核对上一次签到 a sign-in is being checked")
        self._signing_in.add(counter)
        try:
            reply = await self._send(counter, "sign_in", command)
        finally:
            self._signing_in.discard(counter)
        assert command.staff_no is not None
        log.info("counter %s: %s signed in on the clerk's screen", counter, command.staff_no)
        await self._settled(reply)
        session = self.sessions.start(counter, command.staff_no)
        response = web.json_response({"ok": True, "counter": counter})
        response.set_cookie(COOKIE, session.token, httponly=True, samesite="Strict",
                            path="/", secure=request.secure)
        return response

    async def command(self, request: web.Request) -> web.Response:
        counter = self._counter(request)
        session = self._session(request, counter)
        name = request.match_info["name"]
        model = COMMANDS.get(name)
        if model is None:
            raise ApiError(404, "unknown_action", f"no action {name!r} on the clerk's screen")
        body = await json_body(request)
        extra = {k: v for k, v in body.items() if k in FIELDS.get(name, set())}
        try:
            command = model.model_validate({**extra, "id": body.get("id") or new_command_id(),
                                            "counter": counter})
        except ValidationError as exc:
            field = ".".join(str(p) for p in exc.errors()[0]["loc"]) or name
            raise ApiError(400, "malformed", f"{field}: {exc.errors()[0]['msg']}") from None
        reply = await self._send(counter, name, command)
        await self._settled(reply)
        response = web.json_response({"ok": True, "result": reply.result or {}})
        if name == "sign_out":
            self.sessions.end(session.token)
            response.del_cookie(COOKIE, path="/")
        return response

    async def _send(self, counter: str, name: str, command: m.Command) -> m.Reply:
        """Send from the counter's soft caller; a refusal as ApiError with the controller's
        words after a Chinese line."""
        try:
            reply = await self.callers.request(counter, name, command)
        except HallUnreachable as exc:
            raise ApiError(503, "hall_unreachable", f"大厅控制器没有应答 the hall controller "
                           f"did not answer ({exc}): try again") from None
        if not reply.ok:
            error = reply.error or m.ErrorInfo(code=m.ErrorCode.INTERNAL, message="refused")
            log.info("counter %s: %s refused: %s", counter, name, error.code.value)
            raise ApiError(_STATUS.get(error.code, 409), error.code.value,
                           f"{_ZH.get(error.code, '未能完成')} {error.message}")
        return reply

    async def _settled(self, reply: m.Reply) -> None:
        """Wait until the replica holds what the reply's counter snapshot shows."""
        state = (reply.result or {}).get("counter")
        rev = state.get("rev") if isinstance(state, dict) else None
        if not isinstance(rev, int):
            return
        try:
            await self.view.settled(rev, timeout=SETTLE_S)
        except TimeoutError:
            log.warning("the replica has not read rev %s yet", rev)


def serve_windows(app: web.Application, view: HallView, hub: Hub, streams: StreamLimits,
                  callers: SoftCallers) -> None:
    """Add the clerks' screens to the manager's app; their links open and close with it."""
    pages = WindowPages(view, hub, streams, callers)
    app.add_routes(pages.routes())

    async def start(_app: web.Application) -> None:
        await callers.start()

    async def close(_app: web.Application) -> None:
        await callers.close()

    app.on_startup.append(start)
    app.on_cleanup.append(close)
