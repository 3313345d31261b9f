"""The resident's status page behind a ticket's QR code: ``/t/<token>``, no sign-in.

The token is a keyed MAC of the ticket id under a key derived from the hall secret (see
HallEngine.token_for), so it can be neither guessed nor forged; an unknown token, or
yesterday's, gets the same 404 page as any other missing page. The page shows the ticket and
where it stands, never anything personal, and updates itself over server-sent events.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hall.engine.engine import HallEngine
from hall.engine.model import Ticket
from hall.engine.projection import Projection
from protocol.messages import TicketStatus
from web.live import Hub, StreamLimits, event_stream
from web.pages import not_found_page, page

if TYPE_CHECKING:
    from web.hallview import HallView

TOKEN = re.compile(r"^[0-9a-f]{30}$")
NEAR = 3  # this many ahead or fewer: "almost your turn", in large text, with a sound
_WAITING = (TicketStatus.WAITING, TicketStatus.PENDING_PRINT)

_STATUS_TEXT: dict[TicketStatus, tuple[str, str]] = {
    TicketStatus.PENDING_PRINT: ("等候中", "Waiting"),
    TicketStatus.WAITING: ("等候中", "Waiting"),
    TicketStatus.CALLED: ("请到窗口办理", "Please go to the window"),
    TicketStatus.SERVING: ("正在办理", "Being served"),
    TicketStatus.DONE: ("已办结，谢谢", "Done, thank you"),
    TicketStatus.NO_SHOW: ("已过号，请重新取号", "Missed: please take a new ticket"),
    TicketStatus.CANCELLED: ("已取消", "Cancelled"),
    TicketStatus.VOID: ("此号无效", "This ticket is void"),
}


def find_ticket(view: HallView, token: str) -> Ticket | None:
    """Today's ticket behind a status token, or None (bad shape, unknown, another day)."""
    if not TOKEN.match(token):
        return None
    return view.engine.tokens.get(token)


class Ranks:
    """How many are ahead of a waiting ticket (``hall.engine.projection.ahead_of``'s count:
    tickets of its service projected to be called first), from one sort per service for each
    picture of the hall, not a pass over the queue for every open status page."""

    def __init__(self) -> None:
        self._projection: Projection | None = None
        self._version = -1
        self._order: dict[str, list[tuple[float, int]]] = {}

    def ahead(self, engine: HallEngine, projection: Projection, version: int,
              ticket: Ticket) -> int:
        """``version``: the hub's, so a change of the queue starts afresh."""
        if projection is not self._projection or version != self._version:
            self._projection, self._version, self._order = projection, version, {}
        queue = engine.queues.get(ticket.service)
        if queue is None:  # a service the config no longer has
            return 0
        starts = projection.starts
        mine = starts.get(ticket.ticket_id)
        if mine is None:
            return sum(1 for t in queue.tickets() if t is not ticket)  # none serves it now
        order = self._order.get(ticket.service)
        if order is None:
            order = self._order[ticket.service] = sorted(
                (starts.get(t.ticket_id, float("inf")), t.seq) for t in queue.tickets())
        return bisect_left(order, (mine, ticket.seq))


def standing(view: HallView, ticket: Ticket, ranks: Ranks,
             version: int) -> tuple[int | None, int | None]:
    """A waiting ticket's place: how many are ahead of it, and its wait in whole minutes
    (None: not known); (None, None) once it is no longer waiting."""
    if ticket.status not in _WAITING:
        return None, None
    ahead = ranks.ahead(view.engine, view.projection, version, ticket)
    wait_s = view.projection.wait_seconds(ticket)
    return ahead, None if wait_s is None else round(round(wait_s / 60, 1))  # as the kiosk's


