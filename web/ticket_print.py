"""A ticket for the tablet to show or print: a staff-assisted ticket, or a reprint.

The page carries the same things as a kiosk ticket (number, service, how many ahead, the
estimated wait, the time, and the QR code of the status page) and nothing personal.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import qrcode
import qrcode.image.svg
from aiohttp import web

from hall.snapshots import ticket_view
from protocol.messages import Channel
from web.auth import Auth
from web.pages import Raw, esc, not_found_page, page

if TYPE_CHECKING:
    from web.hallview import HallView

TICKET_ID = re.compile(r"^\d{8}-[A-Z]\d{3,4}$")
_CHANNEL = {Channel.GREEN: "绿色通道 Green channel", Channel.APPOINTMENT: "预约 Appointment"}


def qr_svg(url: str, label: str) -> Raw:
    """The QR code of ``url`` as inline SVG, labelled for screen readers."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    svg = image.to_string(encoding="unicode")
    svg = re.sub(r'^<svg width="[^"]+" height="[^"]+"',
                 f'<svg class="qr" role="img" aria-label="{esc(label)}"', svg)
    return Raw(svg)


def routes(hall: HallView, auth: Auth) -> list[web.RouteDef]:
    """The printable ticket page."""

    async def printable(request: web.Request) -> web.Response:
        auth.page_session(request)
        ticket_id = request.match_info["ticket"]
        engine = hall.engine
        ticket = engine.tickets.get(ticket_id) if TICKET_ID.match(ticket_id) else None
        if ticket is None:
            return not_found_page("找不到这张号票", "No such ticket today")
        shown = ticket_view(engine, ticket, hall.projection)
        service = engine.services[ticket.service]
        url = f"{engine.config.hall.status_url_base}{ticket.token}"
        minutes = shown.estimated_wait_min
        return page(
            "ticket.html", hall=engine.config.hall.name, hall_en=engine.config.hall.name_en,
            number=ticket.number, service=service.name, service_en=service.name_en,
            channel=_CHANNEL.get(ticket.channel, ""), status=ticket.status.value,
            ahead="" if shown.ahead is None else f"前面还有 {shown.ahead} 人 · {shown.ahead} ahead",
            wait="" if shown.ahead is None else "等候时间待定 · wait not yet known"
            if minutes is None else "预计等候不到 1 分钟 · under 1 min" if round(minutes) < 1
            else f"预计等候约 {round(minutes)} 分钟 · about {round(minutes)} min",
            issued=f"{engine.local(ticket.issued_at):%Y-%m-%d %H:%M}", url=url,
            qr=qr_svg(url, f"扫码查看进度 Scan for the status of {ticket.number}"))

    return [web.get("/tickets/{ticket}/print", printable)]