def status_view(view: HallView, ticket: Ticket, ranks: Ranks, version: int) -> dict[str, Any]:
    """What the status page shows, texts in Chinese and English."""
    engine = view.engine
    service = engine.services[ticket.service]
    counter = next((c for c in engine.config.counters if c.id == ticket.counter), None)
    zh, en = _STATUS_TEXT[ticket.status]
    waiting = ticket.status in _WAITING
    at_counter = ticket.status in (TicketStatus.CALLED, TicketStatus.SERVING)
    ahead, minutes = standing(view, ticket, ranks, version)
    alert, alert_zh, alert_en = "", "", ""
    if ticket.status is TicketStatus.CALLED and counter is not None:
        alert = "called"
        alert_zh, alert_en = f"请到 {counter.name}", f"Please go to {counter.name_en}"
    elif ticket.status is TicketStatus.WAITING and ahead is not None and ahead <= NEAR:
        alert, alert_zh, alert_en = "near", "快到您了", "Almost your turn"
    return {
        "number": ticket.number, "status": ticket.status.value,
        "status_zh": zh, "status_en": en,
        "service_zh": service.name, "service_en": service.name_en,
        "ahead_zh": "" if ahead is None else (
            "前面没有人" if ahead == 0 else f"前面还有 {ahead} 人"),
        "ahead_en": "" if ahead is None else (
            "You are next" if ahead == 0 else f"{ahead} ahead of you"),
        "wait_zh": "" if not waiting else "等候时间待定" if minutes is None else (
            "预计等候不到 1 分钟" if minutes < 1 else f"预计等候约 {minutes} 分钟"),
        "wait_en": "" if not waiting else "Wait not yet known" if minutes is None else (
            "Estimated wait under 1 min" if minutes < 1 else f"Estimated wait about {minutes} min"),
        "counter_zh": counter.name if counter and at_counter else "",
        "counter_en": counter.name_en if counter and at_counter else "",
        "hall_zh": engine.config.hall.name, "hall_en": engine.config.hall.name_en,
        "issued": f"{engine.local(ticket.issued_at):%H:%M}",
        "recalls": ticket.recalls if at_counter else 0,
        "alert": alert, "alert_zh": alert_zh, "alert_en": alert_en,
    }


class StatusRenders:
    """One status stream's pages: built again only when what the page shows changed. Every
    change in the hall wakes every open stream; with 1,000 open, building each page anew
    kept a core of the web service busy (bench.readers, column d)."""

    def __init__(self, view: HallView, token: str, ranks: Ranks, hub: Hub) -> None:
        self._view, self._token, self._ranks, self._hub = view, token, ranks, hub
        self._ticket: Ticket | None = None
        self._engine: HallEngine | None = None
        self._shown: tuple[object, ...] = ()
        self._page: dict[str, Any] = {}

    def __call__(self) -> dict[str, Any] | None:
        """The page now; None once the ticket is gone (the day rolled over)."""
        view, version = self._view, self._hub.version
        ticket = find_ticket(view, self._token)
        if ticket is None:
            return None
        shown = (ticket.status, ticket.counter, ticket.recalls,
                 *standing(view, ticket, self._ranks, version))
        if ticket is not self._ticket or view.engine is not self._engine or shown != self._shown:
            self._ticket, self._engine, self._shown = ticket, view.engine, shown
            self._page = status_view(view, ticket, self._ranks, version)
        return self._page


def routes(view: HallView, hub: Hub, limits: StreamLimits) -> list[web.RouteDef]:
    """The status page and its event stream (within ``limits``)."""
    ranks = Ranks()

    async def status_page(request: web.Request) -> web.Response:
        ticket = find_ticket(view, request.match_info["token"])
        if ticket is None:
            return not_found_page("找不到这张号票（只能查询当天的号）",
                                  "Ticket not found (only today's tickets can be looked up)")
        return page("status.html", **status_view(view, ticket, ranks, hub.version),
                    stream=f"/t/{request.match_info['token']}/events")

    async def status_events(request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        if find_ticket(view, token) is None:
            return not_found_page()

        return await event_stream(request, hub, limits, StatusRenders(view, token, ranks, hub))

    return [web.get("/t/{token}", status_page), web.get("/t/{token}/events", status_events)]
